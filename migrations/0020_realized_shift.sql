-- A move's observation also finds when the demand it was made for arrived: the first hour in
-- which, by realised demand and the planner's objective, the move's target became the cheapest
-- location (src/planner/realized_shift.h). Domain time; NULL until observed, or when the target
-- never became the cheapest in the hours observed.
ALTER TABLE migrations ADD COLUMN realized_shift_at timestamptz;
