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

// "fra-1", or "fra-1 (spot)": on-demand is the default and goes unsaid.
std::string Placed(const std::string& location, const std::string& capacity_type) {
  if (location.empty() || capacity_type != "spot") return location;
  return absl::StrCat(location, " (spot)");
}

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

  // The loop's stored decisions, newest first: --resource, --outcome, --from, --to.
  int ListDecisions() {
    pb::ListDecisionsRequest request;
    request.set_resource_id(options_.resource);
    request.set_outcome(options_.outcome);
    if (!options_.from.empty() && !ParseTimeFlag("from", options_.from, request.mutable_from())) {
      return kExitUsage;
    }
    if (!options_.to.empty() && !ParseTimeFlag("to", options_.to, request.mutable_to())) {
      return kExitUsage;
    }
    pb::ListDecisionsResponse response;
    grpc::Status status = ReadAllPages(request, &response, [&](const auto& r, auto* page) {
      return planner_->ListDecisions(Context().get(), r, page);
    });
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"DECISION", "DECIDED", "RESOURCE", "OUTCOME", "FROM", "TO", "CONFIDENCE",
                 "SAVING $", "BLOCKED BY", "MIGRATION"});
    for (const pb::Decision& d : response.decisions()) {
      table.AddRow({d.id(), TimeText(d.decided_at()), d.resource_id(), d.outcome(),
                    d.from_location(), Placed(d.to_location(), d.to_capacity_type()),
                    d.to_location().empty() ? "" : absl::StrFormat("%.3f", d.confidence()),
                    d.to_location().empty() ? "" : absl::StrFormat("%.4f", d.expected_saving()),
                    d.blocking_gate(), d.migration_id()});
    }
    out_ << table.Render();
    return kExitOk;
  }

  // One decision with the explanation it was taken on.
  int GetDecision(const std::string& id) {
    pb::GetDecisionRequest request;
    request.set_decision_id(id);
    pb::Decision d;
    grpc::Status status = planner_->GetDecision(Context().get(), request, &d);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(d), kExitOk;
    out_ << "decision " << d.id() << " at " << TimeText(d.decided_at()) << " (confirmed "
         << TimeText(d.confirmed_at()) << ")\n";
    if (!d.migration_id().empty()) out_ << "migration " << d.migration_id() << "\n";
    if (d.has_start_at()) {
      out_ << "scheduled: start " << TimeText(d.start_at()) << ", cut over "
           << TimeText(d.cutover_at()) << "\n";
    }
    if (d.has_ended_at())
      out_ << "ended " << TimeText(d.ended_at()) << ": " << d.end_note() << "\n";
    if (d.has_explanation()) {
      Print(d.explanation());
    } else {
      out_ << "resource " << d.resource_id() << ": " << d.outcome() << "\n  " << d.reason() << "\n";
    }
    return kExitOk;
  }

  // Starts a recorded recommendation as a migration.
  int ApplyDecision(const std::string& id) {
    pb::ApplyDecisionRequest request;
    request.set_decision_id(id);
    pb::ApplyDecisionResponse response;
    grpc::Status status = planner_->ApplyDecision(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    out_ << "migration " << response.migration_id() << ": " << response.decision().from_location()
         << " -> " << response.decision().to_location() << " (decision " << id << ")\n";
    return kExitOk;
  }

  int Pause() { return Control(true); }
  int Resume() { return Control(false); }

  // Judged planner moves by confidence (--from: since when; default 30 days back).
  int Calibration() {
    pb::GetCalibrationRequest request;
    if (!options_.from.empty() && !ParseTimeFlag("from", options_.from, request.mutable_since())) {
      return kExitUsage;
    }
    pb::GetCalibrationResponse response;
    grpc::Status status = planner_->GetCalibration(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"CONFIDENCE", "MOVES", "PAID OFF", "SHARE", "PREDICTED $", "REALISED $"});
    for (const pb::CalibrationBucket& b : response.buckets()) {
      if (b.moves() == 0) continue;
      table.AddRow({absl::StrFormat("%.1f-%.1f", b.confidence_low(), b.confidence_high()),
                    absl::StrCat(b.moves()), absl::StrCat(b.paid_off()),
                    absl::StrFormat("%.2f", b.paid_off_share()),
                    absl::StrFormat("%.4f", b.mean_predicted_saving()),
                    absl::StrFormat("%.4f", b.mean_realized_saving())});
    }
    out_ << table.Render() << response.paid_off() << " of " << response.moves()
         << " judged planner moves paid off\n";
    return kExitOk;
  }

  int Status() {
    pb::PlannerStatus status;
    grpc::Status rpc =
        planner_->GetPlannerStatus(Context().get(), pb::GetPlannerStatusRequest(), &status);
    if (!rpc.ok()) return Fail(rpc);
    return PrintStatus(status);
  }

 private:
  int Control(bool pause) {
    pb::PlannerStatus status;
    grpc::Status rpc;
    if (pause) {
      pb::PauseRequest request;
      request.set_reason(options_.reason);
      rpc = planner_->Pause(Context().get(), request, &status);
    } else {
      pb::ResumeRequest request;
      request.set_reason(options_.reason);
      rpc = planner_->Resume(Context().get(), request, &status);
    }
    if (!rpc.ok()) return Fail(rpc);
    return PrintStatus(status);
  }

  int PrintStatus(const pb::PlannerStatus& status) {
    if (options_.json) return Json(status), kExitOk;
    out_ << "automatic moves: " << (status.paused() ? "paused" : "running");
    if (status.has_last_control()) {
      const pb::PlannerControl& c = status.last_control();
      out_ << " (" << c.action() << " at " << TimeText(c.at()) << " by " << c.actor()
           << (c.reason().empty() ? "" : ": " + c.reason()) << ")";
    }
    out_ << "\nplanned moves in the last hour: " << status.planned_moves_last_hour() << " of "
         << status.max_planned_moves_per_hour() << "\n";
    return kExitOk;
  }

  void Print(const pb::ResourcePlan& plan) {
    out_ << "resource " << plan.resource_id() << ": " << plan.outcome() << " (mode " << plan.mode()
         << ", threshold " << plan.migration_threshold() << ", horizon "
         << plan.horizon().seconds() / 3600 << " h)\n";
    out_ << "  " << plan.reason() << "\n";
    Table costs({"LOCATION", "COMPUTE $", "POWER $", "LATENCY $", "EGRESS $", "TOTAL $", "RTT MS",
                 "MOVE $", "SAVING $ (P10..P90)", "CONFIDENCE", "NOTE"});
    for (const pb::CandidateCost& c : plan.candidates()) {
      const std::string where = Placed(c.location(), c.capacity_type());
      std::string note = c.skipped();
      for (const pb::PlanGateCheck& g : c.gates()) {
        if (!g.passed()) note = absl::StrCat(note, note.empty() ? "" : "; ", g.gate());
      }
      if (c.current()) note = note.empty() ? "current" : absl::StrCat("current; ", note);
      if (!c.skipped().empty()) {
        costs.AddRow({where, "", "", "", "", "", "", "", "", "", note});
        continue;
      }
      costs.AddRow(
          {where, absl::StrFormat("%.4f", c.compute()), absl::StrFormat("%.4f", c.electricity()),
           absl::StrFormat("%.4f", c.latency()), absl::StrFormat("%.4f", c.egress()),
           absl::StrFormat("%.4f", c.expected_total()), absl::StrFormat("%.1f", c.mean_rtt_ms()),
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
          blocking.push_back(absl::StrCat(Placed(c.location(), c.capacity_type()), " ", g.gate(),
                                          ": ", g.detail()));
      }
    }
    if (!blocking.empty())
      out_ << "  blocking: " << absl::StrJoin(blocking, "\n            ") << "\n";
    const pb::ClientAffinity& a = plan.affinity();
    if (a.affine_clients() > 0) {
      out_ << absl::StrFormat(
          "  affinity: %d clients seen within %d min; %.1f sessions expected at the cutover, "
          "$%.4f at $%.4f each\n",
          a.affine_clients(), a.session().seconds() / 60, a.expected_sessions_at_cutover(),
          a.cost(), a.price_per_disrupted_session());
    }
    if (plan.has_timing()) {
      const pb::CutoverTiming& t = plan.timing();
      out_ << "  timing: start " << TimeText(t.start_at()) << ", cut over "
           << TimeText(t.cutover_at())
           << (t.has_shift_at() ? absl::StrCat(", shift ", TimeText(t.shift_at())) : "")
           << absl::StrFormat("; pre-copy %.0f s at %.1f MiB/s (%s)",
                              static_cast<double>(t.precopy_estimate().seconds()),
                              t.bandwidth_bytes_per_second() / (1 << 20), t.bandwidth_source())
           << (t.late() ? absl::StrCat("; late by ", t.late_by().seconds(), " s") : "") << "\n    "
           << t.why() << "\n";
    }
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
  table->push_back({{"decisions", "list"},
                    {},
                    "[--resource=ID] [--outcome=O] [--from=T] [--to=T]",
                    "the planner loop's stored decisions, newest first",
                    Call<PlannerCommands, &PlannerCommands::ListDecisions>});
  table->push_back({{"decisions", "get"},
                    {"DECISION_ID"},
                    "",
                    "one decision with every candidate's costs and every gate",
                    CallWith<PlannerCommands, &PlannerCommands::GetDecision>});
  table->push_back({{"decisions", "apply"},
                    {"DECISION_ID"},
                    "",
                    "start a recorded recommendation as a planned migration",
                    CallWith<PlannerCommands, &PlannerCommands::ApplyDecision>});
  table->push_back({{"planner", "pause"},
                    {},
                    "[--reason=TEXT]",
                    "stop every automatic move, fleet-wide, until resumed",
                    Call<PlannerCommands, &PlannerCommands::Pause>});
  table->push_back({{"planner", "resume"},
                    {},
                    "[--reason=TEXT]",
                    "let the planner move resources again",
                    Call<PlannerCommands, &PlannerCommands::Resume>});
  table->push_back({{"planner", "calibration"},
                    {},
                    "[--from=T]",
                    "how often planner moves paid off, by the confidence they were made at",
                    Call<PlannerCommands, &PlannerCommands::Calibration>});
  table->push_back({{"planner", "status"},
                    {},
                    "",
                    "whether automatic moves are paused, and the fleet's budget",
                    Call<PlannerCommands, &PlannerCommands::Status>});
}

}  // namespace shadowplane::cli
