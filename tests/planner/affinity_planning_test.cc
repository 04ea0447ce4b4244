// Client affinity in the planner's decision: the sessions a cutover would disrupt are priced into
// the move's cost, so a move that would disrupt many affine clients for a small saving is not made.
#include <gtest/gtest.h>

#include "move_decision_fixture.h"

namespace shadowplane::planner {
namespace {

using AffinityPlanningTest = MoveDecisionTest;

const CandidateExplanation& Candidate(const PlanDecision& d, const std::string& location) {
  for (const CandidateExplanation& c : d.candidates) {
    if (c.location == location) return c;
  }
  static const CandidateExplanation kNone;
  ADD_FAILURE() << "no candidate " << location;
  return kNone;
}

TEST_F(AffinityPlanningTest, AffineSessionsArePricedIntoTheMove) {
  const absl::Time now = kStart;
  const DemandOutlook demand = Steady(now, 1000, 200000);
  context_.prices.disrupted_session_price = 0.01;
  subject_.move.affine_sessions = 0;
  const PlanDecision free = Decide(demand, now);
  ASSERT_EQ(free.outcome, PlanOutcome::kMove) << free.reason;
  EXPECT_EQ(Candidate(free, "iad").affinity_cost, 0);

  subject_.move.affine_sessions = 100;
  const PlanDecision priced = Decide(demand, now);
  const CandidateExplanation& iad = Candidate(priced, "iad");
  EXPECT_DOUBLE_EQ(iad.affinity_cost, 1.0);
  EXPECT_NEAR(iad.move_cost, Candidate(free, "iad").move_cost + 1.0, 1e-9);
  EXPECT_NEAR(priced.expected_saving, free.expected_saving - 1.0, 1e-9);
}

TEST_F(AffinityPlanningTest, ManyAffineClientsForASmallSavingStay) {
  const absl::Time now = kStart;
  // A modest pull toward iad: the saving is a few dollars.
  const DemandOutlook demand = Steady(now, 1000, 60000);
  context_.prices.disrupted_session_price = 0.01;
  subject_.move.affine_sessions = 0;
  const PlanDecision without = Decide(demand, now);
  ASSERT_EQ(without.outcome, PlanOutcome::kMove) << without.reason;
  const double saving = without.expected_saving;
  ASSERT_GT(saving, 0);

  // Disrupting that many sessions costs more than the move saves.
  subject_.move.affine_sessions = 2 * saving / 0.01;
  const PlanDecision with = Decide(demand, now);
  EXPECT_EQ(with.outcome, PlanOutcome::kStay) << with.reason;
  EXPECT_TRUE(with.to_location.empty());
  const CandidateExplanation& iad = Candidate(with, "iad");
  EXPECT_LT(iad.expected_saving, 0);
  EXPECT_NEAR(iad.affinity_cost, 2 * saving, 1e-6);

  // A handful of affine clients does not stand in the way.
  subject_.move.affine_sessions = 0.1 * saving / 0.01;
  EXPECT_EQ(Decide(demand, now).outcome, PlanOutcome::kMove);
}

TEST_F(AffinityPlanningTest, NegativeSessionsCountAsNone) {
  subject_.move.affine_sessions = -50;
  PlanPrices prices;
  EXPECT_EQ(AffinityCost(subject_.move, prices), 0);
}

}  // namespace
}  // namespace shadowplane::planner
