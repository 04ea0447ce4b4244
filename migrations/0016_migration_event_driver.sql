-- Which server drove each step of a migration (its lease owner; empty for a change made outside
-- a driver, such as the request itself): the history shows that two servers never interleaved.
ALTER TABLE migration_events ADD COLUMN driver text NOT NULL DEFAULT '';
