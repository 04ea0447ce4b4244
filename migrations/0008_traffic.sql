-- Traffic switching: every switch of a resource's clients from one instance to another, as an
-- audit row written before the switch starts and completed when it ends (so a switch cut short by
-- a crash shows as 'running' with no end).
CREATE TABLE traffic_switches (
  id             bigserial PRIMARY KEY,
  resource_id    uuid NOT NULL,
  provider       text NOT NULL,
  service_name   text NOT NULL,
  from_target    text NOT NULL,
  to_target      text NOT NULL,
  urgent         boolean NOT NULL,
  reason         text NOT NULL DEFAULT '',
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  result         text NOT NULL DEFAULT 'running' CHECK (result IN ('running', 'ok', 'failed')),
  error          text,
  CHECK ((result = 'running') = (finished_at IS NULL))
);
CREATE INDEX traffic_switches_resource_idx ON traffic_switches (resource_id, started_at DESC);

-- Each reservation names the traffic provider its clients are steered by (empty: none) and its
-- service name there (a DNS name, an HAProxy backend), registered at Reserve and removed at
-- Release.
ALTER TABLE reservations
  ADD COLUMN traffic_provider text NOT NULL DEFAULT '',
  ADD COLUMN service_name     text NOT NULL DEFAULT '';
