// An agent with instances of a live and of a vanished resource (label e2e, on the test database).
#include "reconcile/orphan_instance_reaper.h"

#include <filesystem>
#include <pqxx/pqxx>

#include "gtest/gtest.h"
#include "reconcile/lab_location_test.h"

namespace shadowplane::reconcile {
namespace {

constexpr const char* kLive = testing::kLabResource;
constexpr char kGone[] = "0b8e2b55-2f0f-4a44-9d0e-7f5d7b3e9c02";

class OrphanInstanceReaperTest : public testing::LabLocationTest {
 protected:
  providers::InstanceSpec Spec(const std::string& id, const std::string& resource) {
    providers::InstanceSpec spec;
    spec.instance_id = id;
    spec.resource_id = resource;
    spec.location = "lab";
    spec.capacity = {250, 64, CapacityType::kOnDemand};
    return spec;
  }

  OrphanReaperInputs Inputs() {
    OrphanReaperInputs inputs;
    inputs.locations = [this]() -> absl::StatusOr<std::vector<std::string>> {
      auto endpoints = inventory_->AgentEndpoints();
      if (!endpoints.ok()) return endpoints.status();
      std::vector<std::string> names;
      for (const auto& [name, endpoint] : *endpoints) names.push_back(name);
      return names;
    };
    inputs.live_resources = [this](const std::vector<std::string>& ids) {
      return inventory_->LiveResources(ids);
    };
    return inputs;
  }
};

TEST_F(OrphanInstanceReaperTest, StopsInstancesOfResourcesThatNoLongerExist) {
  ASSERT_TRUE(compute_->CreateInstance(Spec("keep-1", kLive)).ok());
  ASSERT_TRUE(compute_->CreateInstance(Spec("orphan-1", kGone)).ok());
  ASSERT_TRUE(compute_->CreateInstance(Spec("orphan-2", "not-a-uuid")).ok());

  OrphanInstanceReaper reaper(compute_.get(), Inputs(), nullptr);
  auto stopped = reaper.RunOnce();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 2);
  EXPECT_EQ(compute_->DescribeInstance("lab", "keep-1")->state,
            providers::InstanceRunState::kRunning);
  EXPECT_EQ(compute_->DescribeInstance("lab", "orphan-1")->state,
            providers::InstanceRunState::kStopped);
  // Stopped, not deleted: the data stays for a person to look at.
  EXPECT_TRUE(std::filesystem::exists(agent_->data_root() + "/instances/orphan-1/data"));

  auto again = reaper.RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0) << "a second pass finds nothing to do";

  // A resource deleted later is an orphan too.
  pqxx::connection conn(db_->url());
  pqxx::work txn(conn);
  txn.exec(std::string("UPDATE resources SET deleted_at = created_at WHERE id = '") + kLive + "'");
  txn.commit();
  EXPECT_EQ(*reaper.RunOnce(), 1);
}

TEST_F(OrphanInstanceReaperTest, UnreachableLocationIsSkippedNotFatal) {
  pqxx::connection conn(db_->url());
  pqxx::work txn(conn);
  txn.exec(
      "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
      "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, capacity_millicores, "
      "capacity_memory_mib, updated_at) VALUES ('dark', 'eu', 50, 8, '127.0.0.1:1', 0.04, 0.005, "
      "4000, 4096, '2026-11-29T00:00:00Z')");
  txn.commit();
  ASSERT_TRUE(compute_->CreateInstance(Spec("orphan-1", kGone)).ok());
  providers::ComputeProviderContext context;
  context.location_endpoint = [this](const std::string& location) {
    return inventory_->AgentEndpoint(location);
  };
  context.call_timeout = absl::Milliseconds(300);
  context.max_attempts = 1;
  providers::LocalComputeProvider compute(context);
  OrphanInstanceReaper reaper(&compute, Inputs(), nullptr);
  auto stopped = reaper.RunOnce();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 1);
}

TEST_F(OrphanInstanceReaperTest, AdvisoryLockLetsOneReplicaRunAtATime) {
  int runs = 0;
  auto outer = store::RunUnderAdvisoryLock(*pool_, 42, [&] {
    ++runs;
    // Another replica (another session) tries meanwhile and skips.
    store::ConnectionPool other({db_->url()}, nullptr);
    auto inner = store::RunUnderAdvisoryLock(other, 42, [&] {
      ++runs;
      return absl::OkStatus();
    });
    EXPECT_TRUE(inner.ok());
    EXPECT_FALSE(*inner);
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok());
  EXPECT_TRUE(*outer);
  EXPECT_EQ(runs, 1);
  auto after = store::RunUnderAdvisoryLock(*pool_, 42, [] { return absl::OkStatus(); });
  EXPECT_TRUE(*after) << "released after the run";
}

}  // namespace
}  // namespace shadowplane::reconcile
