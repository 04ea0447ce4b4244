// Fuzzes the target side of the Pull protocol (sync/pull_client.h) as a hostile source drives it:
// a gRPC source on loopback answers every round with the responses of the input (records of
// serialized PullResponse, see fuzz_input.h), whatever the target asks, into a real target tree.
// Whatever it is sent, the round ends with a status, nothing is written outside the target tree,
// and no temporary file stays behind.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/sync_temporary_name.h"
#include "fuzz_input.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "sync/file_state_cache.h"
#include "sync/pull_client.h"

namespace {

namespace v1 = shadowplane::agent::v1;
namespace fs = std::filesystem;

// Serves each Pull with the responses of the current input.
class ReplayingSource final : public v1::SyncService::Service {
 public:
  // Each call serves the responses current when it starts: a call of an earlier input may still
  // be ending when the next input is set.
  void set_responses(std::vector<v1::PullResponse> responses) {
    auto shared = std::make_shared<const std::vector<v1::PullResponse>>(std::move(responses));
    absl::MutexLock lock(&mu_);
    responses_ = std::move(shared);
  }
  // The manifest goes out at once; the rest once the target has asked for a file (so that the
  // deltas of the input meet files in flight, as a source's would). The target's later requests
  // are not read: they fit the stream's window, and waiting for them would wait for a target
  // that waits for more responses. Ending the call ends both.
  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::PullResponse, v1::PullRequest>* stream) override {
    // Only after a whole manifest: a target still reading one asks for nothing.
    std::shared_ptr<const std::vector<v1::PullResponse>> responses;
    {
      absl::MutexLock lock(&mu_);
      responses = responses_;
    }
    bool asked = false, manifest_done = false;
    for (const v1::PullResponse& r : *responses) {
      if (r.has_manifest() && r.manifest().last()) manifest_done = true;
      if (!asked && manifest_done && !r.has_manifest() && !r.has_heartbeat()) {
        v1::PullRequest request;
        while (stream->Read(&request) && !(request.has_file() && request.file().last())) {
        }
        asked = true;
      }
      if (!stream->Write(r)) break;
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<const std::vector<v1::PullResponse>> responses_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const std::vector<v1::PullResponse>>();
};

struct Harness {
  ReplayingSource source;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::string root;
};

Harness& Get() {
  static Harness* const h = [] {
    auto* harness = new Harness;
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&harness->source);
    harness->server = builder.BuildAndStart();
    harness->channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    harness->root = shadowplane::fuzz::ScratchDir("target");
    // Stopped at exit, so that gRPC's threads end and nothing of the server is left to a leak
    // check.
    std::atexit([] {
      Get().server->Shutdown();
      Get().server->Wait();
    });
    return harness;
  }();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = Get();
  std::vector<v1::PullResponse> responses;
  for (const std::string& record : shadowplane::fuzz::SplitRecords(data, size)) {
    v1::PullResponse r;
    if (r.ParseFromString(record)) responses.push_back(std::move(r));
  }
  h.source.set_responses(std::move(responses));
  // A fresh target tree each run: a file to patch, one to delete, a directory.
  const std::string target = h.root + "/target";
  fs::remove_all(target);
  fs::create_directories(target + "/dir");
  std::ofstream(target + "/a.txt") << "old alpha";
  std::ofstream(target + "/dir/gone") << "bye";
  shadowplane::sync::FileStateCache cache;
  shadowplane::sync::PullOptions options;
  options.channel = h.channel;
  options.source_instance_id = "source";
  options.mode = static_cast<v1::SyncMode>(1 + (size % 3));
  options.target_dir = target;
  options.cache = &cache;
  options.threads = 1;
  options.window = 2;
  options.timeout = absl::Seconds(3);  // bounds any wait the input contrives
  options.limits.max_manifest_entries = 10000;
  options.limits.delta_slack_bytes = 1 << 20;
  auto result = shadowplane::sync::PullTree(options);
  if (getenv("FUZZ_DEBUG")) fprintf(stderr, "%s\n", result.status().ToString().c_str());
  // Nothing may land beside the target tree, and no temporary file stays in it.
  for (const auto& e : fs::directory_iterator(h.root)) {
    if (e.path().filename() != "target") std::abort();
  }
  for (const auto& e : fs::recursive_directory_iterator(target)) {
    if (shadowplane::IsSyncTemporaryName(e.path().filename().string())) std::abort();
  }
  return 0;
}
