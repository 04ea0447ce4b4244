// The migration state machine's moves: the planned path, the emergency path, rollback only before
// traffic has moved, failure from anywhere unfinished, nothing out of a final state.
#include "store/migration_state.h"

#include "gtest/gtest.h"

namespace shadowplane::store {
namespace {

using S = MigrationState;

TEST(MigrationStateTest, NamesRoundTrip) {
  for (S s :
       {S::kPlanned, S::kPreparingTarget, S::kPrecopy, S::kCutover, S::kRetiringSource,
        S::kObserving, S::kDone, S::kRollingBack, S::kRolledBack, S::kFailed, S::kPromoting}) {
    EXPECT_EQ(ParseState(StateName(s)), s) << StateName(s);
  }
  EXPECT_EQ(ParseState("planned"), std::nullopt) << "stored upper case";
  EXPECT_EQ(ParseState(""), std::nullopt);
}

TEST(MigrationStateTest, ThePlannedAndEmergencyPathsAreMovesAndNothingSkipsAStep) {
  const std::vector<S> planned = {S::kPlanned,        S::kPreparingTarget, S::kPrecopy, S::kCutover,
                                  S::kRetiringSource, S::kObserving,       S::kDone};
  for (size_t i = 0; i + 1 < planned.size(); ++i) {
    EXPECT_TRUE(CanTransition(planned[i], planned[i + 1])) << StateName(planned[i]);
    for (size_t j = i + 2; j < planned.size(); ++j) {
      EXPECT_FALSE(CanTransition(planned[i], planned[j]))
          << StateName(planned[i]) << " -> " << StateName(planned[j]);
    }
    EXPECT_FALSE(CanTransition(planned[i + 1], planned[i])) << "no way back but ROLLING_BACK";
  }
  EXPECT_TRUE(CanTransition(S::kPreparingTarget, S::kPromoting));
  EXPECT_TRUE(CanTransition(S::kPromoting, S::kObserving));
  EXPECT_FALSE(CanTransition(S::kPlanned, S::kPromoting));
  EXPECT_FALSE(CanTransition(S::kPromoting, S::kCutover));
}

TEST(MigrationStateTest, RollbackOnlyBeforeTrafficMovesFailureFromAnyUnfinishedState) {
  // CUTOVER may roll back until its traffic switch; the migrator checks that part.
  for (S s : {S::kPlanned, S::kPreparingTarget, S::kPrecopy, S::kCutover}) {
    EXPECT_TRUE(CanRollBack(s)) << StateName(s);
    EXPECT_TRUE(CanTransition(s, S::kRollingBack)) << StateName(s);
  }
  for (S s : {S::kRetiringSource, S::kObserving, S::kPromoting}) {
    EXPECT_FALSE(CanTransition(s, S::kRollingBack)) << StateName(s);
  }
  EXPECT_TRUE(CanTransition(S::kRollingBack, S::kRolledBack));
  for (S s : {S::kPlanned, S::kPreparingTarget, S::kPrecopy, S::kCutover, S::kRetiringSource,
              S::kObserving, S::kRollingBack, S::kPromoting}) {
    EXPECT_FALSE(IsFinal(s));
    EXPECT_TRUE(CanTransition(s, S::kFailed)) << StateName(s);
  }
  for (S s : {S::kDone, S::kRolledBack, S::kFailed}) {
    EXPECT_TRUE(IsFinal(s));
    for (S to : {S::kPlanned, S::kFailed, S::kRollingBack, S::kObserving}) {
      EXPECT_FALSE(CanTransition(s, to)) << StateName(s) << " is final";
    }
  }
}

}  // namespace
}  // namespace shadowplane::store
