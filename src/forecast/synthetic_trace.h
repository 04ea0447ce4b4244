// A synthetic global trace: hourly requests per origin region for regions on several continents,
// following the sun. Each region has daily and weekly cycles in its own local time (a peak in the
// afternoon, a smaller one in the evening, quieter weekends), a slow yearly swing and growth,
// multiplicative noise, and campaigns (windows of extra demand in one region; some announced
// beforehand, i.e. registered as events, some not).
//
// Seeded and deterministic: the same profile gives the same trace on every machine (the generator
// draws from std::mt19937_64 only, through its own transforms, never from distributions whose
// results vary between standard libraries). Every parameter lives in the profile; the defaults
// (DefaultTraceProfile) are the documented profile bench/README.md lists, so results cannot be
// tuned by changing the trace.
//
// Written in the format of the EIA regional demand files (`date_time,raw demand (MW),cleaned
// demand (MW)`, one file per region, hourly, UTC): every consumer reads both kinds the same way.
#ifndef SHADOWPLANE_FORECAST_SYNTHETIC_TRACE_H_
#define SHADOWPLANE_FORECAST_SYNTHETIC_TRACE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::forecast {

struct TraceRegion {
  std::string name;
  double latitude = 0, longitude = 0;
  int utc_offset_hours = 0;  // local time, for the daily and weekly cycles
  double base = 1000;        // mean requests per hour before cycles, drift and campaigns
};

struct TraceCampaign {
  std::string region;
  absl::Time start;
  int hours = 0;
  double uplift = 1;  // demand multiplier inside the window
  bool announced = false;
  std::string kind;  // "campaign" or "news"
};

struct TraceProfile {
  uint64_t seed = 20261129;
  absl::Time start;  // whole hour, UTC
  int hours = 0;
  std::vector<TraceRegion> regions;
  double daily_amplitude = 0.55;    // main daily peak, relative to the mean
  double evening_amplitude = 0.15;  // second harmonic (an evening shoulder)
  int peak_local_hour = 14;
  double weekend_factor = 0.7;     // Saturday and Sunday, local time
  double yearly_amplitude = 0.08;  // a slow swing over the year
  double growth_per_year = 0.10;
  double noise_cv = 0.06;  // multiplicative noise, coefficient of variation
  double campaigns_per_region_month = 1.5;
  int campaign_min_hours = 6, campaign_max_hours = 48;
  double campaign_min_uplift = 1.5, campaign_max_uplift = 3.0;
  double announced_share = 0.5;
};

// The documented default: five regions on four continents (us-east, us-west, eu-central,
// ap-southeast, sa-east), 26 weeks from Monday 2025-01-06 00:00 UTC.
TraceProfile DefaultTraceProfile();

struct Trace {
  absl::Time start;
  int hours = 0;
  std::vector<TraceRegion> regions;
  std::vector<std::vector<double>> demand;  // [region][hour], requests
  std::vector<TraceCampaign> campaigns;     // by start time
};

// INVALID_ARGUMENT for a profile that cannot make a trace (no regions, hours < 1, a start that is
// not a whole hour, amplitudes that could make demand negative).
absl::StatusOr<Trace> GenerateTrace(const TraceProfile& profile);

// One `<region>.csv` per region into `dir` (created), each written to a temporary name and renamed.
absl::Status WriteTraceCsv(const Trace& trace, const std::string& dir);

// An hourly demand file of either kind (the cleaned column): hour -> value, the first hour and the
// values in order. INVALID_ARGUMENT naming the file and line for a malformed row; gaps are kept as
// NaN (the caller decides).
struct DemandSeries {
  absl::Time start;
  std::vector<double> values;
};
// At most this many hours from the first row to the last (about 50 years): a row dated far
// ahead would otherwise fill the gap with that many missing hours.
inline constexpr int64_t kMaxDemandCsvHours = 50 * 8766;
absl::StatusOr<DemandSeries> ReadDemandCsv(const std::string& path);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_SYNTHETIC_TRACE_H_
