#include "planner/placement_constraint.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::planner {

std::string PlacementToJson(const PlacementConstraint& constraint) {
  std::string json = "{\"locations\":[";
  for (size_t i = 0; i < constraint.locations.size(); ++i) {
    if (i > 0) json += ",";
    AppendJsonString(constraint.locations[i], &json);
  }
  json += "],\"regions\":[";
  for (size_t i = 0; i < constraint.regions.size(); ++i) {
    if (i > 0) json += ",";
    AppendJsonString(constraint.regions[i], &json);
  }
  json += "],\"client_regions\":[";
  for (size_t i = 0; i < constraint.client_regions.size(); ++i) {
    if (i > 0) json += ",";
    json += "{\"region\":";
    AppendJsonString(constraint.client_regions[i].region, &json);
    absl::StrAppend(&json, ",\"weight\":", constraint.client_regions[i].weight, "}");
  }
  return json + "]}";
}

bool PlacementFromJson(const std::string& json, PlacementConstraint* constraint) {
  *constraint = PlacementConstraint();
  try {
    const YAML::Node node = YAML::Load(json);  // JSON is YAML
    for (const auto& l : node["locations"]) constraint->locations.push_back(l.as<std::string>());
    for (const auto& r : node["regions"]) constraint->regions.push_back(r.as<std::string>());
    for (const auto& c : node["client_regions"]) {
      constraint->client_regions.push_back(
          {c["region"].as<std::string>(), c["weight"].as<double>()});
    }
    return true;
  } catch (const YAML::Exception&) {
    *constraint = PlacementConstraint();
    return false;
  }
}

}  // namespace shadowplane::planner
