-- Forecasting, part 2: how each forecast was made (selected model or weighted combination, and
-- every candidate's rolling-origin backtest accuracy), what its intervals are made of (the error
-- scale per lead and the distribution of errors in units of it), joint sample paths of the newest
-- forecast per resource, and each forecast's accuracy once its hours have passed.
ALTER TABLE forecasts
  ADD COLUMN method          text NOT NULL DEFAULT 'selected'
                               CHECK (method IN ('selected', 'combined', 'fallback')),
  ADD COLUMN models          text[] NOT NULL DEFAULT '{}',
  ADD COLUMN weights         double precision[] NOT NULL DEFAULT '{}',
  ADD COLUMN lead_scale      double precision[] NOT NULL DEFAULT '{}',
  ADD COLUMN unit_quantiles  double precision[] NOT NULL DEFAULT '{}',
  -- The rolling-origin backtest: origins, the forecast's own sMAPE and MASE over them, and each
  -- candidate's (same order in the candidate_* arrays).
  ADD COLUMN backtest_origins  integer NOT NULL DEFAULT 0,
  ADD COLUMN backtest_smape    double precision,
  ADD COLUMN backtest_mase     double precision,
  ADD COLUMN candidate_models  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN candidate_smape   double precision[] NOT NULL DEFAULT '{}',
  ADD COLUMN candidate_mase    double precision[] NOT NULL DEFAULT '{}',
  ADD COLUMN selection_note  text,
  -- Filled once the scored hours have passed: the forecast against what happened.
  ADD COLUMN scored_at       timestamptz,
  ADD COLUMN scored_hours    integer,
  ADD COLUMN realized_smape  double precision,
  ADD COLUMN realized_mase   double precision,
  ADD COLUMN hits_80         integer,
  ADD COLUMN hits_95         integer;
CREATE INDEX forecasts_unscored_idx ON forecasts (first_hour) WHERE scored_at IS NULL;

-- The newest forecast's joint sample paths per resource: `paths` paths of `horizon` hours for
-- every region in `regions` (same order), drawn together so that the regions' correlation is
-- kept. Values are little-endian uint16 codes, [region][path][hour], each code / 65535 times that
-- region and hour's maximum in `lead_max` ([region][hour]).
CREATE TABLE forecast_paths (
  resource_id  uuid PRIMARY KEY,
  computed_at  timestamptz NOT NULL,
  first_hour   timestamptz NOT NULL,
  paths        integer NOT NULL CHECK (paths > 0),
  horizon      integer NOT NULL CHECK (horizon > 0),
  regions      text[] NOT NULL,
  lead_max     real[] NOT NULL,
  codes        bytea NOT NULL
);
