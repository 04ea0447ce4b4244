#include "common/call_gate.h"

#include <atomic>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane {
namespace {

std::atomic<bool> g_armed{false};

struct Entry {
  absl::Status verdict;
  GateCaller caller;
  std::function<absl::Status()> intent;
};

struct Verdicts {
  absl::Mutex mu;
  absl::flat_hash_map<const void*, Entry> by_call ABSL_GUARDED_BY(mu);
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
  v.by_call[call].verdict = std::move(verdict);
}

void CallGate::RecordCaller(const void* call, GateCaller caller) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  v.by_call[call].caller = std::move(caller);
}

GateCaller CallGate::CallerOf(const void* call) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  const auto it = v.by_call.find(call);
  return it == v.by_call.end() ? GateCaller() : it->second.caller;
}

void CallGate::RecordIntent(const void* call, std::function<absl::Status()> intent) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  v.by_call[call].intent = std::move(intent);
}

absl::Status CallGate::RunIntent(const void* call) {
  std::function<absl::Status()> intent;
  {
    Verdicts& v = Get();
    absl::MutexLock lock(&v.mu);
    const auto it = v.by_call.find(call);
    if (it == v.by_call.end() || !it->second.intent) return absl::OkStatus();
    intent = std::exchange(it->second.intent, nullptr);
  }
  return intent();  // outside the lock: it may write to the database
}

bool CallGate::HasIntent(const void* call) {
  Verdicts& v = Get();
  absl::MutexLock lock(&v.mu);
  const auto it = v.by_call.find(call);
  return it != v.by_call.end() && it->second.intent != nullptr;
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
  return it->second.verdict;
}

}  // namespace shadowplane
