#include "instance/instance_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "instance/client_address.h"
#include "instance/forward_auth.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::instance {

absl::StatusOr<InstanceConfig> LoadInstanceConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  try {
    const YAML::Node node = YAML::Load(text);
    InstanceConfig config;
    config.instance_id = node["instance_id"].as<std::string>();
    config.resource_id = node["resource_id"].as<std::string>();
    config.capacity.millicores = node["millicores"].as<int64_t>();
    config.capacity.memory_mib = node["memory_mib"].as<int64_t>();
    if (!ParseCapacityType(node["capacity_type"].as<std::string>(), &config.capacity.type)) {
      return absl::DataLossError(absl::StrCat(path, ": unknown capacity_type"));
    }
    config.read_only = node["read_only"].as<bool>();
    config.active = node["active"].as<bool>();
    config.address = node["address"].as<std::string>();
    config.port = node["port"].as<int>();
    // Written since traffic switching; absent from older files.
    if (node["hold_writes"]) config.hold_writes = node["hold_writes"].as<bool>();
    if (node["write_hold_ms"]) config.write_hold_ms = node["write_hold_ms"].as<int>();
    if (node["forward_writes_to"]) {
      config.forward_writes_to = node["forward_writes_to"].as<std::string>();
    }
    if (node["generation"]) config.generation = node["generation"].as<int64_t>();
    // Written since fencing; a file without them holds no lease (it takes no writes until one
    // is granted).
    if (node["epoch"]) config.epoch = node["epoch"].as<int64_t>();
    if (node["write_lease_until_ms"]) {
      config.write_lease_until_ms = node["write_lease_until_ms"].as<int64_t>();
    }
    // Written since self-monitoring.
    if (node["record_accesses"]) config.record_accesses = node["record_accesses"].as<bool>();
    if (node["trusted_proxies"]) {
      for (const YAML::Node& proxy : node["trusted_proxies"]) {
        absl::StatusOr<std::string> address = CanonicalAddress(proxy.as<std::string>());
        if (!address.ok()) {
          return absl::DataLossError(
              absl::StrCat(path, ": trusted_proxies: ", address.status().message()));
        }
        config.trusted_proxies.push_back(*std::move(address));
      }
    }
    // Written since forwarding was authenticated: each a secret, or absent.
    for (auto [name, field] : {std::pair{"forward_secret", &config.forward_secret},
                               std::pair{"agent_key", &config.agent_key}}) {
      if (!node[name]) continue;
      *field = node[name].as<std::string>();
      if (!field->empty() && !IsSecret(*field)) {
        return absl::DataLossError(absl::StrCat(path, ": ", name, " is not 64 hex digits"));
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(absl::StrCat(path, " is not a valid instance config: ", e.what()));
  }
}

absl::Status SaveInstanceConfig(const InstanceConfig& config, const std::string& path) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "instance_id" << YAML::Value << config.instance_id;
  out << YAML::Key << "resource_id" << YAML::Value << config.resource_id;
  out << YAML::Key << "millicores" << YAML::Value << config.capacity.millicores;
  out << YAML::Key << "memory_mib" << YAML::Value << config.capacity.memory_mib;
  out << YAML::Key << "capacity_type" << YAML::Value << CapacityTypeName(config.capacity.type);
  out << YAML::Key << "read_only" << YAML::Value << config.read_only;
  out << YAML::Key << "active" << YAML::Value << config.active;
  out << YAML::Key << "address" << YAML::Value << config.address;
  out << YAML::Key << "port" << YAML::Value << config.port;
  out << YAML::Key << "hold_writes" << YAML::Value << config.hold_writes;
  out << YAML::Key << "write_hold_ms" << YAML::Value << config.write_hold_ms;
  out << YAML::Key << "forward_writes_to" << YAML::Value << config.forward_writes_to;
  out << YAML::Key << "generation" << YAML::Value << config.generation;
  out << YAML::Key << "epoch" << YAML::Value << config.epoch;
  out << YAML::Key << "write_lease_until_ms" << YAML::Value << config.write_lease_until_ms;
  out << YAML::Key << "record_accesses" << YAML::Value << config.record_accesses;
  out << YAML::Key << "trusted_proxies" << YAML::Value << YAML::Flow << config.trusted_proxies;
  out << YAML::Key << "forward_secret" << YAML::Value << config.forward_secret;
  out << YAML::Key << "agent_key" << YAML::Value << config.agent_key;
  out << YAML::EndMap;
  return WriteFileAtomically(path, std::string(out.c_str()) + "\n", 0600);
}

int WorkerThreadsFor(const Capacity& capacity) {
  return static_cast<int>(std::clamp<int64_t>(capacity.millicores / 250, 1, 64));
}

double RequestsPerSecondFor(const Capacity& capacity) {
  return static_cast<double>(std::max<int64_t>(capacity.millicores, 1));
}

}  // namespace shadowplane::instance
