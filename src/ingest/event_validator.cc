#include "ingest/event_validator.h"

#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "common/request_text.h"
#include "geo/ip_address.h"
#include "ingest/hyperloglog.h"
#include "store/uuid.h"

namespace shadowplane::ingest {

namespace {

constexpr size_t kMaxRequestTypeBytes = 64;
constexpr size_t kMaxClientIdBytes = 256;
// The most bytes one request (or one sample's interval) may carry each way: a tebibyte. Far above
// any real request, and low enough that an hour's sums never leave bigint.
constexpr int64_t kMaxBytesPerRecord = int64_t{1} << 40;

// Tallies refusals by reason, keeping the first few indexes of each.
class Refusals {
 public:
  explicit Refusals(int max_listed) : max_listed_(max_listed) {}

  void Event(const char* reason, int index) {
    store::RejectionCount& r = Of(reason);
    ++r.count;
    if (static_cast<int>(r.first_events.size()) < max_listed_) r.first_events.push_back(index);
  }
  void Sample(const char* reason, int index) {
    store::RejectionCount& r = Of(reason);
    ++r.count;
    if (static_cast<int>(r.first_samples.size()) < max_listed_) r.first_samples.push_back(index);
  }
  std::vector<store::RejectionCount> Take() {
    std::vector<store::RejectionCount> out;
    for (auto& [reason, r] : by_reason_) out.push_back(std::move(r));
    return out;
  }

 private:
  store::RejectionCount& Of(const char* reason) {
    store::RejectionCount& r = by_reason_[reason];
    r.reason = reason;
    return r;
  }
  const int max_listed_;
  std::map<std::string, store::RejectionCount> by_reason_;
};

// Whether `instance` (empty: none named) runs at `location`.
bool AtLocation(const DirectorySnapshot& directory, const std::string& instance,
                const std::string& location) {
  const auto it = directory.location_by_instance.find(instance);
  return it != directory.location_by_instance.end() && it->second == location;
}

// Whether `resource` belongs to `team` (a team's operator reports only on its own).
bool OfTeam(const DirectorySnapshot& directory, const std::string& resource,
            const std::string& team) {
  const auto it = directory.team_by_resource.find(resource);
  return !team.empty() && it != directory.team_by_resource.end() && it->second == team;
}

// Lower case, so that ids match however the sender spelled the hex digits.
std::string CanonicalUuid(const std::string& id) { return absl::AsciiStrToLower(id); }

absl::Time HourOf(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Hours(1));
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

ValidatedBatch EventValidator::Validate(const AccessBatch& batch) const {
  ValidatedBatch out;
  out.batch_id = batch.batch_id;
  out.records = batch.events.size() + batch.samples.size();
  out.raw.reserve(batch.events.size());
  Refusals refusals(options_.max_listed_indexes);
  const absl::Time now = clock_->Now();
  const absl::Time latest = now + options_.max_future;
  const absl::Time raw_cutoff = now - options_.raw_retention;
  const absl::Time demand_cutoff = now - options_.demand_retention;
  std::shared_ptr<const DirectorySnapshot> directory = directory_->Get();
  const std::shared_ptr<const geo::OriginResolver> resolver = origins_->Get();
  // A resource or instance the snapshot lacks may have been created a moment ago: look again
  // (once per batch at most) before refusing.
  bool reloaded = false;
  auto reload = [&] {
    if (reloaded) return false;
    reloaded = true;
    directory = directory_->ReloadAfterMiss();
    return true;
  };
  auto find_resource = [&](const std::string& id) -> const std::set<std::string>* {
    auto it = directory->instances_by_resource.find(id);
    if (it == directory->instances_by_resource.end() && store::LooksLikeUuid(id) && reload()) {
      it = directory->instances_by_resource.find(id);
    }
    return it == directory->instances_by_resource.end() ? nullptr : &it->second;
  };

  for (int i = 0; i < static_cast<int>(batch.events.size()); ++i) {
    const AccessEvent& e = batch.events[i];
    if ((!e.time.has_value() && !e.time_malformed) || e.client_ip.empty() ||
        e.resource_id.empty() || e.request_type.empty()) {
      refusals.Event("missing_field", i);
      continue;
    }
    if (e.request_type.size() > kMaxRequestTypeBytes || e.client_id.size() > kMaxClientIdBytes ||
        // proto3 lets a NUL through its UTF-8 check; COPY of the whole group would fail on it.
        e.time_malformed || ContainsNul(e.request_type) || ContainsNul(e.client_id) ||
        ContainsNul(e.origin_region) || e.bytes_in > kMaxBytesPerRecord ||
        e.bytes_out > kMaxBytesPerRecord) {
      refusals.Event("invalid_field", i);
      continue;
    }
    if (!Finite(e.cpu_millis) || (e.latency_ms.has_value() && !Finite(*e.latency_ms))) {
      refusals.Event("not_a_number", i);
      continue;
    }
    if (e.cpu_millis < 0 || e.memory_bytes < 0 || e.bytes_in < 0 || e.bytes_out < 0 ||
        (e.latency_ms.has_value() && *e.latency_ms < 0)) {
      refusals.Event("negative_value", i);
      continue;
    }
    const absl::Time ts = *e.time;
    if (ts > latest) {
      refusals.Event("timestamp_in_future", i);
      continue;
    }
    if (ts < demand_cutoff) {
      refusals.Event("timestamp_too_old", i);
      continue;
    }
    absl::StatusOr<geo::IpAddress> ip = geo::IpAddress::Parse(e.client_ip);
    if (!ip.ok()) {
      refusals.Event("malformed_ip", i);
      continue;
    }
    const std::string resource = CanonicalUuid(e.resource_id);
    const std::set<std::string>* instances = find_resource(resource);
    if (instances == nullptr) {
      refusals.Event("unknown_resource", i);
      continue;
    }
    std::string instance;
    if (!e.instance_id.empty()) {
      instance = CanonicalUuid(e.instance_id);
      if (instances->count(instance) == 0 && store::LooksLikeUuid(instance) && reload()) {
        instances = find_resource(resource);
      }
      if (instances == nullptr || instances->count(instance) == 0) {
        refusals.Event("unknown_instance", i);
        continue;
      }
    }
    if (!batch.sender_location.empty() &&
        !AtLocation(*directory, instance, batch.sender_location)) {
      refusals.Event("foreign_instance", i);
      continue;
    }
    if (batch.sender_team.has_value() && !OfTeam(*directory, resource, *batch.sender_team)) {
      refusals.Event("foreign_resource", i);
      continue;
    }
    if (!e.origin_region.empty() && e.origin_region != geo::kUnknownRegion &&
        directory->regions.count(e.origin_region) == 0) {
      refusals.Event("unknown_region", i);
      continue;
    }
    geo::Origin origin = resolver->Resolve(*ip, e.origin_region);
    if (origin.source == geo::OriginSource::kGeoIp &&
        directory->regions.count(origin.region) == 0) {
      origin.region = geo::kUnknownRegion;  // a database answer naming no region of ours
    }

    store::AccessRow row;
    row.ts = ts;
    // Only what --client_ip_storage keeps, once the origin is known.
    row.client_ip =
        StoredClientAddress(*ip, options_.client_ip_storage, options_.client_ip_key).ToString();
    row.resource_id = resource;
    row.instance_id = std::move(instance);
    row.request_type = e.request_type;
    row.cpu_millis = e.cpu_millis;
    row.memory_bytes = e.memory_bytes;
    row.bytes_in = e.bytes_in;
    row.bytes_out = e.bytes_out;
    row.latency_ms = e.latency_ms;
    row.origin_region = std::move(origin.region);
    row.client_id = e.client_id;

    DemandCell& cell = out.demand[{row.resource_id, row.origin_region, HourOf(ts)}];
    store::DemandSums& sums = cell.sums;
    ++sums.requests;
    sums.bytes_in = store::SaturatingAdd(sums.bytes_in, row.bytes_in);
    sums.bytes_out = store::SaturatingAdd(sums.bytes_out, row.bytes_out);
    sums.cpu_millis += row.cpu_millis;
    sums.memory_bytes += static_cast<double>(row.memory_bytes);
    if (row.latency_ms.has_value()) {
      sums.latency_ms_sum += *row.latency_ms;
      ++sums.latency_count;
    }
    cell.client_hashes.push_back(SketchHash(ClientKey(row)));
    if (ts < raw_cutoff) {
      ++out.counts.events_demand_only;
    } else {
      ++out.counts.events_accepted;
      out.raw.push_back(std::move(row));
    }
  }

  for (int i = 0; i < static_cast<int>(batch.samples.size()); ++i) {
    const UtilizationSample& s = batch.samples[i];
    if ((!s.time.has_value() && !s.time_malformed) || s.instance_id.empty() ||
        !s.interval.has_value()) {
      refusals.Sample("missing_field", i);
      continue;
    }
    const absl::Duration interval = *s.interval;
    if (interval <= absl::ZeroDuration() || s.time_malformed ||
        s.net_bytes_in > kMaxBytesPerRecord || s.net_bytes_out > kMaxBytesPerRecord) {
      refusals.Sample("invalid_field", i);
      continue;
    }
    if (!Finite(s.cpu_seconds)) {
      refusals.Sample("not_a_number", i);
      continue;
    }
    if (s.cpu_seconds < 0 || s.memory_bytes < 0 || s.net_bytes_in < 0 || s.net_bytes_out < 0) {
      refusals.Sample("negative_value", i);
      continue;
    }
    const absl::Time ts = *s.time;
    if (ts > latest) {
      refusals.Sample("timestamp_in_future", i);
      continue;
    }
    if (ts < raw_cutoff) {  // samples are kept as long as the raw log, no longer
      refusals.Sample("timestamp_too_old", i);
      continue;
    }
    const std::string instance = CanonicalUuid(s.instance_id);
    auto it = directory->resource_by_instance.find(instance);
    if (it == directory->resource_by_instance.end() && store::LooksLikeUuid(instance) && reload()) {
      it = directory->resource_by_instance.find(instance);
    }
    if (it == directory->resource_by_instance.end()) {
      refusals.Sample("unknown_instance", i);
      continue;
    }
    if (!batch.sender_location.empty() &&
        !AtLocation(*directory, instance, batch.sender_location)) {
      refusals.Sample("foreign_instance", i);
      continue;
    }
    if (batch.sender_team.has_value() && !OfTeam(*directory, it->second, *batch.sender_team)) {
      refusals.Sample("foreign_resource", i);
      continue;
    }
    store::UtilizationRow row;
    row.ts = ts;
    row.instance_id = instance;
    row.resource_id = it->second;
    row.interval_seconds = absl::ToDoubleSeconds(interval);
    row.cpu_seconds = s.cpu_seconds;
    row.memory_bytes = s.memory_bytes;
    row.net_bytes_in = s.net_bytes_in;
    row.net_bytes_out = s.net_bytes_out;
    out.samples.push_back(std::move(row));
    ++out.counts.samples_accepted;
  }
  out.counts.rejections = refusals.Take();
  out.events_rejected = static_cast<int64_t>(batch.events.size()) - out.counts.events_accepted -
                        out.counts.events_demand_only;
  out.samples_rejected = static_cast<int64_t>(batch.samples.size()) - out.counts.samples_accepted;
  return out;
}

}  // namespace shadowplane::ingest
