-- Client access telemetry: the raw log (client_access_log, from 0001, partitioned by day), the
-- batches already committed (so a retried batch is stored once), utilization samples, the hourly
-- demand rollup forecasts read, client affinity, and operator-defined client networks.

ALTER TABLE client_access_log ADD COLUMN client_id text;

-- One row per committed batch id, with the counts its acknowledgement gave, so that a retry gets
-- the same answer without storing anything twice. Pruned after the dedup window.
CREATE TABLE ingest_batches (
  batch_id            text PRIMARY KEY,
  committed_at        timestamptz NOT NULL,
  events_accepted     bigint NOT NULL,
  events_demand_only  bigint NOT NULL,
  samples_accepted    bigint NOT NULL,
  -- [{"reason": "...", "count": n, "events": [i, ...], "samples": [i, ...]}, ...]
  rejections          jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX ingest_batches_committed_idx ON ingest_batches (committed_at);

-- An instance's resource use over [ts - interval, ts); kept as long as the raw access log.
CREATE TABLE instance_utilization (
  ts                timestamptz NOT NULL,
  instance_id       uuid NOT NULL,
  resource_id       uuid NOT NULL,
  interval_seconds  double precision NOT NULL CHECK (interval_seconds > 0),
  cpu_seconds       double precision NOT NULL CHECK (cpu_seconds >= 0),
  memory_bytes      bigint NOT NULL CHECK (memory_bytes >= 0),
  net_bytes_in      bigint NOT NULL CHECK (net_bytes_in >= 0),
  net_bytes_out     bigint NOT NULL CHECK (net_bytes_out >= 0)
);
CREATE INDEX instance_utilization_instance_ts_idx ON instance_utilization (instance_id, ts);
CREATE INDEX instance_utilization_ts_idx ON instance_utilization (ts);

-- Demand per resource, origin region and hour, updated in the transaction that stores the raw
-- events. clients_hll is a HyperLogLog sketch of the distinct clients (src/ingest/hyperloglog.h):
-- sketches of several hours or regions merge without counting a client twice.
CREATE TABLE demand_hourly (
  resource_id     uuid NOT NULL,
  origin_region   text NOT NULL,
  hour            timestamptz NOT NULL,
  requests        bigint NOT NULL DEFAULT 0,
  bytes_in        bigint NOT NULL DEFAULT 0,
  bytes_out       bigint NOT NULL DEFAULT 0,
  cpu_millis      double precision NOT NULL DEFAULT 0,
  memory_bytes    double precision NOT NULL DEFAULT 0,
  latency_ms_sum  double precision NOT NULL DEFAULT 0,
  latency_count   bigint NOT NULL DEFAULT 0,
  clients_hll     bytea NOT NULL,
  PRIMARY KEY (resource_id, origin_region, hour)
);
CREATE INDEX demand_hourly_hour_idx ON demand_hourly (hour);

-- Which instance last served a client of a resource: the planner weighs moving clients that are
-- attached to an instance, and traffic switching keeps them together. client_key is "id:<client
-- id>" when the sender knew one, else "ip:<address>".
-- Rewritten often, so no index beyond the key and free room in each page: an update then stays
-- on its page and touches no index (a HOT update). Retention scans the table every few minutes.
CREATE TABLE client_affinity (
  resource_id    uuid NOT NULL,
  client_key     text NOT NULL,
  instance_id    uuid,
  origin_region  text NOT NULL,
  last_seen      timestamptz NOT NULL,
  PRIMARY KEY (resource_id, client_key)
) WITH (fillfactor = 70);

-- Client networks an operator assigns to origin regions (the locations file's `networks`, or
-- SQL); the longest matching prefix wins, before any GeoIP database.
CREATE TABLE geo_networks (
  network     cidr PRIMARY KEY,
  region      text NOT NULL REFERENCES regions (name),
  updated_at  timestamptz NOT NULL
);
