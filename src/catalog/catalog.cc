#include "catalog/catalog.h"

#include <arpa/inet.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/capacity.h"
#include "common/status_macros.h"
#include "geo/cidr_table.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::catalog {
namespace {

absl::Status ValidateCoordinates(double latitude, double longitude) {
  if (!std::isfinite(latitude) || latitude < -90 || latitude > 90) {
    return absl::InvalidArgumentError(
        absl::StrCat("latitude must be within [-90, 90], got ", latitude));
  }
  if (!std::isfinite(longitude) || longitude < -180 || longitude > 180) {
    return absl::InvalidArgumentError(
        absl::StrCat("longitude must be within [-180, 180], got ", longitude));
  }
  return absl::OkStatus();
}

absl::Status NotNegative(double value, const char* field) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must not be negative, got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateName(const std::string& name, const std::string& field) {
  const bool ok = !name.empty() && name.size() <= 63 &&
                  (absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0])) &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", name.substr(0, 64), name.size() > 64 ? "...'" : "'",
                     " must be 1 to 63 lower-case letters, digits, '-' or '_'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegion(const store::RegionRecord& r) {
  RETURN_IF_ERROR(ValidateName(r.name, "name"));
  return ValidateCoordinates(r.latitude, r.longitude);
}

absl::Status ValidateAgentEndpoint(const std::string& endpoint) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent_endpoint '", endpoint.substr(0, 64), endpoint.size() > 64 ? "...'" : "'", " ", why,
        ": give host:port (an IPv4 address, [an IPv6 address] or a DNS name)"));
  };
  const size_t colon = endpoint.rfind(':');
  if (endpoint.size() > 300 || colon == std::string::npos || colon == 0) {
    return bad("is not host:port");
  }
  int port = 0;
  const std::string port_text = endpoint.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return bad("has no port 1-65535");
  }
  const std::string host = endpoint.substr(0, colon);
  if (host.front() == '[') {
    in6_addr a6{};
    if (host.back() != ']' ||
        inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6) != 1) {
      return bad("has no valid IPv6 address in brackets");
    }
    return absl::OkStatus();
  }
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return absl::OkStatus();
  const bool name = host.size() <= 253 && host.front() != '-' && host.front() != '.' &&
                    std::all_of(host.begin(), host.end(), [](char c) {
                      return absl::ascii_isalnum(c) || c == '-' || c == '.';
                    });
  if (!name) return bad("has a host that is neither an IP address nor a DNS name");
  // A name of digits and dots only is a malformed IPv4 address, not a name.
  if (std::all_of(host.begin(), host.end(),
                  [](char c) { return absl::ascii_isdigit(c) || c == '.'; })) {
    return bad("has a malformed IPv4 address");
  }
  return absl::OkStatus();
}

absl::Status ValidateLocation(const store::LocationRecord& l) {
  RETURN_IF_ERROR(ValidateName(l.name, "name"));
  if (!l.agent_endpoint.empty()) RETURN_IF_ERROR(ValidateAgentEndpoint(l.agent_endpoint));
  RETURN_IF_ERROR(ValidateName(l.region, "region"));
  RETURN_IF_ERROR(ValidateCoordinates(l.latitude, l.longitude));
  RETURN_IF_ERROR(NotNegative(l.on_demand_price_per_vcpu_hour, "on_demand_price_per_vcpu_hour"));
  RETURN_IF_ERROR(NotNegative(l.on_demand_price_per_gib_hour, "on_demand_price_per_gib_hour"));
  if (l.spot_price_per_vcpu_hour.has_value() != l.spot_price_per_gib_hour.has_value()) {
    return absl::InvalidArgumentError(
        "spot_price_per_vcpu_hour and spot_price_per_gib_hour go together: give both or neither");
  }
  if (l.spot_price_per_vcpu_hour) {
    RETURN_IF_ERROR(NotNegative(*l.spot_price_per_vcpu_hour, "spot_price_per_vcpu_hour"));
    RETURN_IF_ERROR(NotNegative(*l.spot_price_per_gib_hour, "spot_price_per_gib_hour"));
  }
  if (!std::isfinite(l.spot_availability) || l.spot_availability < 0 || l.spot_availability > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("spot_availability must be within [0, 1], got ", l.spot_availability));
  }
  RETURN_IF_ERROR(NotNegative(l.bandwidth_price_per_gb, "bandwidth_price_per_gb"));
  RETURN_IF_ERROR(NotNegative(l.electricity_price_per_kwh, "electricity_price_per_kwh"));
  RETURN_IF_ERROR(NotNegative(l.power_draw_watts_per_vcpu, "power_draw_watts_per_vcpu"));
  RETURN_IF_ERROR(
      ValidateCapacityValue(l.capacity_millicores, kMaxMillicores, true, "capacity_millicores"));
  RETURN_IF_ERROR(
      ValidateCapacityValue(l.capacity_memory_mib, kMaxMemoryMib, true, "capacity_memory_mib"));
  return absl::OkStatus();
}

absl::StatusOr<CatalogFile> LoadCatalogFile(const std::string& path) {
  CatalogFile file;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("locations file ", path, ": ", e.what()));
  }
  std::string where;
  try {
    for (const auto& node : root["regions"]) {
      store::RegionRecord r;
      r.name = node["name"].as<std::string>();
      where = absl::StrCat("region '", r.name, "'");
      r.display_name = node["display_name"].as<std::string>("");
      r.latitude = node["latitude"].as<double>();
      r.longitude = node["longitude"].as<double>();
      if (absl::Status s = ValidateRegion(r); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("locations file ", path, ", ", where, ": ", s.message()));
      }
      file.regions.push_back(r);
    }
    for (const auto& node : root["locations"]) {
      store::LocationRecord l;
      l.name = node["name"].as<std::string>();
      where = absl::StrCat("location '", l.name, "'");
      l.region = node["region"].as<std::string>();
      l.latitude = node["latitude"].as<double>();
      l.longitude = node["longitude"].as<double>();
      l.agent_endpoint = node["agent_endpoint"].as<std::string>("");
      l.on_demand_price_per_vcpu_hour = node["on_demand_price_per_vcpu_hour"].as<double>();
      l.on_demand_price_per_gib_hour = node["on_demand_price_per_gib_hour"].as<double>();
      if (node["spot_price_per_vcpu_hour"]) {
        l.spot_price_per_vcpu_hour = node["spot_price_per_vcpu_hour"].as<double>();
      }
      if (node["spot_price_per_gib_hour"]) {
        l.spot_price_per_gib_hour = node["spot_price_per_gib_hour"].as<double>();
      }
      l.spot_availability = node["spot_availability"].as<double>(0);
      l.bandwidth_price_per_gb = node["bandwidth_price_per_gb"].as<double>(0);
      l.electricity_price_per_kwh = node["electricity_price_per_kwh"].as<double>(0);
      l.power_draw_watts_per_vcpu = node["power_draw_watts_per_vcpu"].as<double>(0);
      l.capacity_millicores = node["capacity_millicores"].as<int64_t>();
      l.capacity_memory_mib = node["capacity_memory_mib"].as<int64_t>();
      if (absl::Status s = ValidateLocation(l); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("locations file ", path, ", ", where, ": ", s.message()));
      }
      file.locations.push_back(l);
    }
    for (const auto& node : root["measured_rtts"]) {
      MeasuredRtt m;
      m.region = node["region"].as<std::string>();
      m.location = node["location"].as<std::string>();
      where = absl::StrCat("measured RTT ", m.region, " -> ", m.location);
      m.rtt_ms = node["rtt_ms"].as<double>();
      if (!std::isfinite(m.rtt_ms) || m.rtt_ms < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("locations file ", path, ", ", where, ": rtt_ms must not be negative"));
      }
      file.measured_rtts.push_back(m);
    }
    std::vector<geo::CidrRule> rules;
    for (const auto& node : root["networks"]) {
      store::GeoNetworkRow n;
      n.network = node["cidr"].as<std::string>();
      where = absl::StrCat("network ", n.network);
      n.region = node["region"].as<std::string>();
      rules.push_back({n.network, n.region});
      file.networks.push_back(n);
    }
    if (const YAML::Node aws = root["aws_spot_mapping"]) {
      for (const auto& zone : aws["zones"]) {
        where = absl::StrCat("aws_spot_mapping zone ", zone.first.as<std::string>());
        file.aws_spot_mapping.zones[zone.first.as<std::string>()] = zone.second.as<std::string>();
      }
      for (const auto& type : aws["instance_types"]) {
        const std::string name = type.first.as<std::string>();
        where = absl::StrCat("aws_spot_mapping instance type ", name);
        InstanceTypeSpec spec;
        spec.vcpu = type.second["vcpu"].as<double>();
        spec.memory_gib = type.second["memory_gib"].as<double>();
        spec.on_demand_price_per_hour = type.second["on_demand_price_per_hour"].as<double>();
        if (!(spec.vcpu > 0) || !std::isfinite(spec.vcpu) || !(spec.memory_gib >= 0) ||
            !std::isfinite(spec.memory_gib) || !(spec.on_demand_price_per_hour > 0) ||
            !std::isfinite(spec.on_demand_price_per_hour)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "locations file ", path, ", ", where,
              ": vcpu and on_demand_price_per_hour must be finite and > 0, memory_gib >= 0"));
        }
        file.aws_spot_mapping.instance_types[name] = spec;
      }
    }
    // Malformed prefixes, host bits, one prefix given two regions: named before anything applies.
    if (absl::StatusOr<geo::CidrTable> table = geo::CidrTable::Build(rules); !table.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("locations file ", path, ", networks: ", table.status().message()));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("locations file ", path, where.empty() ? "" : ", ", where,
                     ": missing or malformed field (", e.what(), ")"));
  }
  return file;
}

absl::Status ApplyCatalogFile(const CatalogFile& file, store::LocationRepository& repository,
                              store::TelemetryRepository& telemetry, absl::Time now) {
  for (store::RegionRecord r : file.regions) {
    r.updated_at = now;
    RETURN_IF_ERROR(repository.UpsertRegion(r));
  }
  for (store::LocationRecord l : file.locations) {
    l.updated_at = now;
    absl::Status s = repository.UpsertLocation(l);
    // A region named nowhere is a mistake in the file, not something waiting will fix.
    if (absl::IsNotFound(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("locations file: location '", l.name, "': ", s.message()));
    }
    RETURN_IF_ERROR(s);
  }
  for (const store::GeoNetworkRow& n : file.networks) {
    absl::Status s = telemetry.UpsertGeoNetwork(n, now);
    if (absl::IsFailedPrecondition(s) || absl::IsNotFound(s) || absl::IsInvalidArgument(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("locations file: network ", n.network, " -> ", n.region, ": ", s.message()));
    }
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::catalog
