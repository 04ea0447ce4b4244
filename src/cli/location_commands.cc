// shadowctl's commands for locations and regions.
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

class LocationCommands : public CommandContext {
 public:
  explicit LocationCommands(const CommandContext& context) : CommandContext(context) {}

  int ListLocations() {
    pb::ListLocationsResponse all;
    pb::ListLocationsRequest request;
    request.set_region(options_.region);
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return locations_->ListLocations(Context().get(),
                                                                              page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"name", "region", "lat", "lon", "agent", "$/vcpu-h", "$/gib-h", "spot $/vcpu-h",
                 "millicores used/total", "mib used/total", "health", "cordoned"});
    for (const auto& l : all.locations()) {
      table.AddRow({l.name(), l.region(), absl::StrFormat("%.2f", l.latitude()),
                    absl::StrFormat("%.2f", l.longitude()), l.agent_endpoint(),
                    absl::StrFormat("%.4f", l.on_demand_price_per_vcpu_hour()),
                    absl::StrFormat("%.4f", l.on_demand_price_per_gib_hour()),
                    l.has_spot_price_per_vcpu_hour()
                        ? absl::StrFormat("%.4f", l.spot_price_per_vcpu_hour())
                        : "-",
                    absl::StrCat(l.used_millicores(), "/", l.capacity_millicores()),
                    absl::StrCat(l.used_memory_mib(), "/", l.capacity_memory_mib()),
                    l.health().empty() ? "healthy" : l.health(),
                    l.cordoned() ? (l.cordon_reason().empty() ? "yes" : l.cordon_reason()) : ""});
    }
    out_ << table.Render();
    return kExitOk;
  }

  int GetLocation(const std::string& name) {
    pb::GetLocationRequest request;
    request.set_name(name);
    pb::Location l;
    grpc::Status status = locations_->GetLocation(Context().get(), request, &l);
    if (!status.ok()) return Fail(status);
    Json(l);  // every LocationData field; a table would hide most of them
    return kExitOk;
  }

  // Nothing new is placed or moved into a cordoned location.
  int Cordon(const std::string& name) {
    pb::CordonRequest request;
    request.set_name(name);
    request.set_reason(options_.reason);
    pb::Location l;
    grpc::Status status = locations_->Cordon(Context().get(), request, &l);
    if (!status.ok()) return Fail(status);
    out_ << "location " << l.name() << " cordoned\n";
    return kExitOk;
  }

  int Uncordon(const std::string& name) {
    pb::UncordonRequest request;
    request.set_name(name);
    pb::Location l;
    grpc::Status status = locations_->Uncordon(Context().get(), request, &l);
    if (!status.ok()) return Fail(status);
    out_ << "location " << l.name() << " uncordoned\n";
    return kExitOk;
  }

  // Moves every primary and shadow out (planned migrations), the location cordoned meanwhile.
  int Drain(const std::string& name) {
    pb::DrainLocationRequest request;
    request.set_name(name);
    request.set_reason(options_.reason);
    pb::LocationDrain drain;
    grpc::Status status = locations_->DrainLocation(Context().get(), request, &drain);
    if (!status.ok()) return Fail(status);
    return PrintDrain(drain);
  }

  int DrainStatus(const std::string& name) {
    pb::GetLocationRequest request;
    request.set_name(name);
    pb::LocationDrain drain;
    grpc::Status status = locations_->GetLocationDrain(Context().get(), request, &drain);
    if (!status.ok()) return Fail(status);
    return PrintDrain(drain);
  }

  int PrintDrain(const pb::LocationDrain& drain) {
    if (options_.json) return Json(drain), kExitOk;
    out_ << "location " << drain.location().name() << (drain.done() ? " drained" : " draining")
         << ": " << drain.primaries_left() << " primaries and " << drain.shadows_left()
         << " shadows left, " << drain.moves_in_flight() << " moves under way\n";
    for (const std::string& b : drain.blocked()) out_ << "  blocked: " << b << "\n";
    return kExitOk;
  }

  int ListRegions() {
    pb::ListRegionsRequest request;
    pb::ListRegionsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return locations_->ListRegions(Context().get(),
                                                                            page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"name", "display name", "lat", "lon"});
    for (const auto& r : all.regions()) {
      table.AddRow({r.name(), r.display_name(), absl::StrFormat("%.2f", r.latitude()),
                    absl::StrFormat("%.2f", r.longitude())});
    }
    out_ << table.Render();
    return kExitOk;
  }
};

}  // namespace

void AddLocationCommands(CommandTable* table) {
  table->push_back({{"locations", "list"},
                    {},
                    "[--region=R]",
                    "locations with prices and capacity in use",
                    Call<LocationCommands, &LocationCommands::ListLocations>});
  table->push_back({{"locations", "get"},
                    {"NAME"},
                    "",
                    "one location, every field",
                    CallWith<LocationCommands, &LocationCommands::GetLocation>});
  table->push_back({{"locations", "cordon"},
                    {"NAME"},
                    "[--reason=TEXT]",
                    "place and move nothing new into the location",
                    CallWith<LocationCommands, &LocationCommands::Cordon>});
  table->push_back({{"locations", "uncordon"},
                    {"NAME"},
                    "",
                    "let placement and the planner use the location again (ends a drain)",
                    CallWith<LocationCommands, &LocationCommands::Uncordon>});
  table->push_back({{"locations", "drain"},
                    {"NAME"},
                    "[--reason=TEXT]",
                    "cordon the location and move every primary and shadow out of it",
                    CallWith<LocationCommands, &LocationCommands::Drain>});
  table->push_back({{"locations", "drain-status"},
                    {"NAME"},
                    "",
                    "what a drain has left to move, and what blocks it",
                    CallWith<LocationCommands, &LocationCommands::DrainStatus>});
  table->push_back({{"regions", "list"},
                    {},
                    "",
                    "regions with their coordinates",
                    Call<LocationCommands, &LocationCommands::ListRegions>});
}

}  // namespace shadowplane::cli
