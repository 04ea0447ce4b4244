-- Planner part 3: client affinity across moves, and cutovers timed from the forecast.

-- A planned move may keep pre-copying until its cutover time (domain time); the freeze's start
-- on the wall clock is what the instances' own records of their clients are read from.
ALTER TABLE migrations
  ADD COLUMN cutover_after        timestamptz,
  ADD COLUMN freeze_started_wall  timestamptz;

-- What a migration did to the resource's clients (src/migration/disruption_count.h), measured once
-- after the drain period: the clients affine to the resource at the freeze (seen within
-- --affinity_session in client_affinity), how many of them were disrupted, and the disruptions
-- of those clients by kind. `error` says why nothing could be measured.
CREATE TABLE migration_disruptions (
  migration_id              uuid PRIMARY KEY REFERENCES migrations (id) ON DELETE CASCADE,
  measured_at               timestamptz NOT NULL,
  affine_clients            integer NOT NULL CHECK (affine_clients >= 0),
  disrupted_affine_clients  integer NOT NULL CHECK (disrupted_affine_clients >= 0),
  disrupted_other_clients   integer NOT NULL CHECK (disrupted_other_clients >= 0),
  held_requests             bigint NOT NULL CHECK (held_requests >= 0),
  failed_requests           bigint NOT NULL CHECK (failed_requests >= 0),
  forwarded_requests        bigint NOT NULL CHECK (forwarded_requests >= 0),
  closed_connections        bigint NOT NULL CHECK (closed_connections >= 0),
  stale_reads               bigint NOT NULL CHECK (stale_reads >= 0),
  truncated                 boolean NOT NULL,
  error                     text NOT NULL DEFAULT ''
);

-- A decision to move later ("move at T"): when the migration should start and cut over; a
-- scheduled decision ends when it is started, replaced or cancelled, with a note saying which.
ALTER TABLE planner_decisions DROP CONSTRAINT planner_decisions_outcome_check;
ALTER TABLE planner_decisions
  ADD CONSTRAINT planner_decisions_outcome_check
    CHECK (outcome IN ('stay', 'move', 'recommend', 'blocked', 'scheduled', 'fallback')),
  ADD COLUMN start_at    timestamptz,
  ADD COLUMN cutover_at  timestamptz,
  ADD COLUMN ended_at    timestamptz,
  ADD COLUMN end_note    text NOT NULL DEFAULT '';
CREATE INDEX planner_decisions_open_scheduled ON planner_decisions (resource_id)
  WHERE outcome = 'scheduled' AND ended_at IS NULL;
