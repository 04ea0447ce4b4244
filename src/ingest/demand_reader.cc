#include "ingest/demand_reader.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "ingest/hyperloglog.h"
#include "store/uuid.h"

namespace shadowplane::ingest {

namespace pb = shadowplane::v1;

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

  void ToProto(absl::Time start, pb::DemandPoint* out) const {
    *out->mutable_start() = ToProtoTime(start);
    out->set_requests(sums.requests);
    out->set_bytes_in(sums.bytes_in);
    out->set_bytes_out(sums.bytes_out);
    out->set_cpu_millis(sums.cpu_millis);
    out->set_memory_byte_sum(sums.memory_bytes);
    out->set_latency_ms_sum(sums.latency_ms_sum);
    out->set_latency_count(sums.latency_count);
    out->set_distinct_clients(clients.has_value() ? clients->Estimate() : 0);
  }
};

}  // namespace

absl::Status DemandReader::Read(const pb::GetDemandRequest& request,
                                pb::GetDemandResponse* response) const {
  if (request.resource_id().empty()) return absl::InvalidArgumentError("resource_id is required");
  if (!store::LooksLikeUuid(request.resource_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_id \"", request.resource_id(), "\" is not a UUID"));
  }
  absl::Duration step;
  switch (request.granularity()) {
    case pb::GRANULARITY_UNSPECIFIED:
    case pb::GRANULARITY_HOUR:
      step = absl::Hours(1);
      break;
    case pb::GRANULARITY_DAY:
      step = absl::Hours(24);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("granularity ", request.granularity(), " is not HOUR or DAY"));
  }
  const absl::Time to = Ceil(request.has_to() ? FromProtoTime(request.to()) : clock_->Now(), step);
  const absl::Time from =
      Floor(request.has_from() ? FromProtoTime(request.from()) : to - absl::Hours(48), step);
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
  ASSIGN_OR_RETURN(const bool exists, repository_->ResourceExists(request.resource_id()));
  if (!exists) {
    return absl::NotFoundError(absl::StrCat("resource ", request.resource_id(), " not found"));
  }
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows,
                   repository_->Demand(request.resource_id(), from, to));

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
  response->set_resource_id(request.resource_id());
  *response->mutable_from() = ToProtoTime(from);
  *response->mutable_to() = ToProtoTime(to);
  response->set_granularity(step == absl::Hours(1) ? pb::GRANULARITY_HOUR : pb::GRANULARITY_DAY);
  auto fill = [&](const std::vector<Bucket>& series, pb::DemandSeries* out) {
    for (int64_t i = 0; i < buckets; ++i) series[i].ToProto(from + i * step, out->add_points());
  };
  for (const auto& [region, series] : regions) {
    pb::DemandSeries* out = response->add_regions();
    out->set_origin_region(region);
    fill(series, out);
  }
  response->mutable_total()->set_origin_region("total");
  fill(total, response->mutable_total());
  return absl::OkStatus();
}

}  // namespace shadowplane::ingest
