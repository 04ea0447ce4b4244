// Client affinity end to end (label e2e): PostgreSQL, the server, three agents with live instance
// processes and a real HAProxy (on its defaults) in front of the resource. Six clients, each with
// its own id, keep one connection each to HAProxy, and a seventh connects to the primary directly
// as a client with a cached DNS answer would (re-resolving when its connection ends); each writes
// then reads back its own key, while an edge proxy reports their accesses (so they are affine to
// the resource) and the planner moves the resource by itself. Every answer names the instance
// that served it; the sessions continue on the new primary (through the same stick-table slot for
// HAProxy's clients); and the migration's record of affine clients and disruptions by kind equals
// what the clients themselves saw: closed connections, late (held, forwarded) and failed
// requests, and no stale read.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "planner/planner_history.h"
#include "shadowplane/v1/planner.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

// What one client saw.
struct ClientLog {
  int requests = 0;
  int held = 0;       // answered with X-Shadowplane-Held-Ms (late: waited for a freeze)
  int forwarded = 0;  // answered with X-Shadowplane-Forwarded-To (passed on by an old primary)
  int failed = 0;     // 5xx, or no answer
  int closed = 0;     // the connection ended by the other side
  int stale = 0;      // a read that did not return the client's last acknowledged write
  int unnamed = 0;    // an answer that named no instance
  int refused = 0;    // 429: over the instance's request rate (the clients pace themselves)
  std::string last_served_by;
  std::vector<std::string> details;
  bool disrupted() const { return held + forwarded + failed + closed + stale > 0; }
};

struct Answer {
  int status = 0;                              // 0: none came
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One kept-alive HTTP/1.1 connection to HAProxy, spoken by hand so that a connection the other
// side ends is seen (a client library would reconnect silently).
class KeptAliveClient {
 public:
  // `resolve` gives "address:port" to connect to, asked again after the connection ended.
  KeptAliveClient(std::function<std::string()> resolve, std::string id)
      : resolve_(std::move(resolve)), id_(std::move(id)) {}
  ~KeptAliveClient() { Close(); }

  // `*closed` is set when the other side ended the connection (after or instead of an answer).
  Answer Send(const std::string& method, const std::string& path, const std::string& body,
              bool* closed) {
    *closed = false;
    Answer a;
    if (fd_ < 0 && !Connect()) return a;
    const std::string request =
        absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: web\r\nX-Shadowplane-Client: ", id_,
                     "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
    if (write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      *closed = true;
      Close();
      return a;
    }
    std::string in;
    size_t header_end;
    while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(&in)) {
        *closed = true;
        Close();
        return a;
      }
    }
    std::vector<std::string> lines = absl::StrSplit(in.substr(0, header_end), "\r\n");
    std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
    if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &a.status)) a.status = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      a.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    (void)absl::SimpleAtoi(a.header("content-length"), &length);
    a.body = in.substr(header_end + 4);
    while (a.body.size() < length) {
      if (!ReadMore(&a.body)) {
        *closed = true;
        Close();
        a.status = 0;
        return a;
      }
    }
    if (absl::AsciiStrToLower(a.header("connection")) == "close") {
      *closed = true;
      Close();
    }
    return a;
  }

 private:
  bool Connect() {
    const std::string endpoint = resolve_();
    const size_t colon = endpoint.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port)) {
      return false;
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, endpoint.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      Close();
      return false;
    }
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  // False when the connection ended or nothing came within 20 s.
  bool ReadMore(std::string* out) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0) return false;
    char buf[16384];
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    out->append(buf, static_cast<size_t>(n));
    return true;
  }

  const std::function<std::string()> resolve_;
  const std::string id_;
  int fd_ = -1;
};

// Writes its own key, then reads it back, until `stop`.
void RunAffineClient(std::function<std::string()> resolve, const std::string& id,
                     const std::atomic<bool>& stop, ClientLog* log) {
  KeptAliveClient client(std::move(resolve), id);
  std::string acknowledged;  // the last value written and acknowledged
  const std::string path = absl::StrCat("/affine/", id);
  auto note = [&](const Answer& a, bool closed) {
    ++log->requests;
    if (closed) ++log->closed;
    if (a.status == 0 || a.status >= 500) {
      ++log->failed;
      log->details.push_back(absl::StrCat(id, ": ", a.status, " ", a.body));
      return false;
    }
    if (a.status == 429) ++log->refused;
    const std::string instance = a.header("x-shadowplane-instance");
    if (instance.empty()) ++log->unnamed;
    if (!a.header("x-shadowplane-held-ms").empty()) ++log->held;
    if (!a.header("x-shadowplane-forwarded-to").empty()) ++log->forwarded;
    const std::string served_by = a.header("x-shadowplane-served-by");
    log->last_served_by = served_by.empty() ? instance : served_by;
    return true;
  };
  for (int i = 0; !stop.load(); ++i) {
    const std::string value = absl::StrCat(id, " write ", i);
    bool closed = false;
    const Answer put = client.Send("PUT", path, value, &closed);
    if (note(put, closed) && put.status < 300) acknowledged = value;
    const Answer get = client.Send("GET", path, "", &closed);
    if (note(get, closed) && get.status == 200 && !acknowledged.empty() &&
        get.body != acknowledged) {
      ++log->stale;
      log->details.push_back(
          absl::StrCat(id, ": read \"", get.body, "\" after \"", acknowledged, "\""));
    }
    // About 50 requests a second per client: seven stay under the instance's 500 a second.
    absl::SleepFor(absl::Milliseconds(40));
  }
}

// The server id that the stick table gives 127.0.0.1 (empty when it has no entry).
std::string StickServerId(const std::string& table) {
  std::smatch m;
  static const std::regex kEntry("key=127\\.0\\.0\\.1 [^\\n]*server_id=([0-9]+)");
  return std::regex_search(table, m, kEntry) ? m[1].str() : "";
}

class AffinityProcessTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    extra_flags_ = {"--plan_interval=1s", "--plan_horizon=6h",
                    "--latency_price_per_request_ms=0.001", "--forecast_interval=1s",
                    "--planner_observe_window=2s", "--migration_step_deadline=10s",
                    "--cutover_dirty_bytes=0", "--max_precopy_rounds=6", "--max_batch_events=30000",
                    "--affinity_flush_interval=200ms",
                    // Affine sessions are cheap here: six of them never stand in the way.
                    "--disrupted_session_price=0.0001",
                    // Long enough that HAProxy's idle connections to the old primary are gone
                    // before its forwarding ends.
                    "--haproxy_drain=8s"};
    // As deploy/local/haproxy.cfg: the instances know HAProxy's connections from clients'.
    haproxy_backend_options_ = "option forwardfor";
    MigrationTest::SetUp();
  }
  void OnServerStarted() override {
    MigrationTest::OnServerStarted();
    telemetry_ = pb::TelemetryService::NewStub(channel_);
    planner_ = pb::PlannerService::NewStub(channel_);
  }

  // The edge proxy's report: each client once, now, from Europe (this hour's demand as forecast).
  void ReportClients(const std::string& resource_id, const std::vector<std::string>& ids,
                     int round) {
    pb::AccessBatch batch;
    batch.set_batch_id(absl::StrCat("clients-", round));
    for (const std::string& id : ids) {
      for (int i = 0; i < 8; ++i) {
        pb::AccessEvent* e = batch.add_events();
        e->mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 1 - i);
        e->set_client_ip("192.0.2.44");
        e->set_client_id(id);
        e->set_resource_id(resource_id);
        e->set_request_type("PUT");
        e->set_bytes_out(2000);
        e->set_origin_region("eu-central");
      }
    }
    grpc::ClientContext context;
    pb::BatchAck ack;
    ASSERT_TRUE(telemetry_->RecordAccessBatch(&context, batch, &ack).ok());
    ASSERT_EQ(ack.events_accepted(), batch.events_size()) << ack.message();
  }

  std::unique_ptr<pb::TelemetryService::Stub> telemetry_;
  std::unique_ptr<pb::PlannerService::Stub> planner_;
};

TEST_F(AffinityProcessTest, AffineClientsStayWithTheResourceAndTheMoveCountsWhatTheySaw) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-affine"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_EQ(r.primary().location(), "iad-1");
  testing::SendDailyHistory(telemetry_.get(), r.resource_id());
  if (HasFatalFailure()) return;

  // Six clients on kept-alive connections through HAProxy, and one ("d0") straight to the
  // primary that it resolves again, as DNS would answer, each time its connection ends.
  const std::vector<std::string> ids = {"c0", "c1", "c2", "c3", "c4", "c5", "d0"};
  const std::string frontend = absl::StrCat("127.0.0.1:", haproxy_->frontend_port(0));
  auto through_haproxy = [frontend] { return frontend; };
  auto resolve_primary = [this, id = r.id()] {
    pb::Reservation now;
    return GetReservation(id, &now).ok() ? now.primary().endpoint() : std::string();
  };
  std::atomic<bool> stop{false};
  std::vector<ClientLog> logs(ids.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < ids.size(); ++i) {
    clients.emplace_back([&, i] {
      const bool direct = absl::StartsWith(ids[i], "d");
      RunAffineClient(direct ? std::function<std::string()>(resolve_primary)
                             : std::function<std::string()>(through_haproxy),
                      ids[i], stop, &logs[i]);
    });
  }
  absl::Cleanup join = [&] {
    stop = true;
    for (auto& t : clients) {
      if (t.joinable()) t.join();
    }
  };
  ReportClients(r.resource_id(), ids, 0);
  if (HasFatalFailure()) return;
  absl::SleepFor(absl::Seconds(1));
  const std::string table_before = haproxy_->Ask("show table web");
  const std::string slot = StickServerId(table_before);
  ASSERT_FALSE(slot.empty()) << table_before;

  // Auto mode: the planner moves it to Europe by itself once the forecast is in.
  {
    const grpc::Status status = SetPlannerMode(r.id(), "auto");
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const pb::Decision move =
      testing::WaitForDecisionWithMigration(planner_.get(), r.resource_id(), "move");
  ASSERT_FALSE(move.migration_id().empty()) << server_->Output();
  EXPECT_EQ(move.to_location(), "fra-1");
  pb::Migration m;
  Watch(move.migration_id(), &m);
  ASSERT_EQ(m.state(), "DONE") << StatesOf(m) << "\n" << server_->Output();
  // The clients go on a little on the new primary, then stop.
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  for (auto& t : clients) t.join();

  pb::Reservation after;
  ASSERT_TRUE(GetReservation(r.id(), &after).ok());
  ASSERT_EQ(after.primary().location(), "fra-1");

  // The decision priced the affine clients and said when it would cut over.
  {
    grpc::ClientContext context;
    pb::GetDecisionRequest request;
    request.set_decision_id(move.id());
    pb::Decision got;
    ASSERT_TRUE(planner_->GetDecision(&context, request, &got).ok());
    EXPECT_EQ(got.explanation().affinity().affine_clients(), 7) << got.DebugString();
    EXPECT_GT(got.explanation().affinity().cost(), 0);
    EXPECT_TRUE(got.explanation().has_timing()) << got.DebugString();
    for (const pb::CandidateCost& c : got.explanation().candidates()) {
      if (c.location() == "fra-1") {
        EXPECT_GT(c.affinity_cost(), 0);
      }
    }
  }

  // What the clients saw.
  ClientLog seen;
  int disrupted = 0;
  std::vector<std::string> details;
  for (size_t i = 0; i < logs.size(); ++i) {
    const ClientLog& l = logs[i];
    seen.requests += l.requests;
    seen.held += l.held;
    seen.forwarded += l.forwarded;
    seen.failed += l.failed;
    seen.closed += l.closed;
    seen.stale += l.stale;
    seen.unnamed += l.unnamed;
    seen.refused += l.refused;
    disrupted += l.disrupted() ? 1 : 0;
    details.insert(details.end(), l.details.begin(), l.details.end());
    // Each client's session goes on at the new primary, through the same slot.
    EXPECT_EQ(l.last_served_by, after.primary().id()) << ids[i];
    EXPECT_GT(l.requests, 10) << ids[i];
  }
  const pb::MigrationDisruptions& d = m.disruptions();
  std::cout << "affinity move: " << seen.requests << " requests from 7 affine clients; they saw "
            << seen.held << " held, " << seen.forwarded << " forwarded, " << seen.failed
            << " failed, " << seen.closed << " closed, " << seen.stale << " stale (" << disrupted
            << " clients disrupted); the migration counted " << d.affine_clients() << " affine, "
            << d.disrupted_affine_clients() << " disrupted: " << d.held_requests() << " held, "
            << d.forwarded_requests() << " forwarded, " << d.failed_requests() << " failed, "
            << d.closed_connections() << " closed, " << d.stale_reads() << " stale\n";
  EXPECT_EQ(seen.unnamed, 0) << "every answer names the instance that gave it";
  EXPECT_EQ(seen.refused, 0) << "paced under the rate limit";
  EXPECT_EQ(seen.failed, 0) << absl::StrJoin(details, "\n");
  EXPECT_EQ(seen.stale, 0) << absl::StrJoin(details, "\n");
  // Not an empty comparison: the direct client always meets the old primary after the switch
  // (held or forwarded, then its connection ended). Requests held by the freeze, a few
  // milliseconds here, come when a client happened to ask then.
  EXPECT_GT(logs.back().held + logs.back().forwarded, 0);
  EXPECT_GT(logs.back().closed, 0) << "the old primary ended the direct client's connection";

  // The migration's record matches, kind by kind.
  ASSERT_TRUE(m.has_disruptions()) << m.DebugString();
  EXPECT_TRUE(d.error().empty()) << d.error();
  EXPECT_FALSE(d.truncated());
  EXPECT_EQ(d.affine_clients(), 7);
  EXPECT_EQ(d.disrupted_affine_clients(), disrupted);
  EXPECT_EQ(d.held_requests(), seen.held);
  EXPECT_EQ(d.forwarded_requests(), seen.forwarded);
  EXPECT_EQ(d.failed_requests(), seen.failed);
  EXPECT_EQ(d.closed_connections(), seen.closed);
  EXPECT_EQ(d.stale_reads(), 0);
  EXPECT_EQ(d.disrupted_other_clients(), 0);

  // HAProxy: the clients' stick-table entry names the same slot, now at the new primary.
  const std::string table_after = haproxy_->Ask("show table web");
  EXPECT_EQ(StickServerId(table_after), slot) << table_after;
  const std::string state = HaproxyTarget();
  EXPECT_TRUE(absl::StrContains(
      state, after.primary().endpoint().substr(after.primary().endpoint().rfind(':') + 1)))
      << state;

  // shadowctl shows the record.
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto shown =
      testing::RunToCompletion({SHADOWCTL_BIN, "migrations", "get", m.id(), server, "--insecure"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "affine clients 7")) << shown.output;
}

}  // namespace
}  // namespace shadowplane
