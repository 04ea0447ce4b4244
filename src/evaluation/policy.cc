#include "evaluation/policy.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "forecast/intervals.h"
#include "forecast/known_events.h"
#include "planner/outlook_builder.h"
#include "planner/spot_prices.h"

namespace shadowplane::evaluation {

int MoveLog::InLastDay(int hour) const {
  return static_cast<int>(
      std::count_if(hours.begin(), hours.end(), [hour](int h) { return hour - h < 24; }));
}

absl::StatusOr<double> PolicyView::PastServe(int h, int p) const {
  if (h < 0 || h >= hour_) {
    return absl::InternalError(absl::StrCat("hour ", h, " is not in the past of hour ", hour_));
  }
  return table_->Serve(h, p).total();
}

absl::StatusOr<bool> PolicyView::Reclaimed(int h, int p) const {
  if (h < 0 || h > hour_) {
    return absl::InternalError(absl::StrCat("hour ", h, " is after hour ", hour_));
  }
  return table_->Interrupted(h, p);
}

absl::StatusOr<store::PriceHistory> PolicyView::SpotPrices(const std::string& location,
                                                           int from) const {
  const auto facts = world_->locations.find(location);
  const auto market = world_->spot.find(location);
  if (facts == world_->locations.end() || market == world_->spot.end()) {
    return absl::NotFoundError(absl::StrCat("no spot market at ", location));
  }
  const SpotSeries& m = market->second;
  store::PriceHistory out;
  for (int h = std::max(0, from); h <= hour_; ++h) {
    store::PriceRecord r;
    r.location = location;
    r.observed_at = trace_->start + absl::Hours(h);
    r.on_demand_price_per_vcpu_hour = facts->second.on_demand_price_per_vcpu_hour;
    r.on_demand_price_per_gib_hour = facts->second.on_demand_price_per_gib_hour;
    r.source = "provider";
    if (m.interrupted[static_cast<size_t>(h)]) {
      r.spot_availability = 0;  // reclaimed: no spot offered
    } else {
      r.spot_price_per_vcpu_hour =
          m.price_share[static_cast<size_t>(h)] * r.on_demand_price_per_vcpu_hour;
      r.spot_price_per_gib_hour =
          m.price_share[static_cast<size_t>(h)] * r.on_demand_price_per_gib_hour;
      r.spot_availability = m.availability;
    }
    out.observations.push_back(std::move(r));
  }
  // Back since the first hour after the last reclaim, when there was one (and it is over).
  for (int h = hour_; h >= 0; --h) {
    if (m.interrupted[static_cast<size_t>(h)]) {
      if (h < hour_) out.spot_available_since = trace_->start + absl::Hours(h + 1);
      break;
    }
  }
  return out;
}

namespace {

class Static final : public Policy {
 public:
  std::string name() const override { return "static"; }
  absl::StatusOr<int> Choose(const PolicyView& view) override { return view.at(); }
};

class Reactive final : public Policy {
 public:
  explicit Reactive(ReactiveOptions options) : options_(options) {}
  std::string name() const override { return "reactive"; }

  absl::StatusOr<int> Choose(const PolicyView& view) override {
    const int h = view.hour();
    const int at = view.at();
    if (h < options_.window_hours) return at;
    const planner::AntiFlapping& g = options_.gates;
    const MoveLog& moves = view.moves();
    if (moves.Since(h) < absl::ToInt64Hours(g.min_dwell) ||
        moves.InLastDay(h) >= g.max_moves_per_day) {
      return at;
    }
    const int n = view.costs().size();
    std::vector<double> window(static_cast<size_t>(n), 0);
    for (int p = 0; p < n; ++p) {
      for (int q = h - options_.window_hours; q < h; ++q) {
        ASSIGN_OR_RETURN(const double c, view.PastServe(q, p));
        window[static_cast<size_t>(p)] += c;
      }
    }
    int best = at;
    for (int p = 0; p < n; ++p) {
      ASSIGN_OR_RETURN(const bool reclaimed, view.Reclaimed(h, p));
      if (!reclaimed && window[static_cast<size_t>(p)] < window[static_cast<size_t>(best)]) {
        best = p;
      }
    }
    if (best == at) return at;
    // The same margin as the planner's, over the window instead of the horizon, and the move's
    // own cost (at the last hour's demand) to repay.
    const double current = window[static_cast<size_t>(at)];
    double margin = std::max(g.hysteresis_relative * current, g.hysteresis_absolute);
    const bool returning = !moves.left.empty() && moves.left.back() == best &&
                           moves.Since(h) < absl::ToInt64Hours(g.return_cooldown);
    if (returning) margin *= g.return_saving_multiple;
    const double saving =
        current - window[static_cast<size_t>(best)] - view.costs().Move(h - 1, at);
    if (saving < margin) return at;
    return best;
  }

 private:
  const ReactiveOptions options_;
};

class Predictive final : public Policy {
 public:
  Predictive(const World* world, PredictiveOptions options)
      : world_(world),
        options_(std::move(options)),
        clock_(absl::UnixEpoch()),
        forecaster_(nullptr, &clock_, ForecasterOptionsOf(options_), nullptr) {
    options_.settings.mode = planner::PlannerMode::kAuto;
  }
  std::string name() const override { return "predictive"; }
  const std::vector<MadeForecast>& forecasts() const override { return made_; }

  absl::StatusOr<int> Choose(const PolicyView& view) override {
    const int h = view.hour();
    const int at = view.at();
    if (h < options_.min_history_hours) return at;
    const absl::Time now = view.now();
    if (!fitted_at_.has_value() || h - *fitted_at_ >= options_.refit_hours) {
      RETURN_IF_ERROR(Refit(view));
      fitted_at_ = h;
    }
    const auto sums = sums_.find(now);
    if (sums == sums_.end()) return at;  // no window from this hour: stay, as the server would
    const planner::DemandOutlook demand = planner::OutlookOfSums(sums->second);
    const CostTable& table = view.costs();
    const Placement& here = table.placements()[static_cast<size_t>(at)];
    // The catalog with the published spot prices laid over it, as the planner loop reads it.
    std::map<std::string, planner::LocationFacts> locations = world_->locations;
    for (auto& [name, facts] : locations) {
      if (world_->spot.count(name) == 0) continue;
      ASSIGN_OR_RETURN(
          const store::PriceHistory prices,
          view.SpotPrices(name,
                          h - static_cast<int>(absl::ToInt64Hours(store::kPriceHistoryWindow))));
      planner::ApplyPriceHistory(prices, &facts);
    }
    planner::PlanSubject subject;
    subject.resource_id = "simulated";
    subject.current_location = here.location;
    subject.capacity = world_->capacity;
    subject.capacity.type = here.type;
    subject.wants_spot = !world_->spot.empty();
    for (const auto& [name, facts] : world_->locations) subject.allowed_locations.push_back(name);
    subject.settings = options_.settings;
    subject.move = world_->move;
    const MoveLog& moves = view.moves();
    for (size_t i = 0; i < moves.hours.size(); ++i) {
      const absl::Time t = view.trace().start + absl::Hours(moves.hours[i]);
      subject.history.migration_starts.push_back(t);
      subject.history.last_migration_finished = t;
      subject.history.left_at = t;
      subject.history.last_left_location =
          table.placements()[static_cast<size_t>(moves.left[i])].location;
    }
    planner::PlanContext context;
    context.locations = &locations;
    context.regions = &world_->regions;
    context.rtt = &world_->rtt;
    context.prices = world_->prices;
    context.max_forecast_age = absl::Hours(options_.refit_hours + 2);
    const planner::PlanDecision d = planner::Decide(subject, &demand, context, now);
    if (d.outcome != planner::PlanOutcome::kMove) return at;
    const int to = table.IndexOf(d.to_location, d.to_capacity_type);
    if (to < 0 || to == at) return at;
    return to;
  }

 private:
  static forecast::ForecasterOptions ForecasterOptionsOf(const PredictiveOptions& o) {
    forecast::ForecasterOptions f = o.forecaster;
    f.path_sums.window_hours = static_cast<int>(absl::ToInt64Hours(o.settings.horizon));
    f.path_sums.starts = o.refit_hours + 2;
    return f;
  }

  // A forecast from the trace before the current hour, as the refresher would compute it.
  absl::Status Refit(const PolicyView& view) {
    const DemandTrace& trace = view.trace();
    const int h = view.hour();
    const int history = static_cast<int>(absl::ToInt64Hours(options_.forecaster.history));
    const int from = std::max(0, h - history);
    forecast::ComputationInput in;
    in.resource_id = "simulated";
    in.now = view.now();
    in.history.first_hour = trace.start + absl::Hours(from);
    for (size_t r = 0; r < trace.regions.size(); ++r) {
      std::vector<double>& series = in.history.regions[trace.regions[r]];
      for (int p = from; p < h; ++p) {
        series.push_back(trace.requests[static_cast<size_t>(p)][r]);
      }
      if (r < trace.bytes_per_request.size()) {
        in.bytes_per_request[trace.regions[r]] = trace.bytes_per_request[r];
      }
    }
    for (int p = from; p < h; ++p) in.history.total.push_back(trace.Total(p));
    // Announced events that began before now, as Forecaster::Compute takes known events out.
    std::vector<forecast::DemandEvent> past;
    for (const forecast::DemandEvent& e : options_.announced) {
      if (e.start < in.now && e.end > in.history.first_hour) past.push_back(e);
    }
    forecast::RemoveFromHistory(past, in.history);
    ASSIGN_OR_RETURN(forecast::Computation c,
                     forecaster_.ComputeFrom(in, previous_, absl::InfiniteFuture()));
    Keep(h, c.records);
    previous_ = c.records;
    sums_.clear();
    for (store::PathSumsRecord& s : c.path_sums) sums_[s.start_hour] = std::move(s);
    return absl::OkStatus();
  }

  // The forecast of all regions together and its 80% interval, for scoring.
  void Keep(int hour, const std::vector<store::ForecastRecord>& records) {
    if (options_.scored_hours <= 0) return;
    for (const store::ForecastRecord& r : records) {
      if (r.origin_region != "total") continue;
      const size_t n = std::min(r.values.size(), static_cast<size_t>(options_.scored_hours));
      const absl::Span<const double> point(r.values.data(), n);
      forecast::ErrorProfile profile;
      profile.lead_scale = r.lead_scale;
      profile.unit_quantiles = r.unit_quantiles;
      MadeForecast f;
      f.hour = hour;
      f.point.assign(point.begin(), point.end());
      f.low80 = forecast::QuantileSeries(profile, point, 0, 0.1, forecaster_.options().intervals);
      f.high80 = forecast::QuantileSeries(profile, point, 0, 0.9, forecaster_.options().intervals);
      made_.push_back(std::move(f));
    }
  }

  const World* const world_;
  PredictiveOptions options_;
  FakeClock clock_;  // the forecaster reads time only through ComputeFrom's input
  forecast::Forecaster forecaster_;
  std::optional<int> fitted_at_;
  std::vector<store::ForecastRecord> previous_;
  std::map<absl::Time, store::PathSumsRecord> sums_;
  std::vector<MadeForecast> made_;
};

}  // namespace

std::unique_ptr<Policy> StaticPolicy() { return std::make_unique<Static>(); }

std::unique_ptr<Policy> ReactivePolicy(ReactiveOptions options) {
  return std::make_unique<Reactive>(options);
}

std::unique_ptr<Policy> PredictivePolicy(const World* world, PredictiveOptions options) {
  return std::make_unique<Predictive>(world, std::move(options));
}

}  // namespace shadowplane::evaluation
