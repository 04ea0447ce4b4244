-- Change notifications for the in-memory reservation view (src/reservation/reservation_view.h):
-- every committed change to what GetReservation returns (a reservation, its resource, its
-- instances) notifies the channel `shadowplane_reservation_changes` with the resource's id, so
-- every replica drops its copy. PostgreSQL delivers notifications after commit, in commit order,
-- and folds identical ones of one transaction into one.
CREATE FUNCTION notify_reservation_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  resource uuid;
BEGIN
  IF TG_TABLE_NAME = 'resources' THEN
    IF TG_OP = 'DELETE' THEN resource := OLD.id; ELSE resource := NEW.id; END IF;
  ELSE
    IF TG_OP = 'DELETE' THEN resource := OLD.resource_id; ELSE resource := NEW.resource_id; END IF;
  END IF;
  PERFORM pg_notify('shadowplane_reservation_changes', resource::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER reservations_notify_change AFTER INSERT OR UPDATE OR DELETE ON reservations
  FOR EACH ROW EXECUTE FUNCTION notify_reservation_change();
CREATE TRIGGER resources_notify_change AFTER INSERT OR UPDATE OR DELETE ON resources
  FOR EACH ROW EXECUTE FUNCTION notify_reservation_change();
-- Instances: only the columns the view shows (src/store/reservation_repository.cc,
-- InstanceLateral), so that write-lease renewals, which touch lease_expires_at every few seconds
-- per primary, notify nobody. A column added to the view must be added here.
CREATE TRIGGER instances_notify_insert_delete AFTER INSERT OR DELETE ON instances
  FOR EACH ROW EXECUTE FUNCTION notify_reservation_change();
CREATE TRIGGER instances_notify_update
  AFTER UPDATE OF id, resource_id, role, location, capacity_millicores, memory_mib, capacity_type,
    read_only, state, endpoint, created_at ON instances
  FOR EACH ROW EXECUTE FUNCTION notify_reservation_change();
