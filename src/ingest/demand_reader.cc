#include "ingest/demand_reader.h"

#include <cstdint>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ingest/hyperloglog.h"
#include "store/uuid.h"

namespace shadowplane::ingest {

namespace {

absl::Time Floor(absl::Time t, absl::Duration step) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), step);
}

absl::Time Ceil(absl::Time t, absl::Duration step) {
  const absl::Time f = Floor(t, step);
  return f == t ? t : f + step;
}

// One bucket being summed.
struct Bucket {
  store::DemandSums sums;
  std::optional<HyperLogLog> clients;

  absl::Status Add(const store::DemandRow& row) {
    sums.Add(row.sums);
    ASSIGN_OR_RETURN(HyperLogLog sketch, HyperLogLog::Parse(row.clients_sketch));
    if (!clients.has_value()) {
      clients = std::move(sketch);
      return absl::OkStatus();
    }
    return clients->Merge(sketch);
  }

  DemandPoint ToPoint(absl::Time start) const {
    const int64_t distinct =
        clients.has_value() ? static_cast<int64_t>(clients->Estimate()) : 0;
    return DemandPoint{start, sums, distinct};
  }
};

}  // namespace

absl::StatusOr<Demand> DemandReader::Read(const DemandQuery& query) const {
  if (query.resource_id.empty()) return absl::InvalidArgumentError("resource_id is required");
  if (!store::LooksLikeUuid(query.resource_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_id \"", query.resource_id, "\" is not a UUID"));
  }
  const absl::Duration step = query.step;
  if (step != absl::Hours(1) && step != absl::Hours(24)) {
    return absl::InvalidArgumentError(
        absl::StrCat("granularity ", absl::FormatDuration(step), " is not an hour or a day"));
  }
  const absl::Time to = Ceil(query.to.value_or(clock_->Now()), step);
  const absl::Time from = Floor(query.from.value_or(to - absl::Hours(48)), step);
  if (from >= to) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from (", absl::FormatTime(from), ") must be before to (", absl::FormatTime(to), ")"));
  }
  const int64_t buckets = (to - from) / step;
  if (buckets > max_points_) {
    return absl::InvalidArgumentError(absl::StrCat("from..to spans ", buckets,
                                                   " buckets, more than ", max_points_,
                                                   ": narrow the range or use DAY granularity"));
  }
  ASSIGN_OR_RETURN(const bool exists, repository_->ResourceExists(query.resource_id));
  if (!exists) {
    return absl::NotFoundError(absl::StrCat("resource ", query.resource_id, " not found"));
  }
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows,
                   repository_->Demand(query.resource_id, from, to));

  std::map<std::string, std::vector<Bucket>> regions;
  std::vector<Bucket> total(buckets);
  for (const store::DemandRow& row : rows) {
    const int64_t i = (row.hour - from) / step;
    if (i < 0 || i >= buckets) continue;
    std::vector<Bucket>& series = regions[row.origin_region];
    if (series.empty()) series.resize(buckets);
    RETURN_IF_ERROR(series[i].Add(row));
    RETURN_IF_ERROR(total[i].Add(row));
  }
  auto points = [&](const std::vector<Bucket>& series) {
    std::vector<DemandPoint> out;
    out.reserve(buckets);
    for (int64_t i = 0; i < buckets; ++i) out.push_back(series[i].ToPoint(from + i * step));
    return out;
  };
  Demand demand;
  demand.resource_id = query.resource_id;
  demand.from = from;
  demand.to = to;
  demand.step = step;
  for (const auto& [region, series] : regions) demand.regions.push_back({region, points(series)});
  demand.total = {"total", points(total)};
  return demand;
}

}  // namespace shadowplane::ingest
