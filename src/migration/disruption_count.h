// Counts what a planned migration did to its resource's clients, once, after the drain period.
//
// A client is affine to the resource when it was seen within the session window
// (`--affinity_session`, default 15 min) before the freeze began (`client_affinity`, kept from
// telemetry by ingest/affinity_tracker.h). What the move did to each client the instances recorded
// themselves (instance/disruption_log.h): requests held by the freeze (answered late), failed,
// forwarded by the old primary (one more hop), kept-alive connections it ended, reads it answered
// from data that may lack a newer write. The counter reads those records from every live instance
// of the resource since the freeze began (on the wall clock, the instances' clock), keeps the
// affine clients' events, and stores one `migration_disruptions` row; the first row stands (a
// retried step does not count twice). An instance that cannot be asked leaves the row marked with
// the error and counted as far as the others tell: the move never waits on its own bookkeeping.
//
// Metrics: shadowplane_migration_affine_clients_total,
// shadowplane_migration_disrupted_clients_total {affine},
// shadowplane_migration_disruptions_total{kind} (the affine clients'). Thread-safe.
#ifndef SHADOWPLANE_MIGRATION_DISRUPTION_COUNT_H_
#define SHADOWPLANE_MIGRATION_DISRUPTION_COUNT_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "providers/compute_provider.h"
#include "store/disruption_repository.h"
#include "store/migration_repository.h"
#include "store/reservation_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::migration {

// An instance's report as the count takes it from a peer: at most kMaxReportedClients clients,
// keys of at most kMaxClientKeyBytes, each count within [0, kMaxClientEvents] (an instance keeps
// fewer events than that: instance/disruption_log.h). Anything cut marks the report truncated.
inline constexpr size_t kMaxReportedClients = 20000;
inline constexpr size_t kMaxClientKeyBytes = 256;
inline constexpr int64_t kMaxClientEvents = 65536;
providers::InstanceDisruptions Bounded(providers::InstanceDisruptions report);

// The instances' reports merged per client, split into the affine clients' events and the count
// of other disrupted clients. Pure.
store::DisruptionRecord TallyDisruptions(const std::vector<providers::InstanceDisruptions>& reports,
                                         const std::set<std::string>& affine,
                                         int64_t affine_clients);

// Every client key that appears in `reports` with at least one event.
std::vector<std::string> DisruptedClients(
    const std::vector<providers::InstanceDisruptions>& reports);

class DisruptionCounter {
 public:
  // `registry` may be null.
  DisruptionCounter(store::DisruptionRepository* repository, providers::ComputeProvider* compute,
                    absl::Duration affinity_session, prometheus::Registry* registry);

  // Counts `m`'s disruptions from `instances` (the live ones are asked) and stores them, unless
  // they are stored already or `m` had no freeze (an emergency promotion). Errors only from the
  // database.
  absl::Status Measure(const store::MigrationRecord& m,
                       const std::vector<store::InstanceRecord>& instances, absl::Time now);
  // What was counted for `migration_id` (nullopt: nothing yet).
  absl::StatusOr<std::optional<store::DisruptionRecord>> Counted(const std::string& migration_id);

 private:
  store::DisruptionRepository* const repository_;
  providers::ComputeProvider* const compute_;
  const absl::Duration affinity_session_;
  prometheus::Counter* affine_ = nullptr;
  prometheus::Family<prometheus::Counter>* disrupted_ = nullptr;
  prometheus::Family<prometheus::Counter>* kinds_ = nullptr;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_DISRUPTION_COUNT_H_
