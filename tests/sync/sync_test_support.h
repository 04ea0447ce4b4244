// Real trees on disk and a real Pull source (sync::ServePull behind an in-process gRPC server on
// loopback) for the sync tests.
#ifndef SHADOWPLANE_TESTS_SYNC_SYNC_TEST_SUPPORT_H_
#define SHADOWPLANE_TESTS_SYNC_SYNC_TEST_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "sync/file_state_cache.h"
#include "sync/pull_client.h"

namespace shadowplane::testing {

// Serves Pull for one instance ("source") whose data directory is `dir`.
class InProcessSource final : public shadowplane::agent::v1::SyncService::Service {
 public:
  explicit InProcessSource(std::string dir);
  ~InProcessSource() override;
  // Heartbeats every 20 ms by default, so that every test round has them between its messages.
  void set_heartbeat_interval(absl::Duration interval) { heartbeat_interval_ = interval; }
  // Runs in each round after the source read its tree, before its manifest.
  void set_before_manifest(std::function<void()> f) { before_manifest_ = std::move(f); }
  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<shadowplane::agent::v1::PullResponse,
                                             shadowplane::agent::v1::PullRequest>* stream) override;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  std::string dir_;
  absl::Duration heartbeat_interval_ = absl::Milliseconds(20);
  std::function<void()> before_manifest_;
  sync::FileStateCache cache_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A hostile source: serves Pull by passing each call on to a real one (`upstream`) and its answers
// back through `tamper`, which returns what to send instead of each (none, it, it twice, a changed
// copy).
class TamperingSource final : public shadowplane::agent::v1::SyncService::Service {
 public:
  using Tamper = std::function<std::vector<shadowplane::agent::v1::PullResponse>(
      const shadowplane::agent::v1::PullResponse&)>;
  TamperingSource(std::shared_ptr<grpc::Channel> upstream, Tamper tamper);
  ~TamperingSource() override;
  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<shadowplane::agent::v1::PullResponse,
                                             shadowplane::agent::v1::PullRequest>* stream) override;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> upstream_;
  Tamper tamper_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Writes `content` to `path` (creating parent directories).
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFileOrDie(const std::string& path);
void SetMtime(const std::string& path, int64_t seconds);
std::string RandomBytes(size_t n, uint64_t seed);
// Temporary files of a sync (".shadowplane-sync-*") anywhere below `dir`.
std::vector<std::string> FindTemporaries(const std::string& dir);
// "" when the two trees have the same entries, kinds, contents, link targets, modes and mtimes
// (directories' mtimes aside); else the first difference.
std::string CompareTrees(const std::string& a, const std::string& b);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SYNC_SYNC_TEST_SUPPORT_H_
