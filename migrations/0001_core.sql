-- Core tables of shadowplane, in the domain words of the architecture: a reservation owns one
-- resource; a resource runs as instances (one primary, one shadow) at locations; locations lie in
-- regions; client accesses are logged per resource; migrations move the primary.
--
-- Domain timestamps (created_at, ts, at, ...) are written by the application from its Clock and
-- therefore have no DEFAULT now(): SQL time is never domain time.

CREATE TABLE regions (
  name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]*$'),
  display_name  text NOT NULL DEFAULT '',
  latitude      double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude     double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  updated_at    timestamptz NOT NULL
);

-- LocationData: where instances can run, what it costs, how much fits.
CREATE TABLE locations (
  name                           text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]*$'),
  region                         text NOT NULL REFERENCES regions (name),
  latitude                       double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude                      double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  agent_endpoint                 text NOT NULL,
  on_demand_price_per_vcpu_hour  double precision NOT NULL CHECK (on_demand_price_per_vcpu_hour >= 0),
  on_demand_price_per_gib_hour   double precision NOT NULL CHECK (on_demand_price_per_gib_hour >= 0),
  spot_price_per_vcpu_hour       double precision CHECK (spot_price_per_vcpu_hour >= 0),
  spot_price_per_gib_hour        double precision CHECK (spot_price_per_gib_hour >= 0),
  -- Probability that spot capacity is available (and stays so) at this location, 0..1.
  spot_availability              double precision NOT NULL DEFAULT 0
                                   CHECK (spot_availability BETWEEN 0 AND 1),
  bandwidth_price_per_gb         double precision NOT NULL DEFAULT 0 CHECK (bandwidth_price_per_gb >= 0),
  electricity_price_per_kwh      double precision NOT NULL DEFAULT 0
                                   CHECK (electricity_price_per_kwh >= 0),
  power_draw_watts_per_vcpu      double precision NOT NULL DEFAULT 0
                                   CHECK (power_draw_watts_per_vcpu >= 0),
  capacity_millicores            bigint NOT NULL CHECK (capacity_millicores >= 0),
  capacity_memory_mib            bigint NOT NULL CHECK (capacity_memory_mib >= 0),
  updated_at                     timestamptz NOT NULL
);
CREATE INDEX locations_region_idx ON locations (region);

-- A service plus its data.
CREATE TABLE resources (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL,
  data_size_bytes    bigint NOT NULL DEFAULT 0 CHECK (data_size_bytes >= 0),
  created_at         timestamptz NOT NULL,
  deleted_at         timestamptz
);

-- A client's booking; owns exactly one resource.
CREATE TABLE reservations (
  id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Client-chosen idempotency key: a retried Reserve returns the same reservation.
  request_id                    text NOT NULL UNIQUE,
  resource_id                   uuid NOT NULL UNIQUE REFERENCES resources (id),
  state                         text NOT NULL
                                  CHECK (state IN ('pending', 'active', 'releasing', 'released', 'failed')),
  -- The flexible location constraint and expected client regions, as given by the client.
  placement                     jsonb NOT NULL DEFAULT '{}',
  capacity_millicores           bigint NOT NULL CHECK (capacity_millicores > 0),
  memory_mib                    bigint NOT NULL CHECK (memory_mib > 0),
  capacity_type                 text NOT NULL CHECK (capacity_type IN ('spot', 'on_demand')),
  shadow_capacity_fraction      double precision NOT NULL DEFAULT 0.25
                                  CHECK (shadow_capacity_fraction > 0 AND shadow_capacity_fraction <= 1),
  shadow_sync_interval_seconds  double precision NOT NULL DEFAULT 60
                                  CHECK (shadow_sync_interval_seconds > 0),
  created_at                    timestamptz NOT NULL,
  updated_at                    timestamptz NOT NULL,
  released_at                   timestamptz
);
CREATE INDEX reservations_state_idx ON reservations (state);

-- One running copy of a resource at a location.
CREATE TABLE instances (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  resource_id          uuid NOT NULL REFERENCES resources (id),
  role                 text NOT NULL CHECK (role IN ('primary', 'shadow')),
  location             text NOT NULL REFERENCES locations (name),
  capacity_millicores  bigint NOT NULL CHECK (capacity_millicores > 0),
  memory_mib           bigint NOT NULL CHECK (memory_mib > 0),
  capacity_type        text NOT NULL CHECK (capacity_type IN ('spot', 'on_demand')),
  read_only            boolean NOT NULL,
  state                text NOT NULL
                         CHECK (state IN ('creating', 'running', 'scaling', 'draining', 'stopped', 'failed')),
  endpoint             text NOT NULL DEFAULT '',
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL
);
CREATE INDEX instances_resource_idx ON instances (resource_id);
CREATE INDEX instances_location_idx ON instances (location) WHERE state <> 'stopped';
-- Traffic ends at exactly one primary.
CREATE UNIQUE INDEX instances_one_primary_idx ON instances (resource_id)
  WHERE role = 'primary' AND state NOT IN ('stopped', 'failed');

-- ClientAccessLog: one row per client access. Partitioned by day on ts; partitions are created
-- ahead and dropped after the retention by the ingest path.
CREATE TABLE client_access_log (
  ts              timestamptz NOT NULL,
  client_ip       inet NOT NULL,
  resource_id     uuid NOT NULL,
  instance_id     uuid,
  request_type    text NOT NULL,
  cpu_millis      double precision NOT NULL DEFAULT 0 CHECK (cpu_millis >= 0),
  memory_bytes    bigint NOT NULL DEFAULT 0 CHECK (memory_bytes >= 0),
  bytes_in        bigint NOT NULL DEFAULT 0 CHECK (bytes_in >= 0),
  bytes_out       bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0),
  latency_ms      double precision CHECK (latency_ms >= 0),
  origin_region   text NOT NULL DEFAULT 'unknown'
) PARTITION BY RANGE (ts);
CREATE INDEX client_access_log_resource_ts_idx ON client_access_log (resource_id, ts);

-- A move of a resource's primary to another location (the persisted state machine).
CREATE TABLE migrations (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id             text NOT NULL UNIQUE,
  resource_id            uuid NOT NULL REFERENCES resources (id),
  state                  text NOT NULL CHECK (state IN (
                           'PLANNED', 'PREPARING_TARGET', 'PRECOPY', 'CUTOVER', 'RETIRING_SOURCE',
                           'OBSERVING', 'DONE', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED', 'PROMOTING')),
  reason                 text NOT NULL DEFAULT '',
  source_instance_id     uuid REFERENCES instances (id),
  target_instance_id     uuid REFERENCES instances (id),
  target_location        text NOT NULL REFERENCES locations (name),
  target_capacity_type   text NOT NULL CHECK (target_capacity_type IN ('spot', 'on_demand')),
  -- Lease: the process driving the migration, and until when (real time) its claim holds.
  lease_owner            text,
  lease_expires_at       timestamptz,
  error                  text,
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL
);
-- At most one unfinished migration per resource.
CREATE UNIQUE INDEX migrations_one_active_idx ON migrations (resource_id)
  WHERE state NOT IN ('DONE', 'ROLLED_BACK', 'FAILED');
CREATE INDEX migrations_state_idx ON migrations (state, updated_at);

-- Every state change of a migration, so a person can see why.
CREATE TABLE migration_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  migration_id  uuid NOT NULL REFERENCES migrations (id),
  at            timestamptz NOT NULL,
  from_state    text,
  to_state      text NOT NULL,
  detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX migration_events_migration_idx ON migration_events (migration_id, id);
