#include "forecast/best_location_chain.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

absl::StatusOr<std::vector<int>> BestLocations(const std::vector<RegionDemand>& regions,
                                               const std::vector<Candidate>& candidates,
                                               const geo::RttModel& rtt) {
  if (candidates.empty()) return absl::InvalidArgumentError("no candidate locations");
  if (regions.empty()) return absl::InvalidArgumentError("no origin regions");
  const size_t hours = regions[0].demand.size();
  for (const RegionDemand& r : regions) {
    if (r.demand.size() != hours) {
      return absl::InvalidArgumentError(
          absl::StrCat("region ", r.region, " has ", r.demand.size(), " hours, not ", hours));
    }
  }
  // RTT from every region to every candidate, once.
  Eigen::MatrixXd ms(regions.size(), candidates.size());
  for (size_t r = 0; r < regions.size(); ++r) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      ms(r, c) = rtt.RttMs(regions[r].region, regions[r].at, candidates[c].name, candidates[c].at);
    }
  }
  std::vector<int> best(hours, -1);
  Eigen::VectorXd demand(regions.size());
  for (size_t t = 0; t < hours; ++t) {
    bool finite = true;
    for (size_t r = 0; r < regions.size(); ++r) {
      demand[r] = regions[r].demand[t];
      finite = finite && std::isfinite(demand[r]);
    }
    if (!finite) continue;
    const Eigen::VectorXd weighted = ms.transpose() * demand;  // per candidate
    Eigen::Index at;
    weighted.minCoeff(&at);
    best[t] = static_cast<int>(at);
  }
  return best;
}

int HourOfWeek(absl::Time t) {
  const absl::CivilHour hour = absl::ToCivilHour(t, absl::UTCTimeZone());
  const int day = (static_cast<int>(absl::GetWeekday(absl::CivilDay(hour))) -
                   static_cast<int>(absl::Weekday::monday) + 7) %
                  7;
  return day * 24 + hour.hour();
}

absl::StatusOr<BestLocationChain> BestLocationChain::Fit(const std::vector<int>& states,
                                                         int num_states, absl::Time start,
                                                         double smoothing) {
  if (num_states < 1) return absl::InvalidArgumentError("a chain needs at least one state");
  for (int s : states) {
    if (s < -1 || s >= num_states) {
      return absl::InvalidArgumentError(
          absl::StrCat("state ", s, " is outside [0, ", num_states, ")"));
    }
  }
  std::vector<Eigen::MatrixXd> counts(168, Eigen::MatrixXd::Zero(num_states, num_states));
  Eigen::MatrixXd pooled = Eigen::MatrixXd::Zero(num_states, num_states);
  const int first_hour = HourOfWeek(start);
  for (size_t t = 0; t + 1 < states.size(); ++t) {
    if (states[t] < 0 || states[t + 1] < 0) continue;
    counts[(first_hour + t) % 168](states[t], states[t + 1]) += 1;
    pooled(states[t], states[t + 1]) += 1;
  }
  // Rows normalised; a row never seen becomes `fallback`'s (the identity at the end).
  auto normalise = [num_states](Eigen::MatrixXd m, const Eigen::MatrixXd& fallback) {
    for (int i = 0; i < num_states; ++i) {
      const double n = m.row(i).sum();
      if (n > 0) {
        m.row(i) /= n;
      } else {
        m.row(i) = fallback.row(i);
      }
    }
    return m;
  };
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(num_states, num_states);
  BestLocationChain chain;
  // Half a transition to every state: nothing unseen is impossible (log-loss stays finite).
  chain.pooled_ =
      normalise(pooled + Eigen::MatrixXd::Constant(num_states, num_states, 0.5), identity);
  // The same hour of the day over every day of the week: seven times the data of one hour of the
  // week, which is what each hour-of-week matrix is drawn toward.
  std::vector<Eigen::MatrixXd> daily(24, Eigen::MatrixXd::Zero(num_states, num_states));
  for (int w = 0; w < 168; ++w) daily[w % 24] += counts[w];
  for (Eigen::MatrixXd& d : daily) d = normalise(d + smoothing * chain.pooled_, chain.pooled_);
  chain.transitions_.resize(168);
  for (int w = 0; w < 168; ++w) {
    chain.transitions_[w] = normalise(counts[w] + smoothing * daily[w % 24], daily[w % 24]);
  }
  return chain;
}

Eigen::VectorXd BestLocationChain::Predict(int state, absl::Time at, int k) const {
  Eigen::RowVectorXd p = Eigen::RowVectorXd::Zero(num_states());
  p[state] = 1;
  const int w = HourOfWeek(at);
  for (int i = 0; i < k; ++i) p = p * transitions_[(w + i) % 168];
  return p.transpose();
}

std::vector<Eigen::VectorXd> HourOfWeekFrequencies(const std::vector<int>& states, int num_states,
                                                   absl::Time start) {
  std::vector<Eigen::VectorXd> f(168, Eigen::VectorXd::Ones(num_states));
  const int first_hour = HourOfWeek(start);
  for (size_t t = 0; t < states.size(); ++t) {
    if (states[t] >= 0) f[(first_hour + t) % 168][states[t]] += 1;
  }
  for (Eigen::VectorXd& v : f) v /= v.sum();
  return f;
}

Eigen::VectorXd Persistence(int state, int num_states, double epsilon) {
  Eigen::VectorXd p = Eigen::VectorXd::Constant(num_states, epsilon / num_states);
  p[state] += 1 - epsilon;
  return p;
}

double BrierScore(const Eigen::VectorXd& p, int actual) {
  double s = 0;
  for (int i = 0; i < p.size(); ++i) {
    const double d = p[i] - (i == actual ? 1 : 0);
    s += d * d;
  }
  return s;
}

double LogLoss(const Eigen::VectorXd& p, int actual) {
  return -std::log(std::max(p[actual], 1e-12));
}

}  // namespace shadowplane::forecast
