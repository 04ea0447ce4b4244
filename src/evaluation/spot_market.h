// A spot market for the trace-driven evaluation: per candidate location, the hourly spot price as
// a share of on-demand and the hours its spot capacity is reclaimed. Spot prices drift around a
// mean discount (a mean-reverting walk); now and then demand for the capacity spikes, the price
// rises above on-demand and running spot instances are interrupted (the pre-2017 EC2 spot model,
// where a bid at the on-demand price loses the instance exactly then). So interruptions come from
// the price series, as a provider's price history shows them.
//
// Seeded and deterministic on every machine: draws come from std::mt19937_64 through the
// function's own transforms, never from std:: distributions (whose output differs between
// standard libraries).
#ifndef SHADOWPLANE_EVALUATION_SPOT_MARKET_H_
#define SHADOWPLANE_EVALUATION_SPOT_MARKET_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace shadowplane::evaluation {

struct SpotMarketOptions {
  double mean_share = 0.35;    // the mean spot price, as a share of on-demand
  double volatility = 0.03;    // the hourly noise of the share (standard deviation)
  double reversion = 0.05;     // the share of the gap to the mean closed each hour
  double spikes_per_week = 0;  // reclaims, a Poisson rate
  int spike_min_hours = 1, spike_max_hours = 6;
};

struct SpotSeries {
  std::vector<double> price_share;  // per hour; above 1 while reclaimed
  std::vector<bool> interrupted;    // spot capacity reclaimed in that hour
  // The chance that spot stays available through a day, as the provider publishes it (from the
  // rate of reclaims: exp(−spikes per day)). What the planner reads as spot availability.
  double availability = 1;

  int Interruptions() const;  // reclaims (runs of interrupted hours)
};

// INVALID_ARGUMENT for a share outside (0, 1), negative noise or rate, reversion outside [0, 1],
// spike lengths outside [1, 168] or min > max, or hours < 1.
absl::StatusOr<SpotSeries> GenerateSpotMarket(const SpotMarketOptions& options, int hours,
                                              uint64_t seed);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_SPOT_MARKET_H_
