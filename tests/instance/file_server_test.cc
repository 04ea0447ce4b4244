#include "instance/file_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "instance/forward_auth.h"
#include "support/child_process.h"

namespace shadowplane::instance {
namespace {

namespace fs = std::filesystem;

// A plain TCP connection, for what an HTTP client library would not do: stay idle, send half a
// request, read what the server does with it.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  RawConnection(RawConnection&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }

  void Send(const std::string& data) { (void)!write(fd_, data.data(), data.size()); }
  // What arrives within `wait` of the first byte, up to 64 KiB ("" when nothing came).
  std::string ReadSome(absl::Duration wait = absl::Seconds(5)) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) return "";
    char buf[65536];
    const ssize_t n = read(fd_, buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  std::string Request(const std::string& data) {
    Send(data);
    return ReadSome();
  }
  // Everything until the peer closes (at most 5 s).
  std::string ReadAll() {
    std::string out;
    while (true) {
      const std::string part = ReadSome();
      if (part.empty()) return out;
      out += part;
    }
  }
  // Whether the server closed the connection within `wait`.
  bool ClosedByPeer(absl::Duration wait = absl::Seconds(2)) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) return false;
    char buf[4096];
    return read(fd_, buf, sizeof(buf)) <= 0;
  }

 private:
  int fd_ = -1;
};

// A second instance ("i-2": the new primary a forwarding old one passes requests to), serving
// its own data directory until Stop() or destruction.
// The resource's secret and the agent's key of the fixture's instances (instance/forward_auth.h).
constexpr char kForwardSecret[] =
    "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
constexpr char kAgentKey[] = "a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e47a9e4";

class PeerServer {
 public:
  explicit PeerServer(InstanceConfig config) {
    dir_ = testing::MakeTempDir("sp-fileserver-b");
    fs::create_directories(data());
    config.instance_id = "i-2";
    for (int attempt = 0; attempt < 5; ++attempt) {
      config.port = testing::FreePort();
      server_ = std::make_unique<FileServer>(data(), config);
      if (server_->Bind().ok()) break;
    }
    port_ = config.port;
    thread_ = std::thread([this] { server_->Serve(); });
  }
  ~PeerServer() {
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Stop() {
    if (server_ == nullptr) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }
  std::string data() const { return dir_ + "/data"; }
  std::string endpoint() const { return absl::StrCat("127.0.0.1:", port_); }
  const FileServer& server() const { return *server_; }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<FileServer> server_;
  std::thread thread_;
};

class FileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-fileserver");
    fs::create_directories(dir_ + "/data/sub");
    std::ofstream(dir_ + "/data/a.txt") << "alpha";
    config_.instance_id = "i-1";
    config_.resource_id = "r-1";
    config_.capacity = {1000, 128, CapacityType::kOnDemand};
    config_.read_only = false;
    // A lease of an hour: these tests are about serving, not fencing.
    config_.write_lease_until_ms = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
    config_.address = "127.0.0.1";
    config_.forward_secret = kForwardSecret;
    config_.agent_key = kAgentKey;
    Start({});
  }
  void TearDown() override {
    OpenGate();
    StopServer();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Start(const FileServerOptions& options) {
    // A port free a moment ago may be taken by a test running beside this one: try a few.
    absl::Status bound;
    for (int attempt = 0; attempt < 5; ++attempt) {
      config_.port = testing::FreePort();
      server_ = std::make_unique<FileServer>(dir_ + "/data", config_, options);
      bound = server_->Bind();
      if (bound.ok()) break;
    }
    ASSERT_TRUE(bound.ok()) << bound;
    thread_ = std::thread([this] { server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", config_.port);
    // As the agent does: its key opens the views that name clients.
    client_->set_default_headers({{kAgentKeyHeader, kAgentKey}});
  }
  void StopServer() {
    if (server_ != nullptr) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  // A server with other options in place of the fixture's.
  void Restart(const std::function<void(FileServerOptions&)>& change) {
    StopServer();
    FileServerOptions options;
    change(options);
    Start(options);
  }

  void OpenGate() {
    absl::MutexLock lock(&gate_mu_);
    gate_open_ = true;
  }
  // This instance made an old primary: read-only, passing writes on to `target`.
  void ForwardTo(const PeerServer& target, int generation) {
    InstanceConfig forwarding = config_;
    forwarding.read_only = true;
    forwarding.forward_writes_to = target.endpoint();
    forwarding.generation = generation;
    ASSERT_TRUE(server_->Reconfigure(forwarding).ok());
  }

  bool SpoolIsEmpty() {
    for (const auto& e : fs::directory_iterator(dir_ + "/spool")) {
      (void)e;
      return false;
    }
    return true;
  }
  static void WaitFor(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(2));
    ASSERT_TRUE(done()) << "not within 10 s";
  }

  absl::Mutex gate_mu_;
  bool gate_open_ ABSL_GUARDED_BY(gate_mu_) = false;
  std::atomic<bool> committing_{false};

  std::string dir_;
  InstanceConfig config_;
  std::unique_ptr<FileServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(FileServerTest, PutReplacesAtomicallyAndDeleteRemoves) {
  auto created = client_->Put("/sub/deeper/c.txt", "one", "text/plain");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  auto replaced = client_->Put("/sub/deeper/c.txt", "two", "text/plain");
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->status, 204);
  EXPECT_EQ(client_->Get("/sub/deeper/c.txt")->body, "two");
  // No temporary files are left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/data/sub/deeper")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(client_->Get("/sub/")->body, "deeper/\n");
  EXPECT_EQ(client_->Delete("/sub/deeper/c.txt")->status, 204);
  EXPECT_EQ(client_->Delete("/sub/deeper/c.txt")->status, 404);
  EXPECT_EQ(client_->Delete("/sub")->status, 409);
  EXPECT_EQ(client_->Put("/a.txt/x", "y", "text/plain")->status, 409);
}

TEST_F(FileServerTest, ReadOnlyRefusesWritesAndRateLimitApplies) {
  InstanceConfig shadow = config_;
  shadow.read_only = true;
  shadow.capacity.millicores = 2;  // 2 requests per second
  ASSERT_TRUE(server_->Reconfigure(shadow).ok());
  absl::SleepFor(absl::Seconds(1));  // let the bucket fill to its new burst
  auto put = client_->Put("/b.txt", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_FALSE(fs::exists(dir_ + "/data/b.txt"));
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto res = client_->Get("/a.txt");
    ASSERT_TRUE(res);
    if (res->status == 429) {
      ++limited;
      EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    }
  }
  EXPECT_GE(limited, 2);
  EXPECT_GE(server_->counters().rejected_rate_limited, limited);
  EXPECT_GT(server_->counters().bytes_sent, 0);
}

// The cutover relies on it: once a freeze is applied, no write lands locally any more, so a final
// sync that starts then copies every acknowledged write. Only writes being applied (fsync and
// rename) are waited for.
TEST_F(FileServerTest, AFreezeWaitsForTheWritesBeingApplied) {
  Restart([this](FileServerOptions& o) {
    o.testing_before_commit = [this](const std::string&) {
      committing_ = true;
      absl::MutexLock lock(&gate_mu_);
      gate_mu_.Await(absl::Condition(&gate_open_));
    };
  });
  std::thread put([&] {
    httplib::Client client("127.0.0.1", config_.port);
    auto res = client.Put("/applied.txt", "abcdef", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201);
  });
  WaitFor([&] { return committing_.load(); });
  std::atomic<bool> reconfigured{false};
  std::thread freeze([&] {
    InstanceConfig frozen = config_;
    frozen.hold_writes = true;
    frozen.generation = 7;
    EXPECT_TRUE(server_->Reconfigure(frozen).ok());
    reconfigured = true;
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(reconfigured.load()) << "returned while an admitted write was being applied";
  EXPECT_NE(server_->applied_generation(), 7);
  OpenGate();
  freeze.join();
  put.join();
  std::string content;
  std::getline(std::ifstream(dir_ + "/data/applied.txt"), content);
  EXPECT_EQ(content, "abcdef");
  EXPECT_EQ(server_->applied_generation(), 7);
}

// A write is admitted only once its whole body is in: a client still sending never holds a freeze
// up, and its write, complete later, is held like any other and applied once the freeze lifts.
TEST_F(FileServerTest, AClientStillSendingItsBodyNeverExtendsAFreeze) {
  std::atomic<bool> body_sent{false};
  std::atomic<int> status{0};
  std::thread slow([&] {
    httplib::Client client("127.0.0.1", config_.port);
    auto res = client.Put(
        "/slow.txt", 6,
        [&](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write("abc", 3);
            return true;
          }
          absl::SleepFor(absl::Milliseconds(800));
          sink.write("def", 3);
          body_sent = true;
          return true;
        },
        "text/plain");
    ASSERT_TRUE(res);
    status = res->status;
  });
  absl::SleepFor(absl::Milliseconds(200));  // its header and first bytes are in
  InstanceConfig frozen = config_;
  frozen.hold_writes = true;
  frozen.generation = 7;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  EXPECT_FALSE(body_sent.load()) << "the freeze waited for a body still being sent";
  EXPECT_EQ(server_->applied_generation(), 7);
  WaitFor([&] { return server_->connection_counters().requests_held == 1; });
  EXPECT_FALSE(fs::exists(dir_ + "/data/slow.txt")) << "applied during the freeze";
  EXPECT_EQ(status.load(), 0) << "answered during the freeze";
  InstanceConfig open = frozen;
  open.hold_writes = false;
  open.generation = 8;
  ASSERT_TRUE(server_->Reconfigure(open).ok());
  slow.join();
  EXPECT_EQ(status.load(), 201);
  std::string content;
  std::getline(std::ifstream(dir_ + "/data/slow.txt"), content);
  EXPECT_EQ(content, "abcdef");
  EXPECT_EQ(server_->counters().writes_held, 1);
}

// A write that cannot be applied within the bound: the new config still applies to new writes,
// but it is not reported as applied.
TEST_F(FileServerTest, AWriteStuckBeingAppliedKeepsTheConfigFromBeingReportedApplied) {
  Restart([this](FileServerOptions& o) {
    o.testing_before_commit = [this](const std::string&) {
      committing_ = true;
      absl::MutexLock lock(&gate_mu_);
      gate_mu_.Await(absl::Condition(&gate_open_));
    };
  });
  std::thread stuck([&] {
    httplib::Client client("127.0.0.1", config_.port);
    auto res = client.Put("/stuck.txt", "abc", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201);
  });
  WaitFor([&] { return committing_.load(); });
  InstanceConfig read_only = config_;
  read_only.read_only = true;
  read_only.generation = 9;
  EXPECT_EQ(server_->Reconfigure(read_only, absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->applied_generation(), config_.generation);
  EXPECT_EQ(client_->Put("/after.txt", "x", "text/plain")->status, 405);
  OpenGate();
  stuck.join();
}

// Requests held by a freeze wait without a worker: with one worker, 3 writes and 5 reads wait at
// once (reads wait too: see AnOldPrimaryHoldsThenForwardsReads...), the agent's status endpoint is
// answered meanwhile, and all of them are served once the freeze lifts.
TEST_F(FileServerTest, HeldRequestsLeaveTheWorkersFree) {
  InstanceConfig frozen = config_;
  frozen.capacity.millicores = 250;  // one worker
  frozen.hold_writes = true;
  frozen.write_hold_ms = 20000;
  frozen.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  std::vector<std::thread> clients;
  std::atomic<int> created{0};
  std::atomic<int> read{0};
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", config_.port);
      auto res = client.Put(absl::StrCat("/held-", i, ".txt"), "x", "text/plain");
      if (res && res->status == 201) ++created;
    });
  }
  for (int i = 0; i < 5; ++i) {
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", config_.port);
      auto res = client.Get("/a.txt");
      if (res && res->status == 200 && res->body == "alpha") ++read;
    });
  }
  WaitFor([&] { return server_->connection_counters().requests_held == 8; });
  auto status = client_->Get("/_shadowplane/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(created.load(), 0);
  EXPECT_EQ(read.load(), 0);
  InstanceConfig open = frozen;
  open.hold_writes = false;
  open.generation = 3;
  ASSERT_TRUE(server_->Reconfigure(open).ok());
  for (auto& t : clients) t.join();
  EXPECT_EQ(created.load(), 3);
  EXPECT_EQ(read.load(), 5);
}

// A freeze that outlasts write_hold_ms answers the held write 503 with Retry-After, and applies
// nothing.
TEST_F(FileServerTest, AHeldWriteGivesUpAfterTheHoldWithRetryAfter) {
  InstanceConfig frozen = config_;
  frozen.hold_writes = true;
  frozen.write_hold_ms = 100;
  frozen.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  auto res = client_->Put("/late.txt", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_FALSE(fs::exists(dir_ + "/data/late.txt"));
  EXPECT_EQ(server_->counters().writes_hold_expired, 1);
  EXPECT_TRUE(SpoolIsEmpty()) << "the held body is removed";
}

// A read-only instance with a forward target passes writes on (body included) and says so.
TEST_F(FileServerTest, AReadOnlyInstanceForwardsWritesToTheNewPrimary) {
  PeerServer target(config_);
  ForwardTo(target, 2);
  const std::string body(300 * 1024, 'z');
  auto put = client_->Put("/deep/f.bin", body, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(put->get_header_value("X-Shadowplane-Forwarded-To"), target.endpoint());
  EXPECT_EQ(put->get_header_value("X-Shadowplane-Instance"), "i-1");
  EXPECT_FALSE(fs::exists(dir_ + "/data/deep/f.bin"));
  std::ifstream in(target.data() + "/deep/f.bin", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()),
            body);
  EXPECT_EQ(client_->Delete("/deep/f.bin")->status, 204);
  EXPECT_FALSE(fs::exists(target.data() + "/deep/f.bin"));
  EXPECT_EQ(server_->counters().writes_forwarded, 2);
  // The new primary gone: 503 with Retry-After, nothing lost silently.
  target.Stop();
  auto unreachable = client_->Put("/g.txt", "x", "text/plain");
  ASSERT_TRUE(unreachable);
  EXPECT_EQ(unreachable->status, 503);
  EXPECT_EQ(unreachable->get_header_value("Retry-After"), "1");
  EXPECT_TRUE(SpoolIsEmpty());
}

// Around a switch an old primary neither loses nor serves stale data: during the freeze reads wait
// with the writes, and once it forwards, GETs go to the new primary as well (a HEAD is answered
// here). What it did to each client is recorded and served by /_shadowplane/disruptions.
TEST_F(FileServerTest, AnOldPrimaryHoldsThenForwardsReadsAndRecordsWhatItDidToEachClient) {
  PeerServer target(config_);
  std::ofstream(target.data() + "/a.txt") << "beta";  // the new primary's newer write
  const absl::Time began = absl::Now();

  InstanceConfig frozen = config_;
  frozen.hold_writes = true;
  frozen.write_hold_ms = 10000;
  frozen.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  std::optional<httplib::Response> read, write;
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", config_.port);
    if (auto res = c.Get("/a.txt", {{"X-Shadowplane-Client", "c1"}})) read = *res;
  });
  std::thread writer([&] {
    httplib::Client c("127.0.0.1", config_.port);
    if (auto res = c.Put("/new.txt", {{"X-Shadowplane-Client", "c2"}}, "n", "text/plain")) {
      write = *res;
    }
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server_->connection_counters().requests_held, 2) << "the read waits too";
  ForwardTo(target, 3);
  reader.join();
  writer.join();
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(read->body, "beta") << "never the old copy";
  EXPECT_EQ(read->get_header_value("X-Shadowplane-Served-By"), "i-2");
  EXPECT_FALSE(read->get_header_value("X-Shadowplane-Held-Ms").empty());
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->status, 201);
  EXPECT_TRUE(fs::exists(target.data() + "/new.txt"));

  // A HEAD is answered here: counted as a read that may be stale.
  EXPECT_EQ(client_->Head("/a.txt", {{"X-Shadowplane-Client", "c3"}})->status, 200);
  // A kept-alive client is closed after its forwarded answer; behind a proxy only the proxy is.
  RawConnection direct(config_.port);
  const std::string answer = direct.Request("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(answer, "beta")) << answer;
  EXPECT_TRUE(direct.ClosedByPeer());
  RawConnection proxied(config_.port);
  proxied.Request(
      "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Shadowplane-Client: c4\r\n"
      "X-Forwarded-For: 10.0.0.4\r\n\r\n");

  auto report =
      client_->Get(absl::StrCat("/_shadowplane/disruptions?since_us=", absl::ToUnixMicros(began)));
  ASSERT_TRUE(report);
  ASSERT_EQ(report->status, 200);
  const std::string& json = report->body;
  EXPECT_TRUE(absl::StrContains(json, "\"truncated\":false")) << json;
  EXPECT_TRUE(absl::StrContains(
      json, "\"id:c1\":{\"held\":1,\"failed\":0,\"forwarded\":1,\"closed\":0,\"stale_read\":0}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json, "\"id:c2\":{\"held\":1,\"failed\":0,\"forwarded\":1,\"closed\":0,\"stale_read\":0}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json, "\"id:c3\":{\"held\":0,\"failed\":0,\"forwarded\":0,\"closed\":0,\"stale_read\":1}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json, "\"id:c4\":{\"held\":0,\"failed\":0,\"forwarded\":1,\"closed\":0,\"stale_read\":0}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json, "\"ip:127.0.0.1\":{\"held\":0,\"failed\":0,\"forwarded\":1,\"closed\":1,"))
      << json;
  // Nothing before the window.
  auto none = client_->Get(absl::StrCat("/_shadowplane/disruptions?since_us=",
                                        absl::ToUnixMicros(absl::Now() + absl::Hours(1))));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->body, "{\"truncated\":false,\"clients\":{}}\n");
  // Bad queries: 400 saying what is wanted.
  EXPECT_EQ(client_->Get("/_shadowplane/disruptions")->status, 400);
  EXPECT_EQ(client_->Get("/_shadowplane/disruptions?since_us=-5")->status, 400);
  EXPECT_EQ(client_->Get("/_shadowplane/disruptions?since_us=abc")->status, 400);
}

// A read held past the hold fails like a write: 503 with Retry-After, recorded as failed.
TEST_F(FileServerTest, AReadHeldPastTheHoldFailsAndIsRecorded) {
  const absl::Time began = absl::Now();
  InstanceConfig frozen = config_;
  frozen.hold_writes = true;
  frozen.write_hold_ms = 100;
  frozen.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  auto res = client_->Get("/a.txt", {{"X-Shadowplane-Client", "c9"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  auto report =
      client_->Get(absl::StrCat("/_shadowplane/disruptions?since_us=", absl::ToUnixMicros(began)));
  ASSERT_TRUE(report);
  EXPECT_TRUE(absl::StrContains(
      report->body,
      "\"id:c9\":{\"held\":0,\"failed\":1,\"forwarded\":0,\"closed\":0,\"stale_read\":0}"))
      << report->body;
}

// An idle connection costs no worker: 200 of them open (one worker), and another client's
// requests are all answered within a second.
TEST_F(FileServerTest, IdleConnectionsKeepNoRequestWaiting) {
  InstanceConfig small = config_;
  small.capacity.millicores = 250;  // one worker, 250 requests per second
  small.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(small).ok());
  std::vector<RawConnection> idle;
  for (int i = 0; i < 200; ++i) idle.emplace_back(config_.port);
  // One kept alive after a request, as a load balancer's pool keeps them.
  ASSERT_EQ(idle[0].Request("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12),
            "HTTP/1.1 200");
  WaitFor([&] { return server_->connection_counters().connections_open >= 200; });
  for (int i = 0; i < 20; ++i) {
    httplib::Client fresh("127.0.0.1", config_.port);
    const absl::Time start = absl::Now();
    auto res = fresh.Get("/a.txt");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "request " << i;
  }
  EXPECT_GE(server_->connection_counters().connections_idle, 200);
}

// At the connection cap a new connection closes the one idle the longest; with none idle it is
// refused with 503.
TEST_F(FileServerTest, AtTheCapTheOldestIdleConnectionMakesRoom) {
  Restart([](FileServerOptions& o) { o.max_connections = 3; });
  RawConnection first(config_.port);
  absl::SleepFor(absl::Milliseconds(20));
  RawConnection second(config_.port);
  RawConnection third(config_.port);
  WaitFor([&] { return server_->connection_counters().connections_idle == 3; });
  RawConnection fourth(config_.port);
  EXPECT_EQ(fourth.Request("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12), "HTTP/1.1 200");
  EXPECT_TRUE(first.ClosedByPeer()) << "the oldest idle connection made room";
  EXPECT_EQ(second.Request("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12), "HTTP/1.1 200");
  EXPECT_EQ(server_->connection_counters().idle_closed_for_room, 1);
  // Three connections in the middle of a request are not idle: a fourth is refused.
  second.Send("GET /a.txt HTTP/1.1\r\n");
  third.Send("GET /a.txt HTTP/1.1\r\n");
  fourth.Send("GET /a.txt HTTP/1.1\r\n");
  WaitFor([&] { return server_->connection_counters().connections_idle == 0; });
  RawConnection fifth(config_.port);
  EXPECT_EQ(fifth.ReadAll().substr(0, 12), "HTTP/1.1 503");
  EXPECT_EQ(server_->connection_counters().connections_refused, 1);
}

// Slow or silent clients are cut off: a header that does not arrive in time, an idle connection.
TEST_F(FileServerTest, SlowHeadersAndIdleConnectionsAreClosed) {
  Restart([](FileServerOptions& o) {
    o.header_timeout = absl::Milliseconds(300);
    o.idle_timeout = absl::Milliseconds(300);
  });
  RawConnection slow(config_.port);
  slow.Send("GET /a.txt HTTP/1.1\r\nHost:");
  RawConnection idle(config_.port);
  EXPECT_TRUE(slow.ClosedByPeer(absl::Seconds(5)));
  EXPECT_TRUE(idle.ClosedByPeer(absl::Seconds(5)));
  WaitFor([&] { return server_->connection_counters().timeouts >= 2; });
  EXPECT_EQ(client_->Get("/a.txt")->status, 200) << "others are served as before";
}

// Bad input gets a clear answer and changes nothing.
// A chunked body is held to the same bound as one with a Content-Length: 413, nothing written,
// nothing left in the spool.
TEST_F(FileServerTest, AChunkedBodyPastTheLimitIsRefused) {
  Restart([](FileServerOptions& o) { o.max_body_bytes = 4096; });
  std::string chunked =
      "PUT /chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) absl::StrAppend(&chunked, "400\r\n", std::string(1024, 'c'), "\r\n");
  chunked += "0\r\n\r\n";
  RawConnection large(config_.port);
  EXPECT_EQ(large.Request(chunked).substr(0, 12), "HTTP/1.1 413");
  // One chunk declaring more than the limit at once.
  RawConnection declared(config_.port);
  EXPECT_EQ(declared
                .Request("PUT /chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                         "chunked\r\n\r\nFFFFFFFF\r\nabc")
                .substr(0, 12),
            "HTTP/1.1 413");
  EXPECT_FALSE(fs::exists(dir_ + "/data/chunked.bin"));
  EXPECT_TRUE(SpoolIsEmpty());
  // Within the limit, chunked is taken.
  RawConnection small(config_.port);
  EXPECT_EQ(small
                .Request("PUT /chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                         "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                .substr(0, 12),
            "HTTP/1.1 201");
  EXPECT_EQ(client_->Get("/chunked.bin")->body, "hello");
}

// A name of the longest length a file system takes (255 bytes) is stored and served: bodies are
// spooled under names of their own, never the target's name plus a suffix, which would pass
// NAME_MAX from 246 bytes on.
TEST_F(FileServerTest, TheLongestNamesAreStoredAndServed) {
  for (size_t length : {size_t{246}, size_t{255}}) {
    const std::string name(length, 'n');
    auto put = client_->Put("/dir/" + name, "long", "text/plain");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 201) << length << ": " << put->body;
    auto get = client_->Get("/dir/" + name);
    ASSERT_TRUE(get);
    EXPECT_EQ(get->body, "long");
  }
  EXPECT_EQ(client_->Put("/" + std::string(256, 'n'), "x", "text/plain")->status, 400)
      << "a name past 255 bytes is the client's error";
  EXPECT_TRUE(SpoolIsEmpty());
}

// An instance forwarding to itself passes a request on once, then refuses it (508) instead of
// sending it round until every worker waits on the next hop.
TEST_F(FileServerTest, AForwardingLoopIsRefusedAfterOneHop) {
  InstanceConfig self = config_;
  self.read_only = true;
  self.forward_writes_to = absl::StrCat("127.0.0.1:", config_.port);
  self.generation = 2;
  ASSERT_TRUE(server_->Reconfigure(self).ok());
  for (int i = 0; i < 3; ++i) {
    auto put = client_->Put("/loop.txt", "x", "text/plain");
    ASSERT_TRUE(put) << "no answer: the loop took the workers";
    EXPECT_EQ(put->status, 508) << put->body;
    EXPECT_NE(put->body.find("forwarding loop"), std::string::npos) << put->body;
  }
  EXPECT_EQ(server_->counters().refused_forward_loop, 3);
  EXPECT_FALSE(fs::exists(dir_ + "/data/loop.txt"));
  EXPECT_TRUE(SpoolIsEmpty());
  auto get = client_->Get("/a.txt");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 508) << "a read forwarded to itself is refused the same way";
  EXPECT_EQ(server_->counters().refused_forward_loop, 4);
}

TEST_F(FileServerTest, BadRequestsGetClearAnswers) {
  RawConnection garbage(config_.port);
  EXPECT_EQ(garbage.Request("NOT HTTP AT ALL\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  RawConnection huge(config_.port);
  EXPECT_EQ(huge.Request(absl::StrCat("GET /a.txt HTTP/1.1\r\nX-Big: ", std::string(20000, 'b'),
                                      "\r\n\r\n"))
                .substr(0, 12),
            "HTTP/1.1 431");
  RawConnection too_large(config_.port);
  EXPECT_EQ(
      too_large.Request("PUT /big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n")
          .substr(0, 12),
      "HTTP/1.1 413");
  EXPECT_EQ(client_->Get("/../etc/passwd")->status, 400);
  EXPECT_EQ(client_->Put("/%2e%2e/x", "x", "text/plain")->status, 400);
  auto post = client_->Post("/a.txt", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD, PUT, DELETE");
  fs::create_symlink("/etc", dir_ + "/data/out");
  EXPECT_EQ(client_->Get("/out/hostname")->status, 403);
  EXPECT_EQ(client_->Put("/out/x", "x", "text/plain")->status, 403);
  EXPECT_FALSE(fs::exists(dir_ + "/data/big.bin"));
  EXPECT_TRUE(SpoolIsEmpty());
  EXPECT_EQ(client_->Get("/a.txt")->body, "alpha");
}

// Reads follow a symlink only while it stays in the data: a relative link within it is served; a
// relative link climbing out, or an absolute one (it names the host's layout), is refused.
TEST_F(FileServerTest, ReadsFollowSymlinksOnlyWithinTheData) {
  fs::create_directories(dir_ + "/data/sub");
  fs::create_symlink("../a.txt", dir_ + "/data/sub/alias");
  fs::create_symlink("sub", dir_ + "/data/dirlink");
  fs::create_symlink("../../../../../../../../etc/hostname", dir_ + "/data/climb");
  fs::create_symlink(dir_ + "/data/a.txt", dir_ + "/data/absolute");
  auto alias = client_->Get("/sub/alias");
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias->status, 200);
  EXPECT_EQ(alias->body, "alpha");
  auto listing = client_->Get("/dirlink");
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->status, 200);
  EXPECT_EQ(listing->body, "alias\n");
  EXPECT_EQ(client_->Get("/climb")->status, 403);
  EXPECT_EQ(client_->Get("/absolute")->status, 403);
  EXPECT_EQ(client_->Get("/sub/missing")->status, 404);
  EXPECT_EQ(client_->Get("/a.txt/below")->status, 404);
}

// A client that asks before sending its body (Expect: 100-continue) is told to go on at once.
TEST_F(FileServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  RawConnection c(config_.port);
  c.Send("PUT /e.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.ReadSome().substr(0, 12), "HTTP/1.1 100");
  EXPECT_EQ(c.Request("hello").substr(0, 12), "HTTP/1.1 201");
  std::string content;
  std::getline(std::ifstream(dir_ + "/data/e.txt"), content);
  EXPECT_EQ(content, "hello");
}

TEST_F(FileServerTest, SecondServerOnTheSameAddressFailsToBind) {
  FileServer second(dir_ + "/data", config_);
  absl::Status bound = second.Bind();
  EXPECT_EQ(bound.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(bound.message(), "in use")) << bound;
}

}  // namespace
}  // namespace shadowplane::instance

namespace shadowplane::instance {
namespace {

// The access log as the agent reads it.
AccessPage Accesses(httplib::Client& client, int64_t after) {
  auto res = client.Get(absl::StrCat("/_shadowplane/accesses?after=", after));
  EXPECT_TRUE(res) << "no answer";
  if (!res) return {};
  EXPECT_EQ(res->status, 200) << res->body;
  absl::StatusOr<AccessPage> page = AccessLog::FromText(res->body);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? *page : AccessPage{};
}

TEST_F(FileServerTest, EveryAnsweredRequestIsRecordedWithItsBytesAsTheConnectionCountedThem) {
  config_.trusted_proxies = {"127.0.0.1"};
  ASSERT_TRUE(server_->Reconfigure(config_).ok());
  RawConnection c(config_.port);
  const std::string get = "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Shadowplane-Client: c-9\r\n\r\n";
  const std::string answer = c.Request(get);
  ASSERT_TRUE(absl::StrContains(answer, "alpha")) << answer;
  const std::string put =
      "PUT /b.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "X-Forwarded-For: 6.6.6.6, 127.100.4.5\r\n\r\nbravo";
  const std::string stored = c.Request(put);
  ASSERT_TRUE(absl::StartsWith(stored, "HTTP/1.1 20")) << stored;
  const std::string bad_forward =
      "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: somewhere\r\n\r\n";
  ASSERT_FALSE(c.Request(bad_forward).empty());
  // Answered requests only: the log reads itself back without recording its own reads.
  AccessPage page;
  WaitFor([&] {
    page = Accesses(*client_, 0);
    return page.records.size() >= 3;
  });
  ASSERT_EQ(page.records.size(), 3u);
  EXPECT_EQ(page.lost, 0);
  const AccessRecord& r0 = page.records[0];
  EXPECT_EQ(r0.method, "GET");
  EXPECT_EQ(r0.client_ip, "127.0.0.1");
  EXPECT_EQ(r0.client_id, "c-9");
  EXPECT_EQ(r0.status, 200);
  EXPECT_EQ(r0.bytes_in, static_cast<int64_t>(get.size()));
  EXPECT_EQ(r0.bytes_out, static_cast<int64_t>(answer.size()));
  EXPECT_GT(r0.latency, absl::ZeroDuration());
  const AccessRecord& r1 = page.records[1];
  EXPECT_EQ(r1.method, "PUT");
  EXPECT_EQ(r1.client_ip, "127.100.4.5") << "from the trusted proxy's X-Forwarded-For";
  EXPECT_EQ(r1.bytes_in, static_cast<int64_t>(put.size()));
  EXPECT_EQ(r1.bytes_out, static_cast<int64_t>(stored.size()));
  EXPECT_EQ(page.records[2].client_ip, "127.0.0.1") << "a header naming no address is ignored";
  EXPECT_GE(page.bytes_in_total, r0.bytes_in + r1.bytes_in);
  // From a peer that is not a trusted proxy the header is ignored and counted.
  config_.trusted_proxies = {"127.0.0.9"};
  ASSERT_TRUE(server_->Reconfigure(config_).ok());
  ASSERT_FALSE(
      c.Request("GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n").empty());
  WaitFor([&] { return Accesses(*client_, 3).records.size() == 1; });
  EXPECT_EQ(Accesses(*client_, 3).records[0].client_ip, "127.0.0.1");
  const TrafficCounters counters = server_->counters();
  EXPECT_EQ(counters.accesses_recorded, 4);
  EXPECT_EQ(counters.forwarded_for_malformed, 1);
  EXPECT_EQ(counters.forwarded_for_untrusted, 1);
  // Recording off: nothing more is recorded.
  config_.record_accesses = false;
  ASSERT_TRUE(server_->Reconfigure(config_).ok());
  ASSERT_FALSE(c.Request(get).empty());
  EXPECT_EQ(server_->counters().accesses_recorded, 4);
  // Bad queries get a clear 400.
  for (const char* query : {"", "?after=-1", "?after=x", "?after=0&max=0", "?after=0&max=99999"}) {
    auto res = client_->Get(absl::StrCat("/_shadowplane/accesses", query));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query;
  }
}

// A request an old primary passes on is recorded once, where the client sent it, with the
// client's own id: the new primary does not count it again, nor the old primary as a client.
TEST_F(FileServerTest, AForwardedRequestIsRecordedOnceByTheInstanceTheClientReached) {
  PeerServer target(config_);
  ForwardTo(target, 2);
  RawConnection c(config_.port);
  const std::string put =
      "PUT /fw.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
      "X-Shadowplane-Client: c-4\r\n\r\nabc";
  const std::string answer = c.Request(put);
  ASSERT_TRUE(absl::StrContains(answer, "X-Shadowplane-Forwarded-To")) << answer;
  AccessPage page;
  WaitFor([&] {
    page = Accesses(*client_, 0);
    return !page.records.empty();
  });
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].client_id, "c-4");
  EXPECT_EQ(page.records[0].method, "PUT");
  EXPECT_EQ(server_->counters().writes_forwarded, 1);
  // The new primary stored the write and recorded nothing (given time to record after answering).
  EXPECT_TRUE(fs::exists(target.data() + "/fw.txt"));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(target.server().counters().accesses_recorded, 0);
}

// Only an instance of the resource, signing with its secret, is taken as having forwarded a
// request: one that says so without a good signature (none, another secret's, another request's,
// too old) is refused with 403 and changes nothing; a signed one is applied and not recorded again.
TEST_F(FileServerTest, ARequestThatSaysItWasForwardedMustBeSignedWithTheResourcesSecret) {
  const std::string other_secret(64, 'f');
  auto put = [&](const std::string& path, const std::string& signature) {
    RawConnection c(config_.port);
    std::string request = absl::StrCat("PUT ", path,
                                       " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                       "X-Shadowplane-Forwarded-By: i-9\r\n");
    if (!signature.empty())
      absl::StrAppend(&request, kForwardSignatureHeader, ": ", signature, "\r\n");
    return c.Request(request + "\r\nabc");
  };
  const absl::Time now = absl::Now();
  for (const std::string& bad :
       {std::string(), SignForward(other_secret, "PUT", "/f1.txt", "i-9", now),
        SignForward(kForwardSecret, "PUT", "/other.txt", "i-9", now),
        SignForward(kForwardSecret, "PUT", "/f1.txt", "i-8", now),
        SignForward(kForwardSecret, "DELETE", "/f1.txt", "i-9", now),
        SignForward(kForwardSecret, "PUT", "/f1.txt", "i-9", now - absl::Minutes(10)),
        std::string("t=1,mac=zz")}) {
    const std::string answer = put("/f1.txt", bad);
    EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 403")) << bad << "\n" << answer;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/data/f1.txt"));
  EXPECT_EQ(server_->counters().refused_unauthenticated, 7);

  const std::string good =
      put("/f1.txt", SignForward(kForwardSecret, "PUT", "/f1.txt", "i-9", now));
  EXPECT_TRUE(absl::StartsWith(good, "HTTP/1.1 20")) << good;
  EXPECT_TRUE(fs::exists(dir_ + "/data/f1.txt"));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server_->counters().accesses_recorded, 7) << "the refused ones, as any client's";

  // An instance given no secret takes nothing as forwarded.
  config_.forward_secret.clear();
  ASSERT_TRUE(server_->Reconfigure(config_).ok());
  const std::string unkeyed =
      put("/f2.txt", SignForward(kForwardSecret, "PUT", "/f2.txt", "i-9", now));
  EXPECT_TRUE(absl::StartsWith(unkeyed, "HTTP/1.1 403")) << unkeyed;
}

// The access log and the disruptions name clients: the agent's key opens them, nothing else
// does; the status stays open for the control plane's probes.
TEST_F(FileServerTest, TheViewsThatNameClientsNeedTheAgentsKey) {
  httplib::Client stranger("127.0.0.1", config_.port);
  EXPECT_EQ(stranger.Get("/_shadowplane/accesses?after=0")->status, 403);
  EXPECT_EQ(stranger.Get("/_shadowplane/disruptions?since_us=0")->status, 403);
  EXPECT_EQ(
      stranger.Get("/_shadowplane/accesses?after=0", {{kAgentKeyHeader, std::string(64, '0')}})
          ->status,
      403);
  EXPECT_EQ(stranger.Get("/_shadowplane/status")->status, 200);
  EXPECT_EQ(client_->Get("/_shadowplane/accesses?after=0")->status, 200);
  EXPECT_EQ(client_->Get("/_shadowplane/disruptions?since_us=0")->status, 200);
  EXPECT_EQ(server_->counters().refused_unauthenticated, 3);
  // An instance whose agent gave it no key opens them to no one.
  config_.agent_key.clear();
  ASSERT_TRUE(server_->Reconfigure(config_).ok());
  EXPECT_EQ(client_->Get("/_shadowplane/accesses?after=0")->status, 403);
}

}  // namespace
}  // namespace shadowplane::instance
