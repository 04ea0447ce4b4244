#include "support/prometheus_server.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace shadowplane::testing {

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::map<std::string, std::vector<std::string>>& jobs,
    const std::vector<std::string>& rule_files) {
  std::unique_ptr<PrometheusServer> p(new PrometheusServer());
  p->dir_ = MakeTempDir("shadowplane-prometheus");
  std::string config =
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n";
  if (!rule_files.empty()) {
    absl::StrAppend(&config, "rule_files:\n");
    for (const std::string& f : rule_files) absl::StrAppend(&config, "  - ", f, "\n");
  }
  absl::StrAppend(&config, "scrape_configs:\n");
  for (const auto& [job, targets] : jobs) {
    absl::StrAppend(&config, "  - job_name: ", job, "\n    static_configs:\n      - targets: ['",
                    absl::StrJoin(targets, "', '"), "']\n");
  }
  std::ofstream(p->dir_ + "/prometheus.yml") << config;
  for (int attempt = 0; attempt < 3; ++attempt) {
    p->port_ = FreePort();
    auto process = ChildProcess::Start(
        {"/usr/bin/prometheus", "--config.file=" + p->dir_ + "/prometheus.yml",
         "--storage.tsdb.path=" + p->dir_ + "/data",
         absl::StrCat("--web.listen-address=127.0.0.1:", p->port_), "--log.level=warn"});
    if (!process.ok()) return process.status();
    p->process_ = *std::move(process);
    httplib::Client client("127.0.0.1", p->port_);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline && p->process_->running()) {
      auto res = client.Get("/-/ready");
      if (res && res->status == 200) return p;
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("prometheus did not become ready: ", p->process_->Output()));
}

PrometheusServer::~PrometheusServer() {
  process_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::StatusOr<google::protobuf::Struct> PrometheusClient::Api(
    const std::string& path, const std::map<std::string, std::string>& query) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(10, 0);
  httplib::Params params(query.begin(), query.end());
  auto res = client.Get(absl::StrCat("/api/v1/", path), params, httplib::Headers{});
  if (!res) return absl::UnavailableError("prometheus did not answer");
  google::protobuf::Struct answer;
  if (!google::protobuf::util::JsonStringToMessage(res->body, &answer).ok()) {
    return absl::InternalError(absl::StrCat("not JSON: ", res->body));
  }
  if (res->status != 200) {
    return absl::InvalidArgumentError(absl::StrCat("HTTP ", res->status, ": ", res->body));
  }
  return answer;
}

absl::StatusOr<google::protobuf::ListValue> PrometheusClient::Query(const std::string& expr) {
  absl::StatusOr<google::protobuf::Struct> answer = Api("query", {{"query", expr}});
  if (!answer.ok()) return answer.status();
  const auto& fields = answer->fields();
  if (fields.count("status") == 0 || fields.at("status").string_value() != "success") {
    return absl::InvalidArgumentError(absl::StrCat("query failed: ", answer->DebugString()));
  }
  return fields.at("data").struct_value().fields().at("result").list_value();
}

}  // namespace shadowplane::testing
