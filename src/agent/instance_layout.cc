#include "agent/instance_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

absl::Status InstanceLayout::Stage(const instance::InstanceConfig& config,
                                   const std::string& seed_dir) const {
  const std::string dir = Dir(config.instance_id);
  const std::string staging =
      absl::StrCat(instances_dir(), "/", kStagingPrefix, config.instance_id);
  std::error_code ec;
  fs::remove_all(staging, ec);
  auto fail = [&](absl::Status s) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return s;
  };
  fs::create_directories(staging, ec);
  if (ec) {
    return fail(absl::InternalError(absl::StrCat("cannot create ", staging, ": ", ec.message())));
  }
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
  if (absl::Status s = instance::SaveInstanceConfig(config, staging + "/instance.yaml"); !s.ok()) {
    return fail(s);
  }
  fs::rename(staging, dir, ec);
  if (ec)
    return fail(absl::InternalError(absl::StrCat("cannot move ", staging, ": ", ec.message())));
  (void)SyncParentDirectory(dir);
  return absl::OkStatus();
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

absl::Status CheckSeedDir(const std::string& seed) {
  struct stat st;
  if (stat(seed.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed, " cannot be used: ", strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("seed_dir ", seed, " is not a directory"));
  }
  if (access(seed.c_str(), R_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir ", seed, " cannot be read: ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::agent
