// shadowctl top's frame: the resources with their demand and forecast, migrations in progress,
// what could not be read; cursor control only on a terminal.
#include "cli/top_view.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace shadowplane::cli {
namespace {

TEST(TopViewTest, ShowsResourcesMigrationsAndErrorsAndControlsTheCursorOnlyOnATerminal) {
  TopSnapshot s;
  s.at = absl::FromUnixSeconds(1796640000);  // 2026-12-07 10:40:00 UTC
  s.planner = "running";
  s.active = 3;
  TopResource shop;
  shop.resource_id = "5d3c1a2b-0000-4000-8000-000000000001";
  shop.name = "shop";
  shop.primary = "fra-1";
  shop.shadow = "iad-1";
  shop.staleness_seconds = 42;
  shop.last_hour = 1200;
  shop.this_hour = 300;
  shop.forecast = 1180;
  shop.forecast_low = 900;
  shop.forecast_high = 1500;
  shop.decision = "move fra-1->iad-1 0.91";
  TopResource idle;
  idle.resource_id = "6e4d2b3c-0000-4000-8000-000000000002";
  idle.name = "idle";
  idle.primary = "sin-1 (spot)";
  idle.shadow = "fra-1";
  s.resources = {shop, idle};
  s.migrations.push_back({"9f8e7d6c-0000", "shop", "planned", "fra-1", "iad-1",
                          "PRECOPY  pre-copy round 2, 1.5 MiB left"});
  s.errors.push_back("idle demand: unavailable");

  const std::string plain = RenderTop(s, absl::Seconds(2), /*terminal=*/false);
  EXPECT_FALSE(absl::StrContains(plain, "\x1b[")) << "no cursor control in plain output";
  EXPECT_TRUE(absl::StrContains(plain, "2026-12-07 10:40:00 UTC  planner running  3 active"))
      << plain;
  EXPECT_TRUE(absl::StrContains(plain, "5d3c1a2b")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "1180 (900-1500)")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "move fra-1->iad-1 0.91")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "42s")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "sin-1 (spot)")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "(the 2 busiest of 3)")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "migrations in progress: 1")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "PRECOPY  pre-copy round 2, 1.5 MiB left")) << plain;
  EXPECT_TRUE(absl::StrContains(plain, "! idle demand: unavailable")) << plain;

  const std::string live = RenderTop(s, absl::Seconds(2), /*terminal=*/true);
  EXPECT_TRUE(absl::StartsWith(live, "\x1b[H\x1b[2J")) << "redrawn in place";
  s.time_scale = 1800;
  EXPECT_TRUE(absl::StrContains(RenderTop(s, absl::Seconds(2), false),
                                "10:40:00 UTC (domain time, 1800x)  planner"));
  EXPECT_TRUE(absl::StrContains(live, "every 2s, Ctrl-C quits")) << live;
}

}  // namespace
}  // namespace shadowplane::cli
