#include "forecast/fleet_outlook.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "forecast/intervals.h"

namespace shadowplane::forecast {

namespace {
constexpr std::array<double, 3> kQuantiles = {0.1, 0.5, 0.9};
constexpr std::array<const char*, 3> kLabels = {"0.1", "0.5", "0.9"};
}  // namespace

FleetOutlook::FleetOutlook(prometheus::Registry* registry, absl::Duration max_age)
    : max_age_(max_age) {
  if (registry == nullptr) return;
  gauge_ = &prometheus::BuildGauge()
                .Name("shadowplane_forecast_requests")
                .Help(
                    "The fleet's forecast of requests in the hour being forecast now, by origin "
                    "region: each resource's median and 80% interval bounds, summed (a wider "
                    "interval than the fleet's own)")
                .Register(*registry);
}

void FleetOutlook::Note(const std::vector<store::ForecastRecord>& records, absl::Time now) {
  Entry entry;
  entry.computed_at = now;
  std::string resource;
  for (const store::ForecastRecord& r : records) {
    resource = r.resource_id;
    if (r.origin_region == "total" || r.values.empty()) continue;
    ErrorProfile profile;
    profile.lead_scale = r.lead_scale;
    profile.unit_quantiles = r.unit_quantiles;
    std::array<double, 3>& q = entry.regions[r.origin_region];
    for (size_t i = 0; i < kQuantiles.size(); ++i) {
      q[i] = kQuantiles[i] == 0.5 || !profile.usable()
                 ? r.values[0]
                 : QuantileSeries(profile, absl::MakeConstSpan(r.values).subspan(0, 1), 0,
                                  kQuantiles[i])[0];
    }
  }
  if (resource.empty()) return;
  absl::MutexLock lock(&mu_);
  resources_[resource] = std::move(entry);
  Publish();
}

void FleetOutlook::Expire(absl::Time now) {
  absl::MutexLock lock(&mu_);
  for (auto it = resources_.begin(); it != resources_.end();) {
    it = now - it->second.computed_at > max_age_ ? resources_.erase(it) : std::next(it);
  }
  Publish();
}

std::map<std::string, std::array<double, 3>> FleetOutlook::Sums() const {
  absl::MutexLock lock(&mu_);
  return SumsLocked();
}

std::map<std::string, std::array<double, 3>> FleetOutlook::SumsLocked() const {
  std::map<std::string, std::array<double, 3>> out;
  for (const auto& [resource, entry] : resources_) {
    for (const auto& [region, q] : entry.regions) {
      std::array<double, 3>& sum = out[region];
      for (size_t i = 0; i < q.size(); ++i) sum[i] += q[i];
    }
  }
  return out;
}

void FleetOutlook::Publish() {
  if (gauge_ == nullptr) return;
  std::map<std::string, std::array<double, 3>> sums = SumsLocked();
  for (const std::string& region : published_) sums.try_emplace(region);  // gone: 0, not stale
  for (const auto& [region, q] : sums) {
    for (size_t i = 0; i < q.size(); ++i) {
      gauge_->Add({{"origin_region", region}, {"quantile", kLabels[i]}}).Set(q[i]);
    }
    published_.insert(region);
  }
}

}  // namespace shadowplane::forecast
