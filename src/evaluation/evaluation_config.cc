#include "evaluation/evaluation_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::evaluation {

namespace {

// Reads `node[key]` as a number within [low, high]; errors name the file and the key.
class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  absl::Status Number(const YAML::Node& node, const std::string& key, double low, double high,
                      double* out, bool required = true) const {
    const YAML::Node v = node[key];
    if (!v) {
      return required ? Bad(key, "is missing") : absl::OkStatus();
    }
    double d;
    try {
      d = v.as<double>();
    } catch (const YAML::Exception&) {
      return Bad(key, "is not a number");
    }
    if (!std::isfinite(d) || d < low || d > high) {
      return Bad(key, absl::StrCat("must be within [", low, ", ", high, "], got ", d));
    }
    *out = d;
    return absl::OkStatus();
  }
  absl::Status Text(const YAML::Node& node, const std::string& key, std::string* out) const {
    const YAML::Node v = node[key];
    if (!v || !v.IsScalar() || v.as<std::string>().empty() || v.as<std::string>().size() > 64) {
      return Bad(key, "must be a name of 1 to 64 characters");
    }
    *out = v.as<std::string>();
    return absl::OkStatus();
  }
  template <typename T>
  absl::Status List(const YAML::Node& node, const std::string& key, double low, double high,
                    std::vector<T>* out) const {
    const YAML::Node v = node[key];
    if (!v) return absl::OkStatus();  // the default grid stands
    if (!v.IsSequence() || v.size() == 0 || v.size() > 20) {
      return Bad(key, "must be a list of 1 to 20 numbers");
    }
    out->clear();
    for (const YAML::Node& item : v) {
      double d;
      RETURN_IF_ERROR(ReadItem(item, key, low, high, &d));
      out->push_back(static_cast<T>(d));
    }
    return absl::OkStatus();
  }
  absl::Status Bad(const std::string& key, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": ", key, " ", why));
  }

 private:
  absl::Status ReadItem(const YAML::Node& item, const std::string& key, double low, double high,
                        double* out) const {
    try {
      *out = item.as<double>();
    } catch (const YAML::Exception&) {
      return Bad(key, "holds something that is not a number");
    }
    if (!std::isfinite(*out) || *out < low || *out > high) {
      return Bad(key, absl::StrCat("values must be within [", low, ", ", high, "]"));
    }
    return absl::OkStatus();
  }

  const std::string name_;
};

// May throw yaml-cpp's exceptions (a key looked up in a scalar, a list where a number goes):
// ParseEvaluationConfig turns them into errors naming the file.
absl::StatusOr<EvaluationConfig> ParseOrThrow(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(name, ": not a mapping"));
  const Reader r(name);
  EvaluationConfig c;
  RETURN_IF_ERROR(r.Text(root, "trace", &c.trace));
  if (c.trace != "synthetic" && c.trace != "eia") return r.Bad("trace", "must be synthetic or eia");
  RETURN_IF_ERROR(r.Number(root, "requests_per_unit", 0, 1e9, &c.requests_per_unit, false));
  RETURN_IF_ERROR(r.Number(root, "bytes_per_request", 0, 1e12, &c.bytes_per_request));
  RETURN_IF_ERROR(r.Number(root, "latency_price_per_request_ms", 0, 1,
                           &c.world.prices.latency_price_per_request_ms));
  RETURN_IF_ERROR(
      r.Number(root, "delayed_request_price", 0, 1e3, &c.world.prices.delayed_request_price));
  c.world.prices.disrupted_session_price = 0;
  double dwell = c.min_dwell_hours;
  RETURN_IF_ERROR(r.Number(root, "min_dwell_hours", 0, 168, &dwell, false));
  c.min_dwell_hours = static_cast<int>(dwell);
  const YAML::Node resource = root["resource"];
  if (!resource || !resource.IsMap()) return r.Bad("resource", "is missing");
  double seed = static_cast<double>(c.seed);
  RETURN_IF_ERROR(r.Number(root, "seed", 0, 9e15, &seed, false));
  c.seed = static_cast<uint64_t>(seed);
  double millicores, memory, data, bandwidth, dirty, files = 1;
  RETURN_IF_ERROR(r.Number(resource, "millicores", 1, 1e6, &millicores));
  RETURN_IF_ERROR(r.Number(resource, "memory_mib", 1, 1e7, &memory));
  RETURN_IF_ERROR(r.Number(resource, "data_bytes", 0, 1e15, &data));
  RETURN_IF_ERROR(r.Number(resource, "bandwidth_mib_s", 0.001, 1e6, &bandwidth));
  RETURN_IF_ERROR(r.Number(resource, "dirty_bytes_per_second", 0, 1e12, &dirty));
  RETURN_IF_ERROR(r.Number(resource, "dirty_files", 0, 1e9, &files, false));
  c.world.capacity = {static_cast<int64_t>(millicores), static_cast<int64_t>(memory),
                      CapacityType::kOnDemand};
  c.world.move.data_bytes = static_cast<int64_t>(data);
  c.world.migration.bandwidth_bytes_per_second = bandwidth * (1 << 20);
  c.world.migration.dirty_bytes_per_second = dirty;
  c.world.migration.dirty_files = static_cast<int64_t>(files);
  // The planner prices a move at the freeze the simulator charges.
  c.world.move.expected_freeze_seconds =
      TimesOf(c.world.migration, c.world.move.data_bytes).freeze_seconds;
  const YAML::Node locations = root["locations"];
  if (!locations || !locations.IsSequence() || locations.size() < 1 || locations.size() > 64) {
    return r.Bad("locations", "must list 1 to 64 locations");
  }
  for (const YAML::Node& l : locations) {
    planner::LocationFacts f;
    RETURN_IF_ERROR(r.Text(l, "name", &f.name));
    f.region = f.name;
    RETURN_IF_ERROR(r.Number(l, "latitude", -90, 90, &f.at.latitude));
    RETURN_IF_ERROR(r.Number(l, "longitude", -180, 180, &f.at.longitude));
    RETURN_IF_ERROR(r.Number(l, "vcpu_hour", 1e-9, 100, &f.on_demand_price_per_vcpu_hour));
    RETURN_IF_ERROR(r.Number(l, "gib_hour", 0, 100, &f.on_demand_price_per_gib_hour));
    RETURN_IF_ERROR(r.Number(l, "electricity_kwh", 0, 100, &f.electricity_price_per_kwh));
    RETURN_IF_ERROR(r.Number(l, "watts_per_vcpu", 0, 10000, &f.power_draw_watts_per_vcpu));
    RETURN_IF_ERROR(r.Number(l, "bandwidth_gb", 0, 100, &f.bandwidth_price_per_gb));
    f.capacity_millicores = 1 << 30;
    f.capacity_memory_mib = 1 << 30;
    if (const YAML::Node spot = l["spot"]; spot) {
      if (!spot.IsMap()) return r.Bad("spot", absl::StrCat("of ", f.name, " is not a mapping"));
      SpotMarketOptions m;
      double min_hours = m.spike_min_hours, max_hours = m.spike_max_hours;
      RETURN_IF_ERROR(r.Number(spot, "mean_share", 0.01, 0.99, &m.mean_share));
      RETURN_IF_ERROR(r.Number(spot, "volatility", 0, 1, &m.volatility, false));
      RETURN_IF_ERROR(r.Number(spot, "reversion", 0, 1, &m.reversion, false));
      RETURN_IF_ERROR(r.Number(spot, "spikes_per_week", 0, 168, &m.spikes_per_week, false));
      RETURN_IF_ERROR(r.Number(spot, "spike_min_hours", 1, 168, &min_hours, false));
      RETURN_IF_ERROR(r.Number(spot, "spike_max_hours", 1, 168, &max_hours, false));
      if (min_hours > max_hours) return r.Bad("spike_min_hours", "is above spike_max_hours");
      m.spike_min_hours = static_cast<int>(min_hours);
      m.spike_max_hours = static_cast<int>(max_hours);
      c.spot_markets[f.name] = m;
    }
    if (!c.world.locations.emplace(f.name, f).second) {
      return r.Bad("locations", absl::StrCat("name ", f.name, " twice"));
    }
  }
  if (const YAML::Node regions = root["eia_regions"]; regions) {
    if (!regions.IsSequence() || regions.size() > 64) {
      return r.Bad("eia_regions", "must list at most 64 regions");
    }
    for (const YAML::Node& g : regions) {
      EiaRegion e;
      RETURN_IF_ERROR(r.Text(g, "name", &e.name));
      RETURN_IF_ERROR(r.Number(g, "latitude", -90, 90, &e.latitude));
      RETURN_IF_ERROR(r.Number(g, "longitude", -180, 180, &e.longitude));
      c.eia_regions.push_back(e);
    }
  }
  if (c.trace == "eia" && c.eia_regions.empty()) return r.Bad("eia_regions", "is missing");
  if (const YAML::Node tuning = root["tuning"]; tuning) {
    if (const YAML::Node reactive = tuning["reactive"]; reactive) {
      RETURN_IF_ERROR(r.List(reactive, "window_hours", 1, 168, &c.reactive_windows));
      RETURN_IF_ERROR(r.List(reactive, "hysteresis_relative", 0, 1, &c.reactive_margins));
    }
    if (const YAML::Node predictive = tuning["predictive"]; predictive) {
      RETURN_IF_ERROR(r.List(predictive, "horizon_hours", 1, 168, &c.predictive_horizons));
      RETURN_IF_ERROR(r.List(predictive, "migration_threshold", 0, 1, &c.predictive_thresholds));
    }
  }
  return c;
}

}  // namespace

absl::StatusOr<EvaluationConfig> ParseEvaluationConfig(const std::string& yaml,
                                                       const std::string& name) {
  try {
    return ParseOrThrow(yaml, name);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", e.what()));
  }
}

absl::Status AddSpotMarkets(EvaluationConfig& config, int hours) {
  for (const auto& [name, options] : config.spot_markets) {
    ASSIGN_OR_RETURN(config.world.spot[name],
                     GenerateSpotMarket(options, hours, Fnv1a64(name, config.seed)));
  }
  return absl::OkStatus();
}

absl::StatusOr<EvaluationConfig> LoadEvaluationConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat("evaluation configuration ", path, " is absent"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseEvaluationConfig(text.str(), path);
}

}  // namespace shadowplane::evaluation
