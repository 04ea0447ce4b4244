-- The audit trail (src/api/access/audit_trail.h): one row per call that changes something, and
-- per refused attempt at one, written right after the call ended. Wall-clock times. Rows older
-- than --audit_retention are deleted.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  caller      text NOT NULL,
  role        text NOT NULL,
  method      text NOT NULL,
  targets     jsonb NOT NULL DEFAULT '{}',
  request_id  text NOT NULL DEFAULT '',
  code        text NOT NULL,
  message     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_caller_idx ON audit_log (caller, at DESC);
