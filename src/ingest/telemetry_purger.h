// Deletes what was recorded about a released reservation's clients when its release asked for it
// (ReleaseRequest.purge_telemetry): the raw access log, utilization samples, hourly demand (its
// sketches are of the clients) and client affinity. Forecasts, planner decisions and migrations,
// which name no client, stay until their own retention.
//
// The request is stored on the reservation before the release starts, so that it survives a
// restart, and from the next reload of every replica's resource directory (at once on the replica
// that took the request, within --telemetry_refresh_interval on the others) ingest refuses the
// resource's events as `unknown_resource` (an agent's late, spooled batches among them). A purge
// runs once the reservation is released, and again on every pass until one has run `settle` after
// the request: an event accepted before a replica knew of the request, or an affinity row still
// coalescing in memory, may be stored after the first purge. RunOnce() is idempotent and safe on
// every replica at once.
//
// Metrics: shadowplane_telemetry_purges_total{result}, shadowplane_telemetry_purged_rows_total
// {table}.
#ifndef SHADOWPLANE_INGEST_TELEMETRY_PURGER_H_
#define SHADOWPLANE_INGEST_TELEMETRY_PURGER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/telemetry_purge_repository.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace shadowplane::ingest {

struct TelemetryPurgeOptions {
  // From the request to the purge that counts as the last: at least the directory refresh
  // interval plus the affinity flush interval, with room for a commit in flight.
  absl::Duration settle = absl::Seconds(75);
  int max_per_pass = 20;
  // Called after a request is recorded (the server reloads its resource directory, so that this
  // replica refuses the resource's events at once); may be empty.
  std::function<void()> on_requested;
};

class TelemetryPurger {
 public:
  // `registry` may be null. Times are the wall clock's (they record when data was deleted).
  TelemetryPurger(store::TelemetryPurgeRepository* purges, TelemetryPurgeOptions options,
                  prometheus::Registry* registry);

  // Records that the reservation's telemetry is to be purged. NOT_FOUND for an unknown id.
  absl::Status Request(const std::string& reservation_id);
  // Purges whatever is due (with `reservation_id`, only that one); returns how many purges ran.
  absl::StatusOr<int> RunOnce(const std::string& reservation_id = "");

  const TelemetryPurgeOptions& options() const { return options_; }

 private:
  store::TelemetryPurgeRepository* const purges_;
  const TelemetryPurgeOptions options_;
  prometheus::Family<prometheus::Counter>* purges_total_ = nullptr;
  prometheus::Family<prometheus::Counter>* rows_total_ = nullptr;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_TELEMETRY_PURGER_H_
