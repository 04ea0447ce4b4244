// The source side of SyncService.Pull: lists the source tree, then answers each of the target's
// basis signatures with the file's delta, several files at a time, and closes with the files that
// changed during the round and (in CHECKSUM and FINAL modes) the tree hash.
//
// Memory stays bounded: the target keeps only a few files in flight, each worker holds one read
// buffer and one delta piece, and gRPC flow control stops the workers when the target is slower.
#ifndef SHADOWPLANE_SYNC_PULL_SOURCE_H_
#define SHADOWPLANE_SYNC_PULL_SOURCE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/sync_stream.h"
#include "shadowplane/agent/v1/sync.pb.h"
#include "sync/file_state_cache.h"
#include "sync/sync_limits.h"

namespace shadowplane::sync {

struct PullSourceEnvironment {
  // The data directory of an instance; NOT_FOUND for an unknown one.
  std::function<absl::StatusOr<std::string>(const std::string& instance_id)> data_dir;
  // The hash cache of an instance's tree (owned by the caller, outlives the call).
  std::function<FileStateCache*(const std::string& instance_id)> cache;
  // The write epoch an instance holds (sent in the manifest so that a target in a newer epoch
  // refuses the round). Unset: 0.
  std::function<absl::StatusOr<int64_t>(const std::string& instance_id)> epoch;
  int threads = 2;
  // A heartbeat after this long without another message (sync.proto's Heartbeat); zero: none,
  // for targets of protocol 1.
  absl::Duration heartbeat_interval = absl::ZeroDuration();
  // Tests only: runs after the tree is read, before the manifest is sent (slow work to beat
  // through).
  std::function<void()> testing_before_manifest;
  // What the target may send (sync/sync_limits.h).
  SyncLimits limits;
};

using PullStream = grpc::ServerReaderWriterInterface<shadowplane::agent::v1::PullResponse,
                                                     shadowplane::agent::v1::PullRequest>;

// Serves one Pull stream to its end. INVALID_ARGUMENT for a malformed request (first message
// not `open`, a bad path, a corrupt signature), RESOURCE_EXHAUSTED for a target past
// `env.limits` (a signature too large, too many files at once), NOT_FOUND for an unknown instance,
// CANCELLED when the target goes away.
absl::Status ServePull(PullStream* stream, const PullSourceEnvironment& env);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_PULL_SOURCE_H_
