// The instance behind a real HAProxy 2.6 on its default connection reuse, as users run it (label
// e2e): HAProxy keeps idle server connections for reuse, and no request may wait for one of them.
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "instance/file_server.h"
#include "support/child_process.h"
#include "support/traffic_servers.h"

namespace shadowplane::instance {
namespace {

namespace fs = std::filesystem;

class InstanceBehindHaproxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-instance-haproxy");
    fs::create_directories(dir_ + "/data");
    std::ofstream(dir_ + "/data/page.html") << std::string(2048, 'p');
    config_.instance_id = "i-web";
    config_.resource_id = "r-web";
    // 500 millicores: two workers and 500 requests per second, as in the local setup's `web`.
    config_.capacity = {500, 256, CapacityType::kOnDemand};
    config_.read_only = false;
    // A lease of an hour: these tests are about serving, not fencing.
    config_.write_lease_until_ms = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
    config_.address = "127.0.0.1";
    absl::Status bound;
    for (int attempt = 0; attempt < 5; ++attempt) {
      config_.port = testing::FreePort();
      server_ = std::make_unique<FileServer>(dir_ + "/data", config_);
      bound = server_->Bind();
      if (bound.ok()) break;
    }
    ASSERT_TRUE(bound.ok()) << bound;
    thread_ = std::thread([this] { server_->Serve(); });
    auto haproxy = testing::HaproxyServer::Start({"web"});  // default http-reuse (safe)
    ASSERT_TRUE(haproxy.ok()) << haproxy.status();
    haproxy_ = *std::move(haproxy);
    haproxy_->Ask(absl::StrCat("set server web/live addr 127.0.0.1 port ", config_.port));
    haproxy_->Ask("set server web/live state ready");
    ASSERT_TRUE(
        absl::StrContains(haproxy_->Ask("show servers state web"), absl::StrCat(" 127.0.0.1 2 ")))
        << haproxy_->Ask("show servers state web");
    port_ = haproxy_->frontend_port(0);
  }
  void TearDown() override {
    haproxy_.reset();
    if (server_ != nullptr) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string dir_;
  InstanceConfig config_;
  std::unique_ptr<FileServer> server_;
  std::thread thread_;
  std::unique_ptr<testing::HaproxyServer> haproxy_;
  int port_ = 0;
};

struct Tally {
  std::mutex mu;
  int requests = 0;
  std::vector<std::string> failures;
  absl::Duration slowest;
};

// One client: `n` requests, a new connection each or all on one kept-alive connection, GETs and
// PUTs in turn, `pause` apart.
void RunClient(int port, int id, bool keep_alive, int n, absl::Duration pause, Tally* tally) {
  std::unique_ptr<httplib::Client> kept;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<httplib::Client> fresh;
    httplib::Client* client;
    if (keep_alive) {
      if (!kept) {
        kept = std::make_unique<httplib::Client>("127.0.0.1", port);
        kept->set_keep_alive(true);
      }
      client = kept.get();
    } else {
      fresh = std::make_unique<httplib::Client>("127.0.0.1", port);
      client = fresh.get();
    }
    client->set_read_timeout(10, 0);
    const absl::Time start = absl::Now();
    httplib::Result res =
        i % 2 == 0 ? client->Get("/page.html")
                   : client->Put(absl::StrCat("/c", id, "/w", i), "written", "text/plain");
    const absl::Duration took = absl::Now() - start;
    std::lock_guard<std::mutex> lock(tally->mu);
    ++tally->requests;
    tally->slowest = std::max(tally->slowest, took);
    if (!res || res->status < 200 || res->status >= 300) {
      tally->failures.push_back(absl::StrCat("client ", id, " request ", i, ": ",
                                             res ? absl::StrCat(res->status) : "no answer"));
    } else if (took > absl::Seconds(1)) {
      tally->failures.push_back(
          absl::StrCat("client ", id, " request ", i, " took ", absl::FormatDuration(took)));
    }
    absl::SleepFor(pause);
  }
}

// 8 clients at once, half on a new connection per request and half kept alive, about 160
// requests per second together (under the instance's 500): every request answered 2xx within 1 s.
TEST_F(InstanceBehindHaproxyTest, NewAndKeptAliveConnectionsAreAllAnsweredPromptly) {
  Tally tally;
  std::vector<std::thread> clients;
  for (int id = 0; id < 8; ++id) {
    clients.emplace_back(
        [&, id] { RunClient(port_, id, id % 2 == 1, 60, absl::Milliseconds(50), &tally); });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(tally.requests, 8 * 60);
  EXPECT_TRUE(tally.failures.empty())
      << tally.failures.size() << " failed, e.g. " << tally.failures.front();
  std::cout << tally.requests << " requests through HAProxy, slowest "
            << absl::FormatDuration(tally.slowest) << "; instance connections accepted: "
            << server_->connection_counters().connections_accepted << "\n";
  // What the old thread-per-connection server could not do: HAProxy kept connections idle.
  EXPECT_GT(server_->counters().requests, 8 * 60 - 1);
  EXPECT_EQ(server_->counters().rejected_rate_limited, 0);
}

// 200 clients each leave a kept-alive connection idle (through HAProxy, which keeps the server
// side for reuse); another client's requests are all answered within 1 s.
TEST_F(InstanceBehindHaproxyTest, TwoHundredIdleConnectionsKeepNoOneWaiting) {
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 200; ++i) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_keep_alive(true);
    auto res = client->Get("/page.html");
    ASSERT_TRUE(res) << "idle client " << i;
    ASSERT_EQ(res->status, 200);
    idle.push_back(std::move(client));
    absl::SleepFor(absl::Milliseconds(3));  // under the rate limit
  }
  const HttpServerCounters held = server_->connection_counters();
  Tally tally;
  RunClient(port_, 999, /*keep_alive=*/false, 40, absl::Milliseconds(10), &tally);
  EXPECT_EQ(tally.requests, 40);
  EXPECT_TRUE(tally.failures.empty())
      << tally.failures.size() << " failed, e.g. " << tally.failures.front();
  std::cout << "200 idle clients (" << held.connections_idle
            << " idle connections at the instance); another client's slowest request "
            << absl::FormatDuration(tally.slowest) << "\n";
  EXPECT_GE(held.connections_open, 1) << "HAProxy keeps server connections";
}

}  // namespace
}  // namespace shadowplane::instance
