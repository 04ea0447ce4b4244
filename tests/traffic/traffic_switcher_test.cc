// TrafficSwitcher in process, over a real PostgreSQL (label pg) and the fake traffic provider
// (tests/support/fake_providers.h): every switch is audited with its result and counted; a switch
// the provider refuses is recorded as failed; with the audit table unreachable nothing is switched.
// The real providers' switches are tested against Knot and HAProxy in tests/providers/.
#include "traffic/traffic_switcher.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "support/child_process.h"
#include "support/fake_providers.h"
#include "support/test_database.h"

namespace shadowplane::traffic {
namespace {

providers::Endpoint At(const std::string& address) {
  return *providers::ParseEndpoint(address, "test");
}

class TrafficSwitcherTest : public testing::MigratedDatabaseTest {
 protected:
  SwitchRequest Request(const std::string& from, const std::string& to) {
    SwitchRequest request;
    request.resource_id = "cccccccc-0000-4000-8000-000000000001";
    request.service = "shop";
    request.from = At(from);
    request.to = At(to);
    request.reason = "test";
    return request;
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeTrafficProvider provider_;
  prometheus::Registry registry_;
};

TEST_F(TrafficSwitcherTest, RecordsEverySwitchWithItsResultAndCountsIt) {
  ASSERT_TRUE(provider_.Register("shop", At("127.0.0.1:18001")).ok());
  store::TrafficSwitchRepository audit(pool_.get());
  TrafficSwitcher switcher(&provider_, &audit, &clock_, &registry_);
  auto done = switcher.Switch(Request("127.0.0.1:18001", "127.0.0.2:18002"));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_GT(done->audit_id, 0);
  EXPECT_EQ(provider_.services().at("shop").ToString(), "127.0.0.2:18002");
  // From an address the service no longer points at: refused, recorded, counted.
  SwitchRequest stale = Request("127.0.0.3:18003", "127.0.0.4:18004");
  stale.urgent = true;
  const absl::Status refused = switcher.Switch(stale).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_EQ(provider_.services().at("shop").ToString(), "127.0.0.2:18002") << "unchanged";

  auto rows = audit.ForResource(stale.resource_id, 10);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const store::TrafficSwitchRecord &failed = (*rows)[0], &ok = (*rows)[1];
  EXPECT_EQ(ok.result, "ok");
  EXPECT_EQ(ok.provider, "fake");
  EXPECT_EQ(ok.from_target, "127.0.0.1:18001");
  EXPECT_EQ(ok.to_target, "127.0.0.2:18002");
  EXPECT_FALSE(ok.urgent);
  EXPECT_TRUE(ok.finished_at.has_value());
  EXPECT_EQ(failed.result, "failed");
  EXPECT_TRUE(failed.urgent);
  EXPECT_TRUE(absl::StrContains(failed.error, "127.0.0.2:18002")) << failed.error;
  const std::string metrics = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_TRUE(absl::StrContains(
      metrics,
      "shadowplane_traffic_switches_total{provider=\"fake\",result=\"ok\",urgent=\"false\"} 1"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "result=\"failed\",urgent=\"true\"} 1")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_traffic_switch_seconds_count"));
}

TEST_F(TrafficSwitcherTest, NothingIsSwitchedWhenTheAuditRowCannotBeWritten) {
  ASSERT_TRUE(provider_.Register("shop", At("127.0.0.1:18001")).ok());
  store::ConnectionPoolOptions nowhere;
  nowhere.url = absl::StrCat("postgresql://postgres@127.0.0.1:", testing::FreePort(), "/x");
  nowhere.connect_timeout = absl::Seconds(1);
  store::ConnectionPool gone(nowhere, nullptr);
  store::TrafficSwitchRepository audit(&gone);
  TrafficSwitcher switcher(&provider_, &audit, &clock_, &registry_);
  const absl::Status s = switcher.Switch(Request("127.0.0.1:18001", "127.0.0.2:18002")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(provider_.services().at("shop").ToString(), "127.0.0.1:18001") << "not switched";
}

}  // namespace
}  // namespace shadowplane::traffic
