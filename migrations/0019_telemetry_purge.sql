-- Releasing a reservation may delete what was recorded about its clients (Release with
-- purge_telemetry: src/ingest/telemetry_purger.h). The request is kept so that a purge survives a
-- restart, and so that ingest refuses the resource's late events from then on; purged_at is when
-- the last purge ran. Both on the wall clock: they record when data was deleted.
ALTER TABLE reservations
  ADD COLUMN telemetry_purge_requested_at  timestamptz,
  ADD COLUMN telemetry_purged_at           timestamptz;

-- The purger's pass looks only at reservations asked to be purged.
CREATE INDEX reservations_telemetry_purge_idx ON reservations (telemetry_purge_requested_at)
  WHERE telemetry_purge_requested_at IS NOT NULL;
