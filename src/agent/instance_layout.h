// Where an agent keeps its instances on disk, and the moves that keep every instance directory
// whole: DATA_ROOT/instances/ID/{instance.yaml, instance.pid, instance.log, data/}. An instance is
// built in a staging directory and renamed into place; a deleted one is renamed away first, then
// removed. A staging directory found at start-up is what a create or delete left when it died.
#ifndef SHADOWPLANE_AGENT_INSTANCE_LAYOUT_H_
#define SHADOWPLANE_AGENT_INSTANCE_LAYOUT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "instance/instance_config.h"

namespace shadowplane::agent {

class InstanceLayout {
 public:
  explicit InstanceLayout(std::string data_root) : data_root_(std::move(data_root)) {}

  std::string instances_dir() const { return data_root_ + "/instances"; }
  std::string Dir(const std::string& id) const { return instances_dir() + "/" + id; }
  std::string ConfigPath(const std::string& id) const { return Dir(id) + "/instance.yaml"; }
  std::string PidPath(const std::string& id) const { return Dir(id) + "/instance.pid"; }
  std::string LogPath(const std::string& id) const { return Dir(id) + "/instance.log"; }
  std::string DataDir(const std::string& id) const { return Dir(id) + "/data"; }

  // Whether an entry of instances_dir() is a leftover staging directory.
  static bool IsStaging(absl::string_view name);

  // Builds the data of instance `id` aside: a staging directory of its own (so that two creates
  // never share one) holding a copy of `seed_dir` (links copied as links, never followed; empty
  // when no seed), every file and directory of it fsynced. Needs no lock: the copy of a large seed
  // holds up nothing else. Returns the staging directory, for Commit() or Discard(). On failure
  // nothing is left; INVALID_ARGUMENT when the seed cannot be copied.
  absl::StatusOr<std::string> StageData(const std::string& id, const std::string& seed_dir) const;
  // Saves `config` into `staging` and renames it into place as the instance's directory, made
  // durable. On failure `staging` is removed.
  absl::Status Commit(const std::string& staging, const instance::InstanceConfig& config) const;
  // Removes a staging directory that will not be committed.
  void Discard(const std::string& staging) const;
  // StageData() then Commit().
  absl::Status Stage(const instance::InstanceConfig& config, const std::string& seed_dir) const;
  // Removes the instance's directory: renamed away first, so that it is never seen half-removed.
  absl::Status Remove(const std::string& id) const;

 private:
  const std::string data_root_;
};

// The seed directory's real path (symbolic links resolved), to copy from: FAILED_PRECONDITION
// when the agent has no `seed_root` (it takes no seeds); PERMISSION_DENIED (naming seed_dir)
// when the real path is not inside the real path of `seed_root`, so that no caller seeds an
// instance from whatever the agent can read (/etc), or when it is inside the agent's own
// `data_root` or holds it (a copy into itself, or of other instances' data); INVALID_ARGUMENT
// (naming seed_dir) unless it is a readable directory.
absl::StatusOr<std::string> CheckSeedDir(const std::string& seed, const std::string& seed_root,
                                         const std::string& data_root = "");

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_INSTANCE_LAYOUT_H_
