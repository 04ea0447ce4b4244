// The target side of a sync round: pulls an instance's tree from the source agent into a local
// directory. See proto/shadowplane/agent/v1/sync.proto for the protocol.
//
// Order of work: validate the whole manifest first (a bad path refuses the round before anything
// is written), remove what a killed round left behind, create directories and links, rebuild
// changed files from deltas (several in flight; each verified and renamed into place on its own),
// then delete what the source no longer has and set directory modes and times. Each step is safe
// to repeat, so a failed or killed round is simply run again.
#ifndef SHADOWPLANE_SYNC_PULL_CLIENT_H_
#define SHADOWPLANE_SYNC_PULL_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "shadowplane/agent/v1/sync.pb.h"
#include "sync/file_state_cache.h"
#include "sync/sync_limits.h"

namespace shadowplane::sync {

struct PullOptions {
  std::shared_ptr<grpc::Channel> channel;  // to the source agent
  std::string source_instance_id;
  shadowplane::agent::v1::SyncMode mode = shadowplane::agent::v1::QUICK;
  std::vector<std::string> paths;  // FINAL only; empty: the whole tree
  std::string target_dir;
  FileStateCache* cache = nullptr;  // the target tree's cache
  int threads = 2;                  // basis signatures computed in parallel
  int window = 6;                   // files in flight
  absl::Duration timeout = absl::Hours(1);
  // Once the source has sent a heartbeat (protocol 2), a round that then receives nothing for
  // this long is given up with UNAVAILABLE, instead of waiting out `timeout`.
  absl::Duration stall_timeout = absl::Seconds(60);
  // When set, receives the paths of the target's files that have no cached signature after the
  // round: those it rebuilt and those it did not need but never signed (to sign them in the
  // background for the next round).
  std::vector<std::string>* unsigned_files = nullptr;
  // The write epoch the target instance holds now. When set, the round is refused
  // (FAILED_PRECONDITION) if it is newer than the source's, checked after the manifest arrives and
  // before anything in the target is written, and again before the round's deletions.
  std::function<absl::StatusOr<int64_t>()> target_epoch;
  // Whether the target takes writes now. A round into such an instance would delete what its
  // clients wrote: refused (FAILED_PRECONDITION) unless the source holds a strictly newer epoch
  // (the target is a stale primary being brought in line), checked with target_epoch.
  std::function<absl::StatusOr<bool>()> target_writable;
  // What the source may send (sync/sync_limits.h).
  SyncLimits limits;
};

// Runs one round. The response carries the statistics, the dirty set and both tree hashes; a
// FINAL round whose hashes differ is still a response (the caller decides). Errors:
// INVALID_ARGUMENT for a bad manifest from the source (path traversal, links as parents),
// RESOURCE_EXHAUSTED for a source past `limits` (a manifest too large, a delta writing far past
// its file's declared size),
// DATA_LOSS for a corrupt or truncated delta, RESOURCE_EXHAUSTED when the target disk is full,
// UNAVAILABLE when the source cannot be reached, FAILED_PRECONDITION when the source is in an older
// epoch than the target; the files already rebuilt stay (each complete),
// the rest keep their old versions.
absl::StatusOr<shadowplane::agent::v1::SyncFromResponse> PullTree(const PullOptions& options);

// Validates one manifest entry as the target receives it.
absl::Status ValidateManifestEntry(const shadowplane::agent::v1::Entry& entry);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_PULL_CLIENT_H_
