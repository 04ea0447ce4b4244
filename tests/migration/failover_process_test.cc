// Failover with real agents, instances, PostgreSQL and HAProxy (label e2e): a lost location's
// primary is promoted by itself once its write lease went unrenewed for --primary_loss_timeout,
// losing only writes inside the recorded loss window; the location is declared lost, the new
// primary gets a new shadow elsewhere, and the returned old primary never takes a write before it
// is reaped, the location usable again only after --location_recovery; a primary partitioned from
// the control plane stops taking writes within its lease, before its shadow is promoted, so the
// periods in which each instance applied writes never overlap.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.grpc.pb.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

constexpr absl::Duration kLease = absl::Seconds(3);
constexpr absl::Duration kLossTimeout = absl::Seconds(6);
constexpr absl::Duration kLocationRecovery = absl::Seconds(3);

// Writes to one instance's own address (no HAProxy) until stopped: what a client that cached
// the old primary's address does. Records when each acknowledged write was applied, by whom.
struct DirectWriter {
  struct Ack {
    absl::Time answered;
    absl::Time applied;  // X-Shadowplane-Applied-At
    std::string instance;
  };
  std::vector<Ack> acks;
  int refused = 0, unanswered = 0;

  void Run(const std::string& endpoint, const std::atomic<bool>& stop) {
    const size_t colon = endpoint.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port)) return;
    httplib::Client client(endpoint.substr(0, colon), port);
    client.set_connection_timeout(0, 300000);
    client.set_read_timeout(1, 0);
    for (int i = 0; !stop.load(); ++i) {
      auto r = client.Put(absl::StrCat("/direct/d-", i), "direct", "text/plain");
      if (!r) {
        ++unanswered;
      } else if (r->status >= 200 && r->status < 300) {
        int64_t micros = 0;
        (void)absl::SimpleAtoi(r->get_header_value("X-Shadowplane-Applied-At"), &micros);
        acks.push_back({absl::Now(), absl::FromUnixMicros(micros),
                        r->get_header_value("X-Shadowplane-Instance")});
      } else {
        ++refused;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
};

class FailoverProcessTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    extra_flags_ = {absl::StrCat("--write_lease=", absl::FormatDuration(kLease)),
                    absl::StrCat("--primary_loss_timeout=", absl::FormatDuration(kLossTimeout)),
                    absl::StrCat("--location_recovery=", absl::FormatDuration(kLocationRecovery)),
                    "--failover_check_interval=500ms"};
    MigrationTest::SetUp();
  }

  int InstancePid(const std::string& location, const std::string& instance_id) {
    std::ifstream in(agents_.at(location)->data_root() + "/instances/" + instance_id +
                     "/instance.pid");
    int pid = 0;
    in >> pid;
    return pid;
  }

  // Waits until the reservation's primary is `instance_id`; when it became so.
  absl::Time AwaitPrimary(const std::string& reservation_id, const std::string& instance_id,
                          absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pb::Reservation now;
      if (GetReservation(reservation_id, &now).ok() && now.primary().id() == instance_id) {
        return absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::InfiniteFuture();
  }

  // Waits until the location's health is `health`; when it was seen so.
  absl::Time AwaitHealth(const std::string& location, const std::string& health,
                         absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      pb::GetLocationRequest request;
      request.set_name(location);
      pb::Location l;
      if (locations_->GetLocation(&context, request, &l).ok() && l.health() == health) {
        return absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::InfiniteFuture();
  }

  // Waits until the reservation's shadow is another instance than `old_shadow`, running; when.
  absl::Time AwaitNewShadow(const std::string& reservation_id, const std::string& old_shadow,
                            pb::Reservation* out) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (GetReservation(reservation_id, out).ok() && out->shadow().id() != old_shadow &&
          out->shadow().state() == "running" && !out->shadow().endpoint().empty()) {
        return absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::InfiniteFuture();
  }

  // Whether the agent at `location` reports the instance stopped (or gone) within `timeout`.
  bool AwaitStopped(const std::string& location, const std::string& instance_id,
                    absl::Duration timeout) {
    auto stub = shadowplane::agent::v1::AgentService::NewStub(
        grpc::CreateChannel(agents_.at(location)->endpoint(), grpc::InsecureChannelCredentials()));
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      shadowplane::agent::v1::DescribeInstanceRequest request;
      request.set_instance_id(instance_id);
      shadowplane::agent::v1::Instance instance;
      grpc::Status s = stub->DescribeInstance(&context, request, &instance);
      if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
          (s.ok() && (instance.state() == shadowplane::agent::v1::Instance::STOPPED ||
                      instance.state() == shadowplane::agent::v1::Instance::DELETED))) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // The reservation's one emergency migration, once it ended.
  pb::Migration FailoverOf(const pb::Reservation& r) {
    pb::Migration out;
    for (int i = 0; i < 300; ++i) {
      grpc::ClientContext context;
      pb::ListMigrationsRequest request;
      request.set_resource_id(r.resource_id());
      pb::ListMigrationsResponse response;
      if (migrations_->ListMigrations(&context, request, &response).ok() &&
          response.migrations_size() == 1) {
        out = response.migrations(0);
        if (out.state() == "DONE" || out.state() == "ROLLED_BACK" || out.state() == "FAILED") {
          return out;
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return out;
  }
};

TEST_F(FailoverProcessTest, ALostLocationsPrimaryIsPromotedByItselfAndNeverTakesAWriteAgain) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-lost-location"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  const std::string lost_location = r.primary().location();
  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer([&] {
    testing::RunWriter(haproxy_->frontend_port(0), stop, &log, /*keep_alive=*/false,
                       absl::Milliseconds(300));
  });
  DirectWriter stale;
  std::atomic<bool> stop_stale{false};
  std::thread stale_writer([&] { stale.Run(r.primary().endpoint(), stop_stale); });
  absl::SleepFor(absl::Seconds(5));  // writes, and at least one periodic round into the shadow

  // The whole location dies: its agent and the primary's process.
  const int pid = InstancePid(lost_location, r.primary().id());
  ASSERT_GT(pid, 0);
  agents_.at(lost_location)->Kill();
  kill(pid, SIGKILL);
  const absl::Time lost_at = absl::Now();
  pb::Reservation after_loss;
  ASSERT_TRUE(GetReservation(r.id(), &after_loss).ok());
  ASSERT_TRUE(after_loss.has_last_synced_at());
  // Nothing syncs from a dead source: this is the shadow's last good round.
  const absl::Time last_round = FromProtoTime(after_loss.last_synced_at());

  const absl::Time promoted_at = AwaitPrimary(r.id(), r.shadow().id(), absl::Seconds(60));
  ASSERT_NE(promoted_at, absl::InfiniteFuture()) << "never promoted\n" << server_->Output();
  std::cout << "promoted by itself " << (promoted_at - lost_at) << " after the location died\n";
  EXPECT_LT(promoted_at - lost_at, kLossTimeout + absl::Seconds(10))
      << "within --primary_loss_timeout plus the switch";
  const pb::Migration m = FailoverOf(r);
  EXPECT_EQ(m.kind(), "emergency");
  EXPECT_EQ(m.request_id(), absl::StrCat("failover-", r.primary().id(), "-1"));
  EXPECT_EQ(m.state(), "DONE") << m.error();
  ASSERT_TRUE(m.progress().has_loss_window_seconds());
  absl::SleepFor(absl::Seconds(2));  // writes through HAProxy reach the new primary
  stop = true;
  writer.join();

  // Every write acknowledged before the last good round is on the new primary; the missing ones
  // were all acknowledged inside the recorded loss window.
  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  int before_round = 0, missing = 0, missing_before_round = 0, after_promotion = 0;
  absl::Time first_missing = absl::InfiniteFuture();
  for (int i = 0; i < log.requests; ++i) {
    const std::string path = absl::StrCat("/live/k-", i);
    auto acked = log.acknowledged.find(path);
    if (acked == log.acknowledged.end()) continue;
    const absl::Time started = log.starts[i];
    const absl::Time answered = started + log.latencies[i];
    if (answered < last_round) ++before_round;
    if (started > promoted_at) ++after_promotion;
    int code = 0;
    if (Fetch(now.primary().endpoint(), path, &code) == acked->second) continue;
    ++missing;
    first_missing = std::min(first_missing, started);
    if (answered < last_round) ++missing_before_round;
  }
  const absl::Duration window = absl::Seconds(m.progress().loss_window_seconds());
  std::cout << log.acknowledged.size() << " writes acknowledged through HAProxy (" << before_round
            << " before the last round, " << after_promotion << " after the promotion); " << missing
            << " lost, loss window recorded " << window
            << " (from the last round to the promotion)\n";
  EXPECT_GE(before_round, 20) << "a floor of acknowledged writes before the loss";
  EXPECT_GE(after_promotion, 5) << "and after the promotion";
  EXPECT_EQ(missing_before_round, 0) << "acknowledged before the shadow's last good round";
  if (missing > 0) {
    EXPECT_GE(first_missing, last_round - absl::Milliseconds(50)) << "lost outside the window";
    EXPECT_LE(lost_at - last_round, window) << "the window covers the loss";
  }
  EXPECT_LE(lost_at - last_round, absl::Seconds(2) + absl::Seconds(5))
      << "the shadow's sync interval plus one round";

  // The location is declared lost, and the promoted primary gets a new shadow at the location
  // left: neither the lost one nor its own.
  const absl::Time location_lost = AwaitHealth(lost_location, "lost", absl::Seconds(30));
  ASSERT_NE(location_lost, absl::InfiniteFuture()) << "the location was never declared lost";
  std::cout << "location declared lost " << (location_lost - lost_at) << " after it died\n";
  pb::Reservation rebuilt;
  const absl::Time rebuilt_at = AwaitNewShadow(r.id(), r.primary().id(), &rebuilt);
  ASSERT_NE(rebuilt_at, absl::InfiniteFuture()) << "no new shadow\n" << server_->Output();
  EXPECT_NE(rebuilt.shadow().location(), lost_location);
  EXPECT_NE(rebuilt.shadow().location(), rebuilt.primary().location());
  EXPECT_EQ(rebuilt.primary().id(), r.shadow().id());
  std::cout << "new shadow at " << rebuilt.shadow().location() << " running "
            << (rebuilt_at - lost_at) << " after the loss\n";
  // It catches up with the new primary: a write acknowledged now is on it after a round.
  ASSERT_EQ(Put(rebuilt.primary().endpoint(), "/after-rebuild.txt", "rebuilt"), 201);
  bool caught_up = false;
  for (int i = 0; i < 100 && !caught_up; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    int code = 0;
    caught_up = Fetch(rebuilt.shadow().endpoint(), "/after-rebuild.txt", &code) == "rebuilt";
  }
  EXPECT_TRUE(caught_up) << "the new shadow is synced from the new primary";

  // The location comes back: it is recovering, the old primary is reaped, and a client still on
  // the old primary's address never gets a write acknowledged from the moment of the loss until
  // the instance is gone, nor after.
  ASSERT_TRUE(agents_.at(lost_location)->Start().ok());
  const absl::Time back_at = absl::Now();
  EXPECT_NE(AwaitHealth(lost_location, "recovering", absl::Seconds(30)), absl::InfiniteFuture());
  EXPECT_TRUE(AwaitStopped(lost_location, r.primary().id(), absl::Seconds(30)))
      << "the returned old primary is reaped\n"
      << server_->Output();
  absl::SleepFor(absl::Seconds(1));
  stop_stale = true;
  stale_writer.join();
  int early = 0, late = 0;
  for (const auto& a : stale.acks) (a.answered > lost_at ? late : early)++;
  EXPECT_GE(early, 20) << "the stale client wrote to the old primary before the loss";
  std::cout << "old primary after the loss: " << late << " writes acknowledged, " << stale.refused
            << " refused, " << stale.unanswered << " unanswered\n";
  EXPECT_EQ(late, 0) << "the old primary acknowledged a write after it was lost";
  EXPECT_GT(stale.unanswered, 0) << "it was gone";
  // Usable again only after --location_recovery without a break.
  const absl::Time healthy_at = AwaitHealth(lost_location, "healthy", absl::Seconds(30));
  ASSERT_NE(healthy_at, absl::InfiniteFuture());
  std::cout << "location usable again " << (healthy_at - back_at) << " after it returned\n";
  EXPECT_GE(healthy_at - back_at, kLocationRecovery);
}

// The shadow's whole location dies: nothing fails over (the primary is fine and keeps taking
// writes), the location is declared lost, and a new shadow is built and synced at the third
// location.
TEST_F(FailoverProcessTest, AShadowLostWithItsLocationIsRebuiltElsewhereWithoutAFailover) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-lost-shadow"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer([&] { testing::RunWriter(haproxy_->frontend_port(0), stop, &log); });
  const std::string lost_location = r.shadow().location();
  const int pid = InstancePid(lost_location, r.shadow().id());
  ASSERT_GT(pid, 0);
  agents_.at(lost_location)->Kill();
  kill(pid, SIGKILL);
  const absl::Time lost_at = absl::Now();
  const absl::Time declared = AwaitHealth(lost_location, "lost", absl::Seconds(30));
  EXPECT_NE(declared, absl::InfiniteFuture());
  pb::Reservation rebuilt;
  const absl::Time rebuilt_at = AwaitNewShadow(r.id(), r.shadow().id(), &rebuilt);
  stop = true;
  writer.join();
  ASSERT_NE(rebuilt_at, absl::InfiniteFuture()) << server_->Output();
  std::cout << "shadow location declared lost " << (declared - lost_at) << ", new shadow at "
            << rebuilt.shadow().location() << " running " << (rebuilt_at - lost_at)
            << " after the loss\n";
  EXPECT_EQ(rebuilt.primary().id(), r.primary().id()) << "no failover";
  EXPECT_NE(rebuilt.shadow().location(), lost_location);
  EXPECT_NE(rebuilt.shadow().location(), r.primary().location());
  EXPECT_EQ(log.failures, 0) << (log.failure_details.empty() ? "" : log.failure_details[0]);
  EXPECT_GE(log.acknowledged.size(), 20u);
  // A round brings it up to date with the primary.
  bool caught_up = false;
  for (int i = 0; i < 100 && !caught_up; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    int code = 0;
    const auto& [path, body] = *log.acknowledged.rbegin();
    caught_up = Fetch(rebuilt.shadow().endpoint(), path, &code) == body;
  }
  EXPECT_TRUE(caught_up) << "the new shadow is synced from the primary";
  grpc::ClientContext context;
  pb::ListMigrationsRequest request;
  request.set_resource_id(r.resource_id());
  pb::ListMigrationsResponse migrations;
  ASSERT_TRUE(migrations_->ListMigrations(&context, request, &migrations).ok());
  EXPECT_EQ(migrations.migrations_size(), 0);
}

TEST_F(FailoverProcessTest, APartitionedPrimaryStopsTakingWritesBeforeItsShadowIsPromoted) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-partition"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  std::atomic<bool> stop{false};
  DirectWriter old_writer, new_writer;
  std::thread to_old([&] { old_writer.Run(r.primary().endpoint(), stop); });
  absl::SleepFor(absl::Seconds(2));

  // The agent freezes (SIGSTOP): its instance keeps running but its lease is no longer renewed.
  testing::AgentUnderTest& agent = *agents_.at(r.primary().location());
  agent.process().Signal(SIGSTOP);
  const absl::Time partitioned_at = absl::Now();
  std::thread to_new([&] { new_writer.Run(r.shadow().endpoint(), stop); });
  const absl::Time promoted_at = AwaitPrimary(r.id(), r.shadow().id(), absl::Seconds(60));
  ASSERT_NE(promoted_at, absl::InfiniteFuture()) << "never promoted\n" << server_->Output();
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  to_old.join();
  to_new.join();
  agent.process().Signal(SIGCONT);

  absl::Time old_last = absl::InfinitePast(), new_first = absl::InfiniteFuture();
  int old_acks = 0, new_acks = 0;
  for (const auto& a : old_writer.acks) {
    if (a.instance != r.primary().id()) continue;
    ++old_acks;
    old_last = std::max(old_last, a.applied);
  }
  for (const auto& a : new_writer.acks) {
    if (a.instance != r.shadow().id()) continue;
    ++new_acks;
    new_first = std::min(new_first, a.applied);
  }
  std::cout << "partition: old primary applied " << old_acks << " writes, the last "
            << (old_last - partitioned_at) << " after the partition; the new one " << new_acks
            << ", the first " << (new_first - old_last) << " after that; promoted "
            << (promoted_at - partitioned_at) << " after the partition\n";
  EXPECT_GE(old_acks, 20) << "a floor of writes before the partition";
  EXPECT_GE(new_acks, 5) << "and on the promoted shadow";
  EXPECT_LE(old_last - partitioned_at, kLease) << "it stopped taking writes within its lease";
  EXPECT_LT(old_last, new_first) << "two instances applied writes at the same time";
  EXPECT_GT(old_writer.refused, 0) << "the old primary refused writes (503) once its lease ran out";
}

}  // namespace
}  // namespace shadowplane
