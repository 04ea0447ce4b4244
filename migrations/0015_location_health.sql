-- Location health (src/reconcile/location_health_monitor.h): a location is lost when its agent and
-- every instance recorded there stayed unreachable for --primary_loss_timeout. A lost location
-- takes nothing new (placement and the planner skip it, as a cordoned one) until it has been
-- healthy again for --location_recovery.
ALTER TABLE locations ADD COLUMN lost_at timestamptz;
ALTER TABLE locations ADD COLUMN lost_reason text NOT NULL DEFAULT '';
-- Since when a lost location has answered again without a break (NULL: not yet, or not lost).
ALTER TABLE locations ADD COLUMN healthy_since timestamptz;
ALTER TABLE locations ADD CONSTRAINT locations_healthy_only_when_lost
  CHECK (healthy_since IS NULL OR lost_at IS NOT NULL);

-- Maintenance (LocationService.DrainLocation): a draining location is cordoned and every primary
-- and shadow in it is moved out by planned migrations; UncordonLocation ends the drain.
ALTER TABLE locations ADD COLUMN drain_started_at timestamptz;
