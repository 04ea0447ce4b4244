#include "sync/sync_test_support.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sync/pull_source.h"

namespace shadowplane::testing {

namespace fs = std::filesystem;

namespace {

// Serves `service` on a free loopback port; the channel to it.
std::shared_ptr<grpc::Channel> ServeOnLoopback(grpc::Service* service,
                                               std::unique_ptr<grpc::Server>* server) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  *server = builder.BuildAndStart();
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

}  // namespace

InProcessSource::InProcessSource(std::string dir) : dir_(std::move(dir)) {
  channel_ = ServeOnLoopback(this, &server_);
}

InProcessSource::~InProcessSource() { server_->Shutdown(); }

grpc::Status InProcessSource::Pull(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<shadowplane::agent::v1::PullResponse,
                             shadowplane::agent::v1::PullRequest>* stream) {
  sync::PullSourceEnvironment env;
  env.data_dir = [this](const std::string& id) -> absl::StatusOr<std::string> {
    if (id != "source") return absl::NotFoundError(absl::StrCat("no instance ", id));
    return dir_;
  };
  env.cache = [this](const std::string&) { return &cache_; };
  env.heartbeat_interval = heartbeat_interval_;
  env.testing_before_manifest = before_manifest_;
  absl::Status s = sync::ServePull(stream, env);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

TamperingSource::TamperingSource(std::shared_ptr<grpc::Channel> upstream, Tamper tamper)
    : upstream_(std::move(upstream)), tamper_(std::move(tamper)) {
  channel_ = ServeOnLoopback(this, &server_);
}

TamperingSource::~TamperingSource() { server_->Shutdown(); }

grpc::Status TamperingSource::Pull(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<shadowplane::agent::v1::PullResponse,
                             shadowplane::agent::v1::PullRequest>* stream) {
  namespace v1 = shadowplane::agent::v1;
  grpc::ClientContext up_context;
  up_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stub = v1::SyncService::NewStub(upstream_);
  auto up = stub->Pull(&up_context);
  std::thread requests([&] {
    v1::PullRequest request;
    while (stream->Read(&request)) {
      if (!up->Write(request)) break;
    }
    up->WritesDone();
  });
  v1::PullResponse response;
  while (up->Read(&response)) {
    for (const v1::PullResponse& out : tamper_(response)) stream->Write(out);
  }
  // The target has what it will get; its end (or its going away) ends the requests.
  if (context->IsCancelled()) up_context.TryCancel();
  requests.join();
  return up->Finish();
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), content.size());
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec times[2];
  times[0].tv_sec = seconds;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = random();
    memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

std::vector<std::string> FindTemporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().rfind(".shadowplane-sync-", 0) == 0) {
      found.push_back(e.path());
    }
  }
  return found;
}

namespace {

std::map<std::string, std::string> Describe(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    struct stat st {};
    lstat(it->path().c_str(), &st);
    std::string d;
    if (S_ISLNK(st.st_mode)) {
      d = absl::StrCat("link ", fs::read_symlink(it->path()).string(), " mtime ", st.st_mtim.tv_sec,
                       ".", st.st_mtim.tv_nsec);
    } else if (S_ISDIR(st.st_mode)) {
      d = absl::StrCat("dir mode ", st.st_mode & 07777);
    } else {
      d = absl::StrCat("file mode ", st.st_mode & 07777, " mtime ", st.st_mtim.tv_sec, ".",
                       st.st_mtim.tv_nsec, " size ", st.st_size, " content ",
                       std::hash<std::string>()(ReadFileOrDie(it->path())));
    }
    out[rel] = d;
  }
  return out;
}

}  // namespace

std::string CompareTrees(const std::string& a, const std::string& b) {
  auto da = Describe(a), db = Describe(b);
  for (const auto& [path, d] : da) {
    auto it = db.find(path);
    if (it == db.end()) return absl::StrCat(path, " missing from ", b);
    if (it->second != d) return absl::StrCat(path, ": ", d, " vs ", it->second);
  }
  for (const auto& [path, d] : db) {
    if (da.count(path) == 0) return absl::StrCat(path, " only in ", b);
  }
  return "";
}

}  // namespace shadowplane::testing
