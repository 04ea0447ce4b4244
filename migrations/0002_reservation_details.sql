-- What a reservation needs to be completed or explained later: why its locations were chosen,
-- why it failed, and the seed directory its primary's agent reads (kept so that a pending
-- reservation can be finished by the reconcile loop after an agent comes back).
ALTER TABLE reservations
  ADD COLUMN explanation text NOT NULL DEFAULT '',
  ADD COLUMN error text,
  ADD COLUMN seed_dir text NOT NULL DEFAULT '';

CREATE INDEX instances_live_location_idx ON instances (location)
  WHERE state NOT IN ('stopped', 'failed');
