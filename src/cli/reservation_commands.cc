// shadowctl's commands for reservations.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

class ReservationCommands : public CommandContext {
 public:
  explicit ReservationCommands(const CommandContext& context) : CommandContext(context) {}

  void PrintReservation(const pb::Reservation& r) {
    if (options_.json) return Json(r);
    out_ << "reservation  " << r.id() << "  (" << r.state() << ")\n"
         << "resource     " << r.resource_id() << "  " << r.name() << "\n"
         << "team         " << (r.owner_team().empty() ? "-" : r.owner_team()) << "\n"
         << "capacity     " << r.millicores() << " millicores, " << r.memory_mib() << " MiB, "
         << (r.capacity_type() == pb::SPOT ? "spot" : "on-demand") << "\n"
         << "shadow       " << r.shadow_capacity_fraction() << " of the capacity, synced every "
         << r.shadow_sync_interval_seconds() << " s\n";
    if (r.has_last_synced_at()) {
      out_ << "last sync    " << google::protobuf::util::TimeUtil::ToString(r.last_synced_at())
           << "  (" << absl::StrFormat("%.0f", r.shadow_staleness_seconds()) << " s stale)\n";
    } else if (r.state() == "active") {
      out_ << "last sync    never\n";
    }
    if (!r.last_sync_error().empty()) out_ << "sync error   " << r.last_sync_error() << "\n";
    if (r.has_planner()) {
      // Only what the reservation sets; the rest is the server's default.
      const pb::PlannerOverrides& p = r.planner();
      std::vector<std::string> set;
      if (p.has_mode()) set.push_back("mode " + p.mode());
      if (p.has_migration_threshold()) {
        set.push_back(absl::StrCat("threshold ", p.migration_threshold()));
      }
      if (p.has_pinned_location() && !p.pinned_location().empty()) {
        set.push_back("pinned to " + p.pinned_location());
      }
      if (p.blackouts_size() > 0) set.push_back(absl::StrCat(p.blackouts_size(), " blackout(s)"));
      if (!set.empty()) out_ << "planner      " << absl::StrJoin(set, ", ") << "\n";
    }
    Table table({"role", "location", "region", "endpoint", "millicores", "mib", "mode", "state"});
    for (const pb::Instance* i : {&r.primary(), &r.shadow()}) {
      if (i->id().empty()) continue;
      table.AddRow({i->role(), i->location(), i->region(), i->endpoint(),
                    absl::StrCat(i->millicores()), absl::StrCat(i->memory_mib()),
                    i->read_only() ? "read-only" : "read-write", i->state()});
    }
    out_ << "\n" << table.Render();
    if (!r.explanation().empty()) out_ << "\nwhy: " << r.explanation() << "\n";
    if (!r.traffic_provider().empty()) {
      out_ << "traffic: " << r.service_name() << " (" << r.traffic_provider() << ") -> primary\n";
    }
    if (r.has_telemetry_purge_requested_at()) {
      out_ << "telemetry: purge asked for at "
           << google::protobuf::util::TimeUtil::ToString(r.telemetry_purge_requested_at())
           << (r.has_telemetry_purged_at()
                   ? ", purged at " +
                         google::protobuf::util::TimeUtil::ToString(r.telemetry_purged_at())
                   : std::string(", not purged yet"))
           << "\n";
    }
    if (!r.error().empty()) out_ << "error: " << r.error() << "\n";
  }

  int Reserve() {
    pb::ReserveRequest request;
    if (options_.request_id.empty()) {
      err_ << "shadowctl: reserve needs --request_id (retrying with the same id is safe)\n";
      return kExitUsage;
    }
    request.set_request_id(options_.request_id);
    request.set_name(options_.name);
    request.set_millicores(options_.millicores);
    request.set_memory_mib(options_.memory_mib);
    request.set_capacity_type(options_.spot ? pb::SPOT : pb::ON_DEMAND);
    request.set_seed_dir(options_.seed_dir);
    request.set_service_name(options_.service_name);
    request.set_team(options_.team);
    PlannerFlags(request.mutable_planner());
    if (options_.shadow_fraction >= 0)
      request.set_shadow_capacity_fraction(options_.shadow_fraction);
    if (options_.sync_interval >= 0)
      request.set_shadow_sync_interval_seconds(options_.sync_interval);
    for (const auto& l : options_.locations) request.mutable_placement()->add_locations(l);
    for (const auto& r : options_.regions) request.mutable_placement()->add_regions(r);
    for (const auto& c : options_.clients) {
      std::vector<std::string> parts = absl::StrSplit(c, ':');
      double weight = 1;
      if (parts.empty() || parts.size() > 2 ||
          (parts.size() == 2 && !absl::SimpleAtod(parts[1], &weight))) {
        err_ << "shadowctl: --clients takes region:weight pairs, got '" << c << "'\n";
        return kExitUsage;
      }
      auto* client = request.mutable_placement()->add_client_regions();
      client->set_region(parts[0]);
      client->set_weight(weight);
    }
    pb::Reservation r;
    grpc::Status status = reservations_->Reserve(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int ListReservations() {
    pb::ListReservationsRequest request;
    request.set_state(options_.state);
    request.set_location(options_.location);
    request.set_team(options_.team);
    pb::ListReservationsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return reservations_->ListReservations(
                                                 Context().get(), page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"id", "name", "team", "state", "millicores", "primary", "shadow"});
    for (const auto& r : all.reservations()) {
      table.AddRow({r.id(), r.name(), r.owner_team().empty() ? "-" : r.owner_team(), r.state(),
                    absl::StrCat(r.millicores()), r.primary().location(), r.shadow().location()});
    }
    out_ << table.Render();
    return kExitOk;
  }

  int GetReservation(const std::string& id) {
    pb::GetReservationRequest request;
    request.set_id(id);
    pb::Reservation r;
    grpc::Status status = reservations_->GetReservation(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int Release(const std::string& id) {
    pb::ReleaseRequest request;
    request.set_id(id);
    request.set_purge_telemetry(options_.purge_telemetry);
    pb::Reservation r;
    grpc::Status status = reservations_->Release(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  // --planner_mode, --threshold and --pin into the reservation's planner overrides.
  void PlannerFlags(pb::PlannerOverrides* out) {
    if (!options_.planner_mode.empty()) out->set_mode(options_.planner_mode);
    if (options_.threshold >= 0) out->set_migration_threshold(options_.threshold);
    if (options_.pin.has_value()) out->set_pinned_location(*options_.pin);
  }

  int Update(const std::string& id) {
    pb::UpdateReservationRequest request;
    request.set_id(id);
    if (options_.millicores > 0) request.set_millicores(options_.millicores);
    if (options_.memory_mib > 0) request.set_memory_mib(options_.memory_mib);
    PlannerFlags(request.mutable_planner());
    request.set_reset_planner(options_.reset_planner);
    if (options_.shadow_fraction >= 0)
      request.set_shadow_capacity_fraction(options_.shadow_fraction);
    if (options_.sync_interval >= 0)
      request.set_shadow_sync_interval_seconds(options_.sync_interval);
    pb::Reservation r;
    grpc::Status status = reservations_->UpdateReservation(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }
};

}  // namespace

void AddReservationCommands(CommandTable* table) {
  table->push_back({{"reserve"},
                    {},
                    "--request_id=ID --millicores=N --memory_mib=N [--name=N] [--seed_dir=DIR] "
                    "[--locations=a,b] [--regions=r,s] [--clients=region:weight,...] [--spot] "
                    "[--shadow_fraction=F] [--sync_interval=SECONDS] [--service_name=NAME] "
                    "[--planner_mode=M] [--threshold=P] [--pin=LOCATION] [--team=T]",
                    "reserve a resource: the primary placed, a diverse shadow beside it",
                    Call<ReservationCommands, &ReservationCommands::Reserve>});
  table->push_back({{"reservations", "list"},
                    {},
                    "[--state=S] [--location=L] [--team=T]",
                    "reservations, paged through",
                    Call<ReservationCommands, &ReservationCommands::ListReservations>});
  table->push_back({{"reservations", "get"},
                    {"ID"},
                    "",
                    "one reservation with its instances",
                    CallWith<ReservationCommands, &ReservationCommands::GetReservation>});
  table->push_back(
      {{"reservations", "update"},
       {"ID"},
       "[--millicores=N] [--memory_mib=N] [--shadow_fraction=F] [--sync_interval=SECONDS] "
       "[--planner_mode=M] [--threshold=P] [--pin=LOCATION] [--reset_planner]",
       "resize the primary, change the shadow or the planner's settings for it",
       CallWith<ReservationCommands, &ReservationCommands::Update>});
  table->push_back({{"reservations", "release"},
                    {"ID"},
                    "[--purge_telemetry]",
                    "release it: its instances and data go (and what was recorded about its "
                    "clients, with --purge_telemetry)",
                    CallWith<ReservationCommands, &ReservationCommands::Release>});
}

}  // namespace shadowplane::cli
