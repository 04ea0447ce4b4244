#include "common/call_gate.h"

#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane {
namespace {

std::atomic<bool> g_armed{false};

struct Verdicts {
  absl::Mutex mu;
  absl::flat_hash_map<const void*, absl::Status> by_call ABSL_GUARDED_BY(mu);
};

Verdicts& Get() {
  static Verdicts* verdicts = new Verdicts;  // never destroyed: calls may end during exit
  return *verdicts;
}

}  // namespace

void CallGate::Arm() { g_armed = true; }

void CallGate::Record(const void* call, absl::Status verdict) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  v.by_call[call] = std::move(verdict);
}

void CallGate::Forget(const void* call) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  v.by_call.erase(call);
}

absl::Status CallGate::Verdict(const void* call) {
  if (!g_armed.load()) return absl::OkStatus();
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  const auto it = v.by_call.find(call);
  if (it == v.by_call.end()) {
    return absl::PermissionDeniedError("the call was not checked for access");
  }
  return it->second;
}

}  // namespace shadowplane
