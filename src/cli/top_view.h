// `shadowctl top`: what one refresh shows, and how it is drawn. Kept apart from the calls that
// gather it (cli/top_commands.cc) so that the drawing is tested without a server.
#ifndef SHADOWPLANE_CLI_TOP_VIEW_H_
#define SHADOWPLANE_CLI_TOP_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shadowplane::cli {

struct TopResource {
  std::string resource_id;
  std::string name;
  std::string primary;  // location (capacity type when spot)
  std::string shadow;
  std::optional<double> staleness_seconds;
  // Requests recorded in the last full hour and in this hour so far.
  int64_t last_hour = 0, this_hour = 0;
  // The stored forecast of this hour: median and 80% bounds; unset without one.
  std::optional<double> forecast, forecast_low, forecast_high;
  std::string decision;  // the planner's newest ("move fra-1 -> iad-1 0.91", "stay")
};

struct TopMigration {
  std::string id, resource_name, kind, from, to, progress;
};

struct TopSnapshot {
  absl::Time at;                       // when gathered: the server's domain time
  double time_scale = 1;               // the server's; not 1: a demo's clock, said in the header
  std::string planner;                 // "running", "paused: <reason>"
  int active = 0;                      // active reservations in all
  std::vector<TopResource> resources;  // the busiest first, at most the cap
  std::vector<TopMigration> migrations;
  std::vector<std::string> errors;  // what could not be read this time
};

// The frame: a header line, the resources table, migrations in progress, then any errors. On a
// terminal it starts by moving the cursor home and clearing the screen (refresh in place);
// otherwise plain text, one frame after another.
std::string RenderTop(const TopSnapshot& s, absl::Duration every, bool terminal);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_TOP_VIEW_H_
