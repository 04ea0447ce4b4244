// A scripted shadow sync for in-process migration tests: each round reports the next scripted
// dirty size (the last one repeats) or fails with a scripted error, and every round is recorded.
// Test support only: never linked into a binary.
#ifndef SHADOWPLANE_TESTS_SUPPORT_FAKE_TARGET_SYNC_H_
#define SHADOWPLANE_TESTS_SUPPORT_FAKE_TARGET_SYNC_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "shadow/target_sync.h"

namespace shadowplane::testing {

class FakeTargetSync final : public shadow::TargetSync {
 public:
  struct Round {
    std::string reservation_id;
    std::string target_instance_id;
    shadow::SyncTrigger trigger;
  };

  absl::StatusOr<shadow::SyncOutcome> SyncInto(
      const std::string& reservation_id, const std::string& target_instance_id,
      shadow::SyncTrigger trigger, const std::vector<std::string>& final_paths = {}) override {
    absl::MutexLock lock(&mu_);
    rounds_.push_back({reservation_id, target_instance_id, trigger});
    if (trigger == shadow::SyncTrigger::kFinal && !final_error_.ok()) return final_error_;
    shadow::SyncOutcome out;
    out.run.reservation_id = reservation_id;
    out.run.trigger = shadow::SyncTriggerName(trigger);
    out.run.target_instance = target_instance_id;
    out.run.result = "ok";
    out.run.identical = true;
    const int64_t dirty = dirty_.empty() ? 0 : dirty_.front();
    if (dirty_.size() > 1) dirty_.pop_front();
    out.run.dirty_bytes = trigger == shadow::SyncTrigger::kFinal ? 0 : dirty;
    out.run.dirty_files = out.run.dirty_bytes > 0 ? 1 : 0;
    out.run.bytes_literal = 4096;
    out.run.files_transferred = 1;
    out.run.duration_seconds = 0.01;
    return out;
  }

  // What each later full round leaves changed behind it, in order; the last repeats.
  void ScriptDirtyBytes(std::deque<int64_t> dirty) {
    absl::MutexLock lock(&mu_);
    dirty_ = std::move(dirty);
  }
  // Final rounds fail with `status` until cleared with OK.
  void FailFinalRounds(absl::Status status) {
    absl::MutexLock lock(&mu_);
    final_error_ = std::move(status);
  }
  std::vector<Round> rounds() {
    absl::MutexLock lock(&mu_);
    return rounds_;
  }

 private:
  absl::Mutex mu_;
  std::deque<int64_t> dirty_ ABSL_GUARDED_BY(mu_);
  absl::Status final_error_ ABSL_GUARDED_BY(mu_);
  std::vector<Round> rounds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_FAKE_TARGET_SYNC_H_
