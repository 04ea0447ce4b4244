#include "agent/instance_status_client.h"

#include <httplib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "instance/forward_auth.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::agent {

InstanceStatusClient::InstanceStatusClient(const std::string& address, int port,
                                           absl::Duration read_timeout,
                                           const std::string& agent_key)
    : client_(std::make_unique<httplib::Client>(address, port)) {
  if (!agent_key.empty()) client_->set_default_headers({{instance::kAgentKeyHeader, agent_key}});
  client_->set_connection_timeout(0, 200000);
  const int64_t read_us = absl::ToInt64Microseconds(read_timeout);
  client_->set_read_timeout(read_us / 1000000, read_us % 1000000);
  client_->set_keep_alive(true);
}

InstanceStatusClient::~InstanceStatusClient() = default;

absl::StatusOr<InstanceStatus> InstanceStatusClient::Get() {
  auto res = client_->Get("/_shadowplane/status");
  if (!res) return absl::UnavailableError("the instance does not answer");
  if (res->status != 200) {
    return absl::UnavailableError(absl::StrCat("the instance answers ", res->status));
  }
  try {
    const YAML::Node node = YAML::Load(res->body);  // JSON is YAML
    InstanceStatus status;
    status.generation = node["generation"].as<int64_t>();
    status.pid = node["pid"].as<int64_t>();
    status.requests = node["requests"].as<int64_t>();
    status.bytes_received = node["bytes_received"].as<int64_t>();
    status.bytes_sent = node["bytes_sent"].as<int64_t>();
    return status;
  } catch (const YAML::Exception& e) {
    return absl::UnavailableError(absl::StrCat("the instance's status cannot be read: ", e.what()));
  }
}

absl::StatusOr<instance::DisruptionReport> InstanceStatusClient::Disruptions(absl::Time since) {
  auto res = client_->Get(absl::StrCat("/_shadowplane/disruptions?since_us=",
                                       std::max<int64_t>(0, absl::ToUnixMicros(since))));
  if (!res) return absl::UnavailableError("the instance does not answer");
  if (res->status != 200) {
    return absl::UnavailableError(absl::StrCat("the instance answers ", res->status));
  }
  try {
    const YAML::Node node = YAML::Load(res->body);  // JSON is YAML
    instance::DisruptionReport report;
    report.truncated = node["truncated"].as<bool>();
    for (const auto& client : node["clients"]) {
      instance::ClientDisruptions& d = report.clients[client.first.as<std::string>()];
      for (int k = 0; k < instance::kDisruptionKinds; ++k) {
        const auto kind = static_cast<instance::DisruptionKind>(k);
        d[kind] = client.second[instance::DisruptionKindName(kind)].as<int64_t>();
      }
    }
    return report;
  } catch (const YAML::Exception& e) {
    return absl::UnavailableError(
        absl::StrCat("the instance's disruptions cannot be read: ", e.what()));
  }
}

bool InstanceStatusClient::ServesAs(pid_t pid) {
  absl::StatusOr<InstanceStatus> status = Get();
  return status.ok() && status->pid == pid;
}

absl::Status InstanceStatusClient::AwaitGeneration(int64_t generation, absl::Time deadline) {
  absl::Duration pause = absl::Microseconds(200);
  while (true) {
    absl::StatusOr<InstanceStatus> status = Get();
    if (status.ok() && status->generation >= generation) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("generation ", generation, " not applied",
                       status.ok() ? "" : absl::StrCat(" (", status.status().message(), ")")));
    }
    absl::SleepFor(pause);
    pause = std::min(2 * pause, absl::Milliseconds(2));
  }
}

}  // namespace shadowplane::agent
