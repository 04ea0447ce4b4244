// The fault matrix (label e2e): the server driving a migration dies (SIGKILL, from a fault point
// compiled into the shipped binary) at every state commit and in the middle of every side effect,
// is started again, and the migration must end DONE or ROLLED_BACK by itself with exactly one
// read-write primary, HAProxy pointing at it, and every acknowledged client write on it.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/fault_point.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "providers/compute/local/local_compute_provider.h"
#include "providers/traffic/haproxy/runtime_api.h"
#include "support/server_client.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

struct FaultCase {
  const char* point;
  const char* to;                 // target location; empty: an emergency promotion of the shadow
  const char* rollback_via = "";  // "cancel": cancelled (the target's agent down) to roll back
};

// HAProxy's setting on the backend, and a name for test names.
struct ReuseMode {
  const char* option;
  const char* name;
};
constexpr ReuseMode kReuseModes[] = {{"http-reuse never", "reuse_never"}, {"", "reuse_default"}};

std::ostream& operator<<(std::ostream& out, const FaultCase& c) { return out << c.point; }
std::ostream& operator<<(std::ostream& out, const ReuseMode& m) { return out << m.name; }

// A control plane whose servers die and come back; short leases so that another takes over fast.
class MigrationCrashTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    if (std::none_of(extra_flags_.begin(), extra_flags_.end(), [](const std::string& f) {
          return absl::StartsWith(f, "--migration_step_deadline=");
        })) {
      extra_flags_.push_back("--migration_step_deadline=60s");
    }
    extra_flags_.push_back("--cutover_dirty_bytes=65536");
    if (std::none_of(extra_flags_.begin(), extra_flags_.end(), [](const std::string& f) {
          return absl::StartsWith(f, "--migration_lease_ttl=");
        })) {
      extra_flags_.push_back("--migration_lease_ttl=1s");
    }
    haproxy_backend_options_ = haproxy_reuse_;
    MigrationTest::SetUp();
  }

  // HAProxy's connection reuse on the resource's backend. "http-reuse never": each new client
  // connection goes where the slot points at that moment (no idle server connection to the old
  // address is reused), so writes reach a new primary the moment traffic switches: the case that
  // showed a cutover resumed after the switch must not run its final round again. The fault
  // matrix also runs on HAProxy's default ("": safe reuse of idle server connections), as users
  // run it.
  std::string haproxy_reuse_ = "http-reuse never";

  // The instances the agents run for `resource_id`, read from the agents themselves.
  std::vector<providers::InstanceInfo> LiveInstances(const std::string& resource_id) {
    providers::ComputeProviderContext context;
    context.location_endpoint = [this](const std::string& location) -> absl::StatusOr<std::string> {
      return agents_.at(location)->endpoint();
    };
    providers::LocalComputeProvider agents(context);
    std::vector<providers::InstanceInfo> out;
    for (const auto& [location, agent] : agents_) {
      auto listed = agents.ListInstances(location);
      if (!listed.ok()) continue;
      for (const auto& i : *listed) {
        if (i.resource_id == resource_id && i.state == providers::InstanceRunState::kRunning) {
          out.push_back(i);
        }
      }
    }
    return out;
  }

  // Waits for the migration to finish; its final record, with events.
  pb::Migration WaitForEnd(const std::string& id) {
    pb::Migration m;
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (absl::Now() < deadline) {
      if (GetMigration(id, &m).ok() &&
          (m.state() == "DONE" || m.state() == "ROLLED_BACK" || m.state() == "FAILED")) {
        return m;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return m;
  }

  // Writes through HAProxy on a new connection each (HAProxy sends each where the slot points at
  // that moment); a write held by a frozen source is given up after 300 ms, so writing goes on.
  void StartWriter() {
    writer_ = std::thread([this] {
      testing::RunWriter(haproxy_->frontend_port(0), stop_, &log_, /*keep_alive=*/false,
                         absl::Milliseconds(300));
    });
    absl::SleepFor(absl::Milliseconds(300));
  }
  void StopWriter() {
    stop_ = true;
    if (writer_.joinable()) writer_.join();
  }
  void TearDown() override {
    StopWriter();
    MigrationTest::TearDown();
  }

  // SIGKILL for an agent and one of its instances, as a lost machine.
  void LoseInstance(const std::string& location, const std::string& instance_id) {
    testing::AgentUnderTest& agent = *agents_.at(location);
    std::ifstream pid_file(agent.data_root() + "/instances/" + instance_id + "/instance.pid");
    int pid = 0;
    pid_file >> pid;
    agent.Kill();
    if (pid > 0) kill(pid, SIGKILL);
  }

  // The primary lost with its agent; the shadow's last good round before it (nothing syncs from
  // a dead source) becomes last_round_, for the loss-window checks.
  void LosePrimary(const pb::Reservation& r) {
    LoseInstance(r.primary().location(), r.primary().id());
    pb::Reservation lost;
    ASSERT_TRUE(GetReservation(r.id(), &lost).ok());
    ASSERT_TRUE(lost.has_last_synced_at());
    last_round_ = FromProtoTime(lost.last_synced_at());
  }

  // What must hold once a migration ended, whatever died on the way: it ended `state`, exactly one
  // instance serves writes and it is the recorded primary (`primary_id`), HAProxy sends clients
  // there, and it has every acknowledged write and the seed's data.
  void ExpectRecovered(const pb::Reservation& r, const pb::Migration& end, const std::string& state,
                       const std::string& primary_id, const std::string& what) {
    StopWriter();
    EXPECT_EQ(end.state(), state) << end.error() << "\n" << server_->Output();
    std::cout << what << ": " << StatesOf(end) << "; " << log_.requests << " writes, "
              << log_.failures << " unanswered, acknowledged by:";
    for (const auto& [by, n] : log_.answered_by) std::cout << " " << by << " " << n;
    std::cout << "\n";
    if (log_.requests > 0) {
      // "No acknowledged write lost" means something only when writes were acknowledged: on
      // both sides of the fault where there was one.
      int before = 0, after = 0;
      for (int i = 0; i < log_.requests; ++i) {
        if (log_.acknowledged.count(absl::StrCat("/live/k-", i)) == 0) continue;
        (log_.starts[i] < fault_at_ ? before : after)++;
      }
      std::cout << "acknowledged " << before << " writes before the fault, " << after
                << " after it\n";
      if (fault_at_ != absl::InfiniteFuture()) {
        EXPECT_GE(before, 5) << "writes acknowledged before the fault";
        EXPECT_GE(after, 5) << "writes acknowledged after the fault";
      } else {
        EXPECT_GE(before, 10) << "writes acknowledged";
      }
      if (during_from_ != absl::InfiniteFuture()) {
        int during = 0;
        for (int i = 0; i < log_.requests; ++i) {
          if (log_.acknowledged.count(absl::StrCat("/live/k-", i)) == 0) continue;
          const absl::Time answered = log_.starts[i] + log_.latencies[i];
          if (log_.starts[i] >= during_from_ && answered <= during_to_) ++during;
        }
        std::cout << "acknowledged " << during << " writes during the fault\n";
        EXPECT_GE(during, 5) << "writes acknowledged while the fault lasted";
      }
    }
    pb::Reservation now;
    ASSERT_TRUE(GetReservation(r.id(), &now).ok());
    std::vector<std::string> writable;
    for (const auto& i : LiveInstances(r.resource_id())) {
      if (!i.read_only) writable.push_back(i.instance_id);
    }
    EXPECT_EQ(writable, std::vector<std::string>{now.primary().id()})
        << "one read-write primary; the recorded primary is " << now.primary().id();
    EXPECT_EQ(now.primary().id(), primary_id);
    // HAProxy's serving slot, read back field by field: in service, at the primary's address
    // and port.
    auto rows = providers::haproxy::ParseServersState(HaproxyTarget());
    ASSERT_TRUE(rows.ok()) << rows.status() << "\n" << HaproxyTarget();
    int slots = 0;
    for (auto& row : *rows) {
      if (row["srv_name"] != "live") continue;
      ++slots;
      EXPECT_EQ(std::atoi(row["srv_admin_state"].c_str()) & 0x23, 0) << "in maintenance";
      EXPECT_EQ(row["srv_addr"] + ":" + row["srv_port"], now.primary().endpoint())
          << HaproxyTarget();
    }
    EXPECT_EQ(slots, 1) << HaproxyTarget();
    int code = 0;
    int missing = 0, missing_before_round = 0, before_round = 0;
    std::vector<std::string> lost;
    for (int i = 0; i < log_.requests; ++i) {
      const std::string path = absl::StrCat("/live/k-", i);
      auto acked = log_.acknowledged.find(path);
      if (acked == log_.acknowledged.end()) continue;
      const bool before_last_round = log_.starts[i] + log_.latencies[i] < last_round_;
      if (before_last_round) ++before_round;
      if (Fetch(now.primary().endpoint(), path, &code) == acked->second) continue;
      ++missing;
      if (before_last_round) ++missing_before_round;
      if (missing <= 5) lost.push_back(absl::StrCat(path, " (", log_.acknowledged_by[path], ")"));
      // A write lost in an emergency was acknowledged by the lost primary after the shadow's
      // last good round began: inside the recorded loss window.
      if (last_round_ != absl::InfiniteFuture()) {
        EXPECT_GE(log_.starts[i], last_round_ - absl::Milliseconds(50))
            << path << " was lost outside the loss window";
      }
    }
    if (last_round_ == absl::InfiniteFuture()) {
      EXPECT_EQ(missing, 0) << "of " << log_.acknowledged.size()
                            << " acknowledged writes; the first, with who acknowledged them: "
                            << absl::StrJoin(lost, ", ");
    } else {
      // An emergency: every write acknowledged before the shadow's last good round survives.
      std::cout << before_round << " writes acknowledged before the shadow's last round, "
                << missing << " lost after it, loss window recorded "
                << end.progress().loss_window_seconds() << " s\n";
      EXPECT_GE(before_round, 5) << "writes acknowledged before the shadow's last round";
      EXPECT_EQ(missing_before_round, 0) << "acknowledged before the shadow's last round";
      EXPECT_TRUE(end.progress().has_loss_window_seconds());
    }
    // The whole seed, file by file.
    int seed_files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(seed_)) {
      if (!entry.is_regular_file()) continue;
      ++seed_files;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string data((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      const std::string path = "/" + std::filesystem::relative(entry.path(), seed_).string();
      EXPECT_EQ(Fetch(now.primary().endpoint(), path, &code), data) << path;
    }
    EXPECT_GE(seed_files, 6);
    // Exactly one writer, asked of the instances themselves: every other one refuses a write
    // (or passes it on to the primary).
    for (const auto& i : LiveInstances(r.resource_id())) {
      if (i.instance_id == now.primary().id()) continue;
      const size_t colon = i.endpoint.rfind(':');
      httplib::Client client(i.endpoint.substr(0, colon), std::stoi(i.endpoint.substr(colon + 1)));
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(2, 0);
      auto res = client.Put("/one-writer.txt", "x", "text/plain");
      const bool took = res && res->status >= 200 && res->status < 300 &&
                        !res->has_header("X-Shadowplane-Forwarded-To");
      EXPECT_FALSE(took) << i.instance_id << " at " << i.endpoint << " took a write";
    }
    EXPECT_EQ(Put(now.primary().endpoint(), "/after-recovery.txt"), 201);
    if (last_round_ == absl::InfiniteFuture()) {
      // The whole tree, by tree hash: a checksum round makes the shadow identical to the
      // primary (after an emergency the shadow is the lost primary, which cannot be reached).
      pb::SyncNowRequest sync;
      sync.set_reservation_id(r.id());
      sync.set_full(true);
      pb::SyncRun run;
      grpc::Status synced;
      for (int i = 0; i < 100; ++i) {  // a periodic round may hold the reservation: ABORTED
        grpc::ClientContext sync_context;
        synced = sync_->SyncNow(&sync_context, sync, &run);
        if (synced.error_code() != grpc::StatusCode::ABORTED) break;
        absl::SleepFor(absl::Milliseconds(100));
      }
      ASSERT_TRUE(synced.ok()) << synced.error_message();
      EXPECT_EQ(run.source_instance_id(), now.primary().id());
      EXPECT_TRUE(run.has_identical() && run.identical())
          << "tree hashes: primary " << run.source_tree_hash() << ", shadow "
          << run.target_tree_hash();
      EXPECT_FALSE(run.source_tree_hash().empty());
    }
    if (state == "ROLLED_BACK") {
      // The shadow is intact: the same instance, read-only, at shadow capacity.
      EXPECT_EQ(now.shadow().id(), r.shadow().id());
      EXPECT_TRUE(now.shadow().read_only());
      EXPECT_EQ(now.shadow().millicores(), r.shadow().millicores());
      EXPECT_EQ(Put(now.shadow().endpoint(), "/x.txt"), 405);
      for (const auto& i : LiveInstances(r.resource_id())) {
        if (i.instance_id == r.shadow().id()) {
          EXPECT_EQ(i.capacity.millicores, r.shadow().millicores()) << "as the agent runs it";
        }
      }
    }
  }

  std::atomic<bool> stop_{false};
  absl::Time fault_at_ = absl::InfiniteFuture();  // when the server died at the fault point
  // Where writes can succeed while the fault lasts: from when to when.
  absl::Time during_from_ = absl::InfiniteFuture(), during_to_ = absl::InfiniteFuture();
  // An emergency: the start of the shadow's last good round before the primary was lost.
  absl::Time last_round_ = absl::InfiniteFuture();
  testing::WriterLog log_;
  std::thread writer_;
};

class MigrationFaultTest : public MigrationCrashTest,
                           public ::testing::WithParamInterface<std::tuple<FaultCase, ReuseMode>> {
 protected:
  void SetUp() override {
    // The server that will die at the point.
    server_env_ = {absl::StrCat(kFaultPointEnv, "=", std::get<0>(GetParam()).point)};
    haproxy_reuse_ = std::get<1>(GetParam()).option;
    MigrationCrashTest::SetUp();
  }
};

TEST_P(MigrationFaultTest, TheMigrationFinishesByItselfAfterTheServerDiesThere) {
  const FaultCase& c = std::get<0>(GetParam());
  const bool emergency = std::string(c.to).empty();
  const bool cancel = std::string(c.rollback_via) == "cancel";
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-fault"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  StartWriter();
  if (emergency) {
    absl::SleepFor(absl::Seconds(3));  // writes, and a periodic round into the shadow
    LosePrimary(r);
    ASSERT_FALSE(HasFatalFailure());
  }
  if (cancel) agents_.at(c.to)->Kill();  // the target cannot be prepared: it waits to be cancelled

  pb::Migration m;
  const std::string kind = emergency ? "emergency" : "";
  // A point reached right after the request may kill the server before it answers (UNAVAILABLE);
  // the migration is recorded all the same, and asked for again below (idempotent).
  grpc::Status status = emergency ? MigrateLostPrimary("fault-1", r.id(), &m)
                                  : Migrate("fault-1", r.id(), c.to, &m, kind);
  ASSERT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  if (cancel) {
    ASSERT_TRUE(status.ok()) << status.error_message();
    absl::SleepFor(absl::Milliseconds(500));
    grpc::ClientContext context;
    pb::CancelMigrationRequest request;
    request.set_id(m.id());
    pb::Migration cancelled;
    ASSERT_TRUE(migrations_->CancelMigration(&context, request, &cancelled).ok());
  }

  // It dies at the point...
  const std::optional<int> died = server_->WaitForExit(absl::Seconds(60));
  ASSERT_TRUE(died.has_value()) << c.point << " was never reached\n" << server_->Output();
  fault_at_ = absl::Now();
  EXPECT_TRUE(absl::StrContains(server_->Output(), "fault point reached")) << server_->Output();
  // ...and the migration finishes once a server runs again (after the dead one's lease expired).
  server_.reset();
  StartServer({});
  ASSERT_FALSE(HasFatalFailure());
  if (!status.ok()) {
    ASSERT_TRUE(Migrate("fault-1", r.id(), c.to, &m, kind).ok());
  }
  const pb::Migration end = WaitForEnd(m.id());
  ExpectRecovered(r, end, cancel ? "ROLLED_BACK" : "DONE",
                  cancel      ? r.primary().id()
                  : emergency ? r.shadow().id()
                              : end.target_instance_id(),
                  c.point);
}

INSTANTIATE_TEST_SUITE_P(
    EveryPoint, MigrationFaultTest,
    ::testing::Combine(::testing::Values(
                           // A new target at Singapore.
                           FaultCase{"migration.entered.PREPARING_TARGET", "sin-1"},
                           FaultCase{"migration.preparing_target.after_choice", "sin-1"},
                           FaultCase{"migration.preparing_target.after_create", "sin-1"},
                           FaultCase{"migration.entered.PRECOPY", "sin-1"},
                           FaultCase{"migration.precopy.after_round", "sin-1"},
                           FaultCase{"migration.entered.CUTOVER", "sin-1"},
                           FaultCase{"migration.cutover.after_freeze", "sin-1"},
                           FaultCase{"migration.cutover.after_final_round", "sin-1"},
                           FaultCase{"migration.cutover.after_target_writable", "sin-1"},
                           FaultCase{"migration.cutover.after_switch", "sin-1"},
                           FaultCase{"migration.cutover.after_source_forwarding", "sin-1"},
                           FaultCase{"migration.cutover.after_swap", "sin-1"},
                           FaultCase{"migration.entered.RETIRING_SOURCE", "sin-1"},
                           FaultCase{"migration.retiring_source.after_scale", "sin-1"},
                           FaultCase{"migration.entered.OBSERVING", "sin-1"},
                           FaultCase{"migration.entered.DONE", "sin-1"},
                           // The shadow at Frankfurt scaled up to be the target.
                           FaultCase{"migration.preparing_target.after_scale", "fra-1"},
                           // Emergency promotion of the shadow.
                           FaultCase{"migration.entered.PREPARING_TARGET", ""},
                           FaultCase{"migration.entered.PROMOTING", ""},
                           FaultCase{"migration.promoting.after_target_writable", ""},
                           FaultCase{"migration.promoting.after_switch", ""},
                           // Rollback of a cancelled migration.
                           FaultCase{"migration.entered.ROLLING_BACK", "sin-1", "cancel"},
                           FaultCase{"migration.rolling_back.after_source_restored", "sin-1",
                                     "cancel"}),
                       ::testing::ValuesIn(kReuseModes)),
    [](const ::testing::TestParamInfo<std::tuple<FaultCase, ReuseMode>>& info) {
      const FaultCase& c = std::get<0>(info.param);
      std::string name = absl::StrCat(c.point,
                                      c.to[0] == 'f'    ? "_shadow"
                                      : c.to[0] == '\0' ? "_emergency"
                                                        : "",
                                      "_", std::get<1>(info.param).name);
      for (char& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

// An agent dies mid-migration (the source's, or the target's) and returns a few seconds later:
// the steps that need it are retried, and the migration finishes by itself. The instances outlive
// their agent, so the source keeps serving meanwhile.
class MigrationAgentLossTest : public MigrationCrashTest,
                               public ::testing::WithParamInterface<const char*> {};

TEST_P(MigrationAgentLossTest, TheMigrationFinishesOnceTheAgentReturns) {
  const bool source = std::string(GetParam()) == "source";
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-agent"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  StartWriter();
  testing::AgentUnderTest& agent = *agents_.at(source ? r.primary().location() : "sin-1");
  agent.Kill();
  // The source keeps serving while the agent is away (its write lease outlasts the absence).
  fault_at_ = during_from_ = absl::Now();
  pb::Migration m;
  ASSERT_TRUE(Migrate("agent-1", r.id(), "sin-1", &m).ok());
  absl::SleepFor(absl::Seconds(3));
  during_to_ = absl::Now();
  pb::Migration during;
  ASSERT_TRUE(GetMigration(m.id(), &during).ok());
  EXPECT_GT(during.progress().attempts(), 0) << "retried while the agent was away";
  EXPECT_NE(during.state(), "DONE");
  ASSERT_TRUE(agent.Start().ok());
  const pb::Migration end = WaitForEnd(m.id());
  ExpectRecovered(r, end, "DONE", end.target_instance_id(),
                  absl::StrCat(GetParam(), " agent lost for 3 s"));
}

INSTANTIATE_TEST_SUITE_P(SourceAndTarget, MigrationAgentLossTest,
                         ::testing::Values("source", "target"));

// An agent dies in the middle of serving one of the migration's calls (a fault point in the
// agent: the change saved, the caller not answered; or a sync round just started) and is started
// again: the migration finishes by itself, as above.
struct AgentFault {
  const char* agent;  // "source" (Ashburn, the primary's) or "target" (Singapore)
  const char* point;
};

std::ostream& operator<<(std::ostream& out, const AgentFault& f) {
  return out << f.agent << " " << f.point;
}

class MigrationAgentFaultTest : public MigrationCrashTest,
                                public ::testing::WithParamInterface<AgentFault> {
 protected:
  void SetUp() override {
    extra_flags_ = {"--shadow_sync_interval=1h"};  // only the migration's rounds pull
    MigrationCrashTest::SetUp();
  }
};

TEST_P(MigrationAgentFaultTest, TheMigrationFinishesOnceTheAgentReturns) {
  const AgentFault& f = GetParam();
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-agent-fault"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  ASSERT_EQ(r.primary().location(), "iad-1");
  testing::AgentUnderTest& agent =
      *agents_.at(std::string(f.agent) == "source" ? "iad-1" : "sin-1");
  agent.Kill();
  ASSERT_TRUE(agent.Start({absl::StrCat(kFaultPointEnv, "=", f.point)}).ok());
  StartWriter();
  pb::Migration m;
  ASSERT_TRUE(Migrate("agent-fault-1", r.id(), "sin-1", &m).ok());
  ASSERT_TRUE(agent.process().WaitForExit(absl::Seconds(60)).has_value())
      << f.point << " was never reached";
  fault_at_ = absl::Now();
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(agent.Start().ok());
  const pb::Migration end = WaitForEnd(m.id());
  ExpectRecovered(r, end, "DONE", end.target_instance_id(),
                  absl::StrCat(f.agent, " agent died at ", f.point));
}

INSTANTIATE_TEST_SUITE_P(EveryCall, MigrationAgentFaultTest,
                         ::testing::Values(AgentFault{"target", "agent.create.after_launch"},
                                           AgentFault{"source", "agent.pull"},
                                           AgentFault{"target", "agent.sync_from.checksum"},
                                           AgentFault{"source", "agent.freeze.after_save"},
                                           AgentFault{"target", "agent.sync_from.final"},
                                           AgentFault{"target", "agent.writable.after_save"},
                                           AgentFault{"source", "agent.read_only.after_save"},
                                           AgentFault{"source", "agent.write_routing.after_save"},
                                           AgentFault{"source", "agent.scale.after_save"}),
                         [](const ::testing::TestParamInfo<AgentFault>& info) {
                           std::string name = absl::StrCat(info.param.agent, "_", info.param.point);
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// Two servers on one database, one migration: one drives it; killed, the other finishes it once
// the lease has expired.
class MigrationRaceTest : public MigrationCrashTest {};

TEST_F(MigrationRaceTest, OneServerDrivesAndTheOtherTakesOverWhenItDies) {
  // The first to reach CUTOVER dies there; the other resumes CUTOVER without entering it again.
  server_.reset();
  const std::string fault = absl::StrCat(kFaultPointEnv, "=migration.entered.CUTOVER");
  StartServer({fault});
  ASSERT_FALSE(HasFatalFailure());
  const int other_port = testing::FreePort();
  auto other = testing::ChildProcess::Start(ServerArgv(other_port, testing::FreePort()), {fault});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->WaitForOutput("shadowplane started", absl::Seconds(60)));

  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-race"), &r).ok());
  StartWriter();
  pb::Migration m;
  ASSERT_TRUE(Migrate("race-1", r.id(), "sin-1", &m).ok());
  // Until one dies, one owner only.
  std::set<std::string> owners;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (server_->running() && (*other)->running() && absl::Now() < deadline) {
    pb::Migration now;
    if (GetMigration(m.id(), &now).ok() && !now.lease_owner().empty()) {
      owners.insert(now.lease_owner());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(owners.size(), 1u) << absl::StrJoin(owners, ", ");
  fault_at_ = absl::Now();
  const bool first_died = !server_->running();
  ASSERT_TRUE(first_died || !(*other)->running()) << "neither server reached CUTOVER";
  std::unique_ptr<testing::ChildProcess> survivor = first_died ? std::move(*other) : nullptr;
  if (first_died) Connect(other_port);  // talk to the survivor from now on
  const pb::Migration end = WaitForEnd(m.id());
  EXPECT_TRUE(end.lease_owner().empty() || owners.count(end.lease_owner()) == 0)
      << "finished by the other server";
  // Mutual exclusion throughout, from the history: every step names the server that drove it,
  // the first driver's steps all come before the second's (never interleaved), and there are
  // two drivers: the one that died at CUTOVER and the survivor.
  std::vector<std::string> drivers;
  for (const auto& e : end.events()) {
    if (e.driver().empty()) continue;  // the request itself
    if (drivers.empty() || drivers.back() != e.driver()) drivers.push_back(e.driver());
  }
  EXPECT_EQ(drivers.size(), 2u) << "blocks of steps by driver: " << absl::StrJoin(drivers, ", ");
  if (!drivers.empty()) {
    EXPECT_EQ(drivers.front(), *owners.begin()) << "the first driver is the one seen driving";
  }
  ExpectRecovered(r, end, "DONE", end.target_instance_id(), "racing servers");
}

// A failover that fails, and dies at its commit into FAILED: the shadow's agent dies as it takes
// the grant, so the promotion cannot finish within its step deadline (nor be rolled back: traffic
// may be moving). The next server finds the primary still lost and, once the shadow's agent is
// back, fails over again, in the epoch the failed attempt moved on to; nothing acknowledged
// before the shadow's last round is lost, and there is one writer throughout.
class MigrationFailedTest : public MigrationCrashTest {
 protected:
  void SetUp() override {
    extra_flags_ = {"--write_lease=3s", "--primary_loss_timeout=6s",
                    "--failover_check_interval=500ms", "--migration_step_deadline=5s"};
    server_env_ = {absl::StrCat(kFaultPointEnv, "=migration.entered.FAILED")};
    MigrationCrashTest::SetUp();
  }
};

TEST_F(MigrationFailedTest, AFailoverThatFailedIsFollowedByOneThatPromotes) {
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-failed"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  testing::AgentUnderTest& shadow_agent = *agents_.at(r.shadow().location());
  shadow_agent.Kill();  // its instance keeps serving; the agent comes back with a fault point
  ASSERT_TRUE(
      shadow_agent.Start({absl::StrCat(kFaultPointEnv, "=agent.writable.after_save")}).ok());
  StartWriter();
  absl::SleepFor(absl::Seconds(3));  // writes, and a periodic round into the shadow
  LosePrimary(r);
  ASSERT_FALSE(HasFatalFailure());

  // The detector's failover fails, and its server dies at the commit.
  ASSERT_TRUE(server_->WaitForExit(absl::Seconds(90)).has_value()) << "the failover never failed\n"
                                                                   << server_->Output();
  fault_at_ = absl::Now();
  EXPECT_TRUE(absl::StrContains(server_->Output(), "fault point reached")) << server_->Output();
  EXPECT_TRUE(shadow_agent.process().WaitForExit(absl::Seconds(5)).has_value())
      << "the shadow's agent died at its point";
  server_.reset();
  StartServer({});
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(shadow_agent.Start().ok());

  pb::Migration failed, done;
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (absl::Now() < deadline && done.state() != "DONE") {
    grpc::ClientContext context;
    pb::ListMigrationsRequest request;
    request.set_resource_id(r.resource_id());
    pb::ListMigrationsResponse response;
    if (migrations_->ListMigrations(&context, request, &response).ok()) {
      for (const auto& m : response.migrations()) {
        if (m.state() == "FAILED") failed = m;
        if (m.state() == "DONE") done = m;
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(failed.request_id(), absl::StrCat("failover-", r.primary().id(), "-1"));
  EXPECT_FALSE(failed.error().empty());
  ASSERT_EQ(done.state(), "DONE") << server_->Output();
  EXPECT_EQ(done.kind(), "emergency");
  EXPECT_EQ(done.request_id(), absl::StrCat("failover-", r.primary().id(), "-2"))
      << "a new attempt, in the epoch the failed one moved on to";
  absl::SleepFor(absl::Seconds(2));  // writes on the promoted shadow
  pb::Migration end;
  ASSERT_TRUE(GetMigration(done.id(), &end).ok());
  ExpectRecovered(r, end, "DONE", r.shadow().id(), "a failover failed, then another promoted");
}

// Cancellation from every state that can still roll back: the migration is caught in the state
// (its server dies just after entering it; a long lease keeps the next server from resuming at
// once), cancelled, and the next server rolls it back: the source serves, the shadow is intact.
class MigrationCancelTest : public MigrationCrashTest,
                            public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    extra_flags_ = {"--migration_lease_ttl=6s"};
    server_env_ = {absl::StrCat(kFaultPointEnv, "=", GetParam())};
    MigrationCrashTest::SetUp();
  }
};

TEST_P(MigrationCancelTest, ACancelledMigrationRollsBackToTheSourceWithTheShadowIntact) {
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-cancel"), &r).ok());
  StartWriter();
  pb::Migration m;
  // Into the shadow, scaled up. The server may die before it answers (see the fault matrix).
  grpc::Status asked = Migrate("cancel-1", r.id(), "fra-1", &m);
  ASSERT_TRUE(asked.ok() || asked.error_code() == grpc::StatusCode::UNAVAILABLE)
      << asked.error_message();
  ASSERT_TRUE(server_->WaitForExit(absl::Seconds(60)).has_value())
      << GetParam() << " was never reached";
  server_.reset();
  StartServer({});
  ASSERT_FALSE(HasFatalFailure());
  if (!asked.ok()) {
    ASSERT_TRUE(Migrate("cancel-1", r.id(), "fra-1", &m).ok());
  }
  grpc::ClientContext context;
  pb::CancelMigrationRequest request;
  request.set_id(m.id());
  pb::Migration cancelled;
  grpc::Status status = migrations_->CancelMigration(&context, request, &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(cancelled.cancel_requested());
  const pb::Migration end = WaitForEnd(m.id());
  ExpectRecovered(r, end, "ROLLED_BACK", r.primary().id(),
                  absl::StrCat("cancelled at ", GetParam()));
}

// A rollback that starts after the freeze (the source frozen when its server died) and dies
// itself: the server that was driving the cutover dies just after freezing the source; the
// migration is cancelled; the next server rolls it back and dies at the point; a third finishes
// the rollback. The source serves again, unfrozen, with every acknowledged write.
class MigrationRollbackCrashTest : public MigrationCrashTest,
                                   public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    extra_flags_ = {"--migration_lease_ttl=6s"};
    server_env_ = {absl::StrCat(kFaultPointEnv, "=migration.cutover.after_freeze")};
    MigrationCrashTest::SetUp();
  }
};

TEST_P(MigrationRollbackCrashTest, ARollbackAfterTheFreezeFinishesAfterItsServerDies) {
  testing::WriteData(seed_, 4);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-rollback-crash"), &r).ok());
  StartWriter();
  absl::SleepFor(absl::Seconds(1));
  pb::Migration m;
  ASSERT_TRUE(Migrate("rollback-crash-1", r.id(), "fra-1", &m).ok());
  ASSERT_TRUE(server_->WaitForExit(absl::Seconds(60)).has_value())
      << "the cutover never froze the source\n"
      << server_->Output();
  fault_at_ = absl::Now();
  pb::Migration frozen;
  server_.reset();
  StartServer({absl::StrCat(kFaultPointEnv, "=", GetParam())});
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(GetMigration(m.id(), &frozen).ok());
  EXPECT_EQ(frozen.state(), "CUTOVER");
  grpc::ClientContext context;
  pb::CancelMigrationRequest request;
  request.set_id(m.id());
  pb::Migration cancelled;
  grpc::Status status = migrations_->CancelMigration(&context, request, &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The rollback's server dies at the point...
  ASSERT_TRUE(server_->WaitForExit(absl::Seconds(60)).has_value())
      << GetParam() << " was never reached\n"
      << server_->Output();
  EXPECT_TRUE(absl::StrContains(server_->Output(), "fault point reached"));
  // ...and the next one finishes it.
  server_.reset();
  StartServer({});
  ASSERT_FALSE(HasFatalFailure());
  const pb::Migration end = WaitForEnd(m.id());
  bool rolled_back_from_cutover = false;
  for (const auto& e : end.events()) {
    rolled_back_from_cutover |= e.from_state() == "CUTOVER" && e.to_state() == "ROLLING_BACK";
  }
  EXPECT_TRUE(rolled_back_from_cutover) << StatesOf(end);
  ExpectRecovered(r, end, "ROLLED_BACK", r.primary().id(),
                  absl::StrCat("rollback after the freeze, died at ", GetParam()));
}

INSTANTIATE_TEST_SUITE_P(EveryRollbackPoint, MigrationRollbackCrashTest,
                         ::testing::Values("migration.entered.ROLLING_BACK",
                                           "migration.rolling_back.after_source_restored",
                                           "migration.entered.ROLLED_BACK"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(EveryCancellableState, MigrationCancelTest,
                         ::testing::Values("migration.driver.claimed",
                                           "migration.entered.PREPARING_TARGET",
                                           "migration.preparing_target.after_scale",
                                           "migration.entered.PRECOPY", "migration.entered.CUTOVER",
                                           "migration.cutover.after_freeze",
                                           "migration.cutover.after_target_writable"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace shadowplane
