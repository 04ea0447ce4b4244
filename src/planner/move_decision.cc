#include "planner/move_decision.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "planner/spot_prices.h"

namespace shadowplane::planner {
namespace {

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    const double pos = q * static_cast<double>(values.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
  };
  s.p10 = at(0.1);
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  return s;
}

double Margin(const AntiFlapping& a, double current_cost) {
  return std::max(a.hysteresis_absolute, a.hysteresis_relative * current_cost);
}

// "fra-1", or "fra-1 (spot)" when the reservation weighs capacity types.
std::string Placed(const std::string& location, CapacityType type, bool types_matter) {
  if (!types_matter) return location;
  return absl::StrCat(location, " (", CapacityTypeName(type), ")");
}

std::string Minutes(absl::Duration d) {
  return absl::StrFormat("%.0f min", absl::ToDoubleMinutes(d));
}

// The gates of the resource and the fleet, each with its verdict.
std::vector<GateCheck> ResourceGates(const PlanSubject& s, const DemandOutlook* demand,
                                     const PlanContext& c, absl::Time now) {
  const PlannerSettings& set = s.settings;
  const AntiFlapping& a = set.anti_flapping;
  std::vector<GateCheck> gates;
  auto add = [&gates](PlanGate gate, bool passed, std::string detail) {
    gates.push_back({gate, passed, std::move(detail)});
  };
  add(PlanGate::kMode, set.mode == PlannerMode::kAuto,
      absl::StrCat("mode ", PlannerModeName(set.mode)));
  add(PlanGate::kPinned, set.pinned_location.empty(),
      set.pinned_location.empty() ? "not pinned" : absl::StrCat("pinned to ", set.pinned_location));
  const bool has_demand = demand != nullptr && demand->has_demand();
  add(PlanGate::kNoForecast, has_demand, has_demand ? "forecast present" : "no stored forecast");
  if (has_demand) {
    const absl::Duration age = now - demand->computed_at;
    add(PlanGate::kStaleForecast, age <= c.max_forecast_age,
        absl::StrCat("forecast ", Minutes(age), " old (at most ", Minutes(c.max_forecast_age),
                     ")"));
  }
  add(PlanGate::kMigrationInProgress, !s.history.migration_in_progress,
      s.history.migration_in_progress ? "a migration is running" : "no migration running");
  if (set.mode == PlannerMode::kAuto) {
    add(PlanGate::kPaused, !c.fleet.paused,
        c.fleet.paused ? "automatic moves are paused" : "not paused");
    add(PlanGate::kFleetBudget,
        c.fleet.planned_moves_last_hour < c.fleet.max_planned_moves_per_hour,
        absl::StrCat(c.fleet.planned_moves_last_hour, " of ", c.fleet.max_planned_moves_per_hour,
                     " planned moves this hour"));
  }
  if (s.history.last_migration_finished.has_value()) {
    const absl::Duration since = now - *s.history.last_migration_finished;
    add(PlanGate::kDwell, since >= a.min_dwell,
        absl::StrCat("last migration ", Minutes(since), " ago (dwell ", Minutes(a.min_dwell), ")"));
  }
  int recent = 0;
  for (absl::Time t : s.history.migration_starts) {
    if (now - t < absl::Hours(24)) ++recent;
  }
  add(PlanGate::kDailyCap, recent < a.max_moves_per_day,
      absl::StrCat(recent, " of ", a.max_moves_per_day, " migrations in 24 h"));
  std::string blackout = "no blackout window";
  bool clear = true;
  for (const BlackoutWindow& w : set.blackouts) {
    if (now < w.end && now + c.decision_to_cutover > w.start) {
      clear = false;
      blackout =
          absl::StrCat("blackout ", absl::FormatTime(w.start), " to ", absl::FormatTime(w.end));
      break;
    }
  }
  add(PlanGate::kBlackout, clear, blackout);
  return gates;
}

// Fills confidence, savings and the candidate's own gates.
void Judge(CandidateExplanation& cand, const LocationTerms& current, const LocationFacts& facts,
           const PlanSubject& s, const DemandOutlook& demand, const PlanContext& c,
           absl::Time now) {
  const AntiFlapping& a = s.settings.anti_flapping;
  cand.margin = Margin(a, current.expected_total());
  if (demand.has_paths()) {
    std::vector<double> savings(current.path_total.size());
    int sure = 0;
    double sum = 0;
    for (size_t p = 0; p < savings.size(); ++p) {
      savings[p] = current.path_total[p] - cand.terms.path_total[p] - cand.move_cost;
      sum += savings[p];
      if (savings[p] >= Margin(a, current.path_total[p])) ++sure;
    }
    cand.expected_saving = sum / static_cast<double>(savings.size());
    cand.confidence = static_cast<double>(sure) / static_cast<double>(savings.size());
    cand.saving = SpreadOf(std::move(savings));
    cand.confidence_source = "sample_paths";
  } else {
    cand.expected_saving = current.expected_total() - cand.terms.expected_total() - cand.move_cost;
    const double other =
        (cand.terms.fixed() + cand.terms.egress) - (current.fixed() + current.egress);
    const auto share = demand.best_location_share.find(cand.location);
    if (share != demand.best_location_share.end() && std::abs(other) <= cand.margin) {
      cand.confidence = share->second;
      cand.confidence_source = "best_location_chain";
    } else {
      cand.confidence_source = "none";
    }
  }
  auto add = [&cand](PlanGate gate, bool passed, std::string detail) {
    cand.gates.push_back({gate, passed, std::move(detail)});
  };
  add(PlanGate::kCapacity, HasRoom(facts, s.capacity),
      absl::StrCat(facts.capacity_millicores - facts.used_millicores, " millicores and ",
                   facts.capacity_memory_mib - facts.used_memory_mib, " MiB free"));
  add(PlanGate::kSaving, cand.expected_saving > 0,
      absl::StrFormat("expected saving $%.4f after the move's $%.4f", cand.expected_saving,
                      cand.move_cost));
  std::string source_note = cand.confidence_source == "none"
                                ? " (no sample paths, and the chain applies only when other "
                                  "costs are equal within the margin)"
                                : "";
  add(PlanGate::kThreshold,
      cand.confidence_source != "none" && cand.confidence >= s.settings.migration_threshold,
      absl::StrFormat("confidence %.3f against threshold %.3f%s", cand.confidence,
                      s.settings.migration_threshold, source_note));
  const MoveHistory& h = s.history;
  if (cand.location == h.last_left_location && cand.capacity_type == h.last_left_capacity_type &&
      h.left_at.has_value() && now - *h.left_at < a.return_cooldown) {
    const double needed = a.return_saving_multiple * cand.margin;
    add(PlanGate::kCooldown, cand.expected_saving >= needed,
        absl::StrFormat("left %s ago (cooldown %s): a return needs a saving of $%.4f",
                        Minutes(now - *h.left_at), Minutes(a.return_cooldown), needed));
  }
}

}  // namespace

const char* PlanGateName(PlanGate gate) {
  switch (gate) {
    case PlanGate::kMode:
      return "mode";
    case PlanGate::kPinned:
      return "pinned";
    case PlanGate::kNoForecast:
      return "no_forecast";
    case PlanGate::kStaleForecast:
      return "stale_forecast";
    case PlanGate::kMigrationInProgress:
      return "migration_in_progress";
    case PlanGate::kPaused:
      return "paused";
    case PlanGate::kFleetBudget:
      return "fleet_budget";
    case PlanGate::kDwell:
      return "dwell";
    case PlanGate::kDailyCap:
      return "daily_cap";
    case PlanGate::kBlackout:
      return "blackout";
    case PlanGate::kThreshold:
      return "threshold";
    case PlanGate::kSaving:
      return "saving";
    case PlanGate::kCooldown:
      return "cooldown";
    case PlanGate::kCapacity:
      return "capacity";
    case PlanGate::kSpot:
      return "spot";
  }
  return "unknown";
}

const char* PlanOutcomeName(PlanOutcome outcome) {
  switch (outcome) {
    case PlanOutcome::kStay:
      return "stay";
    case PlanOutcome::kMove:
      return "move";
    case PlanOutcome::kRecommend:
      return "recommend";
    case PlanOutcome::kBlocked:
      return "blocked";
    case PlanOutcome::kScheduled:
      return "scheduled";
  }
  return "unknown";
}

bool CandidateExplanation::qualifies() const {
  if (current || !skipped.empty()) return false;
  for (const GateCheck& g : gates) {
    if (!g.passed) return false;
  }
  return true;
}

PlanDecision Decide(const PlanSubject& s, const DemandOutlook* demand, const PlanContext& c,
                    absl::Time now) {
  PlanDecision d;
  d.resource_id = s.resource_id;
  d.decided_at = now;
  d.from_location = s.current_location;
  d.mode = s.settings.mode;
  d.threshold = s.settings.migration_threshold;
  d.horizon = s.settings.horizon;
  d.gates = ResourceGates(s, demand, c, now);
  auto stay = [&d](std::string reason) {
    d.outcome = PlanOutcome::kStay;
    d.reason = std::move(reason);
    return d;
  };
  auto gate_blocks = [&d](PlanGate gate) {
    for (const GateCheck& g : d.gates) {
      if (g.gate == gate && !g.passed) return true;
    }
    return false;
  };
  if (s.settings.mode == PlannerMode::kOff) {
    d.outcome = PlanOutcome::kBlocked;
    d.blocking = PlanGate::kMode;
    d.reason = "planner mode off";
    return d;
  }
  if (gate_blocks(PlanGate::kNoForecast)) {
    d.blocking = PlanGate::kNoForecast;
    return stay("no stored forecast with demand: stays");
  }
  const auto current_facts = c.locations->find(s.current_location);
  if (current_facts == c.locations->end()) {
    return stay(
        absl::StrCat("the current location ", s.current_location, " is not in the catalog: stays"));
  }
  d.from_capacity_type = s.capacity.type;
  // What a fallback off spot at `f` would cost: the move and its freeze.
  auto evaluate = [&](const LocationFacts& f, CapacityType type) -> absl::StatusOr<LocationTerms> {
    Capacity capacity = s.capacity;
    capacity.type = type;
    absl::StatusOr<LocationTerms> terms =
        EvaluateLocation(f, capacity, s.settings.horizon, *demand, *c.regions, *c.rtt, c.prices);
    if (terms.ok() && type == CapacityType::kSpot) {
      terms->interruption_probability =
          InterruptionProbability(f.spot_availability, s.settings.horizon);
      terms->spot_risk = terms->interruption_probability * MoveCost(f, s.move, *demand, c.prices);
      for (double& path : terms->path_total) path += terms->spot_risk;
    }
    return terms;
  };
  absl::StatusOr<LocationTerms> current = evaluate(current_facts->second, s.capacity.type);
  CandidateExplanation here;
  here.location = s.current_location;
  here.capacity_type = s.capacity.type;
  here.current = true;
  here.price_basis = current_facts->second.price_basis;
  if (!current.ok()) {
    here.skipped = std::string(current.status().message());
    d.candidates.push_back(std::move(here));
    return stay(absl::StrCat("the current location cannot be costed (", current.status().message(),
                             "): stays"));
  }
  here.terms = *current;
  here.path_cost = SpreadOf(current->path_total);
  d.candidates.push_back(here);

  for (const std::string& name : s.allowed_locations) {
    const auto facts = c.locations->find(name);
    // On-demand everywhere; spot too where the reservation asks for it and the location offers it.
    std::vector<CapacityType> types = {CapacityType::kOnDemand};
    if (s.wants_spot && facts != c.locations->end() &&
        facts->second.spot_price_per_vcpu_hour.has_value()) {
      types.push_back(CapacityType::kSpot);
    }
    for (CapacityType type : types) {
      if (name == s.current_location && type == s.capacity.type) continue;
      CandidateExplanation cand;
      cand.location = name;
      cand.capacity_type = type;
      if (facts == c.locations->end()) {
        cand.skipped = "not in the catalog";
      } else if (facts->second.cordoned) {
        cand.skipped = "cordoned";
      } else if (facts->second.lost) {
        cand.skipped = "lost (not yet healthy for --location_recovery)";
      } else if (absl::StatusOr<LocationTerms> terms = evaluate(facts->second, type); !terms.ok()) {
        cand.skipped = std::string(terms.status().message());
      } else {
        cand.price_basis = facts->second.price_basis;
        cand.terms = *std::move(terms);
        cand.path_cost = SpreadOf(cand.terms.path_total);
        cand.move_cost = MoveCost(current_facts->second, s.move, *demand, c.prices);
        cand.affinity_cost = AffinityCost(s.move, c.prices);
        Judge(cand, *current, facts->second, s, *demand, c, now);
        if (type == CapacityType::kSpot) {
          Capacity capacity = s.capacity;
          capacity.type = type;
          const SpotCheck spot =
              CheckSpot(facts->second, capacity, MoveCost(facts->second, s.move, *demand, c.prices),
                        s.settings.horizon, c.spot_return_after, c.spot_min_discount, now);
          cand.gates.push_back(
              {PlanGate::kSpot,
               spot.offered && spot.returned && spot.discount >= c.spot_min_discount, spot.detail});
        }
      }
      d.candidates.push_back(std::move(cand));
    }
  }

  const CandidateExplanation* best = nullptr;
  for (const CandidateExplanation& cand : d.candidates) {
    if (cand.qualifies() && (best == nullptr || cand.expected_saving > best->expected_saving)) {
      best = &cand;
    }
  }
  if (best == nullptr) {
    const CandidateExplanation* closest = nullptr;
    for (const CandidateExplanation& cand : d.candidates) {
      if (cand.current || !cand.skipped.empty()) continue;
      if (closest == nullptr || cand.confidence > closest->confidence) closest = &cand;
    }
    if (closest == nullptr) return stay("no other allowed location can be costed: stays");
    for (const GateCheck& g : closest->gates) {
      if (!g.passed) {
        d.blocking = g.gate;
        return stay(absl::StrCat("stays: best candidate ", closest->location, " blocked by ",
                                 PlanGateName(g.gate), " (", g.detail, ")"));
      }
    }
    return stay("stays");
  }
  d.to_location = best->location;
  d.to_capacity_type = best->capacity_type;
  d.confidence = best->confidence;
  d.expected_saving = best->expected_saving;
  const std::string move =
      absl::StrFormat("%s -> %s, confidence %.3f, expected saving $%.4f (prices: %s)",
                      Placed(s.current_location, s.capacity.type, s.wants_spot),
                      Placed(best->location, best->capacity_type, s.wants_spot), best->confidence,
                      best->expected_saving, best->price_basis);
  for (const GateCheck& g : d.gates) {
    if (g.passed || g.gate == PlanGate::kMode) continue;
    d.outcome = PlanOutcome::kBlocked;
    d.blocking = g.gate;
    d.reason = absl::StrCat(move, "; blocked by ", PlanGateName(g.gate), " (", g.detail, ")");
    return d;
  }
  if (s.settings.mode == PlannerMode::kRecommend) {
    d.outcome = PlanOutcome::kRecommend;
    d.blocking = PlanGate::kMode;
    d.reason = absl::StrCat("recommend ", move, " (recommend mode: recorded, not acted on)");
    return d;
  }
  d.outcome = PlanOutcome::kMove;
  d.reason = absl::StrCat("move ", move);
  return d;
}

}  // namespace shadowplane::planner
