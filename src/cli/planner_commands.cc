// shadowctl's planner commands: the dry run, as tables a platform engineer reads.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

class PlannerCommands : public CommandContext {
 public:
  explicit PlannerCommands(const CommandContext& context) : CommandContext(context) {}

  int PlanAll() { return Plan(""); }

  // Per resource: the decision and its reason, every location's costs over the horizon, and every
  // gate that blocks (all gates with --json).
  int Plan(const std::string& resource_id) {
    pb::PlanRequest request;
    request.set_resource_id(resource_id);
    if (options_.horizon > 0) request.mutable_horizon()->set_seconds(options_.horizon * 3600LL);
    if (options_.threshold >= 0) request.set_migration_threshold(options_.threshold);
    pb::PlanResponse response;
    grpc::Status status = ReadAllPages(request, &response, [&](const auto& r, auto* page) {
      return planner_->Plan(Context().get(), r, page);
    });
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    for (const pb::ResourcePlan& plan : response.plans()) Print(plan);
    if (response.plans().empty()) out_ << "no active reservations\n";
    return kExitOk;
  }

 private:
  void Print(const pb::ResourcePlan& plan) {
    out_ << "resource " << plan.resource_id() << ": " << plan.outcome() << " (mode " << plan.mode()
         << ", threshold " << plan.migration_threshold() << ", horizon "
         << plan.horizon().seconds() / 3600 << " h)\n";
    out_ << "  " << plan.reason() << "\n";
    Table costs({"LOCATION", "COMPUTE $", "POWER $", "LATENCY $", "EGRESS $", "TOTAL $", "RTT MS",
                 "MOVE $", "SAVING $ (P10..P90)", "CONFIDENCE", "NOTE"});
    for (const pb::CandidateCost& c : plan.candidates()) {
      std::string note = c.skipped();
      for (const pb::PlanGateCheck& g : c.gates()) {
        if (!g.passed()) note = absl::StrCat(note, note.empty() ? "" : "; ", g.gate());
      }
      if (c.current()) note = note.empty() ? "current" : absl::StrCat("current; ", note);
      if (!c.skipped().empty()) {
        costs.AddRow({c.location(), "", "", "", "", "", "", "", "", "", note});
        continue;
      }
      costs.AddRow(
          {c.location(), absl::StrFormat("%.4f", c.compute()),
           absl::StrFormat("%.4f", c.electricity()), absl::StrFormat("%.4f", c.latency()),
           absl::StrFormat("%.4f", c.egress()), absl::StrFormat("%.4f", c.expected_total()),
           absl::StrFormat("%.1f", c.mean_rtt_ms()),
           c.current() ? "" : absl::StrFormat("%.4f", c.move_cost()),
           c.current() ? ""
                       : absl::StrFormat("%.4f (%.4f..%.4f)", c.expected_saving(), c.saving().p10(),
                                         c.saving().p90()),
           c.current() ? "" : absl::StrFormat("%.3f %s", c.confidence(), c.confidence_source()),
           note});
    }
    out_ << costs.Render();
    std::vector<std::string> blocking;
    for (const pb::PlanGateCheck& g : plan.gates()) {
      if (!g.passed()) blocking.push_back(absl::StrCat(g.gate(), ": ", g.detail()));
    }
    for (const pb::CandidateCost& c : plan.candidates()) {
      for (const pb::PlanGateCheck& g : c.gates()) {
        if (!g.passed())
          blocking.push_back(absl::StrCat(c.location(), " ", g.gate(), ": ", g.detail()));
      }
    }
    if (!blocking.empty())
      out_ << "  blocking: " << absl::StrJoin(blocking, "\n            ") << "\n";
    out_ << "\n";
  }
};

}  // namespace

void AddPlannerCommands(CommandTable* table) {
  table->push_back({{"plan"},
                    {},
                    "[--horizon=HOURS] [--threshold=P]",
                    "the planner's dry run for every active reservation: costs per location, "
                    "confidence, gates, the decision",
                    Call<PlannerCommands, &PlannerCommands::PlanAll>});
  table->push_back({{"plan"},
                    {"RESOURCE_ID"},
                    "[--horizon=HOURS] [--threshold=P]",
                    "the planner's dry run for one resource",
                    CallWith<PlannerCommands, &PlannerCommands::Plan>});
}

}  // namespace shadowplane::cli
