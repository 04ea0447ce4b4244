// Finds lost primaries and promotes their shadows by themselves.
//
// A primary is lost when its write lease went unrenewed for `loss_timeout` (store/
// write_lease_repository.h): by then it has stopped taking writes by itself, because the timeout
// is at least the lease. That is the only test. Probes of its agent and of its instance endpoint
// explain the loss (the whole location unreachable; the agent up but the instance down; the
// instance answering but its lease not renewed, i.e. partitioned from the control plane) but
// never shorten it. A lost primary whose shadow runs (its agent confirms) gets an emergency
// migration (migration/step_promote.cc), idempotent by request id per instance and the resource's
// epoch; an attempt that ended without promoting is followed by another (up to 5 per epoch, then
// reported as attempts_exhausted). One without a healthy shadow, or whose shadow never completed
// a sync round (it holds the seed only), is reported and counted, and asked again on the next
// pass.
//
// Metrics: shadowplane_primary_losses_total{cause} (once per lost primary, while it stays lost),
// shadowplane_failovers_started_total{cause}, shadowplane_failovers_blocked_total{reason} (every
// pass). A block is logged when its reason changes. Run by one replica at a time (the server wiring
// holds an advisory lock around RunOnce). Not thread-safe.
#ifndef SHADOWPLANE_MIGRATION_PRIMARY_LOSS_DETECTOR_H_
#define SHADOWPLANE_MIGRATION_PRIMARY_LOSS_DETECTOR_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "migration/migration_manager.h"
#include "providers/compute_provider.h"
#include "store/reservation_repository.h"
#include "store/write_lease_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::migration {

struct PrimaryLossOptions {
  absl::Duration loss_timeout = absl::Seconds(30);
  // False: losses are reported, nothing is promoted.
  bool auto_failover = true;
  absl::Duration probe_timeout = absl::Seconds(1);
  int batch = 100;
};

// What the probes found, for the explanation.
enum class LossCause {
  kLocationLost,  // neither the agent nor the instance answers
  kInstanceDown,  // the agent answers; the instance does not
  kPartitioned,   // the instance answers, but its lease went unrenewed
  kAgentSilent,   // the agent answers and the instance runs, yet no renewal arrived
};
const char* LossCauseName(LossCause cause);

class PrimaryLossDetector {
 public:
  // `registry` may be null.
  PrimaryLossDetector(store::WriteLeaseRepository* leases,
                      store::ReservationRepository* reservations,
                      providers::ComputeProvider* compute, MigrationManager* migrations,
                      PrimaryLossOptions options, prometheus::Registry* registry);

  // One pass; the number of emergency migrations started.
  absl::StatusOr<int> RunOnce();

 private:
  LossCause Probe(const store::InstanceLease& lost);

  store::WriteLeaseRepository* const leases_;
  store::ReservationRepository* const reservations_;
  providers::ComputeProvider* const compute_;
  MigrationManager* const migrations_;
  const PrimaryLossOptions options_;
  prometheus::Family<prometheus::Counter>* losses_ = nullptr;
  prometheus::Family<prometheus::Counter>* started_ = nullptr;
  prometheus::Family<prometheus::Counter>* blocked_ = nullptr;
  // Why each lost primary could not fail over on the last pass that saw it (for the log).
  std::map<std::string, std::string> blocked_reason_;
  // The lost primaries reported (logged and counted) already.
  std::set<std::string> reported_;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_PRIMARY_LOSS_DETECTOR_H_
