-- Cutovers as measured (the final round's size and the write freeze it took), and the freeze model
-- fitted to them (migration/freeze_model.h): the planner prices a move with it and hold bounds are
-- set above its high estimate. One model row, refitted after every measured cutover.
CREATE TABLE migration_cutovers (
  id              bigserial PRIMARY KEY,
  -- NULL for a cutover measured outside a migration (a benchmark, a drill).
  migration_id    uuid REFERENCES migrations (id),
  at              timestamptz NOT NULL,
  dirty_bytes     bigint NOT NULL CHECK (dirty_bytes >= 0),
  dirty_files     integer NOT NULL CHECK (dirty_files >= 0),
  freeze_seconds  double precision NOT NULL CHECK (freeze_seconds >= 0)
);
CREATE INDEX migration_cutovers_at_idx ON migration_cutovers (at DESC);

CREATE TABLE freeze_model (
  id                    smallint PRIMARY KEY CHECK (id = 1),
  base_seconds          double precision NOT NULL CHECK (base_seconds >= 0),
  seconds_per_mib       double precision NOT NULL CHECK (seconds_per_mib >= 0),
  seconds_per_file      double precision NOT NULL CHECK (seconds_per_file >= 0),
  residual_p95_seconds  double precision NOT NULL CHECK (residual_p95_seconds >= 0),
  samples               integer NOT NULL CHECK (samples >= 0),
  fitted_at             timestamptz NOT NULL
);
