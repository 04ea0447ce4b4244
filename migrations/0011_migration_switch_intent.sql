-- A cutover records that it is about to switch traffic before it asks the traffic provider to,
-- so that a driver resuming after a crash between the switch and its record asks the provider
-- where traffic points instead of running the final round again into a primary that already
-- takes writes.
ALTER TABLE migrations ADD COLUMN switch_requested_at timestamptz;
