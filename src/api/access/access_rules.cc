#include "api/access/access_rules.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "shadowplane/agent/v1/write_lease.pb.h"
#include "shadowplane/v1/migrations.pb.h"
#include "shadowplane/v1/reservations.pb.h"

namespace shadowplane::api::access {
namespace {

using google::protobuf::Message;

constexpr Role kViewer = Role::kViewer;
constexpr Role kOperator = Role::kOperator;
constexpr Role kAdmin = Role::kAdmin;

std::optional<Role> MigrateNeeds(const Message& m) {
  const auto* r = dynamic_cast<const shadowplane::v1::MigrateRequest*>(&m);
  if (r != nullptr && (r->kind() == "emergency" || r->force())) return kAdmin;
  return std::nullopt;
}

std::optional<Role> ReserveNeeds(const Message& m) {
  const auto* r = dynamic_cast<const shadowplane::v1::ReserveRequest*>(&m);
  if (r != nullptr && r->has_planner()) return kAdmin;
  return std::nullopt;
}

std::optional<Role> UpdateReservationNeeds(const Message& m) {
  const auto* r = dynamic_cast<const shadowplane::v1::UpdateReservationRequest*>(&m);
  if (r != nullptr && (r->has_planner() || r->reset_planner())) return kAdmin;
  return std::nullopt;
}

std::string RenewalLocation(const Message& m) {
  const auto* r = dynamic_cast<const shadowplane::agent::v1::RenewWriteLeasesRequest*>(&m);
  return r == nullptr ? std::string() : r->location();
}

const std::map<std::string, AccessRule, std::less<>>& Rules() {
  static const auto* rules = [] {
    auto* r = new std::map<std::string, AccessRule, std::less<>>;
    auto add = [&](const char* service, std::initializer_list<const char*> methods,
                   AccessRule rule) {
      rule.audited = rule.min_role.has_value() && *rule.min_role != kViewer;
      for (const char* method : methods) (*r)[absl::StrCat("/", service, "/", method)] = rule;
    };
    const AccessRule open{};
    const AccessRule viewer{kViewer, false, nullptr, nullptr, false};
    const AccessRule op{kOperator, false, nullptr, nullptr, false};
    const AccessRule admin{kAdmin, false, nullptr, nullptr, false};
    add("grpc.health.v1.Health", {"Check", "Watch"}, open);
    add("grpc.reflection.v1alpha.ServerReflection", {"ServerReflectionInfo"}, open);
    add("shadowplane.v1.ServerService", {"GetServerInfo"}, viewer);
    add("shadowplane.v1.ReservationService", {"GetReservation", "ListReservations"}, viewer);
    add("shadowplane.v1.ReservationService", {"Release"}, op);
    add("shadowplane.v1.ReservationService", {"Reserve"},
        {kOperator, false, ReserveNeeds, nullptr, false});
    add("shadowplane.v1.ReservationService", {"UpdateReservation"},
        {kOperator, false, UpdateReservationNeeds, nullptr, false});
    add("shadowplane.v1.MigrationService", {"GetMigration", "ListMigrations", "WatchMigration"},
        viewer);
    add("shadowplane.v1.MigrationService", {"CancelMigration"}, op);
    add("shadowplane.v1.MigrationService", {"Migrate"},
        {kOperator, false, MigrateNeeds, nullptr, false});
    add("shadowplane.v1.PlannerService",
        {"Plan", "ListDecisions", "GetDecision", "GetPlannerStatus", "GetCalibration"}, viewer);
    add("shadowplane.v1.PlannerService", {"ApplyDecision"}, op);
    add("shadowplane.v1.PlannerService", {"Pause", "Resume"}, admin);
    add("shadowplane.v1.LocationService",
        {"GetRegion", "ListRegions", "GetLocation", "ListLocations", "GetLocationDrain"}, viewer);
    add("shadowplane.v1.LocationService",
        {"UpsertRegion", "DeleteRegion", "UpsertLocation", "DeleteLocation", "Cordon", "Uncordon",
         "DrainLocation", "UncordonLocation", "ReportPrices", "ReportSpotInterruption"},
        admin);
    add("shadowplane.v1.EventService", {"GetEvent", "ListEvents"}, viewer);
    add("shadowplane.v1.EventService", {"RegisterEvent", "DeleteEvent"}, op);
    add("shadowplane.v1.ForecastService", {"Predict", "Backtest"}, viewer);
    add("shadowplane.v1.SyncService", {"ListSyncRuns"}, viewer);
    add("shadowplane.v1.SyncService", {"SyncNow"}, op);
    add("shadowplane.v1.TelemetryService", {"GetDemand"}, viewer);
    add("shadowplane.v1.TelemetryService", {"RecordAccess", "RecordAccessBatch"},
        {kOperator, true, nullptr, nullptr, false});
    // Only agents renew their instances' write leases (an admin may, to repair).
    add("shadowplane.agent.v1.WriteLeaseService", {"RenewWriteLeases"},
        {kAdmin, true, nullptr, RenewalLocation, false});
    add("shadowplane.v1.AuditService", {"ListAuditEvents"}, admin);
    // Every few seconds from every agent: not changes anyone made.
    for (const char* m : {"/shadowplane.v1.TelemetryService/RecordAccessBatch",
                          "/shadowplane.agent.v1.WriteLeaseService/RenewWriteLeases",
                          "/shadowplane.v1.AuditService/ListAuditEvents"}) {
      (*r)[m].audited = false;
    }
    return r;
  }();
  return *rules;
}

}  // namespace

const AccessRule* RuleFor(absl::string_view method) {
  const auto& rules = Rules();
  const auto it = rules.find(method);
  return it == rules.end() ? nullptr : &it->second;
}

std::vector<std::string> RuledMethods() {
  std::vector<std::string> out;
  for (const auto& [method, rule] : Rules()) out.push_back(method);
  return out;
}

absl::Status Decide(absl::string_view method, const std::optional<Caller>& caller,
                    const google::protobuf::Message* request) {
  const AccessRule* rule = RuleFor(method);
  if (rule == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(method, " has no access rule: refused"));
  }
  if (!rule->min_role.has_value()) return absl::OkStatus();
  if (!caller.has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat(method, " needs a caller: send `authorization: Bearer <token>`"));
  }
  if (caller->role == Role::kAgent) {
    if (!rule->agents) {
      return absl::PermissionDeniedError(
          absl::StrCat(method, " is not for agents (caller ", caller->name, ")"));
    }
    if (request != nullptr && rule->agent_location) {
      // An empty one is the handler's to refuse (INVALID_ARGUMENT).
      if (const std::string asked = rule->agent_location(*request);
          !asked.empty() && asked != caller->location) {
        return absl::PermissionDeniedError(absl::StrCat(caller->name, " speaks for location ",
                                                        caller->location, ", not for '", asked,
                                                        "' (", method, ")"));
      }
    }
    return absl::OkStatus();
  }
  Role needed = *rule->min_role;
  if (request != nullptr && rule->raise) {
    if (const std::optional<Role> raised = rule->raise(*request); raised.has_value()) {
      needed = std::max(needed, *raised);
    }
  }
  if (static_cast<int>(caller->role) < static_cast<int>(needed)) {
    return absl::PermissionDeniedError(absl::StrCat(method, " needs the role ", RoleName(needed),
                                                    "; ", caller->name, " is ",
                                                    RoleName(caller->role)));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::api::access
