-- Shadow sync: every round the control plane orders (periodic, on demand, or for a migration) and
-- its outcome, and on each reservation the time of the source state its shadow last caught up
-- with (so staleness is now minus that).
CREATE TABLE sync_runs (
  id bigserial PRIMARY KEY,
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  source_instance uuid NOT NULL REFERENCES instances (id),
  target_instance uuid NOT NULL REFERENCES instances (id),
  -- periodic: the scheduler; manual: SyncNow; full: SyncNow(full); final: a migration's cutover
  trigger text NOT NULL CHECK (trigger IN ('periodic', 'manual', 'full', 'final')),
  mode text NOT NULL CHECK (mode IN ('quick', 'checksum', 'final')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  duration_seconds double precision NOT NULL,
  result text NOT NULL CHECK (result IN ('ok', 'failed')),
  error text,
  files_total bigint NOT NULL DEFAULT 0,
  files_transferred bigint NOT NULL DEFAULT 0,
  files_deleted bigint NOT NULL DEFAULT 0,
  bytes_total bigint NOT NULL DEFAULT 0,
  bytes_literal bigint NOT NULL DEFAULT 0,
  bytes_matched bigint NOT NULL DEFAULT 0,
  bytes_signature bigint NOT NULL DEFAULT 0,
  bytes_wire bigint NOT NULL DEFAULT 0,
  dirty_files bigint NOT NULL DEFAULT 0,
  dirty_bytes bigint NOT NULL DEFAULT 0,
  -- checksum and final rounds: the trees' hashes and whether they matched
  source_tree_hash text,
  target_tree_hash text,
  identical boolean
);
CREATE INDEX sync_runs_reservation_idx ON sync_runs (reservation_id, started_at DESC);

ALTER TABLE reservations
  ADD COLUMN last_synced_at timestamptz,
  ADD COLUMN last_sync_error text;

-- Leases for background loops shared by several replicas: one holder at a time, taken over when
-- it stops renewing. Expiry is on the database's clock, so replicas need not agree on time.
CREATE TABLE leases (
  name text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);
