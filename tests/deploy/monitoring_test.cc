// Monitoring against a real Prometheus (label e2e): the server, three agents and a reservation
// whose shadow syncs every second, scraped every second.
// The alert rules (deploy/prometheus/alerts.yml): promtool accepts them; every expression
// evaluates, names only metrics that the server or the agents expose, and hides no missing series
// behind a constant; and with the shadow's agent gone, ShadowplaneShadowStale is seen firing
// through Prometheus' API.
// The dashboard (deploy/grafana/shadowplane.json): Grafana's dashboard model (schema version,
// unique panel ids, grid positions that fit and do not overlap, the data source variable used by
// every panel), and every panel's query returns data from the live metrics under the same rules.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"
#include "support/prometheus_server.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

const std::string kRules = std::string(SHADOWPLANE_SOURCE_DIR) + "/deploy/prometheus/alerts.yml";
const std::string kDashboard =
    std::string(SHADOWPLANE_SOURCE_DIR) + "/deploy/grafana/shadowplane.json";

// The metric names an expression reads (a histogram's _sum, _count and _bucket as the histogram).
std::set<std::string> MetricsIn(const std::string& expr) {
  // Label names (in `by (...)`, `without (...)`, `on (...)` and matchers) are not metrics.
  static const std::regex kLabels(
      "\\{[^}]*\\}|\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  const std::string names = std::regex_replace(expr, kLabels, " ");
  std::set<std::string> out;
  static const std::regex kName("\\b((shadowplane|grpc)_[a-z0-9_]+|up)\\b");
  for (auto it = std::sregex_iterator(names.begin(), names.end(), kName);
       it != std::sregex_iterator(); ++it) {
    const std::string text = it->str();
    absl::string_view name = text;
    for (const char* suffix : {"_sum", "_count", "_bucket"}) {
      if (absl::ConsumeSuffix(&name, suffix)) break;
    }
    out.insert(std::string(name));
  }
  return out;
}

class MonitoringTest : public testing::ControlPlaneTest {
 protected:
  // Every metric family exposed by the server and the agents.
  std::set<std::string> ExposedMetrics() {
    std::vector<int> ports = {metrics_port_};
    for (const auto& [location, agent] : agents_) ports.push_back(agent->metrics_port());
    std::set<std::string> out = {"up"};  // Prometheus' own, for every target
    for (int port : ports) {
      httplib::Client client("127.0.0.1", port);
      auto res = client.Get("/metrics");
      EXPECT_TRUE(res && res->status == 200) << "metrics on port " << port;
      if (!res) continue;
      static const std::regex kType("# TYPE ([a-zA-Z0-9_:]+) ");
      for (auto it = std::sregex_iterator(res->body.begin(), res->body.end(), kType);
           it != std::sregex_iterator(); ++it) {
        out.insert((*it)[1].str());
      }
    }
    return out;
  }

  // The metrics of the README's table (## Metrics): the names a panel may read that appear only
  // once their event happened (a traffic switch, a judged move, a fleet forecast).
  static std::set<std::string> DocumentedMetrics() {
    std::ifstream in(std::string(SHADOWPLANE_SOURCE_DIR) + "/README.md");
    std::set<std::string> out;
    static const std::regex kRow("^\\| `([a-z_:]+)` \\|");
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, kRow)) out.insert(m[1].str());
    }
    return out;
  }

  // What a query must not do: hide a missing series behind a constant, or read a metric that the
  // server and agents do not expose (nor, with `documented`, the README's table). True when every
  // metric it reads is exposed now.
  bool ExpectReadsOnlyKnownMetrics(const std::string& what, const std::string& expr,
                                   const std::set<std::string>& exposed,
                                   const std::set<std::string>& documented = {}) {
    EXPECT_FALSE(absl::StrContains(expr, "vector(")) << what << " hides a missing series";
    const std::set<std::string> metrics = MetricsIn(expr);
    EXPECT_FALSE(metrics.empty()) << what;
    bool all_exposed = true;
    for (const std::string& metric : metrics) {
      if (exposed.count(metric) == 1) continue;
      all_exposed = false;
      EXPECT_EQ(documented.count(metric), 1u)
          << what << " reads " << metric << ", which neither the server nor an agent exposes"
          << (documented.empty() ? "" : " and the README does not document");
    }
    return all_exposed;
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

  const std::set<std::string> exposed = ExposedMetrics();
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

TEST_F(MonitoringTest, TheDashboardIsAGrafanaModelAndEveryPanelQueriesLiveMetrics) {
  std::ifstream in(kDashboard);
  ASSERT_TRUE(in) << kDashboard;
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  google::protobuf::Struct dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &dashboard).ok());
  const auto& d = dashboard.fields();
  EXPECT_GE(d.at("schemaVersion").number_value(), 36) << "Grafana 9 or later";
  EXPECT_FALSE(d.at("uid").string_value().empty());
  EXPECT_FALSE(d.at("title").string_value().empty());
  bool has_variable = false;
  for (const auto& v :
       d.at("templating").struct_value().fields().at("list").list_value().values()) {
    const auto& f = v.struct_value().fields();
    has_variable |= f.at("name").string_value() == "datasource" &&
                    f.at("type").string_value() == "datasource" &&
                    f.at("query").string_value() == "prometheus";
  }
  EXPECT_TRUE(has_variable) << "a Prometheus data source variable named datasource";

  // Reservations, accesses and calls, so that the panels have something to show.
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("dashboard"), &r).ok()) << server_->Output();
  int status = 0;
  for (int i = 0; i < 20; ++i) Fetch(r.primary().endpoint(), "/index.html", &status);
  std::unique_ptr<testing::PrometheusServer> prometheus = StartPrometheus();
  ASSERT_NE(prometheus, nullptr);
  const std::set<std::string> exposed = ExposedMetrics();
  const std::set<std::string> documented = DocumentedMetrics();
  ASSERT_GT(documented.size(), 100u);
  absl::SleepFor(absl::Seconds(3));  // rates need two scrapes in their window

  std::set<int> ids;
  struct Box {
    int x, y, w, h;
    std::string title;
  };
  std::vector<Box> boxes;
  int queries = 0, answered = 0;
  std::vector<std::string> empty, later;
  for (const auto& v : d.at("panels").list_value().values()) {
    const auto& p = v.struct_value().fields();
    const std::string title = p.at("title").string_value();
    EXPECT_TRUE(ids.insert(static_cast<int>(p.at("id").number_value())).second)
        << "panel id of " << title << " is unique";
    const auto& g = p.at("gridPos").struct_value().fields();
    Box b{static_cast<int>(g.at("x").number_value()), static_cast<int>(g.at("y").number_value()),
          static_cast<int>(g.at("w").number_value()), static_cast<int>(g.at("h").number_value()),
          title};
    EXPECT_TRUE(b.x >= 0 && b.y >= 0 && b.w > 0 && b.h > 0 && b.x + b.w <= 24) << title;
    for (const Box& o : boxes) {
      const bool overlap = b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h;
      EXPECT_FALSE(overlap) << title << " overlaps " << o.title;
    }
    boxes.push_back(b);
    if (p.at("type").string_value() == "row") continue;
    EXPECT_EQ(p.at("datasource").struct_value().fields().at("uid").string_value(), "${datasource}")
        << title;
    const auto& targets = p.at("targets").list_value().values();
    EXPECT_GT(targets.size(), 0) << title;
    for (const auto& t : targets) {
      const std::string expr = t.struct_value().fields().at("expr").string_value();
      ++queries;
      const bool live = ExpectReadsOnlyKnownMetrics(title, expr, exposed, documented);
      absl::StatusOr<google::protobuf::ListValue> result = prometheus->Query(expr);
      EXPECT_TRUE(result.ok()) << title << ": " << expr << ": " << result.status();
      // What is exposed now shows now (a series appearing only with its first event cannot).
      if (live && result.ok() && result->values_size() == 0) {
        empty.push_back(title + ": " + expr);
      }
      answered += live ? 1 : 0;
      if (!live) later.push_back(title);
    }
  }
  EXPECT_GE(queries, 30);
  EXPECT_GE(answered, queries * 2 / 3) << "most panels read metrics exposed from the start";
  std::cout << queries << " panel queries, " << answered
            << " on metrics exposed now; the others' first series come with their first event: "
            << absl::StrJoin(later, "; ") << std::endl;
  EXPECT_TRUE(empty.empty()) << "queries that returned no data:\n" << absl::StrJoin(empty, "\n");
}

}  // namespace
}  // namespace shadowplane
