// The fleet's forecast of the hour being forecast now, per origin region, for dashboards: each
// resource's newest forecast's first hour (its median and 80% interval, forecast/intervals.h),
// summed over resources. A sum of quantiles is a wider interval than the fleet's own (resources'
// errors are not perfectly correlated): fit for a panel beside realised demand, not for decisions.
//
// Metrics: shadowplane_forecast_requests{origin_region, quantile="0.1"|"0.5"|"0.9"} (requests in
// the hour; 0 on replicas that do not refresh forecasts). Thread-safe.
#ifndef SHADOWPLANE_FORECAST_FLEET_OUTLOOK_H_
#define SHADOWPLANE_FORECAST_FLEET_OUTLOOK_H_

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/forecast_repository.h"

namespace prometheus {
class Registry;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::forecast {

class FleetOutlook {
 public:
  // `registry` may be null (then nothing is exported, the sums still kept). A resource whose
  // newest forecast is older than `max_age` (domain time) is left out.
  explicit FleetOutlook(prometheus::Registry* registry, absl::Duration max_age = absl::Hours(3));

  // A resource's new forecast (its records, "total" among them), computed at `now`.
  void Note(const std::vector<store::ForecastRecord>& records, absl::Time now);
  // Leaves out resources whose forecast is older than the maximum age, and republishes.
  void Expire(absl::Time now);

  // Per region: {0.1, 0.5, 0.9} quantiles of the hour's requests, summed over resources.
  std::map<std::string, std::array<double, 3>> Sums() const;

 private:
  struct Entry {
    absl::Time computed_at;
    std::map<std::string, std::array<double, 3>> regions;
  };
  std::map<std::string, std::array<double, 3>> SumsLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration max_age_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> resources_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> published_ ABSL_GUARDED_BY(mu_);  // regions with series
  prometheus::Family<prometheus::Gauge>* gauge_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FLEET_OUTLOOK_H_
