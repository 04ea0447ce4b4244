#include "evaluation/spot_market.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace shadowplane::evaluation {

namespace {

// Uniform in (0, 1) from the generator's top 53 bits.
double Uniform(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) / static_cast<double>(uint64_t{1} << 53);
}

// A standard normal draw (Box-Muller, one of the pair).
double Normal(std::mt19937_64& rng) {
  const double u = Uniform(rng);
  const double v = Uniform(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}

}  // namespace

int SpotSeries::Interruptions() const {
  int runs = 0;
  for (size_t h = 0; h < interrupted.size(); ++h) {
    if (interrupted[h] && (h == 0 || !interrupted[h - 1])) ++runs;
  }
  return runs;
}

absl::StatusOr<SpotSeries> GenerateSpotMarket(const SpotMarketOptions& o, int hours,
                                              uint64_t seed) {
  if (!(o.mean_share > 0 && o.mean_share < 1)) {
    return absl::InvalidArgumentError("the mean spot share must be within (0, 1)");
  }
  if (!(o.volatility >= 0) || !(o.spikes_per_week >= 0) || !std::isfinite(o.volatility) ||
      !std::isfinite(o.spikes_per_week)) {
    return absl::InvalidArgumentError("spot volatility and spikes must be finite and >= 0");
  }
  if (!(o.reversion >= 0 && o.reversion <= 1)) {
    return absl::InvalidArgumentError("spot reversion must be within [0, 1]");
  }
  if (o.spike_min_hours < 1 || o.spike_max_hours > 168 || o.spike_min_hours > o.spike_max_hours) {
    return absl::InvalidArgumentError("spike lengths must be within [1, 168], min <= max");
  }
  if (hours < 1) return absl::InvalidArgumentError("a spot market needs at least one hour");
  std::mt19937_64 rng(seed);
  SpotSeries s;
  s.price_share.resize(static_cast<size_t>(hours));
  s.interrupted.assign(static_cast<size_t>(hours), false);
  s.availability = std::exp(-o.spikes_per_week / 7);
  const double start_chance = o.spikes_per_week / 168;
  // The walk never goes below a tenth of the mean or up to on-demand outside a spike.
  const double low = 0.1 * o.mean_share;
  const double high = 0.95;
  double share = o.mean_share;
  int spike_left = 0;
  for (int h = 0; h < hours; ++h) {
    share += o.reversion * (o.mean_share - share) + o.volatility * Normal(rng);
    share = std::clamp(share, low, high);
    if (spike_left == 0 && Uniform(rng) < start_chance) {
      const int span = o.spike_max_hours - o.spike_min_hours + 1;
      spike_left = o.spike_min_hours + static_cast<int>(Uniform(rng) * span);
    }
    if (spike_left > 0) {
      // Reclaimed: the price stands above on-demand.
      s.interrupted[static_cast<size_t>(h)] = true;
      s.price_share[static_cast<size_t>(h)] = 1.0 + 0.5 * Uniform(rng);
      --spike_left;
    } else {
      s.price_share[static_cast<size_t>(h)] = share;
    }
  }
  return s;
}

}  // namespace shadowplane::evaluation
