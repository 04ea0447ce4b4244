// The access rules: every method the server serves has one (read from the .proto files, so a
// method added without a rule fails here), no rule names a method that does not exist, and the
// decisions by role, including the rules that read the request, by hand.
#include "api/access/access_rules.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "shadowplane/agent/v1/write_lease.pb.h"
#include "shadowplane/v1/migrations.pb.h"
#include "shadowplane/v1/reservations.pb.h"
#include "support/served_methods.h"

namespace shadowplane::api::access {
namespace {

std::set<std::string> ServedMethods() { return testing::ServedMethods(SHADOWPLANE_SOURCE_DIR); }

Caller As(Role role) { return Caller{absl::StrCat("test-", RoleName(role)), role, "team-a", ""}; }

TEST(AccessRulesTest, EveryServedMethodHasARuleAndEveryRuleAMethod) {
  const std::set<std::string> served = ServedMethods();
  ASSERT_GT(served.size(), 40u) << "the .proto files were read";
  std::vector<std::string> missing;
  for (const std::string& m : served) {
    if (RuleFor(m) == nullptr) missing.push_back(m);
  }
  EXPECT_TRUE(missing.empty()) << "methods without an access rule (api/access/access_rules.cc):\n"
                               << absl::StrJoin(missing, "\n");
  for (const std::string& m : RuledMethods()) {
    EXPECT_EQ(served.count(m), 1u) << "a rule for a method that is not served: " << m;
  }
}

TEST(AccessRulesTest, WithoutACallerOnlyHealthAndReflectionAreOpen) {
  for (const std::string& m : ServedMethods()) {
    const absl::Status s = Decide(m, std::nullopt, nullptr);
    if (absl::StartsWith(m, "/grpc.")) {
      EXPECT_TRUE(s.ok()) << m << ": " << s;
    } else {
      EXPECT_TRUE(absl::IsUnauthenticated(s)) << m << ": " << s;
    }
  }
}

TEST(AccessRulesTest, RolesClimbAndAgentsCallOnlyWhatAgentsCall) {
  const std::string get = "/shadowplane.v1.ReservationService/GetReservation";
  const std::string release = "/shadowplane.v1.ReservationService/Release";
  const std::string cordon = "/shadowplane.v1.LocationService/Cordon";
  const std::string leases = "/shadowplane.agent.v1.WriteLeaseService/RenewWriteLeases";
  const std::string batch = "/shadowplane.v1.TelemetryService/RecordAccessBatch";
  EXPECT_TRUE(Decide(get, As(Role::kViewer), nullptr).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(release, As(Role::kViewer), nullptr)));
  EXPECT_TRUE(Decide(release, As(Role::kOperator), nullptr).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(cordon, As(Role::kOperator), nullptr)));
  EXPECT_TRUE(Decide(cordon, As(Role::kAdmin), nullptr).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(leases, As(Role::kOperator), nullptr)));
  Caller agent{"agent:fra-1", Role::kAgent, "", "fra-1"};
  EXPECT_TRUE(Decide(leases, agent, nullptr).ok());
  shadowplane::agent::v1::RenewWriteLeasesRequest own, other;
  own.set_location("fra-1");
  other.set_location("sin-1");
  EXPECT_TRUE(Decide(leases, agent, &own).ok());
  const absl::Status foreign = Decide(leases, agent, &other);
  EXPECT_TRUE(absl::IsPermissionDenied(foreign)) << foreign;
  EXPECT_TRUE(absl::StrContains(foreign.message(), "not for 'sin-1'")) << foreign;
  EXPECT_TRUE(Decide(batch, agent, nullptr).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(get, agent, nullptr)));
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(cordon, agent, nullptr)));
  const absl::Status unknown = Decide("/shadowplane.v1.Nope/Nothing", As(Role::kAdmin), nullptr);
  EXPECT_TRUE(absl::IsPermissionDenied(unknown)) << unknown;
  // The refusal says what is needed and who asked, never more.
  const absl::Status denied = Decide(cordon, As(Role::kOperator), nullptr);
  EXPECT_NE(denied.message().find("needs the role admin"), absl::string_view::npos) << denied;
  EXPECT_NE(denied.message().find("test-operator is operator"), absl::string_view::npos);
}

TEST(AccessRulesTest, EmergencyForcedMovesAndPlannerSettingsNeedAnAdmin) {
  const std::string migrate = "/shadowplane.v1.MigrationService/Migrate";
  shadowplane::v1::MigrateRequest planned;
  planned.set_kind("planned");
  EXPECT_TRUE(Decide(migrate, As(Role::kOperator), &planned).ok());
  shadowplane::v1::MigrateRequest emergency;
  emergency.set_kind("emergency");
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(migrate, As(Role::kOperator), &emergency)));
  EXPECT_TRUE(Decide(migrate, As(Role::kAdmin), &emergency).ok());
  shadowplane::v1::MigrateRequest forced;
  forced.set_force(true);
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(migrate, As(Role::kOperator), &forced)));

  const std::string update = "/shadowplane.v1.ReservationService/UpdateReservation";
  shadowplane::v1::UpdateReservationRequest resize;
  resize.set_millicores(2000);
  EXPECT_TRUE(Decide(update, As(Role::kOperator), &resize).ok());
  shadowplane::v1::UpdateReservationRequest planner;
  planner.mutable_planner()->set_mode("auto");
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(update, As(Role::kOperator), &planner)));
  EXPECT_TRUE(Decide(update, As(Role::kAdmin), &planner).ok());
  shadowplane::v1::UpdateReservationRequest reset;
  reset.set_reset_planner(true);
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(update, As(Role::kOperator), &reset)));

  const std::string reserve = "/shadowplane.v1.ReservationService/Reserve";
  shadowplane::v1::ReserveRequest plain;
  EXPECT_TRUE(Decide(reserve, As(Role::kOperator), &plain).ok());
  shadowplane::v1::ReserveRequest with_planner;
  with_planner.mutable_planner()->set_mode("auto");
  EXPECT_TRUE(absl::IsPermissionDenied(Decide(reserve, As(Role::kOperator), &with_planner)));
  // Before the request is read only the method's rule applies.
  EXPECT_TRUE(Decide(reserve, As(Role::kOperator), nullptr).ok());
}

}  // namespace
}  // namespace shadowplane::api::access
