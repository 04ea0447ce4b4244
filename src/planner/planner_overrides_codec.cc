#include "planner/planner_overrides_codec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::planner {

namespace {

void Field(absl::string_view name, std::string* json) {
  absl::StrAppend(json, json->size() > 1 ? "," : "", "\"", name, "\":");
}

// Doubles with every digit they need to read back as the same value.
std::string Number(double v) { return absl::StrFormat("%.17g", v); }

}  // namespace

std::string OverridesToJson(const PlannerOverrides& o) {
  std::string json = "{";
  if (o.mode) {
    Field("mode", &json);
    AppendJsonString(PlannerModeName(*o.mode), &json);
  }
  auto number = [&json](absl::string_view name, const std::optional<double>& v) {
    if (!v) return;
    Field(name, &json);
    json += Number(*v);
  };
  auto seconds = [&json](absl::string_view name, const std::optional<absl::Duration>& v) {
    if (!v) return;
    Field(name, &json);
    json += Number(absl::ToDoubleSeconds(*v));
  };
  number("migration_threshold", o.migration_threshold);
  seconds("min_dwell_seconds", o.min_dwell);
  if (o.max_moves_per_day) {
    Field("max_moves_per_day", &json);
    absl::StrAppend(&json, *o.max_moves_per_day);
  }
  number("hysteresis_relative", o.hysteresis_relative);
  number("hysteresis_absolute", o.hysteresis_absolute);
  seconds("return_cooldown_seconds", o.return_cooldown);
  number("return_saving_multiple", o.return_saving_multiple);
  if (o.pinned_location) {
    Field("pinned_location", &json);
    AppendJsonString(*o.pinned_location, &json);
  }
  if (o.blackouts) {
    Field("blackouts", &json);
    json += "[";
    for (size_t i = 0; i < o.blackouts->size(); ++i) {
      const BlackoutWindow& w = (*o.blackouts)[i];
      absl::StrAppend(&json, i > 0 ? "," : "", "[", absl::ToUnixSeconds(w.start), ",",
                      absl::ToUnixSeconds(w.end), "]");
    }
    json += "]";
  }
  if (json == "{") return "";
  return json + "}";
}

bool OverridesFromJson(const std::string& json, PlannerOverrides* o) {
  *o = PlannerOverrides();
  if (json.empty()) return true;
  try {
    const YAML::Node node = YAML::Load(json);  // JSON is YAML
    if (!node.IsMap()) return false;
    if (node["mode"]) {
      PlannerMode mode;
      if (!ParsePlannerMode(node["mode"].as<std::string>(), &mode)) {
        *o = PlannerOverrides();
        return false;
      }
      o->mode = mode;
    }
    auto number = [&node](const char* name, std::optional<double>* v) {
      if (node[name]) *v = node[name].as<double>();
    };
    auto seconds = [&node](const char* name, std::optional<absl::Duration>* v) {
      if (node[name]) *v = absl::Seconds(node[name].as<double>());
    };
    number("migration_threshold", &o->migration_threshold);
    seconds("min_dwell_seconds", &o->min_dwell);
    if (node["max_moves_per_day"]) o->max_moves_per_day = node["max_moves_per_day"].as<int>();
    number("hysteresis_relative", &o->hysteresis_relative);
    number("hysteresis_absolute", &o->hysteresis_absolute);
    seconds("return_cooldown_seconds", &o->return_cooldown);
    number("return_saving_multiple", &o->return_saving_multiple);
    if (node["pinned_location"]) o->pinned_location = node["pinned_location"].as<std::string>();
    if (node["blackouts"]) {
      std::vector<BlackoutWindow> windows;
      for (const auto& w : node["blackouts"]) {
        if (!w.IsSequence() || w.size() != 2) {
          *o = PlannerOverrides();
          return false;
        }
        windows.push_back(
            {absl::FromUnixSeconds(w[0].as<int64_t>()), absl::FromUnixSeconds(w[1].as<int64_t>())});
      }
      o->blackouts = std::move(windows);
    }
    return true;
  } catch (const YAML::Exception&) {
    *o = PlannerOverrides();
    return false;
  }
}

}  // namespace shadowplane::planner
