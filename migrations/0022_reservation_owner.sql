-- Ownership (src/api/access/ownership.h): the team a reservation belongs to, from the caller
-- that made it. NULL for reservations made without authentication, or by an admin of no team:
-- only admins change those. A team's quota (src/store/team_quota.h) counts its live
-- reservations, read under a per-team lock when one is made or grows.
ALTER TABLE reservations ADD COLUMN owner_team text;
CREATE INDEX reservations_owner_team_idx ON reservations (owner_team)
  WHERE owner_team IS NOT NULL AND state IN ('pending', 'active', 'releasing');
