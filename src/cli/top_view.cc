#include "cli/top_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

std::string Seconds(const std::optional<double>& s) {
  if (!s.has_value()) return "-";
  if (*s < 120) return absl::StrFormat("%.0fs", *s);
  if (*s < 7200) return absl::StrFormat("%.0fm", *s / 60);
  return absl::StrFormat("%.1fh", *s / 3600);
}

std::string Forecast(const TopResource& r) {
  if (!r.forecast.has_value()) return "-";
  if (!r.forecast_low.has_value() || !r.forecast_high.has_value()) {
    return absl::StrFormat("%.0f", *r.forecast);
  }
  return absl::StrFormat("%.0f (%.0f-%.0f)", *r.forecast, *r.forecast_low, *r.forecast_high);
}

}  // namespace

std::string RenderTop(const TopSnapshot& s, absl::Duration every, bool terminal) {
  std::string out = terminal ? "\x1b[H\x1b[2J" : "";
  absl::StrAppend(&out, "shadowplane top  ",
                  absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", s.at, absl::UTCTimeZone()),
                  s.time_scale == 1 ? "" : absl::StrFormat(" (domain time, %gx)", s.time_scale),
                  "  planner ", s.planner, "  ", s.active, " active reservation",
                  s.active == 1 ? "" : "s");
  if (terminal) absl::StrAppend(&out, "  (every ", absl::FormatDuration(every), ", Ctrl-C quits)");
  absl::StrAppend(&out, "\n\n");
  Table resources({"resource", "name", "primary", "shadow", "stale", "req last h", "req this h",
                   "forecast this h (80%)", "planner"});
  for (const TopResource& r : s.resources) {
    resources.AddRow({r.resource_id.substr(0, 8), r.name, r.primary, r.shadow,
                      Seconds(r.staleness_seconds), absl::StrCat(r.last_hour),
                      absl::StrCat(r.this_hour), Forecast(r),
                      r.decision.empty() ? "-" : r.decision});
  }
  absl::StrAppend(&out, resources.Render());
  if (static_cast<int>(s.resources.size()) < s.active) {
    absl::StrAppend(&out, "(the ", s.resources.size(), " busiest of ", s.active, ")\n");
  }
  absl::StrAppend(&out, "\nmigrations in progress: ", s.migrations.size(), "\n");
  if (!s.migrations.empty()) {
    Table migrations({"migration", "resource", "kind", "from", "to", "progress"});
    for (const TopMigration& m : s.migrations) {
      migrations.AddRow({m.id.substr(0, 8), m.resource_name, m.kind, m.from, m.to, m.progress});
    }
    absl::StrAppend(&out, migrations.Render());
  }
  for (const std::string& e : s.errors) absl::StrAppend(&out, "! ", e, "\n");
  if (!terminal) absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace shadowplane::cli
