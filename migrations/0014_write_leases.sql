-- Fencing (src/store/write_lease_repository.h): every grant of write authority over a resource
-- moves its primary epoch on, and an instance takes writes only while it holds a write lease for
-- the current epoch, renewed through its agent. Lease times are real time, not domain time.

-- The resource's current primary epoch: 0 until its first primary is granted writes.
ALTER TABLE reservations ADD COLUMN primary_epoch bigint NOT NULL DEFAULT 0 CHECK (primary_epoch >= 0);

-- The epoch the instance was last granted writes in (0: never), until when its lease holds at
-- the latest (the control plane's bound; the instance's own expiry is earlier), and when it was
-- last granted or renewed.
ALTER TABLE instances ADD COLUMN write_epoch bigint NOT NULL DEFAULT 0 CHECK (write_epoch >= 0);
ALTER TABLE instances ADD COLUMN lease_expires_at timestamptz;
ALTER TABLE instances ADD COLUMN lease_renewed_at timestamptz;

-- The failure detector's scan: writable primaries by their last renewal.
CREATE INDEX instances_lease_renewed_idx ON instances (lease_renewed_at)
  WHERE role = 'primary' AND NOT read_only AND state NOT IN ('stopped', 'failed');
