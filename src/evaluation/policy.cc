#include "evaluation/policy.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "planner/outlook_builder.h"

namespace shadowplane::evaluation {

absl::StatusOr<double> PolicyView::PastServe(int h, int l) const {
  if (h < 0 || h >= hour_) {
    return absl::InternalError(absl::StrCat("hour ", h, " is not in the past of hour ", hour_));
  }
  return table_->Serve(h, l).total();
}

namespace {

class Static final : public Policy {
 public:
  std::string name() const override { return "static"; }
  absl::StatusOr<int> Choose(const PolicyView& view) override { return view.at(); }
};

// Where the resource moved from and when, as a policy keeps it for the planner's gates.
struct Moves {
  std::vector<int> hours;
  std::vector<int> left;  // the location each move left

  int Since(int hour) const { return hours.empty() ? 1 << 30 : hour - hours.back(); }
  int InLastDay(int hour) const {
    return static_cast<int>(
        std::count_if(hours.begin(), hours.end(), [hour](int h) { return hour - h < 24; }));
  }
  void Note(int hour, int from) {
    hours.push_back(hour);
    left.push_back(from);
  }
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
    if (moves_.Since(h) < absl::ToInt64Hours(g.min_dwell) ||
        moves_.InLastDay(h) >= g.max_moves_per_day) {
      return at;
    }
    const int n = static_cast<int>(view.costs().locations().size());
    std::vector<double> window(static_cast<size_t>(n), 0);
    for (int l = 0; l < n; ++l) {
      for (int p = h - options_.window_hours; p < h; ++p) {
        ASSIGN_OR_RETURN(const double c, view.PastServe(p, l));
        window[static_cast<size_t>(l)] += c;
      }
    }
    int best = at;
    for (int l = 0; l < n; ++l) {
      if (window[static_cast<size_t>(l)] < window[static_cast<size_t>(best)]) best = l;
    }
    if (best == at) return at;
    // The same margin as the planner's, over the window instead of the horizon, and the move's
    // own cost (at the last hour's demand) to repay.
    const double current = window[static_cast<size_t>(at)];
    double margin = std::max(g.hysteresis_relative * current, g.hysteresis_absolute);
    const bool returning = !moves_.left.empty() && moves_.left.back() == best &&
                           moves_.Since(h) < absl::ToInt64Hours(g.return_cooldown);
    if (returning) margin *= g.return_saving_multiple;
    const double saving =
        current - window[static_cast<size_t>(best)] - view.costs().Move(h - 1, at);
    if (saving < margin) return at;
    moves_.Note(h, at);
    return best;
  }

 private:
  const ReactiveOptions options_;
  Moves moves_;
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
    const std::vector<std::string>& names = view.costs().locations();
    planner::PlanSubject subject;
    subject.resource_id = "simulated";
    subject.current_location = names[static_cast<size_t>(at)];
    subject.capacity = world_->capacity;
    subject.allowed_locations = names;
    subject.settings = options_.settings;
    subject.move = world_->move;
    for (size_t i = 0; i < moves_.hours.size(); ++i) {
      const absl::Time t = view.trace().start + absl::Hours(moves_.hours[i]);
      subject.history.migration_starts.push_back(t);
      subject.history.last_migration_finished = t;
      subject.history.left_at = t;
      subject.history.last_left_location = names[static_cast<size_t>(moves_.left[i])];
    }
    planner::PlanContext context;
    context.locations = &world_->locations;
    context.regions = &world_->regions;
    context.rtt = &world_->rtt;
    context.prices = world_->prices;
    context.max_forecast_age = absl::Hours(options_.refit_hours + 2);
    const planner::PlanDecision d = planner::Decide(subject, &demand, context, now);
    if (d.outcome != planner::PlanOutcome::kMove) return at;
    const int to = view.costs().IndexOf(d.to_location);
    if (to < 0 || to == at) return at;
    moves_.Note(h, at);
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
    ASSIGN_OR_RETURN(forecast::Computation c,
                     forecaster_.ComputeFrom(in, previous_, absl::InfiniteFuture()));
    previous_ = c.records;
    sums_.clear();
    for (store::PathSumsRecord& s : c.path_sums) sums_[s.start_hour] = std::move(s);
    return absl::OkStatus();
  }

  const World* const world_;
  PredictiveOptions options_;
  FakeClock clock_;  // the forecaster reads time only through ComputeFrom's input
  forecast::Forecaster forecaster_;
  std::optional<int> fitted_at_;
  std::vector<store::ForecastRecord> previous_;
  std::map<absl::Time, store::PathSumsRecord> sums_;
  Moves moves_;
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
