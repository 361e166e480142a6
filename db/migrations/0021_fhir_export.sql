-- Bulk export (FHIR Bulk Data Access, fhir-ukcore.md section 9; services/fhir/export_jobs.h):
-- the jobs and the NDJSON files they wrote, and the time each person's record last changed, for
-- _since.
--
-- A job belongs to the organisation that started it (its caller's organisation, role, purpose
-- of use and request id are kept for the audit rows the worker writes on its behalf). At most one
-- job per organisation is queued or running (the partial unique index). Workers of any replica
-- claim queued jobs with FOR UPDATE SKIP LOCKED; the files live under the export folder, which
-- replicas sharing this table must share too.

CREATE SCHEMA fhir;

CREATE TABLE fhir.export_job (
  job_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_code         text NOT NULL,
  role             text NOT NULL,
  purpose_of_use   text NOT NULL DEFAULT '',
  request_id       text NOT NULL DEFAULT '',
  level            text NOT NULL CHECK (level IN ('system', 'patient', 'group')),
  group_id         text NOT NULL DEFAULT '',
  -- Whose people: the organisation whose current relationships are read, and the kinds of
  -- relationship counted (NULL: any).
  member_org       text NOT NULL,
  member_kinds     text[],
  types            text[] NOT NULL,
  since            timestamptz,
  request_url      text NOT NULL DEFAULT '',
  state            text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  transaction_time timestamptz,
  people_total     bigint,
  people_done      bigint NOT NULL DEFAULT 0,
  error            text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  heartbeat_at     timestamptz
);
CREATE UNIQUE INDEX export_job_one_active ON fhir.export_job (org_code)
  WHERE state IN ('queued', 'running');
CREATE INDEX export_job_queued ON fhir.export_job (created_at) WHERE state = 'queued';
CREATE INDEX export_job_expiry ON fhir.export_job (expires_at);

CREATE TABLE fhir.export_file (
  job_id uuid NOT NULL REFERENCES fhir.export_job (job_id) ON DELETE CASCADE,
  name   text NOT NULL,        -- <Type>-<n>.ndjson, in the job's folder
  type   text NOT NULL,
  seq    int NOT NULL,
  count  bigint NOT NULL,      -- resources (lines) in the file
  PRIMARY KEY (job_id, name)
);

-- The people an organisation currently sees, in person order (export pages by person_id).
CREATE INDEX relationship_current_by_org ON core.relationship (org_code, person_id)
  WHERE to_at IS NULL;

-- When each person's record last changed: core.record_stamp (migration 0010) is written by
-- every write to any table the integrated record is built from, but holds a transaction id, not
-- a time. stamped_at is the time of the transaction that stamped it (now()); rows stamped before
-- this migration count as changed now.
ALTER TABLE core.record_stamp ADD COLUMN stamped_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION fhir.stamp_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.txid IS DISTINCT FROM OLD.txid THEN
    NEW.stamped_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER stamp_time BEFORE UPDATE ON core.record_stamp
  FOR EACH ROW EXECUTE FUNCTION fhir.stamp_time();
