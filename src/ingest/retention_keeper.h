// Keeps the telemetry tables bounded, under the "telemetry-retention" lease so that one replica
// does it: creates client_access_log's daily partitions `days_ahead` ahead (the writer also
// creates any it lacks), drops a day's partition once the whole day is older than the raw
// retention, and deletes demand_hourly rows older than the demand retention, utilization samples
// and affinity older than the raw retention, and batch ids older than the dedup window.
//
// Metrics: shadowplane_access_log_partitions, shadowplane_access_log_partitions_dropped_total,
// shadowplane_telemetry_pruned_rows_total{table}, shadowplane_telemetry_retention_leader.
#ifndef SHADOWPLANE_INGEST_RETENTION_KEEPER_H_
#define SHADOWPLANE_INGEST_RETENTION_KEEPER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "store/access_log_store.h"
#include "store/lease_store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::ingest {

struct RetentionOptions {
  absl::Duration raw_retention = absl::Hours(24 * 30);
  absl::Duration demand_retention = absl::Hours(24 * 400);
  absl::Duration batch_dedup_window = absl::Hours(24);
  int days_ahead = 3;
  std::string owner;
  absl::Duration lease_ttl = absl::Minutes(30);
};

class RetentionKeeper {
 public:
  RetentionKeeper(store::AccessLogStore* store, store::LeaseStore* leases, const Clock* clock,
                  RetentionOptions options, prometheus::Registry* registry);

  // One pass. False (nothing done) when another replica holds the lease.
  absl::StatusOr<bool> RunOnce();

 private:
  store::AccessLogStore* const store_;
  store::LeaseStore* const leases_;
  const Clock* const clock_;
  const RetentionOptions options_;
  prometheus::Gauge* partitions_ = nullptr;
  prometheus::Gauge* leader_ = nullptr;
  prometheus::Counter* dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* pruned_ = nullptr;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_RETENTION_KEEPER_H_
