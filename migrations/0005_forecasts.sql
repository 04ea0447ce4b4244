-- Forecasts of hourly demand per resource and origin region ('total': all regions together), one
-- row per computation, kept for --forecast_retention so that past forecasts can be scored against
-- what happened and a migration can cite the forecast it acted on.
CREATE TABLE forecasts (
  id               bigserial PRIMARY KEY,
  resource_id      uuid NOT NULL,
  origin_region    text NOT NULL,
  model            text NOT NULL,
  parameters       double precision[] NOT NULL DEFAULT '{}',
  -- The hour the first value forecasts; value i forecasts first_hour + i hours.
  first_hour       timestamptz NOT NULL,
  horizon_values   double precision[] NOT NULL,
  history_hours    integer NOT NULL CHECK (history_hours >= 0),
  computed_at      timestamptz NOT NULL,
  -- Why the chosen model was not used (its fit failed or diverged): the values are seasonal naive's.
  fallback_reason  text
);
CREATE INDEX forecasts_latest_idx ON forecasts (resource_id, origin_region, computed_at DESC);
CREATE INDEX forecasts_computed_idx ON forecasts (computed_at);
