#include "agent/instance_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace shadowplane::agent {

namespace fs = std::filesystem;

namespace {
constexpr absl::string_view kStagingPrefix = ".staging-";
}  // namespace

bool InstanceLayout::IsStaging(absl::string_view name) {
  return absl::StartsWith(name, kStagingPrefix);
}

absl::StatusOr<std::string> InstanceLayout::StageData(const std::string& id,
                                                      const std::string& seed_dir) const {
  std::string staging = absl::StrCat(instances_dir(), "/", kStagingPrefix, id, "-XXXXXX");
  if (mkdtemp(staging.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a staging directory in ",
                                            instances_dir(), ": ", strerror(errno)));
  }
  auto fail = [&](absl::Status s) {
    Discard(staging);
    return s;
  };
  std::error_code ec;
  if (seed_dir.empty()) {
    fs::create_directory(staging + "/data", ec);
  } else {
    fs::copy(seed_dir, staging + "/data",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  }
  if (ec) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed_dir, " cannot be copied: ", ec.message())));
  }
  // On disk before the rename makes the instance whole: a crash never leaves an instance whose
  // directory is in place and whose seeded files are empty.
  if (absl::Status s = SyncTree(staging); !s.ok()) return fail(s);
  return staging;
}

absl::Status InstanceLayout::Commit(const std::string& staging,
                                    const instance::InstanceConfig& config) const {
  if (absl::Status s = instance::SaveInstanceConfig(config, staging + "/instance.yaml"); !s.ok()) {
    Discard(staging);
    return s;
  }
  const std::string dir = Dir(config.instance_id);
  std::error_code ec;
  fs::rename(staging, dir, ec);
  if (ec) {
    Discard(staging);
    return absl::InternalError(absl::StrCat("cannot move ", staging, ": ", ec.message()));
  }
  return SyncParentDirectory(dir);
}

void InstanceLayout::Discard(const std::string& staging) const {
  std::error_code ignored;
  fs::remove_all(staging, ignored);
}

absl::Status InstanceLayout::Stage(const instance::InstanceConfig& config,
                                   const std::string& seed_dir) const {
  absl::StatusOr<std::string> staging = StageData(config.instance_id, seed_dir);
  if (!staging.ok()) return staging.status();
  return Commit(*staging, config);
}

absl::Status InstanceLayout::Remove(const std::string& id) const {
  const std::string doomed = absl::StrCat(instances_dir(), "/", kStagingPrefix, id, "-deleted");
  std::error_code ec;
  fs::rename(Dir(id), doomed, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot remove instance ", id, ": ", ec.message()));
  fs::remove_all(doomed, ec);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CheckSeedDir(const std::string& seed, const std::string& seed_root,
                                         const std::string& data_root) {
  if (seed_root.empty()) {
    return absl::FailedPreconditionError(
        "this agent takes no seed_dir: it was started without --seed_root");
  }
  char root_path[PATH_MAX];
  if (realpath(seed_root.c_str(), root_path) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the agent's --seed_root ", seed_root, " cannot be used: ", strerror(errno)));
  }
  char seed_path[PATH_MAX];
  if (realpath(seed.c_str(), seed_path) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed, " cannot be used: ", strerror(errno)));
  }
  const std::string root(root_path), real(seed_path);
  if (real != root && !absl::StartsWith(real, root == "/" ? root : root + "/")) {
    return absl::PermissionDeniedError(absl::StrCat(
        "seed_dir ", seed, " is outside the agent's seed root ", root, " (it is ", real, ")"));
  }
  char data_path[PATH_MAX];
  if (!data_root.empty() && realpath(data_root.c_str(), data_path) != nullptr) {
    const std::string data(data_path);
    auto within = [](const std::string& path, const std::string& dir) {
      return path == dir || absl::StartsWith(path, dir == "/" ? dir : dir + "/");
    };
    if (within(real, data) || within(data, real)) {
      return absl::PermissionDeniedError(
          absl::StrCat("seed_dir ", seed, " overlaps the agent's data root ", data,
                       ": a seed is never copied from, or into, the instances' own data"));
    }
  }
  struct stat st;
  if (stat(real.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed, " cannot be used: ", strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("seed_dir ", seed, " is not a directory"));
  }
  if (access(real.c_str(), R_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed, " cannot be read: ", strerror(errno)));
  }
  return real;
}

}  // namespace shadowplane::agent
