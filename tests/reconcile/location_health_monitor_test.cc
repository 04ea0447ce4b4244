// A location's health over its real agent (label e2e, on the test database): lost only once its
// agent and every instance recorded there stayed unreachable for the loss timeout, then recovering
// when the agent answers again, and usable only after the recovery period without a break. Time
// is the monitor's injected clock; the agent is really killed and started again.
#include "reconcile/location_health_monitor.h"

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "planner/location_facts.h"
#include "planner/placement.h"
#include "reconcile/lab_location_test.h"

namespace shadowplane::reconcile {
namespace {

constexpr const char* kResource = testing::kLabResource;
constexpr char kInstance[] = "7a2d3e4f-1b2c-4d5e-8f90-a1b2c3d4e5f6";

class LocationHealthMonitorTest : public testing::LabLocationTest {
 protected:
  void SetUp() override {
    call_timeout_ = absl::Seconds(2);
    LabLocationTest::SetUp();
    if (HasFatalFailure()) return;
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
  }

  std::unique_ptr<LocationHealthMonitor> Monitor() {
    LocationHealthOptions options;
    options.loss_timeout = absl::Seconds(30);
    options.recovery = absl::Minutes(5);
    options.probe_timeout = absl::Milliseconds(500);
    options.now = [this] { return now_; };
    return std::make_unique<LocationHealthMonitor>(locations_.get(), inventory_.get(),
                                                   compute_.get(), options, nullptr);
  }

  // Passes until the restarted agent is reached (the provider's channel backs off after its
  // failures, for about a second); the monitor's clock does not move meanwhile.
  absl::StatusOr<LocationHealthPass> RunUntilAnswering(LocationHealthMonitor& monitor) {
    absl::StatusOr<LocationHealthPass> pass;
    for (int i = 0; i < 100; ++i) {
      pass = monitor.RunOnce();
      if (!pass.ok() || pass->answering > 0) return pass;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return pass;
  }

  store::LocationRecord Lab() {
    auto l = locations_->GetLocation("lab");
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : store::LocationRecord{};
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::unique_ptr<store::LocationRepository> locations_;
};

TEST_F(LocationHealthMonitorTest, LostAfterTheTimeoutThenUsableOnlyAfterAnUnbrokenRecovery) {
  auto monitor = Monitor();
  auto pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->lost, 0);
  EXPECT_TRUE(Lab().Usable());

  agent_->Kill();
  ASSERT_TRUE(monitor->RunOnce().ok());  // the clock of its silence starts
  now_ += absl::Seconds(29);
  pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->lost, 0) << "not before the loss timeout";
  EXPECT_FALSE(Lab().lost_at.has_value());
  now_ += absl::Seconds(1);
  pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->lost, 1);
  store::LocationRecord lab = Lab();
  ASSERT_TRUE(lab.lost_at.has_value());
  EXPECT_EQ(*lab.lost_at, now_);
  EXPECT_NE(lab.lost_reason.find("agent and every instance unreachable"), std::string::npos)
      << lab.lost_reason;
  EXPECT_FALSE(lab.Usable());
  // Placement takes nothing there.
  auto catalog = locations_->LoadAll();
  ASSERT_TRUE(catalog.ok());
  planner::CatalogFacts facts = planner::FactsOf(*catalog);
  EXPECT_TRUE(facts.locations.at("lab").lost);
  planner::PlacementRequest request;
  request.capacity = {100, 64, CapacityType::kOnDemand};
  auto placed = planner::Place(request, facts.locations, facts.regions, geo::RttModel(),
                               planner::CostModel());
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kResourceExhausted) << placed.status();
  EXPECT_NE(placed.status().message().find("neither cordoned nor lost"), std::string::npos);

  // It answers again: recovering, still not usable.
  ASSERT_TRUE(agent_->Start().ok());
  now_ += absl::Minutes(1);
  pass = RunUntilAnswering(*monitor);
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->answering, 1);
  lab = Lab();
  ASSERT_TRUE(lab.healthy_since.has_value());
  EXPECT_EQ(*lab.healthy_since, now_);
  EXPECT_FALSE(lab.Usable());
  // Unreachable again within the recovery: it starts over.
  agent_->Kill();
  now_ += absl::Minutes(4);
  ASSERT_TRUE(monitor->RunOnce().ok());
  EXPECT_FALSE(Lab().healthy_since.has_value());
  EXPECT_TRUE(Lab().lost_at.has_value());
  ASSERT_TRUE(agent_->Start().ok());
  now_ += absl::Seconds(10);
  pass = RunUntilAnswering(*monitor);
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->answering, 1);
  const absl::Time recovering_since = now_;
  now_ += absl::Minutes(5) - absl::Seconds(1);
  pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->recovered, 0) << "not before an unbroken --location_recovery";
  EXPECT_FALSE(Lab().Usable());
  now_ = recovering_since + absl::Minutes(5);
  pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->recovered, 1);
  lab = Lab();
  EXPECT_FALSE(lab.lost_at.has_value());
  EXPECT_FALSE(lab.healthy_since.has_value());
  EXPECT_TRUE(lab.lost_reason.empty());
  EXPECT_TRUE(lab.Usable());
}

// The agent is down but an instance recorded there still serves: not a lost location (the
// primary's lease decides about it).
TEST_F(LocationHealthMonitorTest, AnAgentDownWhileItsInstancesServeIsNotALostLocation) {
  providers::InstanceSpec spec;
  spec.instance_id = kInstance;
  spec.resource_id = kResource;
  spec.location = "lab";
  spec.capacity = {250, 64, CapacityType::kOnDemand};
  spec.read_only = true;
  auto created = compute_->CreateInstance(spec);
  ASSERT_TRUE(created.ok()) << created.status();
  {
    pqxx::connection conn(db_->url());
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO instances (id, resource_id, role, location, capacity_millicores, memory_mib, "
        "capacity_type, read_only, state, endpoint, created_at, updated_at) VALUES ($1::uuid, "
        "$2::uuid, 'shadow', 'lab', 250, 64, 'on_demand', true, 'running', $3, now(), now())",
        kInstance, kResource, created->endpoint);
    txn.commit();
  }
  auto monitor = Monitor();
  agent_->Kill();  // its instance process keeps running
  ASSERT_TRUE(monitor->RunOnce().ok());
  now_ += absl::Minutes(10);
  auto pass = monitor->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->lost, 0);
  EXPECT_FALSE(Lab().lost_at.has_value());
}

}  // namespace
}  // namespace shadowplane::reconcile
