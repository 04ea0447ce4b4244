-- Spot capacity (src/planner/spot_prices.h, src/migration/spot_fallback.h): prices over time, the
-- providers' interruption warnings and what was done about each instance they named.

-- Prices as observed (LocationService.ReportPrices, shadowctl prices import). The planner expects
-- the latest, or the trailing mean when there is enough history; GetLocation shows the latest.
CREATE TABLE location_prices (
  location                       text NOT NULL REFERENCES locations (name) ON DELETE CASCADE,
  observed_at                    timestamptz NOT NULL,
  on_demand_price_per_vcpu_hour  double precision NOT NULL CHECK (on_demand_price_per_vcpu_hour >= 0),
  on_demand_price_per_gib_hour   double precision NOT NULL CHECK (on_demand_price_per_gib_hour >= 0),
  -- NULL: no spot offered at that time.
  spot_price_per_vcpu_hour       double precision CHECK (spot_price_per_vcpu_hour >= 0),
  spot_price_per_gib_hour        double precision CHECK (spot_price_per_gib_hour >= 0),
  -- NULL: not reported (AWS's price history has none): the location's own value stands.
  spot_availability              double precision
                                 CHECK (spot_availability >= 0 AND spot_availability <= 1),
  source                         text NOT NULL,
  recorded_at                    timestamptz NOT NULL,
  PRIMARY KEY (location, observed_at),
  CHECK ((spot_price_per_vcpu_hour IS NULL) = (spot_price_per_gib_hour IS NULL))
);

-- A provider's warning that spot capacity is being taken back (LocationService.
-- ReportSpotInterruption). The deadline is real time, as the provider's is.
CREATE TABLE spot_interruptions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  location     text NOT NULL REFERENCES locations (name) ON DELETE CASCADE,
  received_at  timestamptz NOT NULL,
  deadline     timestamptz NOT NULL,
  reason       text NOT NULL DEFAULT ''
);
CREATE INDEX spot_interruptions_location_idx ON spot_interruptions (location, received_at DESC);

-- One row per instance an interruption named: reconciled until finished.
CREATE TABLE spot_fallbacks (
  interruption_id  uuid NOT NULL REFERENCES spot_interruptions (id) ON DELETE CASCADE,
  instance_id      uuid NOT NULL,
  resource_id      uuid NOT NULL,
  role             text NOT NULL CHECK (role IN ('primary', 'shadow')),
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'finished')),
  migration_id     uuid,
  -- on_demand_same_location, other_location, promoted_after_deadline, shadow_rebuilt,
  -- not_affected (a move already took it off the interrupted capacity), failed.
  outcome          text NOT NULL DEFAULT '',
  detail           text NOT NULL DEFAULT '',
  attempts         integer NOT NULL DEFAULT 0,
  traffic_at       timestamptz,
  finished_at      timestamptz,
  PRIMARY KEY (interruption_id, instance_id)
);
CREATE INDEX spot_fallbacks_pending_idx ON spot_fallbacks (resource_id) WHERE state = 'pending';

-- An urgent migration (a spot fallback) switches traffic without waiting out the DNS TTL and
-- keeps its pre-copy short.
ALTER TABLE migrations ADD COLUMN urgent boolean NOT NULL DEFAULT false;

-- Decisions carry the capacity type they move to, and fallbacks are decisions too.
ALTER TABLE planner_decisions ADD COLUMN to_capacity_type text NOT NULL DEFAULT '';
ALTER TABLE planner_decisions DROP CONSTRAINT planner_decisions_outcome_check;
ALTER TABLE planner_decisions ADD CONSTRAINT planner_decisions_outcome_check
  CHECK (outcome IN ('stay', 'move', 'recommend', 'blocked', 'fallback'));
