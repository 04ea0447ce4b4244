-- The planner (src/planner/): its decisions, the fleet's pause switch, cordoned locations, the
-- reservations' planner overrides, and the link from a planned migration to the decision that
-- started it.

-- A resource's decision as the planner loop took it (the migration it started names it in
-- migrations.decision_id): a row when the outcome (or the target)
-- changes, and at most one an hour otherwise; pruned after --decision_retention.
CREATE TABLE planner_decisions (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  resource_id             uuid NOT NULL,
  reservation_id          uuid NOT NULL,
  decided_at              timestamptz NOT NULL,
  outcome                 text NOT NULL CHECK (outcome IN ('stay', 'move', 'recommend', 'blocked')),
  blocking_gate           text NOT NULL DEFAULT '',
  from_location           text NOT NULL,
  to_location             text NOT NULL DEFAULT '',
  confidence              double precision NOT NULL,
  expected_saving         double precision NOT NULL,
  mode                    text NOT NULL,
  threshold               double precision NOT NULL,
  horizon_seconds         bigint NOT NULL,
  reason                  text NOT NULL,
  -- The whole explanation (every candidate's terms and every gate) as JSON.
  explanation             text NOT NULL,
  -- The reservation's updated_at when decided: a decision about an older reservation is stale.
  reservation_updated_at  timestamptz NOT NULL,
  -- The last tick that took the same decision again (a row is not written for it): a decision
  -- not confirmed for two plan intervals is stale.
  confirmed_at            timestamptz NOT NULL
);
CREATE INDEX planner_decisions_resource_idx ON planner_decisions (resource_id, decided_at DESC);
CREATE INDEX planner_decisions_time_idx ON planner_decisions (decided_at, id);

-- Pause and Resume of every automatic move, as an audit log: the newest row is the state.
CREATE TABLE planner_controls (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL,
  action  text NOT NULL CHECK (action IN ('pause', 'resume')),
  actor   text NOT NULL,
  reason  text NOT NULL
);

ALTER TABLE locations ADD COLUMN cordoned boolean NOT NULL DEFAULT false;
ALTER TABLE locations ADD COLUMN cordon_reason text NOT NULL DEFAULT '';

-- The reservation's planner overrides (planner/planner_settings.h) as JSON; '' when none.
ALTER TABLE reservations ADD COLUMN planner_overrides text NOT NULL DEFAULT '';

ALTER TABLE migrations ADD COLUMN decision_id uuid;
ALTER TABLE migrations ADD COLUMN predicted_saving double precision;
ALTER TABLE migrations ADD COLUMN predicted_confidence double precision;
-- The observation's verdict in dollars (paid_off is realized_saving > 0).
ALTER TABLE migrations ADD COLUMN realized_saving double precision;
CREATE INDEX migrations_decision_idx ON migrations (created_at) WHERE decision_id IS NOT NULL;
