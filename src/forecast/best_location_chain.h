// Where demand is best served, as a Markov chain. At every hour the state is the candidate
// location with the lowest demand-weighted RTT to the origin regions (sum over regions of requests
// times the estimated RTT); the chain learns how the state moves from one hour of the week to the
// next (one transition matrix per hour of the week), and answers "with what
// probability is location X the best place k hours from now" as the product of the next k
// matrices (the k-step matrix power of a chain whose matrices follow the week). Each hour of the
// week is seen once a week, so its matrix is drawn toward the matrix of the same hour of the day
// over all days (seven times the data), that toward the matrix pooled over all hours, and that
// holds half a transition to every state, so that no move is impossible.
//
// Baselines for scoring: persistence (the current best stays best, with a small probability of
// each other state, fitted on the training hours) and the hour-of-week frequencies (how often each
// location was best at that hour of the week).
#ifndef SHADOWPLANE_FORECAST_BEST_LOCATION_CHAIN_H_
#define SHADOWPLANE_FORECAST_BEST_LOCATION_CHAIN_H_

#include <Eigen/Core>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/distance.h"

namespace shadowplane::forecast {

struct Candidate {
  std::string name;
  geo::Coordinates at;
};

struct RegionDemand {
  std::string region;
  geo::Coordinates at;
  std::vector<double> demand;  // hourly, aligned across regions
};

// The best candidate (index) at every hour; -1 for an hour where some region's demand is not
// finite. INVALID_ARGUMENT for no candidates, no regions or series of different lengths.
absl::StatusOr<std::vector<int>> BestLocations(const std::vector<RegionDemand>& regions,
                                               const std::vector<Candidate>& candidates,
                                               const geo::RttModel& rtt);

// Hour of the week of `t` in UTC: 0 for Monday 00:00, 167 for Sunday 23:00.
int HourOfWeek(absl::Time t);

class BestLocationChain {
 public:
  // `states[i]` is the state at `start + i` hours (-1: unknown, no transition counted);
  // `smoothing` is the weight of the hour-of-day matrix in each hour-of-week matrix, in
  // transitions.
  // INVALID_ARGUMENT for num_states < 1 or a state outside [-1, num_states).
  static absl::StatusOr<BestLocationChain> Fit(const std::vector<int>& states, int num_states,
                                               absl::Time start, double smoothing = 4.0);

  int num_states() const { return static_cast<int>(pooled_.rows()); }
  // The distribution over states `k` hours after hour `at`, when the state at `at` is `state`.
  // k = 0 is certainty of `state`. Sums to 1.
  Eigen::VectorXd Predict(int state, absl::Time at, int k) const;
  // The matrix from hour-of-week `w` to the next.
  const Eigen::MatrixXd& transition(int w) const { return transitions_[w]; }

 private:
  std::vector<Eigen::MatrixXd> transitions_;  // 168
  Eigen::MatrixXd pooled_;
};

// How often each state was best at each hour of the week (Laplace-smoothed): [hour of week] ->
// distribution.
std::vector<Eigen::VectorXd> HourOfWeekFrequencies(const std::vector<int>& states, int num_states,
                                                   absl::Time start);

// Persistence: 1 - epsilon on `state`, the rest spread evenly.
Eigen::VectorXd Persistence(int state, int num_states, double epsilon);

// Scores of probabilistic predictions of a state: Brier (sum over states of squared error) and
// log-loss (natural log, probabilities floored at 1e-12).
double BrierScore(const Eigen::VectorXd& p, int actual);
double LogLoss(const Eigen::VectorXd& p, int actual);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_BEST_LOCATION_CHAIN_H_
