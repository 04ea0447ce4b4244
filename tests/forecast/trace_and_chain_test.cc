// The synthetic global trace and the best-location Markov chain.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "forecast/best_location_chain.h"
#include "forecast/synthetic_trace.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

TraceProfile Short() {
  TraceProfile p = DefaultTraceProfile();
  p.hours = 4 * 7 * 24;
  return p;
}

TEST(SyntheticTraceTest, IsDeterministicForASeed) {
  auto a = GenerateTrace(Short()), b = GenerateTrace(Short());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->demand, b->demand);
  ASSERT_EQ(a->campaigns.size(), b->campaigns.size());
  for (size_t i = 0; i < a->campaigns.size(); ++i) {
    EXPECT_EQ(a->campaigns[i].start, b->campaigns[i].start);
    EXPECT_EQ(a->campaigns[i].uplift, b->campaigns[i].uplift);
  }
  TraceProfile other = Short();
  other.seed = 7;
  auto c = GenerateTrace(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->demand, c->demand);
  // Pinned values: a change to the generator shows here (and in every result built on it).
  EXPECT_EQ(a->demand.size(), 5u);
  EXPECT_EQ(a->demand[0].size(), 4u * 7 * 24);
  EXPECT_GT(a->campaigns.size(), 0u);
}

TEST(SyntheticTraceTest, FollowsEachRegionsLocalDay) {
  TraceProfile p = Short();
  p.campaigns_per_region_month = 0;
  auto t = GenerateTrace(p);
  ASSERT_TRUE(t.ok());
  for (size_t r = 0; r < t->regions.size(); ++r) {
    std::vector<double> by_local_hour(24, 0);
    for (int h = 0; h < t->hours; ++h) {
      by_local_hour[((h + t->regions[r].utc_offset_hours) % 24 + 24) % 24] += t->demand[r][h];
    }
    const int peak =
        std::max_element(by_local_hour.begin(), by_local_hour.end()) - by_local_hour.begin();
    EXPECT_GE(peak, 12) << t->regions[r].name;
    EXPECT_LE(peak, 18) << t->regions[r].name;  // the afternoon (a flat top, 14-17)
  }
}

TEST(SyntheticTraceTest, CampaignsRaiseDemandInTheirWindow) {
  auto with = GenerateTrace(Short());
  TraceProfile p = Short();
  ASSERT_TRUE(with.ok());
  int announced = 0;
  for (const TraceCampaign& c : with->campaigns) {
    EXPECT_GE(c.uplift, p.campaign_min_uplift);
    EXPECT_LE(c.uplift, p.campaign_max_uplift);
    EXPECT_GE(c.hours, p.campaign_min_hours);
    announced += c.announced;
  }
  EXPECT_GT(announced, 0);
  EXPECT_LT(announced, static_cast<int>(with->campaigns.size()));
}

TEST(SyntheticTraceTest, WritesAndReadsTheEiaFormat) {
  auto t = GenerateTrace(Short());
  ASSERT_TRUE(t.ok());
  const std::string dir = ::testing::TempDir() + "/trace";
  ASSERT_TRUE(WriteTraceCsv(*t, dir).ok());
  auto read = ReadDemandCsv(dir + "/eu-central.csv");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->start, t->start);
  ASSERT_EQ(read->values.size(), static_cast<size_t>(t->hours));
  for (int h = 0; h < t->hours; h += 97) EXPECT_NEAR(read->values[h], t->demand[2][h], 1e-3);
  EXPECT_EQ(ReadDemandCsv(dir + "/nowhere.csv").status().code(), absl::StatusCode::kNotFound);
  // Malformed files are refused, naming the file and line.
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"header.csv", "when,value\n"},
           {"row.csv", "date_time,raw demand (MW),cleaned demand (MW)\n2025-01-06 00:00:00,1\n"},
           {"order.csv",
            "date_time,raw demand (MW),cleaned demand (MW)\n2025-01-06 01:00:00,1,1\n"
            "2025-01-06 00:00:00,1,1\n"},
           {"empty.csv", "date_time,raw demand (MW),cleaned demand (MW)\n"},
           // Found by bench/fuzz's demand_csv: a row 18,000 years on asked for 2.5 GB of gap.
           {"far.csv",
            "date_time,raw demand (MW),cleaned demand (MW)\n2019-01-01 00:00:00,1,1\n"
            "20119-01-01 01:00:00,1,1\n"}}) {
    std::ofstream(dir + "/" + name) << text;
    const absl::Status s = ReadDemandCsv(dir + "/" + name).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_TRUE(absl::StrContains(s.message(), name)) << s;
  }
  // A missing hour is kept as NaN.
  std::ofstream(dir + "/gap.csv") << "date_time,raw demand (MW),cleaned demand (MW)\n"
                                     "2025-01-06 00:00:00,1,1\n2025-01-06 02:00:00,3,3\n";
  auto gap = ReadDemandCsv(dir + "/gap.csv");
  ASSERT_TRUE(gap.ok());
  ASSERT_EQ(gap->values.size(), 3u);
  EXPECT_TRUE(std::isnan(gap->values[1]));
  std::filesystem::remove_all(dir);
}

TEST(SyntheticTraceTest, RefusesProfilesThatCannotMakeATrace) {
  TraceProfile p = Short();
  p.daily_amplitude = 0.9;  // with the evening shoulder, demand would go negative
  EXPECT_EQ(GenerateTrace(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Short();
  p.regions.clear();
  EXPECT_EQ(GenerateTrace(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Short();
  p.start += absl::Minutes(30);
  EXPECT_EQ(GenerateTrace(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BestLocationTest, TheLocationNearestMostDemandWins) {
  const geo::Coordinates frankfurt{50.1, 8.7}, virginia{38.9, -77.4};
  std::vector<RegionDemand> regions = {{"eu", frankfurt, {10, 1, NAN}},
                                       {"us", virginia, {1, 10, 5}}};
  std::vector<Candidate> candidates = {{"fra", frankfurt}, {"iad", virginia}};
  auto best = BestLocations(regions, candidates, geo::RttModel());
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(*best, (std::vector<int>{0, 1, -1}));
  regions[1].demand.pop_back();
  EXPECT_EQ(BestLocations(regions, candidates, geo::RttModel()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BestLocations(regions, {}, geo::RttModel()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BestLocationChainTest, MatchesAHandComputedChain) {
  // Three weeks from Monday 00:00: in the first two, state 1 for the first 12 hours of the week
  // and 0 after; in the third, 0 throughout.
  const absl::Time monday = absl::FromCivil(absl::CivilHour(2025, 1, 6, 0), absl::UTCTimeZone());
  std::vector<int> states(3 * 168 + 1, 0);
  for (int t = 0; t < 2 * 168; ++t) states[t] = t % 168 < 12 ? 1 : 0;
  auto chain = BestLocationChain::Fit(states, 2, monday, /*smoothing=*/0);
  ASSERT_TRUE(chain.ok());
  // Hour 10 -> 11: 1 -> 1 twice, 0 -> 0 once. Hour 11 -> 12: 1 -> 0 twice, 0 -> 0 once.
  EXPECT_EQ(chain->transition(10), (Eigen::MatrixXd(2, 2) << 1, 0, 0, 1).finished());
  EXPECT_EQ(chain->transition(11), (Eigen::MatrixXd(2, 2) << 1, 0, 1, 0).finished());
  const absl::Time ten = monday + absl::Hours(10);
  EXPECT_EQ(chain->Predict(1, ten, 1), (Eigen::VectorXd(2) << 0, 1).finished());
  EXPECT_EQ(chain->Predict(1, ten, 2), (Eigen::VectorXd(2) << 1, 0).finished());
  EXPECT_EQ(chain->Predict(1, ten, 0), (Eigen::VectorXd(2) << 0, 1).finished());
  // With smoothing every row is a distribution, and so is every k-step prediction.
  auto smooth = BestLocationChain::Fit(states, 2, monday, 4.0);
  ASSERT_TRUE(smooth.ok());
  for (int k = 1; k <= 200; k += 13) {
    const Eigen::VectorXd p = smooth->Predict(0, monday + absl::Hours(167), k);
    EXPECT_NEAR(p.sum(), 1, 1e-12) << k;
    EXPECT_GE(p.minCoeff(), 0);
  }
  EXPECT_EQ(BestLocationChain::Fit({0, 2}, 2, monday).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BestLocationChainTest, OneCandidateIsCertain) {
  const absl::Time monday = absl::FromCivil(absl::CivilHour(2025, 1, 6, 0), absl::UTCTimeZone());
  auto chain = BestLocationChain::Fit(std::vector<int>(500, 0), 1, monday);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->Predict(0, monday, 24)[0], 1.0);
}

TEST(BestLocationChainTest, ScoresAndBaselines) {
  const Eigen::VectorXd p = (Eigen::VectorXd(2) << 0.7, 0.3).finished();
  EXPECT_NEAR(BrierScore(p, 0), 0.18, 1e-12);
  EXPECT_NEAR(LogLoss(p, 1), -std::log(0.3), 1e-12);
  const Eigen::VectorXd stay = Persistence(1, 3, 0.06);
  EXPECT_NEAR(stay.sum(), 1, 1e-12);
  EXPECT_NEAR(stay[1], 0.96, 1e-12);
  EXPECT_EQ(HourOfWeek(absl::FromCivil(absl::CivilHour(2025, 1, 12, 23), absl::UTCTimeZone())),
            167);
  const auto freq = HourOfWeekFrequencies(
      {1, 1, 0}, 2, absl::FromCivil(absl::CivilHour(2025, 1, 6, 0), absl::UTCTimeZone()));
  EXPECT_NEAR(freq[0][1], 2.0 / 3, 1e-12);  // one sighting plus Laplace's one each
}

}  // namespace
}  // namespace shadowplane::forecast

#include "forecast/location_outlook.h"

namespace shadowplane::forecast {
namespace {

store::LocationCatalog TwoContinents() {
  store::LocationCatalog c;
  c.regions = {{"eu", "", 50.1, 8.7, {}}, {"us", "", 38.9, -77.4, {}}};
  store::LocationRecord fra, iad;
  fra.name = "fra";
  fra.region = "eu";
  fra.latitude = 50.1;
  fra.longitude = 8.7;
  iad.name = "iad";
  iad.region = "us";
  iad.latitude = 38.9;
  iad.longitude = -77.4;
  c.locations = {fra, iad};
  return c;
}

TEST(LocationOutlookTest, CandidatesFollowThePlacement) {
  const store::LocationCatalog catalog = TwoContinents();
  auto names = [](const std::vector<store::LocationRecord>& l) {
    std::vector<std::string> out;
    for (const auto& r : l) out.push_back(r.name);
    return out;
  };
  EXPECT_EQ(names(*CandidateLocations("", catalog)), (std::vector<std::string>{"fra", "iad"}));
  EXPECT_EQ(names(*CandidateLocations(R"({"locations":["iad"]})", catalog)),
            std::vector<std::string>{"iad"});
  EXPECT_EQ(names(*CandidateLocations(R"({"regions":["eu"]})", catalog)),
            std::vector<std::string>{"fra"});
  // Both: these locations and every location in these regions, as the constraint says.
  EXPECT_EQ(names(*CandidateLocations(R"({"locations":["iad"],"regions":["eu"]})", catalog)),
            (std::vector<std::string>{"fra", "iad"}));
  EXPECT_EQ(CandidateLocations("{not json", catalog).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LocationOutlookTest, FollowsTheSunAndOneCandidateIsCertain) {
  const store::LocationCatalog catalog = TwoContinents();
  // Four weeks: eu busy 06-17 UTC, us busy 14-01 UTC.
  HourlyHistory h;
  h.first_hour = absl::FromCivil(absl::CivilHour(2025, 1, 6, 0), absl::UTCTimeZone());
  const int hours = 4 * 168;
  std::vector<double> eu(hours), us(hours);
  for (int t = 0; t < hours; ++t) {
    eu[t] = (t % 24 >= 6 && t % 24 < 17) ? 100 : 5;
    us[t] = (t % 24 >= 14 || t % 24 < 1) ? 100 : 5;
  }
  h.regions = {{"eu", eu}, {"us", us}};
  auto outlook = OutlookFor(h, catalog.locations, catalog, 24);
  ASSERT_TRUE(outlook.ok()) << outlook.status();
  EXPECT_EQ(outlook->best_now, "iad");  // the last hour, 23:00 UTC, is the US evening
  for (int k = 1; k <= 24; ++k) {
    EXPECT_NEAR(outlook->probability[0][k - 1] + outlook->probability[1][k - 1], 1, 1e-12);
  }
  // At 10:00 UTC (k = 11 from 23:00) Frankfurt is best every day.
  EXPECT_GT(outlook->probability[0][10], 0.9);
  EXPECT_LT(outlook->probability[0][0], 0.1);
  // Measured round-trip times override the distances: with Europe measured far from Frankfurt
  // (a bad route) and near Virginia, Virginia is best in the European day too.
  geo::RttModel measured;
  measured.SetMeasured("eu", "fra", 400);
  measured.SetMeasured("eu", "iad", 20);
  auto rerouted = OutlookFor(h, catalog.locations, catalog, 24, measured);
  ASSERT_TRUE(rerouted.ok()) << rerouted.status();
  EXPECT_LT(rerouted->probability[0][10], 0.1);
  auto single = OutlookFor(h, {catalog.locations[1]}, catalog, 5);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->probability, std::vector<std::vector<double>>{std::vector<double>(5, 1.0)});
  EXPECT_EQ(OutlookFor(h, {}, catalog, 5).status().code(), absl::StatusCode::kFailedPrecondition);
  HourlyHistory unknown;
  unknown.first_hour = h.first_hour;
  unknown.regions = {{"mars", eu}};
  EXPECT_EQ(OutlookFor(unknown, catalog.locations, catalog, 5).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace shadowplane::forecast
