// What a move did to this instance's clients, as the instance saw it: requests held by a
// cutover's freeze (answered late), failed (a hold that expired, a forward that could not reach
// the new primary), forwarded to the new primary (one more hop), kept-alive connections it ended
// (after a forwarded answer, so that the client reconnects to where traffic points now), and reads
// it answered from data that may lack a write taken elsewhere (stale). The migration reads these
// per client after the cutover's drain (migration/disruption_count.h) and counts the affine
// clients among them.
//
// A client is its `X-Shadowplane-Client` id ("id:<id>", the same key as telemetry's), else its
// address ("ip:<address>"). Bounded: the newest `capacity` events are kept; a report says when
// events it should hold were overwritten. Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_DISRUPTION_LOG_H_
#define SHADOWPLANE_INSTANCE_DISRUPTION_LOG_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shadowplane::instance {

enum class DisruptionKind { kHeld = 0, kFailed, kForwarded, kClosed, kStaleRead };
inline constexpr int kDisruptionKinds = 5;

// "held", "failed", "forwarded", "closed", "stale_read".
const char* DisruptionKindName(DisruptionKind kind);

struct ClientDisruptions {
  std::array<int64_t, kDisruptionKinds> counts{};
  int64_t& operator[](DisruptionKind k) { return counts[static_cast<size_t>(k)]; }
  int64_t operator[](DisruptionKind k) const { return counts[static_cast<size_t>(k)]; }
};

struct DisruptionReport {
  std::map<std::string, ClientDisruptions> clients;
  // Events at or after `since` were overwritten: the counts are a lower bound.
  bool truncated = false;
};

class DisruptionLog {
 public:
  explicit DisruptionLog(size_t capacity = 65536);

  void Note(const std::string& client, DisruptionKind kind, absl::Time at);
  // Per client, the events noted at or after `since`.
  DisruptionReport Since(absl::Time since) const;
  // The report as JSON: {"truncated":false,"clients":{"id:c1":{"held":1,...},...}}.
  static std::string ToJson(const DisruptionReport& report);

 private:
  struct Event {
    absl::Time at;
    DisruptionKind kind;
    std::string client;
  };
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::vector<Event> ring_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;  // where the next event goes once the ring is full
  // The newest event that was overwritten (InfinitePast: none).
  absl::Time lost_up_to_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// The client key of a request: "id:" + X-Shadowplane-Client when present (at most 128 printable
// characters; anything else is ignored), else "ip:" + the peer's address.
std::string ClientKeyOf(const std::string& client_header, const std::string& peer_address);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_DISRUPTION_LOG_H_
