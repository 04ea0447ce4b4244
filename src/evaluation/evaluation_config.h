// The committed configuration of a trace-driven evaluation (bench/evaluation/*.yaml): the
// candidate locations and their prices, the price of latency, the resource, the trace's source
// and scale, the planner's dwell, and the grids `reactive` and `predictive` are tuned over on the
// training part. Fixed before anything is scored, so that results cannot be tuned by changing it.
//
//   trace: synthetic | eia            synthetic: forecast/synthetic_trace.h DefaultTraceProfile;
//                                     eia: one CSV per region in the EIA folder (eia_regions)
//   requests_per_unit: 1              a trace value times this is requests per hour
//   bytes_per_request: 20000
//   latency_price_per_request_ms: 2.0e-6
//   delayed_request_price: 0.001
//   seed: 20261207                    the spot markets' seed
//   resource: {millicores, memory_mib, data_bytes,
//              bandwidth_mib_s, dirty_bytes_per_second, dirty_files}   how moves run (MoveModel;
//                                     the write freeze from the default freeze model)
//   min_dwell_hours: 2
//   locations: [{name, latitude, longitude, vcpu_hour, gib_hour, electricity_kwh,
//                watts_per_vcpu, bandwidth_gb,
//                spot: {mean_share, volatility, reversion, spikes_per_week,   (optional:
//                       spike_min_hours, spike_max_hours}}, ...]              SpotMarketOptions)
//   eia_regions: [{name, latitude, longitude}, ...]          (trace: eia)
//   tuning: {reactive: {window_hours: [...], hysteresis_relative: [...]},
//            predictive: {horizon_hours: [...], migration_threshold: [...]}}
#ifndef SHADOWPLANE_EVALUATION_EVALUATION_CONFIG_H_
#define SHADOWPLANE_EVALUATION_EVALUATION_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/cost_table.h"
#include "evaluation/spot_market.h"

namespace shadowplane::evaluation {

struct EiaRegion {
  std::string name;
  double latitude = 0, longitude = 0;
};

struct EvaluationConfig {
  std::string trace = "synthetic";
  double requests_per_unit = 1;
  double bytes_per_request = 0;
  int min_dwell_hours = 2;
  uint64_t seed = 20261207;
  // The locations, prices and resource; the origins' places are added from the trace, the spot
  // markets by AddSpotMarkets.
  World world;
  std::map<std::string, SpotMarketOptions> spot_markets;
  std::vector<EiaRegion> eia_regions;
  std::vector<int> reactive_windows = {6};
  std::vector<double> reactive_margins = {0.05};
  std::vector<int> predictive_horizons = {24};
  std::vector<double> predictive_thresholds = {0.8};
};

// INVALID_ARGUMENT naming the file and the key for anything missing, malformed, negative or not
// finite; NOT_FOUND when the file is absent.
absl::StatusOr<EvaluationConfig> LoadEvaluationConfig(const std::string& path);
absl::StatusOr<EvaluationConfig> ParseEvaluationConfig(const std::string& yaml,
                                                       const std::string& name);

// Generates each configured spot market over `hours` into config.world.spot, seeded by the
// configuration's seed and the location's name.
absl::Status AddSpotMarkets(EvaluationConfig& config, int hours);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_EVALUATION_CONFIG_H_
