// Ownership (api/access/ownership.h) decided for each kind of caller: operators change only their
// team's reservations and reserve only for it, admins everything, and without authentication
// there is no one to refuse.
#include "api/access/ownership.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace shadowplane::api::access {
namespace {

GateCaller Operator(const std::string& team) { return {"op", team, "", false}; }

TEST(OwnershipTest, AnOperatorChangesOnlyItsOwnTeamsReservations) {
  EXPECT_TRUE(MayChange(Operator("web"), "web", "reservation r").ok());
  const absl::Status other = MayChange(Operator("web"), "batch", "reservation r");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(other.message(), "team 'batch'")) << other;
  EXPECT_TRUE(absl::StrContains(other.message(), "team 'web'")) << other;
  EXPECT_TRUE(absl::StrContains(other.message(), "reservation r")) << other;
  // A reservation of no team, and an operator of none: no match.
  EXPECT_EQ(MayChange(Operator("web"), "", "r").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MayChange(Operator(""), "", "r").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MayChange(Operator(""), "web", "r").code(), absl::StatusCode::kPermissionDenied);
}

TEST(OwnershipTest, AdminsAndUnauthenticatedServersChangeEverything) {
  EXPECT_TRUE(MayChange({"root", "", "", true}, "batch", "r").ok());
  EXPECT_TRUE(MayChange({"root", "web", "", true}, "", "r").ok());
  EXPECT_TRUE(MayChange(GateCaller(), "batch", "r").ok()) << "authentication off";
}

TEST(OwnershipTest, ANewReservationBelongsToTheCallersTeamOrOneAnAdminNames) {
  EXPECT_EQ(TeamOfNewReservation(Operator("web"), "").value(), "web");
  EXPECT_EQ(TeamOfNewReservation(Operator("web"), "web").value(), "web");
  EXPECT_EQ(TeamOfNewReservation(Operator("web"), "batch").status().code(),
            absl::StatusCode::kPermissionDenied);
  const absl::Status teamless = TeamOfNewReservation(Operator(""), "").status();
  EXPECT_EQ(teamless.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(teamless.message(), "no team")) << teamless;
  EXPECT_EQ(TeamOfNewReservation({"root", "ops", "", true}, "").value(), "ops");
  EXPECT_EQ(TeamOfNewReservation({"root", "ops", "", true}, "batch").value(), "batch");
  EXPECT_EQ(TeamOfNewReservation({"root", "", "", true}, "").value(), "");
  EXPECT_EQ(TeamOfNewReservation(GateCaller(), "batch").value(), "batch");
  const absl::Status bad = TeamOfNewReservation({"root", "", "", true}, "Big Team").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.message(), "team")) << bad;
}

}  // namespace
}  // namespace shadowplane::api::access
