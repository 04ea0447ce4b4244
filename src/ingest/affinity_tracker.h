// Client affinity (which instance last served a client of a resource), kept from the ingest
// stream. Updates are coalesced in memory (a client seen a thousand times in a second is one row
// write) and flushed every `--affinity_flush_interval`; only the newest sighting of a client
// counts, in memory and in the table. Bounded: past `max_pending` clients a flush runs at once;
// if the database is down, the oldest pending updates are dropped and counted. Thread-safe.
#ifndef SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_
#define SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_

#include <map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "store/access_log_store.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace shadowplane::ingest {

class AffinityTracker {
 public:
  AffinityTracker(store::TelemetryRepository* repository, size_t max_pending,
                  prometheus::Registry* registry);

  // Notes the committed rows' clients.
  void Note(const std::vector<const store::AccessRow*>& rows);
  // Writes what is pending. On failure the updates stay pending (up to the bound).
  absl::Status Flush();
  size_t pending() const;

 private:
  using Key = std::pair<std::string, std::string>;  // resource, client key
  store::TelemetryRepository* const repository_;
  const size_t max_pending_;
  absl::Mutex flush_mu_;  // one flush at a time
  mutable absl::Mutex mu_;
  std::map<Key, store::AffinityRow> pending_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter* written_ = nullptr;
  prometheus::Counter* dropped_ = nullptr;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_AFFINITY_TRACKER_H_
