// Monitoring against a real Prometheus (label e2e): the server, three agents and a reservation
// whose shadow syncs every second, scraped every second.
// Everything runs with TLS (the certificates' expiry is a metric an alert reads).
// The alert rules (deploy/prometheus/alerts.yml): promtool accepts them; every expression
// evaluates, names only metrics that the server or the agents expose, and hides no missing series
// behind a constant; and with the shadow's agent gone, ShadowplaneShadowStale is seen firing
// through Prometheus' API.
// The dashboard's panels are checked on the demo's live metrics (tests/deploy/demo_test.cc).
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"
#include "support/metric_names.h"
#include "support/prometheus_server.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

const std::string kRules = std::string(SHADOWPLANE_SOURCE_DIR) + "/deploy/prometheus/alerts.yml";

using testing::ExposedMetrics;
using testing::MetricsIn;

class MonitoringTest : public testing::ControlPlaneTest {
 protected:
  // With TLS, as deployed: the certificates' expiry is among the metrics the alerts read.
  void SetUp() override {
    tls_ = true;
    ControlPlaneTest::SetUp();
  }
  // Every metric family exposed by the server and the agents.
  std::set<std::string> Exposed() {
    std::vector<int> ports = {metrics_port_};
    for (const auto& [location, agent] : agents_) ports.push_back(agent->metrics_port());
    return ExposedMetrics(ports);
  }

  std::unique_ptr<testing::PrometheusServer> StartPrometheus() {
    std::vector<std::string> agents;
    for (const auto& [location, agent] : agents_) {
      agents.push_back(absl::StrCat("127.0.0.1:", agent->metrics_port()));
    }
    auto prometheus = testing::PrometheusServer::Start(
        {{"shadowplane", {absl::StrCat("127.0.0.1:", metrics_port_)}},
         {"shadowplane-agent", agents}},
        {kRules});
    EXPECT_TRUE(prometheus.ok()) << prometheus.status();
    if (!prometheus.ok()) return nullptr;
    // Every target scraped once.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto up = (*prometheus)->Query("sum(up)");
      if (up.ok() && up->values_size() == 1 &&
          up->values(0).struct_value().fields().at("value").list_value().values(1).string_value() ==
              "4") {
        break;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return *std::move(prometheus);
  }
};

TEST_F(MonitoringTest, EveryAlertEvaluatesOnLiveMetricsAndAStaleShadowFires) {
  const testing::RunResult checked =
      testing::RunToCompletion({"/usr/bin/promtool", "check", "rules", kRules});
  ASSERT_EQ(checked.exit_code, 0) << checked.output;

  pb::ReserveRequest request = Request("watched");
  request.set_shadow_sync_interval_seconds(1);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(request, &r).ok()) << server_->Output();
  std::unique_ptr<testing::PrometheusServer> prometheus = StartPrometheus();
  ASSERT_NE(prometheus, nullptr);

  const std::set<std::string> exposed = Exposed();
  const YAML::Node rules = YAML::LoadFile(kRules);
  int alerts = 0;
  for (const YAML::Node& group : rules["groups"]) {
    for (const YAML::Node& rule : group["rules"]) {
      const std::string name = rule["alert"].as<std::string>();
      const std::string expr = rule["expr"].as<std::string>();
      ++alerts;
      EXPECT_TRUE(rule["annotations"]["runbook"]) << name << " names its runbook";
      EXPECT_FALSE(absl::StrContains(expr, "vector(")) << name << " hides a missing series";
      const std::set<std::string> metrics = MetricsIn(expr);
      EXPECT_FALSE(metrics.empty()) << name;
      for (const std::string& metric : metrics) {
        EXPECT_EQ(exposed.count(metric), 1u)
            << name << " reads " << metric << ", which neither the server nor an agent exposes";
      }
      absl::StatusOr<google::protobuf::ListValue> result = prometheus->Query(expr);
      EXPECT_TRUE(result.ok()) << name << ": " << result.status();
    }
  }
  EXPECT_GE(alerts, 10);

  // Synced (the alert's metric is there and small), then the shadow's agent goes: its rounds
  // fail, the shadow falls behind, the alert fires.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto stalest = [&]() -> double {
    auto v = prometheus->Query("max(shadowplane_shadow_staleness_intervals_max)");
    if (!v.ok() || v->values_size() == 0) return -1;
    double d = -1;
    (void)absl::SimpleAtod(
        v->values(0).struct_value().fields().at("value").list_value().values(1).string_value(), &d);
    return d;
  };
  while ((stalest() < 0 || stalest() > 5) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GE(stalest(), 0) << "the shadow's staleness is scraped";
  deadline = absl::Now() + absl::Seconds(30);
  pb::Reservation now;
  while ((!GetReservation(r.id(), &now).ok() || !now.has_last_synced_at()) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(now.has_last_synced_at()) << "the shadow synced once";
  agents_.at(r.shadow().location())->Kill();
  deadline = absl::Now() + absl::Seconds(60);
  bool firing = false;
  while (!firing && absl::Now() < deadline) {
    absl::StatusOr<google::protobuf::Struct> answer = prometheus->Api("alerts", {});
    ASSERT_TRUE(answer.ok()) << answer.status();
    for (const auto& alert :
         answer->fields().at("data").struct_value().fields().at("alerts").list_value().values()) {
      const auto& f = alert.struct_value().fields();
      if (f.at("labels").struct_value().fields().at("alertname").string_value() ==
              "ShadowplaneShadowStale" &&
          f.at("state").string_value() == "firing") {
        firing = true;
      }
    }
    if (!firing) absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_TRUE(firing) << "ShadowplaneShadowStale never fired; stalest shadow " << stalest()
                      << " intervals behind";
}

}  // namespace
}  // namespace shadowplane
