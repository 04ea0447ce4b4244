#include "forecast/synthetic_trace.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"

namespace shadowplane::forecast {

namespace {

// Uniform in [0, 1) from the raw generator: the same on every standard library.
class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  int Between(int lo, int hi) {  // inclusive
    return lo + std::min(hi - lo, static_cast<int>(Uniform() * (hi - lo + 1)));
  }
  double Normal() {  // Box-Muller
    const double u1 = 1.0 - Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937_64 rng_;
};

constexpr double kHoursPerYear = 365.25 * 24;

}  // namespace

TraceProfile DefaultTraceProfile() {
  TraceProfile p;
  p.start = absl::FromCivil(absl::CivilHour(2025, 1, 6, 0), absl::UTCTimeZone());  // a Monday
  p.hours = 26 * 7 * 24;
  p.regions = {
      {"us-east", 39.0, -77.5, -5, 1200}, {"us-west", 37.4, -122.0, -8, 700},
      {"eu-central", 50.1, 8.7, 1, 1000}, {"ap-southeast", 1.35, 103.8, 8, 800},
      {"sa-east", -23.5, -46.6, -3, 400},
  };
  return p;
}

absl::StatusOr<Trace> GenerateTrace(const TraceProfile& p) {
  if (p.regions.empty()) return absl::InvalidArgumentError("trace profile: no regions");
  if (p.hours < 1) return absl::InvalidArgumentError("trace profile: hours must be at least 1");
  if (p.start != absl::UnixEpoch() + absl::Floor(p.start - absl::UnixEpoch(), absl::Hours(1))) {
    return absl::InvalidArgumentError("trace profile: start must be a whole hour");
  }
  if (p.daily_amplitude + p.evening_amplitude >= 1 || p.yearly_amplitude >= 1 ||
      p.weekend_factor <= 0 || p.noise_cv < 0 || p.campaign_min_hours < 1 ||
      p.campaign_max_hours < p.campaign_min_hours || p.campaign_min_uplift < 1 ||
      p.campaign_max_uplift < p.campaign_min_uplift) {
    return absl::InvalidArgumentError(
        "trace profile: amplitudes must keep demand positive (daily + evening < 1, yearly < 1, "
        "weekend factor > 0), campaigns must last at least an hour and raise demand");
  }
  Trace t;
  t.start = p.start;
  t.hours = p.hours;
  t.regions = p.regions;
  Draw draw(p.seed);
  // Campaigns first, region by region, month by month: the noise draws below do not move them.
  const int month = 30 * 24;
  for (const TraceRegion& r : p.regions) {
    for (int m0 = 0; m0 < p.hours; m0 += month) {
      const double expected = p.campaigns_per_region_month;
      const int count =
          static_cast<int>(expected) + (draw.Uniform() < expected - std::floor(expected) ? 1 : 0);
      for (int c = 0; c < count; ++c) {
        TraceCampaign campaign;
        campaign.region = r.name;
        campaign.hours = draw.Between(p.campaign_min_hours, p.campaign_max_hours);
        const int offset = m0 + draw.Between(0, month - 1);
        campaign.start = p.start + absl::Hours(offset);
        campaign.uplift = p.campaign_min_uplift +
                          draw.Uniform() * (p.campaign_max_uplift - p.campaign_min_uplift);
        campaign.announced = draw.Uniform() < p.announced_share;
        campaign.kind = draw.Uniform() < 0.7 ? "campaign" : "news";
        if (offset < p.hours) t.campaigns.push_back(campaign);
      }
    }
  }
  std::stable_sort(
      t.campaigns.begin(), t.campaigns.end(),
      [](const TraceCampaign& a, const TraceCampaign& b) { return a.start < b.start; });
  const double sigma = std::sqrt(std::log(1 + p.noise_cv * p.noise_cv));
  t.demand.assign(p.regions.size(), std::vector<double>(p.hours));
  for (size_t i = 0; i < p.regions.size(); ++i) {
    const TraceRegion& r = p.regions[i];
    for (int h = 0; h < p.hours; ++h) {
      const absl::Time at = p.start + absl::Hours(h);
      const absl::CivilHour local =
          absl::ToCivilHour(at + absl::Hours(r.utc_offset_hours), absl::UTCTimeZone());
      const double hour = local.hour();
      const double daily =
          1 + p.daily_amplitude * std::cos(2 * M_PI * (hour - p.peak_local_hour) / 24) +
          p.evening_amplitude * std::cos(4 * M_PI * (hour - p.peak_local_hour - 6) / 24);
      const absl::Weekday day = absl::GetWeekday(absl::CivilDay(local));
      const double weekly =
          day == absl::Weekday::saturday || day == absl::Weekday::sunday ? p.weekend_factor : 1;
      const double years = absl::ToDoubleHours(at - absl::UnixEpoch()) / kHoursPerYear;
      const double yearly = 1 + p.yearly_amplitude * std::sin(2 * M_PI * years);
      const double growth = std::pow(1 + p.growth_per_year, h / kHoursPerYear);
      const double noise = std::exp(sigma * draw.Normal() - sigma * sigma / 2);
      t.demand[i][h] = r.base * daily * weekly * yearly * growth * noise;
    }
  }
  for (const TraceCampaign& c : t.campaigns) {
    const auto it = std::find_if(p.regions.begin(), p.regions.end(),
                                 [&](const TraceRegion& r) { return r.name == c.region; });
    std::vector<double>& series = t.demand[it - p.regions.begin()];
    const int first = static_cast<int>((c.start - p.start) / absl::Hours(1));
    for (int h = first; h < std::min(p.hours, first + c.hours); ++h) series[h] *= c.uplift;
  }
  return t;
}

absl::Status WriteTraceCsv(const Trace& trace, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  for (size_t i = 0; i < trace.regions.size(); ++i) {
    std::string text = "date_time,raw demand (MW),cleaned demand (MW)\n";
    for (int h = 0; h < trace.hours; ++h) {
      const std::string value = absl::StrFormat("%.3f", trace.demand[i][h]);
      absl::StrAppend(
          &text,
          absl::FormatTime("%Y-%m-%d %H:%M:%S", trace.start + absl::Hours(h), absl::UTCTimeZone()),
          ",", value, ",", value, "\n");
    }
    if (absl::Status s =
            WriteFileAtomically(absl::StrCat(dir, "/", trace.regions[i].name, ".csv"), text);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DemandSeries> ReadDemandCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, " cannot be read"));
  std::string line;
  std::getline(in, line);
  if (line.rfind("date_time,", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the header is not date_time,raw demand (MW),cleaned demand (MW)"));
  }
  DemandSeries out;
  bool first = true;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    absl::Time at;
    double value;
    std::string error;
    if (cells.size() < 3 ||
        !absl::ParseTime("%Y-%m-%d %H:%M:%S", std::string(cells[0]), absl::UTCTimeZone(), &at,
                         &error) ||
        !absl::SimpleAtod(cells[2], &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " line ", number, ": expected date_time,raw,cleaned, got \"", line, "\""));
    }
    if (first) {
      out.start = at;
      first = false;
    }
    const int64_t index = (at - out.start) / absl::Hours(1);
    if (index < static_cast<int64_t>(out.values.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", number, ": hours are not in increasing order"));
    }
    if (index >= kMaxDemandCsvHours) {
      return absl::InvalidArgumentError(absl::StrCat(path, " line ", number, ": more than ",
                                                     kMaxDemandCsvHours,
                                                     " hours after the first row"));
    }
    out.values.resize(index, std::nan(""));  // a missing hour
    out.values.push_back(value);
  }
  if (first) return absl::InvalidArgumentError(absl::StrCat(path, ": no rows"));
  return out;
}

}  // namespace shadowplane::forecast
