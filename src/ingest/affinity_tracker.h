// Client affinity (which instance last served a client of a resource), kept from the ingest
// stream. Sightings are coalesced in memory and flushed every `--affinity_flush_interval`; only
// the newest sighting of a client counts, in memory and in the table. Flushes run on the tracker's
// own thread (Start), never on the ingest writer's.
//
// The table is for placement and traffic decisions, which need minutes, not milliseconds: a
// client already written with the same instance is written again only once its last sighting is
// `resolution` newer than what the table holds. That keeps a busy client from costing a row
// update per flush. Bounded: when `max_pending` clients wait, a flush starts at once; beyond
// twice that (the database is slow or down), new clients' sightings are dropped and counted; the
// memory of
// what was written holds at most `max_remembered` clients (forgotten all at once beyond, which
// only costs writes). Thread-safe.
//
// Metrics: shadowplane_client_affinity_updates_total{result="written"|"dropped"|"suppressed"}.
#ifndef SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_
#define SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/access_log_store.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace shadowplane::ingest {

struct AffinityOptions {
  absl::Duration resolution = absl::Minutes(1);
  size_t max_pending = 50'000;
  size_t max_remembered = 200'000;
};

class AffinityTracker {
 public:
  AffinityTracker(store::TelemetryRepository* repository, AffinityOptions options,
                  prometheus::Registry* registry);
  ~AffinityTracker();

  // Flushes every `interval`, and at once when max_pending clients wait, while `ready()` (the
  // database is up). Stop() ends that and runs a last flush.
  void Start(absl::Duration interval, std::function<bool()> ready);
  void Stop();

  // Notes the committed rows' clients.
  void Note(const std::vector<const store::AccessRow*>& rows);
  // Writes what is pending. On failure the updates stay pending (up to the bound).
  absl::Status Flush();

 private:
  // What the table holds for a client (as far as this process wrote it), compactly.
  struct Written {
    uint64_t instance_hash = 0;
    absl::Time last_seen;
  };
  // SketchHash of "<resource id> <client key>" (64 bits: a collision among millions of clients is
  // improbable, and would only merge two clients' affinity).
  using Key = uint64_t;

  store::TelemetryRepository* const repository_;
  const AffinityOptions options_;
  absl::Mutex flush_mu_;  // one flush at a time
  std::thread flusher_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool flush_wanted_ ABSL_GUARDED_BY(mu_) = false;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, store::AffinityRow> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Key, Written> written_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter* written_total_ = nullptr;
  prometheus::Counter* dropped_ = nullptr;
  prometheus::Counter* suppressed_ = nullptr;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_
