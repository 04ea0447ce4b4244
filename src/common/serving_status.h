// Whether each part of the process is ready to serve, keyed by gRPC service name ("" is the
// whole server). Written by the wiring that knows (e.g. the database supervisor), read by the
// health service, watched by streaming health checks. Thread-safe.
#ifndef SHADOWPLANE_COMMON_SERVING_STATUS_H_
#define SHADOWPLANE_COMMON_SERVING_STATUS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane {

class ServingStatus {
 public:
  using Listener = std::function<void(bool serving)>;

  // Sets every known service (and those registered later via Set) to `serving`.
  void SetAll(bool serving);
  void Set(const std::string& service, bool serving);
  // nullopt for a service never set.
  std::optional<bool> Get(const std::string& service) const;

  // Calls `listener` whenever `service`'s status is set (even to the same value: callers compare).
  // The listener runs on the setter's thread, without the lock held; it must not block.
  int64_t Subscribe(const std::string& service, Listener listener);
  void Unsubscribe(int64_t id);

 private:
  void Notify(const std::string& service, bool serving);

  mutable absl::Mutex mu_;
  std::map<std::string, bool> status_ ABSL_GUARDED_BY(mu_);
  struct Subscription {
    std::string service;
    Listener listener;
  };
  std::map<int64_t, Subscription> listeners_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_SERVING_STATUS_H_
