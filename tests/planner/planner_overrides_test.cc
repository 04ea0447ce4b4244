// A reservation's planner overrides: stored as JSON and read back the same, merged on update,
// and unreadable text refused rather than half-read.
#include "gtest/gtest.h"
#include "planner/planner_overrides_codec.h"

namespace shadowplane::planner {
namespace {

TEST(PlannerOverridesTest, EveryFieldSurvivesTheStoredForm) {
  PlannerOverrides o;
  o.mode = PlannerMode::kOff;
  o.migration_threshold = 0.123456789012345;
  o.min_dwell = absl::Minutes(90);
  o.max_moves_per_day = 2;
  o.hysteresis_relative = 0.1;
  o.hysteresis_absolute = 0.25;
  o.return_cooldown = absl::Hours(3);
  o.return_saving_multiple = 5;
  o.pinned_location = "fra\"-1";
  o.blackouts = std::vector<BlackoutWindow>{
      {absl::FromUnixSeconds(1796558400), absl::FromUnixSeconds(1796562000)}};
  PlannerOverrides back;
  ASSERT_TRUE(OverridesFromJson(OverridesToJson(o), &back)) << OverridesToJson(o);
  EXPECT_EQ(back.mode, o.mode);
  EXPECT_EQ(back.migration_threshold, o.migration_threshold);
  EXPECT_EQ(back.min_dwell, o.min_dwell);
  EXPECT_EQ(back.max_moves_per_day, o.max_moves_per_day);
  EXPECT_EQ(back.hysteresis_relative, o.hysteresis_relative);
  EXPECT_EQ(back.hysteresis_absolute, o.hysteresis_absolute);
  EXPECT_EQ(back.return_cooldown, o.return_cooldown);
  EXPECT_EQ(back.return_saving_multiple, o.return_saving_multiple);
  EXPECT_EQ(back.pinned_location, o.pinned_location);
  ASSERT_TRUE(back.blackouts.has_value());
  EXPECT_EQ(back.blackouts->at(0).start, o.blackouts->at(0).start);
  EXPECT_EQ(back.blackouts->at(0).end, o.blackouts->at(0).end);
  EXPECT_EQ(OverridesToJson(PlannerOverrides()), "");
  EXPECT_TRUE(OverridesFromJson("", &back));
  EXPECT_TRUE(back.empty());
}

TEST(PlannerOverridesTest, UnreadableTextIsRefusedWhole) {
  PlannerOverrides o;
  for (const char* bad : {"[1,2]", "{\"mode\":\"sometimes\"}", "{\"blackouts\":[[1]]}",
                          "{\"migration_threshold\":\"x\"}", "{"}) {
    o.migration_threshold = 0.5;
    EXPECT_FALSE(OverridesFromJson(bad, &o)) << bad;
    EXPECT_TRUE(o.empty()) << bad;
  }
}

TEST(PlannerOverridesTest, AnUpdateReplacesWhatItSetsAndValidationNamesTheField) {
  PlannerOverrides stored;
  stored.mode = PlannerMode::kAuto;
  stored.migration_threshold = 0.9;
  PlannerOverrides update;
  update.migration_threshold = 0.6;
  update.pinned_location = "";
  const PlannerOverrides merged = stored.MergedWith(update);
  EXPECT_EQ(merged.mode, PlannerMode::kAuto);
  EXPECT_EQ(merged.migration_threshold, 0.6);
  EXPECT_EQ(merged.pinned_location, "");
  EXPECT_TRUE(merged.Validate("planner.", {"fra-1"}).ok());
  PlannerOverrides pin;
  pin.pinned_location = "iad-1";
  const absl::Status refused = pin.Validate("planner.", {"fra-1"});
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("planner.pinned_location"), std::string::npos) << refused;
}

}  // namespace
}  // namespace shadowplane::planner
