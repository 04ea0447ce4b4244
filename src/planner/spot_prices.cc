#include "planner/spot_prices.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace shadowplane::planner {
namespace {

bool SpotGone(const store::PriceRecord& p) {
  return !p.spot_price_per_vcpu_hour.has_value() || !p.spot_price_per_gib_hour.has_value() ||
         (p.spot_availability.has_value() && *p.spot_availability <= 0);
}

// The observations the mean may use: within 24 hours of the latest, and (for spot) since spot
// was last available again. Empty when they are too few or span too little.
std::vector<const store::PriceRecord*> MeanWindow(const store::PriceHistory& h, bool spot) {
  std::vector<const store::PriceRecord*> out;
  const absl::Time latest = h.observations.back().observed_at;
  for (const store::PriceRecord& p : h.observations) {
    if (latest - p.observed_at > absl::Hours(24)) continue;
    if (spot &&
        (SpotGone(p) || (h.spot_available_since && p.observed_at < *h.spot_available_since))) {
      continue;
    }
    out.push_back(&p);
  }
  if (static_cast<int>(out.size()) < kMinObservationsForMean ||
      out.back()->observed_at - out.front()->observed_at < absl::Hours(12)) {
    out.clear();
  }
  return out;
}

}  // namespace

void ApplyPriceHistory(const store::PriceHistory& history, LocationFacts* f) {
  if (history.observations.empty()) return;
  const store::PriceRecord& latest = history.observations.back();
  f->prices_observed_at = latest.observed_at;
  f->spot_available_since = history.spot_available_since;
  const std::vector<const store::PriceRecord*> on_demand = MeanWindow(history, false);
  if (on_demand.empty()) {
    f->on_demand_price_per_vcpu_hour = latest.on_demand_price_per_vcpu_hour;
    f->on_demand_price_per_gib_hour = latest.on_demand_price_per_gib_hour;
    f->price_basis = "latest";
  } else {
    double vcpu = 0, gib = 0;
    for (const store::PriceRecord* p : on_demand) {
      vcpu += p->on_demand_price_per_vcpu_hour;
      gib += p->on_demand_price_per_gib_hour;
    }
    f->on_demand_price_per_vcpu_hour = vcpu / static_cast<double>(on_demand.size());
    f->on_demand_price_per_gib_hour = gib / static_cast<double>(on_demand.size());
    f->price_basis = absl::StrFormat("trailing_mean_of_%d", on_demand.size());
  }
  if (SpotGone(latest)) {
    f->spot_price_per_vcpu_hour.reset();
    f->spot_price_per_gib_hour.reset();
    f->spot_availability = 0;
    return;
  }
  if (latest.spot_availability.has_value()) f->spot_availability = *latest.spot_availability;
  const std::vector<const store::PriceRecord*> spot = MeanWindow(history, true);
  if (spot.empty()) {
    f->spot_price_per_vcpu_hour = latest.spot_price_per_vcpu_hour;
    f->spot_price_per_gib_hour = latest.spot_price_per_gib_hour;
    return;
  }
  double vcpu = 0, gib = 0;
  for (const store::PriceRecord* p : spot) {
    vcpu += *p->spot_price_per_vcpu_hour;
    gib += *p->spot_price_per_gib_hour;
  }
  f->spot_price_per_vcpu_hour = vcpu / static_cast<double>(spot.size());
  f->spot_price_per_gib_hour = gib / static_cast<double>(spot.size());
}

bool SpotOffered(const LocationFacts& l) {
  return l.spot_price_per_vcpu_hour.has_value() && l.spot_price_per_gib_hour.has_value() &&
         l.spot_availability > 0;
}

double InterruptionProbability(double availability, absl::Duration horizon) {
  if (!(availability > 0)) return 1;
  if (availability >= 1) return 0;
  const double days = std::max(0.0, absl::ToDoubleHours(horizon) / 24.0);
  return std::clamp(1 - std::pow(availability, days), 0.0, 1.0);
}

SpotCheck CheckSpot(const LocationFacts& l, const Capacity& capacity, double fallback_cost,
                    absl::Duration horizon, absl::Duration return_after, double min_discount,
                    absl::Time now) {
  SpotCheck c;
  const double vcpu = static_cast<double>(capacity.millicores) / 1000.0;
  const double gib = static_cast<double>(capacity.memory_mib) / 1024.0;
  c.on_demand_per_hour =
      vcpu * l.on_demand_price_per_vcpu_hour + gib * l.on_demand_price_per_gib_hour;
  c.offered = SpotOffered(l);
  if (!c.offered) {
    c.detail = absl::StrFormat("%s offers no spot capacity now", l.name);
    return c;
  }
  c.spot_per_hour = vcpu * *l.spot_price_per_vcpu_hour + gib * *l.spot_price_per_gib_hour;
  const double hours = std::max(1.0, absl::ToDoubleHours(horizon));
  const double p = InterruptionProbability(l.spot_availability, horizon);
  c.risk_per_hour = p * fallback_cost / hours;
  c.discount =
      c.on_demand_per_hour > 0 ? 1 - (c.spot_per_hour + c.risk_per_hour) / c.on_demand_per_hour : 0;
  if (l.spot_available_since.has_value()) {
    c.available_for = now - *l.spot_available_since;
    c.returned = c.available_for >= return_after;
  }
  c.detail = absl::StrFormat(
      "spot %.1f%% cheaper than on-demand after the risk of an interruption (%.1f%% over the "
      "horizon, $%.4f a fallback; at least %.0f%% needed)",
      100 * c.discount, 100 * p, fallback_cost, 100 * min_discount);
  if (l.spot_available_since.has_value()) {
    c.detail += absl::StrFormat("; available again for %.0f min (at least %.0f min needed)",
                                absl::ToDoubleMinutes(c.available_for),
                                absl::ToDoubleMinutes(return_after));
  }
  return c;
}

}  // namespace shadowplane::planner
