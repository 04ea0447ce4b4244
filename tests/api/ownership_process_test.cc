// Ownership and team quotas on a running fleet (label e2e; mutual TLS, callers by token): a
// reservation belongs to its maker's team; another team's operator can neither release, update,
// sync, migrate it nor cancel its migration (PERMISSION_DENIED, nothing changed), but reads it;
// an admin changes it. A team's quota refuses a reservation or a growth beyond it with
// RESOURCE_EXHAUSTED naming the quota, and a release gives the room back.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "support/control_plane_test.h"
#include "support/local_ca.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

constexpr char kWebToken[] = "web-operator-token";
constexpr char kBatchToken[] = "batch-operator-token";
constexpr char kLonerToken[] = "teamless-operator-token";

class OwnershipProcessTest : public testing::ControlPlaneTest {
 protected:
  void SetUp() override {
    tls_ = true;
    tokens_yaml_tail_ = absl::StrCat(
        "  - {name: web-op, role: operator, team: web, sha256: ", testing::TokenSha256(kWebToken),
        "}\n", "  - {name: batch-op, role: operator, team: batch, sha256: ",
        testing::TokenSha256(kBatchToken), "}\n",
        "  - {name: loner, role: operator, sha256: ", testing::TokenSha256(kLonerToken), "}\n",
        "teams:\n  - {name: web, max_millicores: 2000, max_memory_mib: 8192}\n");
    ControlPlaneTest::SetUp();
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::Status ReserveAs(const std::string& token, const pb::ReserveRequest& request,
                         pb::Reservation* out) {
    return reservations_->Reserve(As(token).get(), request, out);
  }
  grpc::Status ReleaseAs(const std::string& token, const std::string& id) {
    pb::ReleaseRequest request;
    request.set_id(id);
    pb::Reservation out;
    return reservations_->Release(As(token).get(), request, &out);
  }
  grpc::Status GrowAs(const std::string& token, const std::string& id, int64_t millicores) {
    pb::UpdateReservationRequest request;
    request.set_id(id);
    request.set_millicores(millicores);
    pb::Reservation out;
    return reservations_->UpdateReservation(As(token).get(), request, &out);
  }
};

TEST_F(OwnershipProcessTest, OperatorsChangeOnlyTheirTeamsReservationsWithinItsQuota) {
  pb::Reservation w1;
  grpc::Status made = ReserveAs(kWebToken, Request("w1"), &w1);
  ASSERT_TRUE(made.ok()) << made.error_message();
  EXPECT_EQ(w1.owner_team(), "web");
  ASSERT_EQ(w1.state(), "active");

  // Another team's operator: refused, naming both teams; it reads it all the same.
  grpc::Status released = ReleaseAs(kBatchToken, w1.id());
  EXPECT_EQ(released.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(released.error_message(), "team 'web'"))
      << released.error_message();
  EXPECT_TRUE(absl::StrContains(released.error_message(), "team 'batch'"))
      << released.error_message();
  EXPECT_EQ(GrowAs(kBatchToken, w1.id(), 1500).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  pb::SyncNowRequest sync;
  sync.set_reservation_id(w1.id());
  pb::SyncRun run;
  EXPECT_EQ(sync_->SyncNow(As(kBatchToken).get(), sync, &run).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  std::string elsewhere;
  for (const testing::Site& s : testing::kSites) {
    if (s.location != w1.primary().location() && s.location != w1.shadow().location()) {
      elsewhere = s.location;
    }
  }
  auto migrations = pb::MigrationService::NewStub(channel_);
  pb::MigrateRequest migrate;
  migrate.set_request_id("move-w1");
  migrate.set_reservation_id(w1.id());
  migrate.set_target_location(elsewhere);
  migrate.set_reason("ownership test");
  pb::Migration moved;
  EXPECT_EQ(migrations->Migrate(As(kBatchToken).get(), migrate, &moved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::Reservation seen;
  pb::GetReservationRequest get;
  get.set_id(w1.id());
  ASSERT_TRUE(reservations_->GetReservation(As(kBatchToken).get(), get, &seen).ok());
  EXPECT_EQ(seen.state(), "active");
  EXPECT_EQ(seen.millicores(), 1000);

  // Its own team's operator moves it; the other team cannot cancel that move.
  grpc::Status started = migrations->Migrate(As(kWebToken).get(), migrate, &moved);
  ASSERT_TRUE(started.ok()) << started.error_message();
  pb::CancelMigrationRequest cancel;
  cancel.set_id(moved.id());
  pb::Migration cancelled;
  EXPECT_EQ(migrations->CancelMigration(As(kBatchToken).get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The move itself runs its course over mutual TLS: syncs agent to agent, the switch, the old
  // primary forwarding (signed with the resource's secret) and retiring.
  pb::GetMigrationRequest watch;
  watch.set_id(moved.id());
  pb::Migration now;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60); absl::Now() < deadline;) {
    ASSERT_TRUE(migrations->GetMigration(As(kWebToken).get(), watch, &now).ok());
    // OBSERVING: moved, the prediction being checked (DONE once it is).
    if (now.state() == "OBSERVING" || now.state() == "DONE" || now.state() == "FAILED" ||
        now.state() == "ROLLED_BACK") {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(now.state() == "OBSERVING" || now.state() == "DONE")
      << now.state() << ": " << now.error();

  // Reserving for another team, or as an operator of none, is refused; an admin may.
  pb::ReserveRequest for_web = Request("b1");
  for_web.set_team("web");
  pb::Reservation refused;
  EXPECT_EQ(ReserveAs(kBatchToken, for_web, &refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status loner = ReserveAs(kLonerToken, Request("l1"), &refused);
  EXPECT_EQ(loner.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(loner.error_message(), "no team")) << loner.error_message();

  // The quota: 2000 millicores for web. w1 holds 1000; w2 takes the rest; w3 is refused, as is
  // growing w1, and nothing of either is left behind.
  pb::Reservation w2;
  ASSERT_TRUE(ReserveAs(kWebToken, Request("w2"), &w2).ok());
  pb::Reservation w3;
  grpc::Status over = ReserveAs(kWebToken, Request("w3"), &w3);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(over.error_message(), "team 'web' quota of 2000 millicores"))
      << over.error_message();
  grpc::Status grow = GrowAs(kWebToken, w2.id(), 1500);
  EXPECT_EQ(grow.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << grow.error_message();
  ASSERT_TRUE(reservations_->GetReservation(As(kWebToken).get(), get, &seen).ok());
  get.set_id(w2.id());
  ASSERT_TRUE(reservations_->GetReservation(As(kWebToken).get(), get, &seen).ok());
  EXPECT_EQ(seen.millicores(), 1000);
  EXPECT_EQ(seen.primary().millicores(), 1000);
  pb::ListReservationsRequest list;
  list.set_team("web");
  pb::ListReservationsResponse listed;
  ASSERT_TRUE(reservations_->ListReservations(As(kWebToken).get(), list, &listed).ok());
  EXPECT_EQ(listed.reservations_size(), 2) << "w3 left nothing behind";

  // A release gives the room back. An admin changes any team's reservation.
  ASSERT_TRUE(ReleaseAs(kWebToken, w2.id()).ok());
  grpc::Status again = ReserveAs(kWebToken, Request("w3"), &w3);
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_EQ(w3.owner_team(), "web");
  grpc::Status by_admin = ReleaseAs(caller_token_, w3.id());
  EXPECT_TRUE(by_admin.ok()) << by_admin.error_message();
}

}  // namespace
}  // namespace shadowplane
