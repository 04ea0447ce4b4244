// Traffic switching against the real servers (label e2e): a Knot DNS zone updated over RFC 2136
// with TSIG and read back with kdig, an HAProxy backend repointed over its runtime socket and read
// back with `show servers state`; live shadowplane-instance processes behind them, and clients
// that must see zero failed requests across a switch.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "instance/instance_config.h"
#include "providers/traffic/haproxy/haproxy_traffic_provider.h"
#include "providers/traffic/rfc2136/rfc2136_traffic_provider.h"
#include "support/child_process.h"
#include "support/test_database.h"
#include "support/traffic_servers.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
using providers::Endpoint;
using providers::ParseEndpoint;

Endpoint At(const std::string& text) { return *ParseEndpoint(text, "test"); }

// A shadowplane-instance process serving its own directory, reconfigured as the agent does it
// (instance.yaml rewritten, then SIGHUP).
class LiveInstance {
 public:
  LiveInstance(const std::string& id, const std::string& address, int port, bool read_only) {
    dir_ = testing::MakeTempDir("shadowplane-traffic-instance");
    fs::create_directories(dir_ + "/data");
    config_.instance_id = id;
    config_.resource_id = "cccccccc-0000-4000-8000-000000000001";
    config_.capacity = {8000, 256, CapacityType::kOnDemand};
    config_.read_only = read_only;
    // A lease of an hour: these tests are about serving, not fencing.
    config_.write_lease_until_ms = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
    config_.address = address;
    config_.port = port;
    config_.write_hold_ms = 10000;
    // One resource: an old primary signs what it forwards, the new one checks it.
    config_.forward_secret = std::string(64, 'e');
    EXPECT_TRUE(instance::SaveInstanceConfig(config_, dir_ + "/instance.yaml").ok());
    auto p = testing::ChildProcess::Start({SHADOWPLANE_INSTANCE_BIN, "--instance_dir=" + dir_});
    EXPECT_TRUE(p.ok()) << p.status();
    process_ = *std::move(p);
    EXPECT_TRUE(process_->WaitForOutput("instance serving", absl::Seconds(10)))
        << process_->Output();
  }

  // Applies `change` to the config and waits until the instance reports it applied (after a
  // freeze: with the writes it had admitted on disk), as the agent does.
  void Reconfigure(const std::function<void(instance::InstanceConfig&)>& change) {
    change(config_);
    config_.generation++;
    ASSERT_TRUE(instance::SaveInstanceConfig(config_, dir_ + "/instance.yaml").ok());
    process_->Signal(SIGHUP);
    const std::string applied = absl::StrCat("\"generation\":", config_.generation, ",");
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (absl::StrContains(Status(), applied)) return;
      absl::SleepFor(absl::Milliseconds(2));
    }
    FAIL() << "instance " << config_.instance_id << " did not take its new config: " << Status();
  }

  std::string Status() const {
    httplib::Client c(config_.address, config_.port);
    auto r = c.Get("/_shadowplane/status");
    return r ? r->body : "";
  }
  std::string endpoint() const { return absl::StrCat(config_.address, ":", config_.port); }
  std::string data() const { return dir_ + "/data"; }
  const std::string& id() const { return config_.instance_id; }

 private:
  std::string dir_;
  instance::InstanceConfig config_;
  std::unique_ptr<testing::ChildProcess> process_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- HAProxy ---------------------------------------------------------------------------------

std::unique_ptr<providers::haproxy::HaproxyTrafficProvider> Haproxy(const std::string& socket,
                                                                    const std::string& state) {
  providers::haproxy::HaproxyOptions o;
  o.socket = socket;
  o.state_file = state;
  o.timeout = absl::Seconds(2);
  return *providers::haproxy::HaproxyTrafficProvider::Create(o);
}

TEST(HaproxyTrafficTest, RegistersSwitchesAndUnregistersABackendAndReadsItBack) {
  auto haproxy = testing::HaproxyServer::Start({"shop"});
  ASSERT_TRUE(haproxy.ok()) << haproxy.status();
  auto provider = Haproxy((*haproxy)->socket(), (*haproxy)->state_file());
  EXPECT_EQ(provider->Current("shop").status().code(), absl::StatusCode::kNotFound)
      << "the slot starts in maintenance";
  ASSERT_TRUE(provider->Register("shop", At("127.0.0.1:18001")).ok());
  EXPECT_TRUE(provider->Register("shop", At("127.0.0.1:18001")).ok()) << "idempotent";
  EXPECT_EQ(provider->Register("shop", At("127.0.0.1:18002")).code(),
            absl::StatusCode::kFailedPrecondition);
  std::string state = (*haproxy)->Ask("show servers state shop");
  EXPECT_TRUE(absl::StrContains(state, " live 127.0.0.1 ")) << state;
  EXPECT_TRUE(absl::StrContains(state, " 18001 ")) << state;

  ASSERT_TRUE(provider->Switch("shop", At("127.0.0.1:18001"), At("127.0.0.2:18002"), false).ok());
  state = (*haproxy)->Ask("show servers state shop");
  EXPECT_TRUE(absl::StrContains(state, " live 127.0.0.2 ")) << state;
  EXPECT_TRUE(absl::StrContains(state, " 18002 ")) << state;
  EXPECT_TRUE(absl::StrContains(ReadAll((*haproxy)->state_file()), "127.0.0.2"))
      << "the server-state file follows, for reloads";
  EXPECT_TRUE(provider->Switch("shop", At("127.0.0.1:18001"), At("127.0.0.2:18002"), false).ok())
      << "a switch that happened is done";
  const absl::Status moved =
      provider->Switch("shop", At("127.0.0.1:18001"), At("127.0.0.3:18003"), true);
  EXPECT_EQ(moved.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(moved.message(), "127.0.0.2:18002")) << moved;

  // Bad input and faults.
  EXPECT_EQ(provider->Current("nope").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(provider->Current("a b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEndpoint("shop.example:80", "to").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEndpoint("127.0.0.1", "to").status().code(), absl::StatusCode::kInvalidArgument);
  auto gone = Haproxy("/nonexistent/admin.sock", "");
  EXPECT_EQ(gone->Switch("shop", At("127.0.0.2:18002"), At("127.0.0.1:18001"), false).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains((*haproxy)->Ask("show servers state shop"), " 127.0.0.2 "))
      << "the old target keeps serving";

  EXPECT_EQ(provider->Unregister("shop", At("127.0.0.1:18001")).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(provider->Unregister("shop", At("127.0.0.2:18002")).ok());
  EXPECT_EQ(provider->Current("shop").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(provider->Unregister("shop", At("127.0.0.2:18002")).ok()) << "idempotent";
}

// What a client saw.
struct ClientLog {
  int requests = 0, failures = 0, writes_acknowledged = 0, forwarded = 0;
  std::vector<std::string> served_by;              // instance of each answer, in order
  std::map<std::string, std::string> written;      // path -> body, acknowledged writes
  std::map<std::string, std::string> written_via;  // path -> instance that answered, or
                                                   // "forwarded" (by the old one to the new)
  std::vector<std::string> failure_details;
};

// Reads and writes through `port` (keep-alive) until `stop` or `max_requests`.
void RunClient(int port, int max_requests, const std::atomic<bool>& stop, ClientLog* log,
               std::atomic<int>* progress) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(20);
  for (int i = 0; i < max_requests && !stop.load(); ++i) {
    const bool write = i % 2 == 1;
    const std::string path = absl::StrCat("/w/k-", i);
    const std::string body = absl::StrCat("write ", i);
    httplib::Result r = write ? client.Put(path, body, "text/plain") : client.Get("/base.txt");
    ++log->requests;
    progress->store(i + 1);
    if (!r || r->status >= 300) {
      ++log->failures;
      log->failure_details.push_back(r ? absl::StrCat(i, ": ", r->status, " ", r->body)
                                       : absl::StrCat(i, ": no answer"));
      continue;
    }
    const std::string by = r->get_header_value("X-Shadowplane-Instance");
    log->served_by.push_back(by);
    if (write) {
      ++log->writes_acknowledged;
      log->written[path] = body;
      const bool forwarded = r->has_header("X-Shadowplane-Forwarded-To");
      log->written_via[path] = forwarded ? "forwarded" : by;
      if (forwarded) ++log->forwarded;
    }
  }
}

void CopyTree(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

TEST(HaproxyTrafficTest, AClientSeesZeroFailedRequestsAcrossASwitch) {
  const int port_a = testing::FreePort(), port_b = testing::FreePort();
  LiveInstance a("inst-a", "127.0.0.1", port_a, /*read_only=*/false);
  LiveInstance b("inst-b", "127.0.0.1", port_b, /*read_only=*/true);
  { std::ofstream(a.data() + "/base.txt") << "the resource's data\n"; }
  CopyTree(a.data(), b.data());  // the shadow in sync
  auto haproxy = testing::HaproxyServer::Start({"shop"});
  ASSERT_TRUE(haproxy.ok()) << haproxy.status();
  auto provider = Haproxy((*haproxy)->socket(), (*haproxy)->state_file());
  ASSERT_TRUE(provider->Register("shop", At(a.endpoint())).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> progress{0};
  ClientLog log;
  const absl::Time started = absl::Now();
  std::thread client([&] { RunClient((*haproxy)->frontend_port(0), 3000, stop, &log, &progress); });
  // A failed assertion below must not leave a running thread (std::terminate) or processes.
  absl::Cleanup join = [&] {
    stop = true;
    if (client.joinable()) client.join();
  };
  while (progress.load() < 800 && absl::Now() - started < absl::Seconds(20)) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const std::string table_before = (*haproxy)->Ask("show table shop");

  // The cutover: freeze writes at A, bring B up to date and writable, switch, then A forwards.
  const absl::Time freeze = absl::Now();
  a.Reconfigure([](auto& c) { c.hold_writes = true; });
  CopyTree(a.data(), b.data());  // the final sync round
  b.Reconfigure([](auto& c) { c.read_only = false; });
  const absl::Time switch_start = absl::Now();
  const absl::Status switched = provider->Switch("shop", At(a.endpoint()), At(b.endpoint()), false);
  const absl::Duration switch_time = absl::Now() - switch_start;
  a.Reconfigure([&](auto& c) {
    c.read_only = true;
    c.forward_writes_to = b.endpoint();
    c.hold_writes = false;
  });
  const absl::Duration freeze_window = absl::Now() - freeze;
  ASSERT_TRUE(switched.ok()) << switched;
  const std::string state = (*haproxy)->Ask("show servers state shop");
  EXPECT_TRUE(absl::StrContains(state, absl::StrCat(" ", port_b, " "))) << state;

  client.join();
  const absl::Duration elapsed = absl::Now() - started;
  std::cout << "haproxy switch: " << log.requests << " requests in " << elapsed << ", "
            << log.failures << " failed, " << log.forwarded << " writes forwarded; switch took "
            << switch_time << ", write freeze " << freeze_window << "\n";
  EXPECT_EQ(log.failures, 0) << absl::StrJoin(log.failure_details, "\n");
  EXPECT_GE(log.requests, 2000) << "the loop is time-capped; it should not be that slow";
  // Answers moved from A to B and stayed there.
  ASSERT_FALSE(log.served_by.empty());
  EXPECT_EQ(log.served_by.front(), "inst-a");
  EXPECT_EQ(log.served_by.back(), "inst-b");
  size_t last_a = 0;
  for (size_t i = 0; i < log.served_by.size(); ++i) {
    if (log.served_by[i] == "inst-a") last_a = i;
  }
  for (size_t i = last_a + 1; i < log.served_by.size(); ++i) EXPECT_EQ(log.served_by[i], "inst-b");
  // Every acknowledged write is on the new primary, with its body; A applied none after the
  // freeze (those it answered were forwarded).
  for (const auto& [path, body] : log.written) {
    EXPECT_EQ(ReadAll(b.data() + path), body) << path;
  }
  int applied_by_a_after_freeze = 0;
  for (const auto& [path, via] : log.written_via) {
    if (via != "inst-a" && fs::exists(a.data() + path)) ++applied_by_a_after_freeze;
  }
  EXPECT_EQ(applied_by_a_after_freeze, 0);
  // The sticky client stays sticky: its entry names the slot before and after.
  const std::string table_after = (*haproxy)->Ask("show table shop");
  EXPECT_TRUE(absl::StrContains(table_before, "key=127.0.0.1")) << table_before;
  EXPECT_TRUE(absl::StrContains(table_after, "key=127.0.0.1")) << table_after;
  EXPECT_TRUE(absl::StrContains(table_after, "server_id=1")) << table_after;
}

// --- RFC 2136 on Knot DNS ----------------------------------------------------------------------

constexpr char kZone[] = "svc.test.";
constexpr char kName[] = "shop.svc.test.";
constexpr char kKey[] = "shadowplane";

std::unique_ptr<providers::rfc2136::Rfc2136TrafficProvider> Dns(
    const testing::KnotServer& knot, const std::string& secret,
    absl::Duration ttl = absl::Seconds(30), absl::Duration prepare_ttl = absl::Seconds(5)) {
  providers::rfc2136::Rfc2136Options o;
  o.server = knot.address();
  o.zone = kZone;
  o.tsig_key_name = kKey;
  o.tsig_secret = secret;
  o.ttl = ttl;
  o.prepare_ttl = prepare_ttl;
  o.drain_margin = absl::Seconds(1);
  o.timeout = absl::Seconds(1);
  return *providers::rfc2136::Rfc2136TrafficProvider::Create(o);
}

TEST(Rfc2136TrafficTest, RegistersPreparesSwitchesRestoresAndUnregistersANameOnKnot) {
  auto knot = testing::KnotServer::Start(kZone, kKey);
  ASSERT_TRUE(knot.ok()) << knot.status();
  auto dns = Dns(**knot, (*knot)->secret());
  EXPECT_EQ(dns->Current(kName).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(dns->Register(kName, At("127.0.0.11:8080")).ok());
  EXPECT_TRUE(dns->Register(kName, At("127.0.0.11:8080")).ok()) << "idempotent";
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 30 IN A 127.0.0.11");

  auto wait = dns->Prepare(kName);
  ASSERT_TRUE(wait.ok()) << wait.status();
  EXPECT_EQ(*wait, absl::Seconds(30)) << "caches may hold the old TTL that long";
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 5 IN A 127.0.0.11");

  ASSERT_TRUE(dns->Switch(kName, At("127.0.0.11:8080"), At("127.0.0.12:8080"), false).ok());
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 5 IN A 127.0.0.12");
  EXPECT_TRUE(dns->Switch(kName, At("127.0.0.11:8080"), At("127.0.0.12:8080"), false).ok())
      << "a switch that happened is done";
  EXPECT_EQ(*dns->DrainPeriod(kName), absl::Seconds(6));
  ASSERT_TRUE(dns->Restore(kName).ok());
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 30 IN A 127.0.0.12");

  // IPv6 works the same way.
  ASSERT_TRUE(dns->Switch(kName, At("127.0.0.12:8080"), At("[::1]:8080"), true).ok());
  EXPECT_EQ((*knot)->Dig(kName, "AAAA"), "shop.svc.test. 5 IN AAAA ::1") << "urgent: short TTL";
  EXPECT_EQ((*knot)->Dig(kName), "");

  // Someone else changes the name: the next switch refuses to overwrite it and says what it found.
  const testing::RunResult other = testing::RunToCompletion(
      {"/bin/sh", "-c",
       absl::StrCat("printf 'server 127.0.0.1 ", (*knot)->port(), "\\nzone ", kZone,
                    "\\nupdate delete ", kName, " AAAA\\nupdate add ", kName,
                    " 30 A 127.0.0.99\\nsend\\n' | /usr/bin/knsupdate -y hmac-sha256:", kKey, ":",
                    (*knot)->secret())});
  ASSERT_EQ(other.exit_code, 0) << other.output;
  const absl::Status moved = dns->Switch(kName, At("[::1]:8080"), At("127.0.0.13:8080"), false);
  EXPECT_EQ(moved.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(moved.message(), "127.0.0.99")) << moved;
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 30 IN A 127.0.0.99");

  // A wrong key: NOTAUTH, a clear error, nothing changed.
  auto forged = Dns(**knot, "c2hhZG93cGxhbmUtd3Jvbmcta2V5LXNlY3JldC0wMTIzNDU=");
  const absl::Status refused =
      forged->Switch(kName, At("127.0.0.99:8080"), At("127.0.0.13:8080"), false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "NOTAUTH")) << refused;
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 30 IN A 127.0.0.99");
  // Unreachable server, names outside the zone, endpoints that are not addresses.
  providers::rfc2136::Rfc2136Options nowhere;
  nowhere.server = absl::StrCat("127.0.0.1:", testing::FreePort());
  nowhere.zone = kZone;
  nowhere.tsig_key_name = kKey;
  nowhere.tsig_secret = (*knot)->secret();
  nowhere.timeout = absl::Milliseconds(300);
  auto unreachable = *providers::rfc2136::Rfc2136TrafficProvider::Create(nowhere);
  EXPECT_EQ(unreachable->Switch(kName, At("127.0.0.99:8080"), At("127.0.0.13:8080"), false).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(dns->Current("shop.elsewhere.example.").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Not host names: a wildcard (it would answer for every name below), escapes, spaces, empty
  // labels. Refused before anything is sent.
  for (const std::string& hostile : std::vector<std::string>{
           "*", "*.shop", "a\\046b", "sh op", "shop..x", "-shop", "shop_1", std::string(64, 'a')}) {
    const absl::Status s = dns->Register(hostile, At("127.0.0.14:8080"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << hostile << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "service_name")) << s;
  }
  EXPECT_EQ((*knot)->Dig("*." + std::string(kZone)), "") << "no wildcard was made";
  nowhere.server = "dns.example:53";
  EXPECT_EQ(providers::rfc2136::Rfc2136TrafficProvider::Create(nowhere).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(dns->Unregister(kName, At("127.0.0.11:8080")).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(dns->Unregister(kName, At("127.0.0.99:8080")).ok());
  EXPECT_EQ((*knot)->Dig(kName), "");
}

// A client that resolves the name itself and keeps the answer for its TTL: after the switch it
// reaches the old instance until its answer expires (writes forwarded, none lost), then the new.
TEST(Rfc2136TrafficTest, AClientHonouringTtlsMovesOnceItsAnswerExpiresAndLosesNoWrite) {
  auto knot = testing::KnotServer::Start(kZone, kKey);
  ASSERT_TRUE(knot.ok()) << knot.status();
  auto dns = Dns(**knot, (*knot)->secret(), absl::Seconds(2), absl::Seconds(1));
  const int port = testing::FreePort();
  LiveInstance a("inst-a", "127.0.0.11", port, /*read_only=*/false);
  LiveInstance b("inst-b", "127.0.0.12", port, /*read_only=*/true);
  ASSERT_TRUE(dns->Register(kName, At(a.endpoint())).ok());

  std::atomic<bool> stop{false};
  int requests = 0, failures = 0, forwarded = 0;
  std::vector<std::string> served_by;
  std::map<std::string, std::string> written;
  absl::Time reached_b = absl::InfiniteFuture();
  std::thread client([&] {
    std::string address;
    absl::Time expires = absl::InfinitePast();
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      if (absl::Now() >= expires) {  // resolve, and keep the answer for its TTL
        auto record = dns->Lookup(kName);
        if (!record.ok()) {
          ++failures;
          continue;
        }
        address = record->target.address;
        expires = absl::Now() + record->ttl;
      }
      httplib::Client c(address, port);
      const std::string path = absl::StrCat("/d/k-", i);
      auto r = c.Put(path, absl::StrCat("write ", i), "text/plain");
      ++requests;
      if (!r || r->status >= 300) {
        ++failures;
        continue;
      }
      const std::string by = r->get_header_value("X-Shadowplane-Instance");
      if (by == "inst-b" && reached_b == absl::InfiniteFuture()) reached_b = absl::Now();
      served_by.push_back(by);
      if (r->has_header("X-Shadowplane-Forwarded-To")) ++forwarded;
      written[path] = absl::StrCat("write ", i);
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  absl::Cleanup join = [&] {
    stop = true;
    if (client.joinable()) client.join();
  };
  absl::SleepFor(absl::Milliseconds(500));
  auto wait = dns->Prepare(kName);
  ASSERT_TRUE(wait.ok()) << wait.status();
  absl::SleepFor(*wait);  // every cache has seen the short TTL
  a.Reconfigure([](auto& c) { c.hold_writes = true; });
  CopyTree(a.data(), b.data());
  b.Reconfigure([](auto& c) { c.read_only = false; });
  const absl::Time switched_at = absl::Now();
  auto switched = dns->Switch(kName, At(a.endpoint()), At(b.endpoint()), false);
  a.Reconfigure([&](auto& c) {
    c.read_only = true;
    c.forward_writes_to = b.endpoint();
    c.hold_writes = false;
  });
  ASSERT_TRUE(switched.ok()) << switched;
  EXPECT_EQ((*knot)->Dig(kName), "shop.svc.test. 1 IN A 127.0.0.12") << "read back with kdig";
  const absl::Duration drain = *dns->DrainPeriod(kName);
  // Generous: a noisy machine may be slow to run the client at all.
  absl::SleepFor(drain + absl::Seconds(3));
  stop = true;
  client.join();
  std::cout << "dns switch: " << requests << " writes, " << failures << " failed, " << forwarded
            << " forwarded by the old instance; the client reached the new one "
            << (reached_b - switched_at) << " after the switch (TTL 1s, drain " << drain << ")\n";
  EXPECT_EQ(failures, 0);
  EXPECT_GT(forwarded, 0) << "cached answers sent writes to the old instance";
  ASSERT_FALSE(served_by.empty());
  EXPECT_EQ(served_by.front(), "inst-a");
  EXPECT_EQ(served_by.back(), "inst-b");
  EXPECT_LT(reached_b - switched_at, drain + absl::Seconds(2));
  for (const auto& [path, body] : written) EXPECT_EQ(ReadAll(b.data() + path), body) << path;
}

}  // namespace
}  // namespace shadowplane
