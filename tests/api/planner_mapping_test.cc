// PlannerService messages <-> the planner's structs: unset overrides stay unset, a bad horizon is
// refused by name, and a decision reaches the wire with its gates, candidates and blocking gate.
#include "api/planner_mapping.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace shadowplane::api {
namespace {

namespace pb = shadowplane::v1;

TEST(PlannerMappingTest, AQueryKeepsUnsetOverridesUnsetAndRefusesANegativeHorizon) {
  pb::PlanRequest request;
  request.set_resource_id("r");
  absl::StatusOr<planner::PlanQuery> q = FromProto(request);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->migration_threshold.has_value());
  EXPECT_FALSE(q->horizon.has_value());
  request.set_migration_threshold(0.9);
  request.mutable_horizon()->set_seconds(7200);
  request.set_page_size(7);
  request.set_page_token("t");
  q = FromProto(request);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->migration_threshold, 0.9);
  EXPECT_EQ(q->horizon, absl::Hours(2));
  EXPECT_EQ(q->page_size, 7);
  EXPECT_EQ(q->page_token, "t");
  request.mutable_horizon()->set_seconds(-1);
  q = FromProto(request);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find("horizon"), std::string::npos);
}

TEST(PlannerMappingTest, ADecisionReachesTheWireWithGatesAndCandidates) {
  planner::PlanDecision d;
  d.resource_id = "r";
  d.decided_at = absl::FromUnixSeconds(1767225600);
  d.outcome = planner::PlanOutcome::kBlocked;
  d.from_location = "fra";
  d.to_location = "iad";
  d.confidence = 0.9;
  d.expected_saving = 1.5;
  d.mode = planner::PlannerMode::kAuto;
  d.threshold = 0.8;
  d.horizon = absl::Hours(24);
  d.gates = {{planner::PlanGate::kDwell, false, "too soon"}};
  d.blocking = planner::PlanGate::kDwell;
  d.reason = "why";
  planner::CandidateExplanation c;
  c.location = "iad";
  c.terms.compute = 1;
  c.terms.latency = 2;
  c.saving = {0.1, 0.2, 0.3};
  c.confidence_source = "sample_paths";
  c.gates = {{planner::PlanGate::kThreshold, true, "ok"}};
  d.candidates = {c};
  pb::ResourcePlan out;
  ToProto(d, &out);
  EXPECT_EQ(out.outcome(), "blocked");
  EXPECT_EQ(out.blocking_gate(), "dwell");
  EXPECT_EQ(out.mode(), "auto");
  EXPECT_EQ(FromProtoTime(out.decided_at()), d.decided_at);
  EXPECT_EQ(FromProtoDuration(out.horizon()), absl::Hours(24));
  ASSERT_EQ(out.gates_size(), 1);
  EXPECT_EQ(out.gates(0).gate(), "dwell");
  EXPECT_FALSE(out.gates(0).passed());
  ASSERT_EQ(out.candidates_size(), 1);
  EXPECT_EQ(out.candidates(0).expected_total(), 3);
  EXPECT_EQ(out.candidates(0).saving().p90(), 0.3);
  EXPECT_EQ(out.candidates(0).gates(0).gate(), "threshold");
  d.blocking.reset();
  out.Clear();
  ToProto(d, &out);
  EXPECT_EQ(out.blocking_gate(), "");
}

TEST(PlannerMappingTest, OverridesMapBothWaysAndBadOnesNameTheField) {
  pb::PlannerOverrides in;
  in.set_mode("auto");
  in.set_migration_threshold(0.9);
  in.mutable_min_dwell()->set_seconds(3600);
  in.set_pinned_location("fra-1");
  pb::BlackoutWindow* w = in.add_blackouts();
  w->mutable_start()->set_seconds(1796558400);
  w->mutable_end()->set_seconds(1796562000);
  absl::StatusOr<planner::PlannerOverrides> o = FromProto(in);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, planner::PlannerMode::kAuto);
  EXPECT_EQ(o->min_dwell, absl::Hours(1));
  EXPECT_FALSE(o->return_cooldown.has_value());
  pb::PlannerOverrides back;
  ToProto(*o, &back);
  EXPECT_EQ(back.SerializeAsString(), in.SerializeAsString());

  pb::PlannerOverrides bad_mode;
  bad_mode.set_mode("sometimes");
  EXPECT_NE(FromProto(bad_mode).status().message().find("planner.mode"), std::string::npos);
  pb::PlannerOverrides bad_time;
  bad_time.add_blackouts()->mutable_start()->set_seconds(-(1LL << 50));
  EXPECT_NE(FromProto(bad_time).status().message().find("planner.blackouts"), std::string::npos);
  pb::PlannerOverrides long_pin;
  long_pin.set_pinned_location(std::string(100000, 'x'));
  EXPECT_NE(FromProto(long_pin).status().message().find("planner.pinned_location"),
            std::string::npos);
  pb::PlannerOverrides too_many;
  for (int i = 0; i < 101; ++i) too_many.add_blackouts();
  EXPECT_EQ(FromProto(too_many).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shadowplane::api
