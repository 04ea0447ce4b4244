-- Known events (campaigns, news) that move a resource's demand beyond what time of day, day of
-- week and season explain. An event affects the demand of some resources, of some origin regions
-- (of every resource with demand from there), or both (those resources' demand from those
-- regions), over [starts_at, ends_at). expected_uplift is the demand multiplier the registrant
-- expects; without one, forecasts use what past events of the same kind did (the outcomes below).
CREATE TABLE demand_events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Client-chosen idempotency key: a retried registration returns the same event.
  request_id       text UNIQUE,
  kind             text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_-]*$'),
  name             text NOT NULL DEFAULT '',
  resource_ids     uuid[] NOT NULL DEFAULT '{}',
  regions          text[] NOT NULL DEFAULT '{}',
  starts_at        timestamptz NOT NULL,
  ends_at          timestamptz NOT NULL,
  expected_uplift  double precision CHECK (expected_uplift >= 0),
  created_at       timestamptz NOT NULL,
  -- When its outcomes were measured (after it ended); NULL until then.
  measured_at      timestamptz,
  CHECK (ends_at > starts_at),
  CHECK (cardinality(resource_ids) + cardinality(regions) > 0)
);
CREATE INDEX demand_events_window_idx ON demand_events (ends_at, starts_at);
CREATE INDEX demand_events_resources_idx ON demand_events USING gin (resource_ids);
CREATE INDEX demand_events_unmeasured_idx ON demand_events (ends_at) WHERE measured_at IS NULL;

-- What an event did to one resource's affected demand: the requests in its window against the
-- forecast made from the history before it (forecast/event_effects.h, MeasureOutcome).
CREATE TABLE demand_event_outcomes (
  event_id     uuid NOT NULL REFERENCES demand_events (id) ON DELETE CASCADE,
  resource_id  uuid NOT NULL,
  -- The event's kind and end, kept here so that learning reads one table.
  kind         text NOT NULL,
  ends_at      timestamptz NOT NULL,
  hours        integer NOT NULL CHECK (hours > 0),
  actual       double precision NOT NULL CHECK (actual >= 0),
  baseline     double precision NOT NULL CHECK (baseline >= 0),
  PRIMARY KEY (event_id, resource_id)
);
CREATE INDEX demand_event_outcomes_kind_idx ON demand_event_outcomes (kind, ends_at DESC);
CREATE INDEX demand_event_outcomes_resource_idx ON demand_event_outcomes (resource_id, kind, ends_at DESC);
