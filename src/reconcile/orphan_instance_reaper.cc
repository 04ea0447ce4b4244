#include "reconcile/orphan_instance_reaper.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "common/log.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::reconcile {

OrphanInstanceReaper::OrphanInstanceReaper(providers::ComputeProvider* compute,
                                           OrphanReaperInputs inputs,
                                           prometheus::Registry* registry)
    : compute_(compute), inputs_(std::move(inputs)) {
  if (registry == nullptr) return;
  stopped_total_ = &prometheus::BuildCounter()
                        .Name("shadowplane_orphan_instances_stopped_total")
                        .Help("Instances stopped because their resource no longer exists")
                        .Register(*registry)
                        .Add({});
}

absl::StatusOr<int> OrphanInstanceReaper::RunOnce() {
  ASSIGN_OR_RETURN(const std::vector<std::string> locations, inputs_.locations());
  std::vector<providers::InstanceInfo> running;
  for (const std::string& location : locations) {
    auto instances = compute_->ListInstances(location);
    if (!instances.ok()) {
      LOG_EVENT(kWarning, "orphan check skipped a location")
          .Field("location", location)
          .Field("error", instances.status());
      continue;
    }
    for (providers::InstanceInfo& info : *instances) {
      if (info.state != providers::InstanceRunState::kStopped &&
          info.state != providers::InstanceRunState::kDeleted) {
        running.push_back(std::move(info));
      }
    }
  }
  if (running.empty()) return 0;
  std::vector<std::string> resource_ids;
  for (const auto& info : running) resource_ids.push_back(info.resource_id);
  ASSIGN_OR_RETURN(const std::set<std::string> live, inputs_.live_resources(resource_ids));
  std::set<std::string> recorded;
  if (inputs_.recorded_instances) {
    std::vector<std::string> instance_ids;
    for (const auto& info : running) instance_ids.push_back(info.instance_id);
    ASSIGN_OR_RETURN(recorded, inputs_.recorded_instances(instance_ids));
  }
  int stopped = 0;
  for (const auto& info : running) {
    const bool unrecorded = inputs_.recorded_instances && store::LooksLikeUuid(info.instance_id) &&
                            recorded.count(info.instance_id) == 0;
    if (live.count(info.resource_id) != 0 && !unrecorded) continue;
    auto result =
        compute_->DeactivateInstance(info.location, info.instance_id, /*delete_data=*/false);
    if (!result.ok()) {
      LOG_EVENT(kWarning, "orphan instance could not be stopped")
          .Field("instance_id", info.instance_id)
          .Field("location", info.location)
          .Field("error", result.status());
      continue;
    }
    ++stopped;
    if (stopped_total_ != nullptr) stopped_total_->Increment();
    LOG_EVENT(kWarning, "stopped orphan instance")
        .Field("instance_id", info.instance_id)
        .Field("resource_id", info.resource_id)
        .Field("location", info.location);
  }
  return stopped;
}

}  // namespace shadowplane::reconcile
