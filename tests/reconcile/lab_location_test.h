// The reconcilers' fixture (label e2e, on the test database): one location, "lab" in region
// "eu", run by a real agent, the schema migrated, one live resource (kLabResource), and the local
// compute provider over the agent.
#ifndef SHADOWPLANE_TESTS_RECONCILE_LAB_LOCATION_TEST_H_
#define SHADOWPLANE_TESTS_RECONCILE_LAB_LOCATION_TEST_H_

#include <filesystem>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "gtest/gtest.h"
#include "providers/compute/local/local_compute_provider.h"
#include "store/embedded_migrations.h"
#include "store/inventory_store.h"
#include "store/migration_runner.h"
#include "support/agent_under_test.h"
#include "support/test_database.h"

namespace shadowplane::testing {

// The live resource the fixture records.
inline constexpr char kLabResource[] = "6f1c1f0e-9d39-4d6b-a5c1-0c8b7d0d2a11";

class LabLocationTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = MakeTempDir("sp-lab");
    agent_ = std::make_unique<AgentUnderTest>(SHADOWPLANE_AGENT_BIN, root_, "lab");
    ASSERT_TRUE(agent_->Start().ok());
    pqxx::connection conn(db_->url());
    auto migrations = store::ParseMigrations(store::EmbeddedMigrationFiles());
    ASSERT_TRUE(migrations.ok());
    ASSERT_TRUE(store::ApplyMigrations(conn, *migrations).ok());
    pqxx::work txn(conn);
    const std::string now = "'2026-11-29T00:00:00Z'";
    txn.exec("INSERT INTO regions (name, latitude, longitude, updated_at) VALUES ('eu', 50, 8, " +
             now + ")");
    txn.exec_params(
        "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
        "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, capacity_millicores, "
        "capacity_memory_mib, updated_at) VALUES ('lab', 'eu', 50, 8, $1, 0.04, 0.005, 4000, "
        "4096, " +
            now + ")",
        agent_->endpoint());
    txn.exec(std::string("INSERT INTO resources (id, name, created_at) VALUES ('") + kLabResource +
             "', 'live', " + now + ")");
    txn.commit();
    pool_ =
        std::make_unique<store::ConnectionPool>(store::ConnectionPoolOptions{db_->url()}, nullptr);
    inventory_ = std::make_unique<store::InventoryStore>(pool_.get());
    providers::ComputeProviderContext context;
    context.location_endpoint = [this](const std::string& location) {
      return inventory_->AgentEndpoint(location);
    };
    context.call_timeout = call_timeout_;
    compute_ = std::make_unique<providers::LocalComputeProvider>(context);
  }

  void TearDown() override {
    agent_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  absl::Duration call_timeout_ = absl::Seconds(15);  // set before SetUp
  std::string root_;
  std::unique_ptr<AgentUnderTest> agent_;
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<store::InventoryStore> inventory_;
  std::unique_ptr<providers::LocalComputeProvider> compute_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_RECONCILE_LAB_LOCATION_TEST_H_
