-- Migration orchestration (migration/migrator.h): what each step has done so far, so that a driver
-- that takes a migration over resumes it from the row alone; its pre-copy and final rounds; and,
-- per origin region and hour, the demand forecast when it started next to the demand that came.
--
-- A migration's new instance is a 'target' until its cutover makes it the primary; an instance a
-- move leaves over (beyond one primary and one shadow) is 'retired' until it is deactivated.
ALTER TABLE instances DROP CONSTRAINT instances_role_check;
ALTER TABLE instances ADD CONSTRAINT instances_role_check
  CHECK (role IN ('primary', 'shadow', 'target', 'retired'));

ALTER TABLE migrations
  -- planned: the full move; emergency: promote the shadow (the primary is lost or about to be).
  ADD COLUMN kind                 text NOT NULL DEFAULT 'planned'
                                    CHECK (kind IN ('planned', 'emergency')),
  ADD COLUMN cancel_requested     boolean NOT NULL DEFAULT false,
  ADD COLUMN state_entered_at     timestamptz,
  -- Retriable failures of the current step, and when it is tried next.
  ADD COLUMN attempts             integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at      timestamptz,
  ADD COLUMN last_error           text,
  ADD COLUMN precopy_rounds       integer NOT NULL DEFAULT 0,
  ADD COLUMN bytes_left           bigint,
  -- The traffic provider was asked to prepare (short TTL); no normal switch before this time.
  ADD COLUMN traffic_prepared     boolean NOT NULL DEFAULT false,
  ADD COLUMN switch_not_before    timestamptz,
  -- The cutover: from holding writes at the source to the target taking them.
  ADD COLUMN freeze_started_at    timestamptz,
  ADD COLUMN freeze_seconds       double precision,
  ADD COLUMN final_dirty_bytes    bigint,
  ADD COLUMN final_dirty_files    integer,
  ADD COLUMN switched_at          timestamptz,
  -- An emergency promotion: how far behind the primary the promoted shadow was.
  ADD COLUMN loss_window_seconds  double precision,
  ADD COLUMN observe_until        timestamptz,
  -- The observation: weighted absolute percentage error of the forecast over the window, and
  -- whether the realised demand was closer (by RTT) to the new location than to the old one.
  ADD COLUMN forecast_wape        double precision,
  ADD COLUMN paid_off             boolean,
  ADD COLUMN observation_note     text;

CREATE TABLE migration_rounds (
  migration_id      uuid NOT NULL REFERENCES migrations (id),
  round             integer NOT NULL CHECK (round > 0),
  kind              text NOT NULL CHECK (kind IN ('precopy', 'final')),
  at                timestamptz NOT NULL,
  files_transferred integer NOT NULL CHECK (files_transferred >= 0),
  bytes_literal     bigint NOT NULL CHECK (bytes_literal >= 0),
  bytes_wire        bigint NOT NULL CHECK (bytes_wire >= 0),
  -- Changed at the source while the round ran: what the next round has to move.
  dirty_files       integer NOT NULL CHECK (dirty_files >= 0),
  dirty_bytes       bigint NOT NULL CHECK (dirty_bytes >= 0),
  duration_seconds  double precision NOT NULL CHECK (duration_seconds >= 0),
  PRIMARY KEY (migration_id, round)
);

CREATE TABLE migration_observations (
  migration_id        uuid NOT NULL REFERENCES migrations (id),
  origin_region       text NOT NULL,
  hour                timestamptz NOT NULL,
  predicted_requests  double precision CHECK (predicted_requests >= 0),
  realized_requests   double precision CHECK (realized_requests >= 0),
  PRIMARY KEY (migration_id, origin_region, hour)
);

-- OBSERVING does not hold a resource: a new migration ends the observation early (and says so).
DROP INDEX migrations_one_active_idx;
CREATE UNIQUE INDEX migrations_one_active_idx ON migrations (resource_id)
  WHERE state NOT IN ('DONE', 'ROLLED_BACK', 'FAILED', 'OBSERVING');
