// shadowctl top: resources with their primary and shadow, demand recorded and forecast, the
// planner's newest decision, and migrations in progress, refreshed in place on a terminal (plain
// frames otherwise). Each refresh reads the public API only; what cannot be read is shown, not
// fatal.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/migration_text.h"
#include "cli/shadowctl.h"
#include "cli/top_view.h"
#include "common/proto_time.h"

namespace shadowplane::cli {
namespace {

// Reservations looked at per refresh: each costs three calls.
constexpr int kMaxExamined = 200;

class TopCommands : public CommandContext {
 public:
  explicit TopCommands(const CommandContext& context) : CommandContext(context) {}

  int Top() {
    if (!(options_.refresh_seconds >= 0.2) || options_.refresh_seconds > 3600) {
      err_ << "shadowctl: --refresh_seconds must be within [0.2, 3600]\n";
      return kExitUsage;
    }
    if (options_.top_rows < 1 || options_.top_rows > 1000) {
      err_ << "shadowctl: --top_rows must be 1 to 1000\n";
      return kExitUsage;
    }
    const bool terminal = isatty(STDOUT_FILENO) != 0 && &out_ == &std::cout;
    const int iterations = options_.iterations > 0 ? options_.iterations : (terminal ? 0 : 1);
    const absl::Duration every = absl::Seconds(options_.refresh_seconds);
    for (int i = 0; iterations == 0 || i < iterations; ++i) {
      if (i > 0) absl::SleepFor(every);
      TopSnapshot s = Gather();
      if (s.active < 0) return kExitRpcError;  // the server cannot be reached at all
      out_ << RenderTop(s, every, terminal);
      out_.flush();
    }
    return kExitOk;
  }

 private:
  TopSnapshot Gather() {
    TopSnapshot s;
    s.at = absl::Now();
    pb::GetServerInfoResponse info;
    if (server_->GetServerInfo(Context().get(), pb::GetServerInfoRequest(), &info).ok()) {
      s.at = FromProtoTime(info.domain_time());
      s.time_scale = info.time_scale() > 0 ? info.time_scale() : 1;
    }
    {
      pb::PlannerStatus status;
      grpc::Status got =
          planner_->GetPlannerStatus(Context().get(), pb::GetPlannerStatusRequest(), &status);
      s.planner = !got.ok()         ? "unknown"
                  : status.paused() ? "paused: " + status.last_control().reason()
                                    : "running";
    }
    pb::ListReservationsRequest list;
    list.set_state("active");
    list.set_page_size(kMaxExamined);
    pb::ListReservationsResponse reservations;
    grpc::Status listed = reservations_->ListReservations(Context().get(), list, &reservations);
    if (!listed.ok()) {
      Fail(listed);
      s.active = -1;
      return s;
    }
    s.active = reservations.reservations_size();
    std::map<std::string, const pb::Reservation*> by_resource;
    for (const pb::Reservation& r : reservations.reservations()) {
      by_resource[r.resource_id()] = &r;
      s.resources.push_back(Row(r, &s.errors));
    }
    if (!reservations.next_page_token().empty()) {
      s.errors.push_back(absl::StrCat("more than ", kMaxExamined,
                                      " active reservations: only the first are shown"));
    }
    std::stable_sort(s.resources.begin(), s.resources.end(),
                     [](const TopResource& a, const TopResource& b) {
                       return a.last_hour + a.this_hour > b.last_hour + b.this_hour;
                     });
    if (static_cast<int>(s.resources.size()) > options_.top_rows) {
      s.resources.resize(static_cast<size_t>(options_.top_rows));
    }
    pb::ListMigrationsRequest migrations_request;
    migrations_request.set_page_size(200);
    pb::ListMigrationsResponse migrations;
    grpc::Status got =
        migrations_->ListMigrations(Context().get(), migrations_request, &migrations);
    if (!got.ok()) s.errors.push_back("migrations: " + got.error_message());
    for (const pb::Migration& m : migrations.migrations()) {
      if (m.state() == "DONE" || m.state() == "ROLLED_BACK" || m.state() == "FAILED") continue;
      // Until the cutover the source is the reservation's primary.
      const auto r = by_resource.find(m.resource_id());
      const bool known = r != by_resource.end();
      s.migrations.push_back({m.id(), known ? r->second->name() : m.resource_id(), m.kind(),
                              known ? r->second->primary().location() : "?", m.target_location(),
                              MigrationProgressLine(m)});
    }
    return s;
  }

  TopResource Row(const pb::Reservation& r, std::vector<std::string>* errors) {
    TopResource row;
    row.resource_id = r.resource_id();
    row.name = r.name();
    row.primary = r.primary().location();
    if (r.primary().capacity_type() == pb::SPOT) absl::StrAppend(&row.primary, " (spot)");
    row.shadow = r.shadow().location();
    if (r.has_last_synced_at() || r.shadow_staleness_seconds() > 0) {
      row.staleness_seconds = r.shadow_staleness_seconds();
    }
    pb::GetDemandRequest demand_request;
    demand_request.set_resource_id(r.resource_id());
    pb::GetDemandResponse demand;
    grpc::Status got = telemetry_->GetDemand(Context().get(), demand_request, &demand);
    if (got.ok()) {
      const auto& points = demand.total().points();
      if (points.size() >= 1) row.this_hour = points[points.size() - 1].requests();
      if (points.size() >= 2) row.last_hour = points[points.size() - 2].requests();
    } else {
      errors->push_back(absl::StrCat(r.name(), " demand: ", got.error_message()));
    }
    pb::PredictRequest predict;
    predict.set_resource_id(r.resource_id());
    predict.set_horizon_hours(1);
    predict.add_quantiles(0.1);
    predict.add_quantiles(0.9);
    pb::PredictResponse forecast;
    got = forecasts_->Predict(Context().get(), predict, &forecast);
    if (got.ok() && forecast.total().values_size() > 0) {
      row.forecast = forecast.total().values(0);
      if (forecast.total().quantiles_size() == 2 &&
          forecast.total().quantiles(0).values_size() > 0 &&
          forecast.total().quantiles(1).values_size() > 0) {
        row.forecast_low = forecast.total().quantiles(0).values(0);
        row.forecast_high = forecast.total().quantiles(1).values(0);
      }
    }  // no forecast yet (no history): shown as "-"
    pb::ListDecisionsRequest decisions_request;
    decisions_request.set_resource_id(r.resource_id());
    decisions_request.set_page_size(1);
    pb::ListDecisionsResponse decisions;
    got = planner_->ListDecisions(Context().get(), decisions_request, &decisions);
    if (got.ok() && decisions.decisions_size() > 0) {
      const pb::Decision& d = decisions.decisions(0);
      row.decision = d.outcome();
      if (!d.to_location().empty()) {
        absl::StrAppend(&row.decision, " ", d.from_location(), "->", d.to_location());
      }
      if (!d.blocking_gate().empty()) absl::StrAppend(&row.decision, " [", d.blocking_gate(), "]");
      absl::StrAppend(&row.decision, absl::StrFormat(" %.2f", d.confidence()));
    }
    return row;
  }
};

}  // namespace

void AddTopCommands(CommandTable* table) {
  table->push_back({{"top"},
                    {},
                    "[--refresh_seconds=S] [--iterations=N] [--top_rows=N]",
                    "a live view of the busiest resources (primary, shadow, demand recorded "
                    "and forecast, the planner's newest decision) and migrations in progress; "
                    "on a terminal it refreshes in place until Ctrl-C, otherwise prints once",
                    Call<TopCommands, &TopCommands::Top>});
}

}  // namespace shadowplane::cli
