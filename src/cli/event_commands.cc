// shadowctl's commands for known events.
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

class EventCommands : public CommandContext {
 public:
  explicit EventCommands(const CommandContext& context) : CommandContext(context) {}

  void PrintEvents(const std::vector<const pb::Event*>& events) {
    const auto time = TimeText;
    Table table({"event", "kind", "name", "from (utc)", "to (utc)", "resources", "regions",
                 "expected uplift", "measured"});
    for (const pb::Event* e : events) {
      table.AddRow(
          {e->event_id(), e->kind(), e->name(), time(e->start_time()), time(e->end_time()),
           e->resource_ids().empty() ? "any" : absl::StrJoin(e->resource_ids(), ","),
           e->regions().empty() ? "all" : absl::StrJoin(e->regions(), ","),
           e->has_expected_uplift() ? absl::StrFormat("x%.2f", e->expected_uplift()) : "learned",
           e->has_measure_time() ? time(e->measure_time()) : "-"});
    }
    out_ << table.Render();
  }

  int RegisterEvent() {
    pb::RegisterEventRequest request;
    request.set_request_id(options_.request_id);
    request.set_kind(options_.kind);
    request.set_name(Renamed("event_name", options_.event_name, "name", options_.name));
    for (const std::string& r : options_.resources) request.add_resource_ids(r);
    for (const std::string& r : options_.regions) request.add_regions(r);
    if (!ParseTimeFlag("start", options_.start, request.mutable_start_time()) ||
        !ParseTimeFlag("end", options_.end, request.mutable_end_time())) {
      return kExitUsage;
    }
    if (options_.start.empty()) request.clear_start_time();
    if (options_.end.empty()) request.clear_end_time();
    if (!options_.uplift.empty()) {
      double uplift;
      if (!absl::SimpleAtod(options_.uplift, &uplift)) {
        err_ << "shadowctl: --uplift takes a number (2 doubles demand), got \"" << options_.uplift
             << "\"\n";
        return kExitUsage;
      }
      request.set_expected_uplift(uplift);
    }
    pb::RegisterEventResponse response;
    grpc::Status status = events_->RegisterEvent(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    PrintEvents({&response.event()});
    if (!response.created()) out_ << "(registered before with this --request_id)\n";
    return kExitOk;
  }

  int ListEvents() {
    pb::ListEventsRequest request;
    request.set_resource_id(options_.resource);
    request.set_region(options_.region);
    request.set_kind(options_.kind);
    pb::ListEventsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return events_->ListEvents(Context().get(),
                                                                        page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    std::vector<const pb::Event*> events;
    for (const auto& e : all.events()) events.push_back(&e);
    PrintEvents(events);
    return kExitOk;
  }

  // The event, then how it turned out for each resource once measured.
  int GetEvent(const std::string& id) {
    pb::GetEventRequest request;
    request.set_event_id(id);
    pb::Event event;
    grpc::Status status = events_->GetEvent(Context().get(), request, &event);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(event), kExitOk;
    PrintEvents({&event});
    if (event.outcomes_size() > 0) {
      Table outcomes({"resource", "hours", "requests", "forecast without it", "uplift"});
      for (const pb::EventOutcome& o : event.outcomes()) {
        outcomes.AddRow({o.resource_id(), absl::StrCat(o.hours()),
                         absl::StrFormat("%.0f", o.actual()), absl::StrFormat("%.0f", o.baseline()),
                         absl::StrFormat("x%.2f", o.uplift())});
      }
      out_ << "\n" << outcomes.Render();
    }
    return kExitOk;
  }

  int DeleteEvent(const std::string& id) {
    pb::DeleteEventRequest request;
    request.set_event_id(id);
    pb::DeleteEventResponse response;
    grpc::Status status = events_->DeleteEvent(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    out_ << "deleted event " << id << "\n";
    return kExitOk;
  }
};

}  // namespace

void AddEventCommands(CommandTable* table) {
  table->push_back({{"events", "register"},
                    {},
                    "--kind=K --start=T --end=T [--resources=ID,...] [--regions=r,...] "
                    "[--uplift=X] [--event_name=N] [--request_id=ID]",
                    "a known event (campaign, news, ...): forecasts multiply the demand it affects "
                    "by X inside the window (without --uplift: what past events of the kind did)",
                    Call<EventCommands, &EventCommands::RegisterEvent>});
  table->push_back({{"events", "list"},
                    {},
                    "[--resource=ID] [--region=R] [--kind=K]",
                    "known events",
                    Call<EventCommands, &EventCommands::ListEvents>});
  table->push_back({{"events", "get"},
                    {"ID"},
                    "",
                    "an event and, once measured, what it did per resource",
                    CallWith<EventCommands, &EventCommands::GetEvent>});
  table->push_back({{"events", "delete"},
                    {"ID"},
                    "",
                    "forget an event",
                    CallWith<EventCommands, &EventCommands::DeleteEvent>});
}

}  // namespace shadowplane::cli
