-- Each joint sample path's demand summed over the planner's window, per origin region, written
-- with the paths they come from (src/forecast/path_sums.h). The planner reads one row a resource
-- a tick (about 5 KB at 200 paths and 13 regions) instead of every hour of every path (280 KB).
-- One row per hour the window may start at while the forecast is fresh: start_hour is
-- first_hour + k hours for k = 0, 1, ... . A new computation deletes the old rows in the
-- transaction that appends its forecasts, so rows never outlive the forecast they summarise.
CREATE TABLE forecast_path_sums (
  resource_id   uuid NOT NULL,
  start_hour    timestamptz NOT NULL,
  window_hours  integer NOT NULL CHECK (window_hours > 0),
  computed_at   timestamptz NOT NULL,
  paths         integer NOT NULL CHECK (paths > 0),
  -- Origin regions (never "total"), in the order of the columns below.
  regions       text[] NOT NULL,
  -- Per region: the point forecast's requests over the window, and in its first hour; the bytes
  -- served per request over the week before the forecast (0: none served).
  expected      float8[] NOT NULL,
  first_hour_requests float8[] NOT NULL,
  bytes_per_request float8[] NOT NULL,
  -- Per region: the largest path sum; codes are 16-bit shares of it, path after path, region
  -- after region within a path (little-endian).
  region_max    float8[] NOT NULL,
  codes         bytea NOT NULL,
  PRIMARY KEY (resource_id, start_hour, window_hours)
);
