#include "forecast/event_effects.h"

#include <algorithm>
#include <cmath>

namespace shadowplane::forecast {

namespace {

constexpr char kTotal[] = "total";

bool Affects(const DemandEvent& e, const std::string& region) {
  return std::find(e.regions.begin(), e.regions.end(), region) != e.regions.end();
}

// Per hour: the factor of the resource-wide events, and per series that of the regional ones
// (1 for the total, which takes the regional ones through its regions).
struct Factors {
  std::vector<double> all;
  std::vector<std::vector<double>> regional;
  bool any = false;
};

Factors FactorsOf(const std::vector<DemandEvent>& events, const SeriesSet& series) {
  size_t hours = 0;
  for (const std::vector<double>& v : series.values) hours = std::max(hours, v.size());
  Factors f;
  f.all.assign(hours, 1.0);
  f.regional.assign(series.names.size(), std::vector<double>(hours, 1.0));
  for (const DemandEvent& e : events) {
    for (size_t h = 0; h < hours; ++h) {
      const double share = WindowShare(series.first_hour + absl::Hours(h), e.start, e.end);
      if (share <= 0) continue;
      const double factor = 1 + share * (e.uplift - 1);
      if (e.regions.empty()) {
        f.all[h] *= factor;
        f.any = true;
        continue;
      }
      for (size_t i = 0; i < series.names.size(); ++i) {
        if (series.names[i] != kTotal && Affects(e, series.names[i])) {
          f.regional[i][h] *= factor;
          f.any = true;
        }
      }
    }
  }
  return f;
}

double At(const std::vector<double>& v, size_t h) { return h < v.size() ? v[h] : 0; }

// What the regional events add to the total at hour h: sum of (regional - 1) * region.
double RegionalExtra(const Factors& f, const SeriesSet& series,
                     const std::vector<std::vector<double>>& region_values, size_t h) {
  double extra = 0;
  for (size_t i = 0; i < series.names.size(); ++i) {
    if (series.names[i] == kTotal) continue;
    extra += (f.regional[i][h] - 1) * At(region_values[i], h);
  }
  return extra;
}

}  // namespace

double WindowShare(absl::Time hour, absl::Time start, absl::Time end) {
  const absl::Time from = std::max(hour, start);
  const absl::Time to = std::min(hour + absl::Hours(1), end);
  if (to <= from) return 0;
  return absl::FDivDuration(to - from, absl::Hours(1));
}

bool AnyEffect(const std::vector<DemandEvent>& events, const SeriesSet& series) {
  return FactorsOf(events, series).any;
}

std::vector<std::vector<double>> ApplyEventEffects(const std::vector<DemandEvent>& events,
                                                   const SeriesSet& series) {
  const Factors f = FactorsOf(events, series);
  std::vector<std::vector<double>> out = series.values;
  if (!f.any) return out;
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t h = 0; h < out[i].size(); ++h) {
      if (series.names[i] == kTotal) {
        out[i][h] = f.all[h] * (series.values[i][h] + RegionalExtra(f, series, series.values, h));
      } else {
        out[i][h] *= f.all[h] * f.regional[i][h];
      }
    }
  }
  return out;
}

std::vector<std::vector<double>> RemoveEventEffects(const std::vector<DemandEvent>& events,
                                                    const SeriesSet& series) {
  const Factors f = FactorsOf(events, series);
  std::vector<std::vector<double>> out = series.values;
  if (!f.any) return out;
  // Regions first: the total's regional part is taken out with the regions' baselines.
  for (size_t i = 0; i < out.size(); ++i) {
    if (series.names[i] == kTotal) continue;
    for (size_t h = 0; h < out[i].size(); ++h) {
      const double factor = f.all[h] * f.regional[i][h];
      if (factor > 0) out[i][h] /= factor;
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (series.names[i] != kTotal) continue;
    for (size_t h = 0; h < out[i].size(); ++h) {
      const double whole = f.all[h] > 0 ? series.values[i][h] / f.all[h] : series.values[i][h];
      out[i][h] = std::max(0.0, whole - RegionalExtra(f, series, out, h));
    }
  }
  return out;
}

void ScaleLikePoint(const std::vector<double>& baseline, const std::vector<double>& adjusted,
                    std::vector<double>& quantile) {
  const size_t n = std::min({baseline.size(), adjusted.size(), quantile.size()});
  for (size_t h = 0; h < n; ++h) {
    if (baseline[h] > 0) {
      quantile[h] *= adjusted[h] / baseline[h];
    } else {
      quantile[h] += adjusted[h] - baseline[h];
    }
  }
}

EventOutcome MeasureOutcome(absl::Time start, absl::Time end, absl::Time first_hour,
                            const std::vector<double>& actual,
                            const std::vector<double>& baseline) {
  const size_t n = std::min(actual.size(), baseline.size());
  EventOutcome whole, touched;
  for (size_t h = 0; h < n; ++h) {
    const double share = WindowShare(first_hour + absl::Hours(h), start, end);
    if (share <= 0) continue;
    EventOutcome& o = share >= 1 ? whole : touched;
    ++o.hours;
    o.actual += actual[h];
    o.baseline += baseline[h];
  }
  if (whole.hours > 0) return whole;
  return touched;
}

double LearnedUplift(const std::vector<EventOutcome>& outcomes) {
  std::vector<double> ratios;
  for (const EventOutcome& o : outcomes) {
    if (o.baseline > 0 && std::isfinite(o.actual)) ratios.push_back(o.ratio());
  }
  if (ratios.empty()) return 1;
  const size_t mid = ratios.size() / 2;
  std::nth_element(ratios.begin(), ratios.begin() + mid, ratios.end());
  if (ratios.size() % 2 == 1) return ratios[mid];
  const double upper = ratios[mid];
  const double lower = *std::max_element(ratios.begin(), ratios.begin() + mid);
  return (lower + upper) / 2;
}

}  // namespace shadowplane::forecast
