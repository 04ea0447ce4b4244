// Migrations end to end (label e2e): PostgreSQL, the server, three agents with live instance
// processes and a real HAProxy in front of the resource, with clients writing throughout.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"
#include "support/traffic_servers.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
namespace pb = shadowplane::v1;

// The suite's own settings: short deadlines, one migration at a time, pre-copy until nothing
// changed (or six rounds).
class MigrationProcessTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    extra_flags_ = {"--migration_step_deadline=4s", "--max_migrations=1", "--cutover_dirty_bytes=0",
                    "--max_precopy_rounds=6"};
    MigrationTest::SetUp();
  }
};

using testing::DataMiB;
using testing::RunWriter;
using testing::WriteData;
using testing::WriterLog;

TEST_F(MigrationProcessTest, APlannedMoveUnderWritesLosesNoWriteAndEndsWithTheOldPrimaryAsShadow) {
  const int mib = DataMiB();
  WriteData(seed_, mib);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-move"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_EQ(r.primary().location(), "iad-1");
  ASSERT_EQ(r.shadow().location(), "fra-1");
  ASSERT_TRUE(absl::StrContains(
      HaproxyTarget(), r.primary().endpoint().substr(0, r.primary().endpoint().rfind(':'))));

  // A new connection per write through HAProxy on its default connection reuse, as a user's
  // client would: the writes that reach the source during the cutover's freeze wait, and the
  // longest wait is what clients see of the freeze.
  std::atomic<bool> stop{false};
  WriterLog log;
  std::thread writer(
      [&] { RunWriter(haproxy_->frontend_port(0), stop, &log, /*keep_alive=*/false); });
  absl::Cleanup join = [&] {
    stop = true;
    if (writer.joinable()) writer.join();
  };
  absl::SleepFor(absl::Milliseconds(500));

  pb::Migration m;
  // To Singapore, where nothing of the resource runs yet: a new target, filled by pre-copy.
  grpc::Status status = Migrate("move-1", r.id(), "sin-1", &m);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(m.reservation_id(), r.id());
  EXPECT_EQ(m.source_instance_id(), r.primary().id());
  pb::Migration again;
  ASSERT_TRUE(Migrate("move-1", r.id(), "sin-1", &again).ok());
  EXPECT_EQ(again.id(), m.id()) << "idempotent by request id";

  pb::Migration last;
  Watch(m.id(), &last);
  stop = true;
  writer.join();
  ASSERT_EQ(last.state(), "DONE") << last.error() << "\n" << server_->Output();
  ASSERT_TRUE(GetMigration(m.id(), &last).ok());
  EXPECT_EQ(StatesOf(last),
            "PLANNED,PREPARING_TARGET,PRECOPY,CUTOVER,RETIRING_SOURCE,OBSERVING,DONE");
  const pb::MigrationProgress& p = last.progress();
  ASSERT_TRUE(p.has_freeze_seconds());
  std::vector<std::string> rounds;
  for (const auto& round : last.rounds()) {
    rounds.push_back(absl::StrCat(round.kind(), " ", round.bytes_literal(), " B new, ",
                                  round.dirty_bytes(), " B changed meanwhile, ",
                                  round.duration_seconds(), " s"));
  }
  std::cout << "migration of " << mib << " MiB under " << log.requests << " writes ("
            << log.failures << " failed): write freeze " << p.freeze_seconds() << " s, final round "
            << p.final_bytes() << " B in " << p.final_files() << " files; rounds:\n  "
            << absl::StrJoin(rounds, "\n  ") << "\n";
  // One line for bench/run_cutover_bench.sh: the server's freeze next to what clients saw, both of
  // the writes in progress during the freeze and of the others (with the state the slowest of
  // those started in: its time is not the freeze's).
  auto time_of = [](const google::protobuf::Timestamp& t) {
    return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  };
  const absl::Time freeze_from = time_of(p.freeze_started_at());
  const absl::Time freeze_to = freeze_from + absl::Seconds(p.freeze_seconds());
  int in_freeze = 0, outside = 0;
  const absl::Duration freeze_max = log.MaxAround(freeze_from, freeze_to, true, &in_freeze);
  const absl::Duration other_max = log.MaxAround(freeze_from, freeze_to, false, &outside);
  std::string other_max_state = "before_migration";
  for (size_t i = 0; i < log.latencies.size(); ++i) {
    if (log.latencies[i] != other_max || outside == 0) continue;
    for (const auto& e : last.events()) {
      if (time_of(e.at()) <= log.starts[i]) other_max_state = e.to_state();
    }
  }
  std::cout << absl::StrFormat(
      "cutover: data_mib=%d writes=%d failed=%d server_freeze_ms=%.1f client_max_ms=%.1f "
      "client_p99_ms=%.1f client_p50_ms=%.1f freeze_writes=%d freeze_writes_max_ms=%.1f "
      "other_writes_max_ms=%.1f other_max_in=%s\n",
      mib, log.requests, log.failures, p.freeze_seconds() * 1000,
      absl::ToDoubleMilliseconds(log.Max()), absl::ToDoubleMilliseconds(log.Quantile(0.99)),
      absl::ToDoubleMilliseconds(log.Quantile(0.5)), in_freeze,
      absl::ToDoubleMilliseconds(freeze_max), absl::ToDoubleMilliseconds(other_max),
      other_max_state);
  for (absl::string_view line : absl::StrSplit(server_->Output(), '\n')) {
    if (absl::StrContains(line, "migration cut over")) std::cout << "server: " << line << "\n";
  }
  ASSERT_GE(last.rounds_size(), 2);
  EXPECT_EQ(last.rounds(0).kind(), "precopy");
  EXPECT_EQ(last.rounds(last.rounds_size() - 1).kind(), "final");
  EXPECT_GE(last.rounds(0).bytes_literal(), int64_t{mib} << 19) << "the first round moves the data";
  for (int i = 1; i < last.rounds_size(); ++i) {
    EXPECT_LT(last.rounds(i).bytes_literal(), last.rounds(0).bytes_literal() / 4)
        << "later rounds move only what changed";
  }
  EXPECT_LT(p.freeze_seconds(), 10);
  EXPECT_EQ(log.failures, 0) << absl::StrJoin(log.failure_details, "\n");
  EXPECT_GT(log.requests, 100);
  EXPECT_GT(in_freeze, 0) << "no write met the freeze: the comparison says nothing";
  // The two views agree: no client waited much beyond the freeze the server measured (a write
  // never waits for another client's idle connection).
  EXPECT_LT(log.Max(), absl::Seconds(p.freeze_seconds()) + absl::Seconds(1))
      << "p99 " << log.Quantile(0.99);

  // The roles swapped: the new instance is the primary, the old primary its read-only shadow
  // (Ashburn is far from Singapore); Frankfurt's shadow is retired.
  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_EQ(now.primary().location(), "sin-1");
  EXPECT_NE(now.primary().id(), r.shadow().id()) << "a new instance";
  EXPECT_EQ(now.primary().millicores(), 1000);
  EXPECT_EQ(now.shadow().id(), r.primary().id());
  EXPECT_EQ(now.shadow().millicores(), 250) << "scaled down to shadow capacity";
  EXPECT_TRUE(now.shadow().read_only());
  EXPECT_EQ(Put(now.shadow().endpoint(), "/after.txt"), 405) << "read-only, forwarding over";
  // Traffic points at the new primary, as HAProxy itself reports.
  const std::string new_ip =
      now.primary().endpoint().substr(0, now.primary().endpoint().rfind(':'));
  EXPECT_TRUE(absl::StrContains(HaproxyTarget(), " " + new_ip + " ")) << HaproxyTarget();

  // No acknowledged write is lost, and the new primary has the data byte for byte.
  int code = 0;
  for (const auto& [path, body] : log.acknowledged) {
    EXPECT_EQ(Fetch(now.primary().endpoint(), path, &code), body) << path;
  }
  for (int f = 0; f < mib; f += std::max(1, mib / 8)) {
    const std::string path = absl::StrCat("/blobs/b-", f, ".bin");
    std::ifstream in(seed_ + path, std::ios::binary);
    const std::string want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Fetch(now.primary().endpoint(), path, &code), want) << path;
  }
  Fetch(r.shadow().endpoint(), "/index.html", &code);
  EXPECT_EQ(code, -1) << "the retired instance no longer serves";
  EXPECT_FALSE(p.observation_note().empty()) << "the observation ran";
}

TEST_F(MigrationProcessTest, AMoveToTheShadowsLocationScalesTheShadowUpAndThePrimaryDown) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-near"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  ASSERT_EQ(Put(r.primary().endpoint(), "/before.txt", "written before"), 201);
  // Through the CLI, as a platform engineer would: it follows the migration to its end.
  const testing::RunResult cli = testing::RunToCompletion(
      {SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_), "--insecure", "migrate", r.id(),
       "--target=fra-1", "--request_id=move-near", "--reason=closer to Europe", "--watch"});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  for (const char* step :
       {"PLANNED -> PREPARING_TARGET", "PRECOPY -> CUTOVER", "CUTOVER -> RETIRING_SOURCE",
        "OBSERVING -> DONE", "pre-copy round 1", "write freeze"}) {
    EXPECT_TRUE(absl::StrContains(cli.output, step)) << step << "\n" << cli.output;
  }
  grpc::ClientContext list_context;
  pb::ListMigrationsRequest list;
  list.set_resource_id(r.resource_id());
  pb::ListMigrationsResponse listed;
  ASSERT_TRUE(migrations_->ListMigrations(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.migrations_size(), 1);
  pb::Migration last;
  ASSERT_TRUE(GetMigration(listed.migrations(0).id(), &last).ok());
  ASSERT_EQ(last.state(), "DONE") << last.error() << "\n" << server_->Output();
  EXPECT_EQ(last.reason(), "closer to Europe");
  const testing::RunResult shown =
      testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                "--insecure", "migrations", "get", last.id()});
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "RETIRING_SOURCE")) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "final")) << shown.output;
  const testing::RunResult why =
      testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                "--insecure", "migrations", "why", last.id()});
  EXPECT_EQ(why.exit_code, 0) << why.output;
  for (const char* line : {"is DONE", "driven by: nobody now", "OBSERVING", "scale_shadow"}) {
    EXPECT_TRUE(absl::StrContains(why.output, line)) << line << "\n" << why.output;
  }
  EXPECT_EQ(testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                      "--insecure", "migrations", "why", "no-such-migration"})
                .exit_code,
            1);
  EXPECT_EQ(last.target_instance_id(), r.shadow().id());
  std::string details;
  for (const auto& e : last.events()) absl::StrAppend(&details, e.detail_json(), "\n");
  EXPECT_TRUE(absl::StrContains(details, "scale_shadow")) << details;
  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_EQ(now.primary().id(), r.shadow().id());
  EXPECT_EQ(now.primary().location(), "fra-1");
  EXPECT_EQ(now.primary().millicores(), 1000) << "scaled up to the primary's capacity";
  EXPECT_FALSE(now.primary().read_only());
  EXPECT_EQ(now.shadow().id(), r.primary().id());
  EXPECT_EQ(now.shadow().millicores(), 250) << "scaled down to shadow capacity";
  EXPECT_TRUE(now.shadow().read_only());
  int code = 0;
  EXPECT_EQ(Fetch(now.primary().endpoint(), "/before.txt", &code), "written before");
  EXPECT_EQ(Put(now.primary().endpoint(), "/after.txt"), 201);
  EXPECT_EQ(Put(now.shadow().endpoint(), "/after.txt"), 405);

  // Grafana's view.
  int status = 0;
  const std::string metrics = Fetch(absl::StrCat("127.0.0.1:", metrics_port_), "/metrics", &status);
  for (const char* name :
       {"shadowplane_migrations{state=\"DONE\"} 1", "shadowplane_migration_transitions_total",
        "shadowplane_migration_step_seconds_bucket",
        "shadowplane_migration_write_freeze_seconds_count 1",
        "shadowplane_migration_precopy_rounds_total", "shadowplane_migration_precopy_bytes_total",
        "shadowplane_traffic_switches_total"}) {
    EXPECT_TRUE(absl::StrContains(metrics, name)) << name;
  }
}

TEST_F(MigrationProcessTest, ATrafficServerDownIsRetriedThenRolledBackWithTheSourceServing) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-lb-down"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  haproxy_.reset();  // the load balancer's runtime API is gone
  pb::Migration m;
  ASSERT_TRUE(Migrate("move-lb-down", r.id(), "fra-1", &m).ok());
  pb::Migration last;
  Watch(m.id(), &last);
  ASSERT_EQ(last.state(), "ROLLED_BACK") << server_->Output();
  ASSERT_TRUE(GetMigration(m.id(), &last).ok());
  EXPECT_TRUE(absl::StrContains(last.error(), "HAProxy")) << last.error();
  EXPECT_TRUE(absl::StrContains(StatesOf(last), "ROLLING_BACK,ROLLED_BACK")) << StatesOf(last);
  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_EQ(now.primary().id(), r.primary().id());
  EXPECT_EQ(Put(now.primary().endpoint(), "/still-serving.txt"), 201) << "the source serves writes";
  EXPECT_EQ(now.shadow().id(), r.shadow().id());
  EXPECT_EQ(now.shadow().millicores(), 250) << "scaled back";
  EXPECT_TRUE(now.shadow().read_only());
  EXPECT_EQ(Put(now.shadow().endpoint(), "/x.txt"), 405);
}

TEST_F(MigrationProcessTest, AMigrationBeyondTheConcurrencyLimitWaitsItsTurn) {
  pb::Reservation first, second;
  ASSERT_TRUE(Reserve(Request("req-first"), &first).ok());
  pb::ReserveRequest other = Request("req-second");
  other.set_name("big");
  ASSERT_TRUE(Reserve(other, &second).ok());
  pb::Migration a, b;
  ASSERT_TRUE(Migrate("limit-a", first.id(), "fra-1", &a).ok());
  ASSERT_TRUE(Migrate("limit-b", second.id(), "fra-1", &b).ok());
  pb::Migration done_a, done_b;
  Watch(a.id(), &done_a);
  Watch(b.id(), &done_b);
  ASSERT_TRUE(GetMigration(a.id(), &done_a).ok());
  ASSERT_TRUE(GetMigration(b.id(), &done_b).ok());
  ASSERT_EQ(done_a.state(), "DONE") << done_a.error();
  ASSERT_EQ(done_b.state(), "DONE") << done_b.error();
  // --max_migrations=1: the second started preparing only once the first stopped working.
  auto entered = [](const pb::Migration& m, const std::string& state) {
    for (const auto& e : m.events()) {
      if (e.to_state() == state)
        return google::protobuf::util::TimeUtil::TimestampToNanoseconds(e.at());
    }
    return int64_t{0};
  };
  // Either may take the slot first (each claimed migration runs on a thread of its own): the
  // other started preparing only once the first stopped working.
  const bool a_first = entered(done_a, "PREPARING_TARGET") <= entered(done_b, "PREPARING_TARGET");
  const pb::Migration& first_done = a_first ? done_a : done_b;
  const pb::Migration& second_done = a_first ? done_b : done_a;
  EXPECT_GE(entered(second_done, "PREPARING_TARGET"), entered(first_done, "OBSERVING"))
      << "the second waited in PLANNED";
}

TEST_F(MigrationProcessTest, BadRequestsGetTheRightStatusAndChangeNothing) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-bad"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  pb::Migration m;
  auto code = [&](const grpc::Status& s) { return s.error_code(); };
  EXPECT_EQ(code(Migrate("", r.id(), "fra-1", &m)), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(Migrate("b1", "", "fra-1", &m)), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(Migrate("b2", "00000000-0000-4000-8000-000000000000", "fra-1", &m)),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code(Migrate("b3", r.id(), "nowhere-9", &m)), grpc::StatusCode::NOT_FOUND);
  grpc::Status same = Migrate("b4", r.id(), "iad-1", &m);
  EXPECT_EQ(code(same), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(same.error_message(), "target_location")) << same.error_message();
  grpc::Status type = Migrate("b5", r.id(), "fra-1", &m, "", "cheap");
  EXPECT_EQ(code(type), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(type.error_message(), "capacity_type")) << type.error_message();
  EXPECT_EQ(code(Migrate("b6", r.id(), "fra-1", &m, "sideways")),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(Migrate("b7", r.id(), "fra-1", &m, "", "spot")),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "no location offers spot here";
  EXPECT_EQ(code(Migrate("b8", r.id(), "sin-1", &m, "emergency")),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "an emergency promotion goes to the shadow";
  // libpq would have stored "b10" and answered a later "b10" with this migration.
  grpc::Status nul = Migrate(std::string("b10\0x", 5), r.id(), "fra-1", &m);
  EXPECT_EQ(code(nul), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(nul.error_message(), "request_id contains a NUL character, which cannot be stored");

  // Out of capacity: a large resource fills Singapore.
  pb::ReserveRequest big = Request("req-big");
  big.set_name("big");
  big.set_millicores(3500);
  big.mutable_placement()->add_locations("sin-1");
  big.mutable_placement()->add_locations("iad-1");  // Ashburn has no room left for it
  pb::Reservation filler;
  grpc::Status reserved = Reserve(big, &filler);
  ASSERT_TRUE(reserved.ok()) << reserved.error_message();
  ASSERT_EQ(filler.primary().location(), "sin-1");
  grpc::Status full = Migrate("b9", r.id(), "sin-1", &m);
  EXPECT_EQ(code(full), grpc::StatusCode::FAILED_PRECONDITION) << full.error_message();
  EXPECT_TRUE(absl::StrContains(full.error_message(), "capacity")) << full.error_message();

  // Nothing was recorded by any of them.
  grpc::ClientContext list_context;
  pb::ListMigrationsRequest list;
  pb::ListMigrationsResponse listed;
  ASSERT_TRUE(migrations_->ListMigrations(&list_context, list, &listed).ok());
  EXPECT_EQ(listed.migrations_size(), 0);
  grpc::ClientContext bad_state;
  list.set_state("SIDEWAYS");
  EXPECT_EQ(migrations_->ListMigrations(&bad_state, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetMigration("00000000-0000-4000-8000-000000000000", &m).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetMigration("not-a-uuid", &m).error_code(), grpc::StatusCode::NOT_FOUND);

  // One migration per resource; a cancel rolls it back while the source still serves.
  pb::Migration first;
  ASSERT_TRUE(Migrate("one", r.id(), "fra-1", &first).ok());
  grpc::Status second = Migrate("two", r.id(), "sin-1", &m);
  EXPECT_EQ(code(second), grpc::StatusCode::FAILED_PRECONDITION) << second.error_message();
  grpc::ClientContext cancel_context;
  pb::CancelMigrationRequest cancel;
  cancel.set_id(first.id());
  pb::Migration cancelled;
  grpc::Status c = migrations_->CancelMigration(&cancel_context, cancel, &cancelled);
  if (c.ok()) {
    pb::Migration last;
    Watch(first.id(), &last);
    // Cancelled before the switch: rolled back; a cutover that won the race ends DONE.
    EXPECT_TRUE(last.state() == "ROLLED_BACK" || last.state() == "DONE") << last.state();
    if (last.state() == "ROLLED_BACK") {
      pb::Reservation now;
      ASSERT_TRUE(GetReservation(r.id(), &now).ok());
      EXPECT_EQ(now.primary().id(), r.primary().id());
      EXPECT_EQ(Put(now.primary().endpoint(), "/still-writable.txt"), 201);
      EXPECT_EQ(now.shadow().millicores(), 250) << "the shadow scaled back down";
    }
  } else {
    EXPECT_EQ(c.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << c.error_message();
  }
  grpc::ClientContext again_context;
  EXPECT_EQ(migrations_->CancelMigration(&again_context, cancel, &cancelled).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "finished";
}

TEST_F(MigrationProcessTest, AnEmergencyPromotionMovesTrafficAndFencesTheOldPrimaryWhenItReturns) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-lost"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  // The shadow catches up, then the primary takes a write it will never pass on.
  pb::SyncNowRequest sync;
  sync.set_reservation_id(r.id());
  pb::SyncRun run;
  grpc::Status synced;
  // A periodic round may hold the reservation for a moment: ABORTED says so; try again.
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext sync_context;
    synced = sync_->SyncNow(&sync_context, sync, &run);
    if (synced.error_code() != grpc::StatusCode::ABORTED) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(synced.ok()) << synced.error_message();
  ASSERT_EQ(Put(r.primary().endpoint(), "/lost.txt", "never synced"), 201);
  absl::SleepFor(absl::Milliseconds(500));

  // The primary's agent and instance die.
  testing::AgentUnderTest& iad = *agents_.at("iad-1");
  std::ifstream pid_file(iad.data_root() + "/instances/" + r.primary().id() + "/instance.pid");
  int pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  iad.Kill();
  kill(pid, SIGKILL);

  pb::Migration m;
  absl::Duration waited;
  grpc::Status status = MigrateLostPrimary("promote-1", r.id(), &m, &waited);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::cout << "emergency accepted " << waited << " after the loss (the write lease ran out)\n";
  EXPECT_GT(waited, absl::Seconds(2)) << "refused while the lost primary's lease could hold";
  EXPECT_EQ(m.target_location(), "fra-1");
  pb::Migration last;
  Watch(m.id(), &last);
  ASSERT_EQ(last.state(), "DONE") << last.error() << "\n" << server_->Output();
  ASSERT_TRUE(GetMigration(m.id(), &last).ok());
  EXPECT_EQ(StatesOf(last), "PLANNED,PREPARING_TARGET,PROMOTING,OBSERVING,DONE");
  ASSERT_TRUE(last.progress().has_loss_window_seconds());
  std::cout << "emergency promotion: loss window " << last.progress().loss_window_seconds()
            << " s\n";
  EXPECT_GT(last.progress().loss_window_seconds(), 0.4);

  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_EQ(now.primary().id(), r.shadow().id());
  EXPECT_EQ(Put(now.primary().endpoint(), "/after.txt", "new primary"), 201);
  const std::string new_ip =
      now.primary().endpoint().substr(0, now.primary().endpoint().rfind(':'));
  EXPECT_TRUE(absl::StrContains(HaproxyTarget(), " " + new_ip + " ")) << HaproxyTarget();

  // The old primary comes back (its agent restarts it as it was, read-write, with a lease that
  // ran out): it refuses writes until its agent learns that the epoch moved on and fences it,
  // then it is re-synced as the shadow. A client that still uses its address never gets a write
  // acknowledged.
  ASSERT_TRUE(iad.Start().ok());
  int put = 0, code = 0, acknowledged = 0, refused = 0;
  std::string after;
  for (int i = 0; i < 150; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    put = Put(r.primary().endpoint(), "/split-brain.txt", "must not land");
    if (put >= 200 && put < 300) ++acknowledged;
    if (put == 503 || put == 405) ++refused;
    if (put == 405) {
      after = Fetch(r.primary().endpoint(), "/after.txt", &code);
      if (after == "new primary") break;
    }
  }
  EXPECT_EQ(put, 405) << "fenced: never a second writer";
  EXPECT_EQ(acknowledged, 0) << "the old primary acknowledged writes after the promotion";
  EXPECT_GT(refused, 0);
  EXPECT_EQ(after, "new primary") << "re-synced from the new primary as its shadow";
  EXPECT_EQ(now.shadow().id(), r.primary().id());
}

}  // namespace
}  // namespace shadowplane
