// Known events against a real PostgreSQL (label pg): registration and its bad input, ended events
// measured and their uplift learned, Predict applying learned and given uplifts to points,
// quantiles and sample paths, and past events taken out of the history models are fitted to.
#include "forecast/known_events.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "forecast/event_measurer.h"
#include "forecast/event_registry.h"
#include "forecast/forecast_scorer.h"
#include "forecast/predictor.h"
#include "forecast/seasonal_naive.h"
#include "gtest/gtest.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "support/test_database.h"

namespace shadowplane::forecast {
namespace {

constexpr char kShop[] = "bbbbbbbb-0000-4000-8000-000000000001";
constexpr char kOther[] = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr char kUnknown[] = "bbbbbbbb-0000-4000-8000-0000000000ff";
const absl::Time kHour = absl::FromUnixSeconds(1796558400);
const absl::Time kNow = kHour + absl::Minutes(20);
constexpr double kCampaignUplift = 2.0;
// Past campaigns of kShop (hours relative to kHour, 10 hours each): the last one a week before
// the hours 5..14 from now, where a weekly model would repeat it.
const int kCampaigns[] = {-500, -330, -163};

int64_t NowHour() { return absl::ToUnixSeconds(kHour) / 3600; }

// A daily pattern with a little deterministic noise.
double Pattern(int64_t unix_hour) {
  return std::lround(40 + 30 * std::sin(2 * M_PI * (unix_hour % 24) / 24.0)) +
         static_cast<double>(unix_hour * 2654435761u % 5) - 2;
}

bool InCampaign(int64_t unix_hour) {
  for (int c : kCampaigns) {
    if (unix_hour >= NowHour() + c && unix_hour < NowHour() + c + 10) return true;
  }
  return false;
}

class KnownEventsTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(SeedRegion("eu", 50, 8).ok());
    ASSERT_TRUE(SeedRegion("us", 39, -77).ok());
    for (const char* id : {kShop, kOther}) ASSERT_TRUE(SeedResource(id).ok());
    ASSERT_TRUE(pool_
                    ->Run("seeding",
                          [&](pqxx::connection& conn) -> absl::Status {
                            pqxx::work txn(conn);
                            // Four weeks: kShop from eu (the pattern) and us (20 an hour), both
                            // doubled during its campaigns; kOther from eu, no campaigns.
                            for (int64_t h = NowHour() - 28 * 24; h < NowHour(); ++h) {
                              const double k = InCampaign(h) ? kCampaignUplift : 1;
                              txn.exec_params(
                                  "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                  "requests, clients_hll) VALUES ($1::uuid, 'eu', $2::timestamptz, "
                                  "$3, ''), ($1::uuid, 'us', $2::timestamptz, $4, ''), "
                                  "($5::uuid, 'eu', $2::timestamptz, $6, '')",
                                  kShop, store::ToSqlTime(absl::FromUnixSeconds(h * 3600)),
                                  std::lround(k * Pattern(h)), std::lround(k * 20), kOther,
                                  std::lround(Pattern(h)));
                            }
                            txn.commit();
                            return absl::OkStatus();
                          })
                    .ok());
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    forecasts_ = std::make_unique<store::ForecastRepository>(pool_.get());
    events_ = std::make_unique<store::EventRepository>(pool_.get());
    known_ = std::make_unique<KnownEvents>(events_.get());
    registry_ = std::make_unique<EventRegistry>(events_.get(), &clock_, &metrics_);
    ForecasterOptions options;
    options.stored_horizon_hours = 54;
    options.sample_paths = 20;
    forecaster_ = std::make_unique<Forecaster>(telemetry_.get(), &clock_, options, nullptr, nullptr,
                                               known_.get());
    measurer_ =
        std::make_unique<EventMeasurer>(forecaster_.get(), events_.get(), telemetry_.get(),
                                        known_.get(), &clock_, MeasurerOptions{}, &metrics_);
  }

  EventRegistration Campaign(int from_hour, int hours) {
    EventRegistration r;
    r.kind = "campaign";
    r.name = "winter sale";
    r.resource_ids = {kShop};
    r.starts_at = kHour + absl::Hours(from_hour);
    r.ends_at = kHour + absl::Hours(from_hour + hours);
    return r;
  }

  absl::StatusOr<RegisteredEvent> Register(const EventRegistration& r) {
    return registry_->Register(r);
  }

  std::vector<store::EventRecord> ListAll() {
    absl::StatusOr<store::EventPage> page = registry_->List(EventQuery{});
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->events : std::vector<store::EventRecord>{};
  }

  // Registers kShop's past campaigns (no uplift given) and measures them.
  void RegisterAndMeasurePastCampaigns() {
    for (int c : kCampaigns) ASSERT_TRUE(Register(Campaign(c, 10)).ok());
    auto measured = measurer_->RunOnce();
    ASSERT_TRUE(measured.ok()) << measured.status();
    ASSERT_EQ(*measured, 3);
  }

  FakeClock clock_{kNow};
  prometheus::Registry metrics_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::EventRepository> events_;
  std::unique_ptr<KnownEvents> known_;
  std::unique_ptr<EventRegistry> registry_;
  std::unique_ptr<Forecaster> forecaster_;
  std::unique_ptr<EventMeasurer> measurer_;
};

TEST_F(KnownEventsTest, BadRegistrationsNameTheFieldAndStoreNothing) {
  struct Case {
    std::function<void(EventRegistration&)> spoil;
    absl::StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.kind.clear(); }, absl::StatusCode::kInvalidArgument, "kind"},
      {[](auto& r) { r.kind = "Big Sale!"; }, absl::StatusCode::kInvalidArgument, "kind"},
      {[](auto& r) { r.name = std::string(201, 'x'); }, absl::StatusCode::kInvalidArgument, "name"},
      {[](auto& r) { r.resource_ids.clear(); }, absl::StatusCode::kInvalidArgument,
       "resource_ids or regions"},
      {[](auto& r) { r.resource_ids.push_back("shop-1"); }, absl::StatusCode::kInvalidArgument,
       "resource_ids[1]"},
      {[](auto& r) { r.resource_ids.push_back(kUnknown); }, absl::StatusCode::kNotFound,
       "resource_ids[1]"},
      {[](auto& r) {
         r.regions = {"eu", "mars"};
       },
       absl::StatusCode::kNotFound, "regions[1]"},
      {[](auto& r) { r.regions.push_back(""); }, absl::StatusCode::kInvalidArgument, "regions[0]"},
      {[](auto& r) { r.starts_at.reset(); }, absl::StatusCode::kInvalidArgument, "start_time"},
      {[](auto& r) { r.ends_at.reset(); }, absl::StatusCode::kInvalidArgument, "end_time"},
      {[](auto& r) { r.ends_at = r.starts_at; }, absl::StatusCode::kInvalidArgument, "end_time"},
      {[](auto& r) { r.ends_at = kHour - absl::Hours(30); }, absl::StatusCode::kInvalidArgument,
       "end_time"},
      {[](auto& r) { r.ends_at = kHour + absl::Hours(24 * 100); },
       absl::StatusCode::kInvalidArgument, "end_time"},
      {[](auto& r) { r.expected_uplift = -0.5; }, absl::StatusCode::kInvalidArgument,
       "expected_uplift"},
      {[](auto& r) { r.expected_uplift = NAN; }, absl::StatusCode::kInvalidArgument,
       "expected_uplift"},
      {[](auto& r) { r.expected_uplift = 5000; }, absl::StatusCode::kInvalidArgument,
       "expected_uplift"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EventRegistration r = Campaign(5, 10);
    cases[i].spoil(r);
    auto response = Register(r);
    ASSERT_FALSE(response.ok()) << "case " << i;
    EXPECT_EQ(response.status().code(), cases[i].code) << i << ": " << response.status();
    EXPECT_TRUE(absl::StartsWith(response.status().message(), cases[i].field))
        << i << ": " << response.status();
  }
  EXPECT_TRUE(ListAll().empty()) << "no half-registered event";
  // Questions about events that do not exist.
  EXPECT_EQ(registry_->Get("").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string missing = "bbbbbbbb-0000-4000-8000-00000000abcd";
  EXPECT_EQ(registry_->Get(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Delete(missing).code(), absl::StatusCode::kNotFound);
  EventQuery list;
  list.page_size = 5000;
  EXPECT_EQ(registry_->List(list).status().code(), absl::StatusCode::kInvalidArgument);
  list.page_size = 0;
  list.page_token = "garbage";
  EXPECT_EQ(registry_->List(list).status().code(), absl::StatusCode::kInvalidArgument);
  EventQuery by_resource;
  by_resource.resource_id = "shop-1";
  const absl::Status not_uuid = registry_->List(by_resource).status();
  EXPECT_EQ(not_uuid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(not_uuid.message(), "resource_id")) << not_uuid;
}

TEST_F(KnownEventsTest, RegistrationIsIdempotentAndEventsAreListedReadAndDeleted) {
  EventRegistration r = Campaign(5, 10);
  r.request_id = "launch-1";
  r.expected_uplift = 1.5;
  auto first = Register(r);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->event.expected_uplift, 1.5);
  auto again = Register(r);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->event.id, first->event.id);

  EventRegistration regional;
  regional.kind = "news";
  regional.regions = {"us"};
  regional.starts_at = kHour - absl::Hours(48);
  regional.ends_at = kHour - absl::Hours(40);
  ASSERT_TRUE(Register(regional).ok());

  // Two pages of one, by start: the news first.
  EventQuery list;
  list.page_size = 1;
  absl::StatusOr<store::EventPage> page1 = registry_->List(list);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->events.size(), 1u);
  EXPECT_EQ(page1->events[0].kind, "news");
  ASSERT_FALSE(page1->next.empty());
  list.page_token = page1->next;
  absl::StatusOr<store::EventPage> page2 = registry_->List(list);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->events.size(), 1u);
  EXPECT_EQ(page2->events[0].id, first->event.id);
  EXPECT_TRUE(page2->next.empty());
  // Filters: kOther may be affected by the regional news only; eu demand by the campaign only.
  EventQuery filtered;
  filtered.resource_id = kOther;
  absl::StatusOr<store::EventPage> other = registry_->List(filtered);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->events.size(), 1u);
  EXPECT_EQ(other->events[0].kind, "news");
  filtered.resource_id.clear();
  filtered.region = "eu";
  absl::StatusOr<store::EventPage> eu = registry_->List(filtered);
  ASSERT_TRUE(eu.ok());
  ASSERT_EQ(eu->events.size(), 1u);
  EXPECT_EQ(eu->events[0].kind, "campaign");

  ASSERT_TRUE(registry_->Delete(first->event.id).ok());
  EXPECT_EQ(registry_->Get(first->event.id).status().code(), absl::StatusCode::kNotFound);
  const std::string metrics = prometheus::TextSerializer().Serialize(metrics_.Collect());
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_events_registered_total{uplift=\"given\"} 1"))
      << metrics;
}

TEST_F(KnownEventsTest, EndedEventsAreMeasuredAndACampaignUpliftIsLearned) {
  // Before any is measured, nothing is known about campaigns.
  auto unknown = known_->LearnedFor("campaign", kShop);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->source, "unknown");
  EXPECT_EQ(unknown->uplift, 1);
  // An event still running is not measured.
  ASSERT_TRUE(Register(Campaign(-3, 10)).ok());
  RegisterAndMeasurePastCampaigns();
  EXPECT_EQ(*measurer_->RunOnce(), 0) << "each event is measured once";

  const std::vector<store::EventRecord> all = ListAll();
  ASSERT_EQ(all.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<EventWithOutcomes> e = registry_->Get(all[i].id);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->event.measured_at.has_value());
    ASSERT_EQ(e->outcomes.size(), 1u);
    EXPECT_EQ(e->outcomes[0].resource_id, kShop);
    EXPECT_EQ(e->outcomes[0].hours, 10);
    EXPECT_NEAR(e->outcomes[0].actual / e->outcomes[0].baseline, kCampaignUplift, 0.25)
        << "campaign " << i;
  }
  EXPECT_FALSE(all[3].measured_at.has_value()) << "still running";

  auto learned = known_->LearnedFor("campaign", kShop);
  ASSERT_TRUE(learned.ok());
  EXPECT_EQ(learned->source, "learned_resource");
  EXPECT_EQ(learned->outcomes, 3);
  EXPECT_NEAR(learned->uplift, kCampaignUplift, 0.2);
  // Another resource has no campaigns of its own: it learns from everyone's.
  auto fleet = known_->LearnedFor("campaign", kOther);
  ASSERT_TRUE(fleet.ok());
  EXPECT_EQ(fleet->source, "learned_fleet");
  EXPECT_NEAR(fleet->uplift, learned->uplift, 1e-12);
  EXPECT_EQ(known_->LearnedFor("news", kShop)->source, "unknown");
  const std::string metrics = prometheus::TextSerializer().Serialize(metrics_.Collect());
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_events_measured_total 3")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_event_uplift_count 3"));
}

TEST_F(KnownEventsTest, PredictAppliesLearnedAndGivenUpliftsToPointsQuantilesAndPaths) {
  RegisterAndMeasurePastCampaigns();
  auto coming = Register(Campaign(5, 10));  // hours 5..14 from now, uplift learned
  ASSERT_TRUE(coming.ok());
  EventRegistration news;  // us only, x1.5, hours 20..21
  news.kind = "news";
  news.resource_ids = {kShop};
  news.regions = {"us"};
  news.expected_uplift = 1.5;
  news.starts_at = kHour + absl::Hours(20);
  news.ends_at = kHour + absl::Hours(22);
  ASSERT_TRUE(Register(news).ok());

  Predictor predictor(forecaster_.get(), forecasts_.get(), telemetry_.get(), &clock_,
                      PredictorOptions{}, nullptr, nullptr, nullptr, known_.get());
  PredictQuery request;
  request.resource_id = kShop;
  request.horizon_hours = 24;
  request.sample_paths = 5;
  absl::StatusOr<Prediction> with = predictor.Predict(request);
  ASSERT_TRUE(with.ok()) << with.status();
  ASSERT_EQ(with->events.size(), 2u);
  const ResolvedEvent& campaign = with->events[0];
  EXPECT_EQ(campaign.record.id, coming->event.id);
  EXPECT_EQ(campaign.uplift_source, "learned_resource");
  EXPECT_EQ(campaign.outcomes, 3);
  EXPECT_NEAR(campaign.effect.uplift, kCampaignUplift, 0.2);
  EXPECT_EQ(with->events[1].uplift_source, "given");
  EXPECT_EQ(with->events[1].effect.uplift, 1.5);

  const double u = campaign.effect.uplift;
  ASSERT_EQ(with->regions.size(), 2u);
  const SeriesPrediction &eu = with->regions[0], &us = with->regions[1], &total = with->total;
  ASSERT_EQ(total.baseline_values.size(), 24u);
  for (int h = 0; h < 24; ++h) {
    const double k = h >= 5 && h < 15 ? u : 1;
    EXPECT_NEAR(eu.values[h], k * eu.baseline_values[h], 1e-9) << h;
    const double k_us = k * (h >= 20 && h < 22 ? 1.5 : 1);
    EXPECT_NEAR(us.values[h], k_us * us.baseline_values[h], 1e-9) << h;
    // The total gains what us gained from the news, and the campaign's factor.
    EXPECT_NEAR(total.values[h],
                k * total.baseline_values[h] + (k_us / k - 1) * k * us.baseline_values[h], 1e-6)
        << h;
  }
  // Quantiles and paths moved like the point forecast: compare with the event deleted (the same
  // stored computation served again).
  ASSERT_TRUE(registry_->Delete(coming->event.id).ok());
  absl::StatusOr<Prediction> without = predictor.Predict(request);
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->computed_now);
  ASSERT_EQ(without->events.size(), 1u);
  ASSERT_TRUE(without->regions[0].baseline_values.empty()) << "eu: no event changes it now";
  const SeriesPrediction& eu0 = without->regions[0];
  for (int h = 0; h < 24; ++h) EXPECT_NEAR(eu0.values[h], eu.baseline_values[h], 1e-9);
  ASSERT_EQ(eu.quantiles.size(), eu0.quantiles.size());
  for (size_t q = 0; q < eu.quantiles.size(); ++q) {
    for (int h : {3, 8}) {
      const double k = h >= 5 && h < 15 ? u : 1;
      EXPECT_NEAR(eu.quantiles[q].values[h], k * eu0.quantiles[q].values[h], 1e-6);
    }
  }
  ASSERT_EQ(with->sample_paths, 5);
  ASSERT_EQ(eu.sample_paths.size(), eu0.sample_paths.size());
  const int hours = with->paths_hours;
  for (int p = 0; p < 5; ++p) {
    for (int h : {2, 9}) {
      const double k = h >= 5 && h < 15 ? u : 1;
      EXPECT_NEAR(eu.sample_paths[p * hours + h], k * eu0.sample_paths[p * hours + h],
                  1e-3 * (1 + std::abs(eu.sample_paths[p * hours + h])));
    }
  }
}

TEST_F(KnownEventsTest, PastEventsAreTakenOutOfTheHistoryTheModelsAreFittedTo) {
  RegisterAndMeasurePastCampaigns();
  // Seasonal naive 168 repeats last week: its campaign (hours -163..-154) lands on hours 5..14.
  auto weekly = [](int) {
    std::vector<std::unique_ptr<ForecastModel>> c;
    c.push_back(std::make_unique<SeasonalNaive>(168));
    return c;
  };
  ForecasterOptions options;
  options.stored_horizon_hours = 24;
  Forecaster cleaned(telemetry_.get(), &clock_, options, nullptr, weekly, known_.get());
  Forecaster raw(telemetry_.get(), &clock_, options, nullptr, weekly);
  auto with = cleaned.Compute(kShop, {}, absl::InfiniteFuture());
  auto without = raw.Compute(kShop, {}, absl::InfiniteFuture());
  ASSERT_TRUE(with.ok() && without.ok());
  const store::ForecastRecord& eu = with->records[0];
  const store::ForecastRecord& eu_raw = without->records[0];
  ASSERT_EQ(eu.origin_region, "eu");
  for (int h = 5; h < 15; ++h) {
    const double usual = Pattern(NowHour() + h - 168);
    EXPECT_NEAR(eu_raw.values[h], kCampaignUplift * usual, 1) << "the campaign repeated, " << h;
    EXPECT_NEAR(eu.values[h], usual, 0.2 * usual + 2) << "the usual demand, " << h;
  }
  for (int h = 15; h < 24; ++h) EXPECT_DOUBLE_EQ(eu.values[h], eu_raw.values[h]);
}

TEST_F(KnownEventsTest, ForecastsAreScoredAsPredictServedThemWithEventsApplied) {
  // The past campaigns were announced with their uplift: the forecast is fitted without them.
  for (int c : kCampaigns) {
    EventRegistration past = Campaign(c, 10);
    past.expected_uplift = kCampaignUplift;
    ASSERT_TRUE(Register(past).ok());
  }
  auto computed = forecaster_->Compute(kShop, {}, absl::InfiniteFuture());
  ASSERT_TRUE(computed.ok()) << computed.status();
  ASSERT_TRUE(StoreComputation(*forecasts_, *computed).ok());
  EventRegistration sale = Campaign(0, 24);
  sale.kind = "sale";
  sale.expected_uplift = 2;
  ASSERT_TRUE(Register(sale).ok());
  // The day happens as announced: twice the usual demand from both regions.
  ASSERT_TRUE(pool_
                  ->Run("the sale",
                        [&](pqxx::connection& conn) -> absl::Status {
                          pqxx::work txn(conn);
                          for (int64_t h = NowHour(); h < NowHour() + 24; ++h) {
                            txn.exec_params(
                                "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                "requests, clients_hll) VALUES ($1::uuid, 'eu', $2::timestamptz, "
                                "$3, ''), ($1::uuid, 'us', $2::timestamptz, 40, '')",
                                kShop, store::ToSqlTime(absl::FromUnixSeconds(h * 3600)),
                                std::lround(2 * Pattern(h)));
                          }
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  clock_.Advance(absl::Hours(25));
  ForecastScorer scorer(forecasts_.get(), telemetry_.get(), &clock_, ScorerOptions{}, nullptr,
                        known_.get());
  auto scored = scorer.RunOnce();
  ASSERT_TRUE(scored.ok()) << scored.status();
  EXPECT_EQ(*scored, 3);
  auto realized = forecasts_->Realized(kShop, kHour - absl::Hours(1));
  ASSERT_TRUE(realized.ok());
  ASSERT_EQ(realized->size(), 3u);
  for (const store::RealizedAccuracy& a : *realized) {
    // Scored without the event, every hour would be off by half: sMAPE about 67.
    EXPECT_LT(a.mean_smape, 20) << a.origin_region;
    EXPECT_GT(a.coverage_95, 0.5) << a.origin_region;
  }
}

}  // namespace
}  // namespace shadowplane::forecast
