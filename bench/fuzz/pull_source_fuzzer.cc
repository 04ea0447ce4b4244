// Fuzzes the source side of the Pull protocol (sync/pull_source.h) as a hostile target drives
// it: the requests come from the input (records of serialized PullRequest, see fuzz_input.h)
// through an in-memory stream, against a real tree of a few files. Whatever the requests, the
// session ends with a status; it never crashes, hangs or reads outside the tree.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "sync/file_state_cache.h"
#include "sync/pull_source.h"

namespace {

namespace v1 = shadowplane::agent::v1;

class MemoryStream final : public shadowplane::sync::PullStream {
 public:
  explicit MemoryStream(std::vector<std::string> requests) : requests_(std::move(requests)) {}
  void SendInitialMetadata() override {}
  bool NextMessageSize(uint32_t* size) override {
    if (next_ >= requests_.size()) return false;
    *size = static_cast<uint32_t>(requests_[next_].size());
    return true;
  }
  bool Read(v1::PullRequest* request) override {
    while (next_ < requests_.size()) {
      if (request->ParseFromString(requests_[next_++])) return true;
    }
    return false;
  }
  bool Write(const v1::PullResponse& response, grpc::WriteOptions) override {
    written_ += response.ByteSizeLong();
    return written_ < (64u << 20);  // a target that stops reading, past 64 MiB
  }

 private:
  std::vector<std::string> requests_;
  size_t next_ = 0;
  size_t written_ = 0;
};

const std::string& SourceDir() {
  static const std::string* const dir = [] {
    auto* d = new std::string(shadowplane::fuzz::ScratchDir("source"));
    std::ofstream(*d + "/a.txt") << "alpha";
    std::ofstream(*d + "/b.bin") << std::string(100000, 'b');
    return d;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static shadowplane::sync::FileStateCache cache;
  MemoryStream stream(shadowplane::fuzz::SplitRecords(data, size));
  shadowplane::sync::PullSourceEnvironment env;
  env.data_dir = [](const std::string&) -> absl::StatusOr<std::string> { return SourceDir(); };
  env.cache = [](const std::string&) { return &cache; };
  env.threads = 1;
  (void)shadowplane::sync::ServePull(&stream, env);
  return 0;
}
