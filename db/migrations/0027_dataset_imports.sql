-- National dataset imports (issue 21): the jobs of RecordService.ImportDataset, kept here so any
-- replica can answer GetDatasetImport, with their progress written while they run; and what each
-- load of a (sender, kind, period) stored, for replace-by-(sender, period): a later load of the
-- same period retracts the events of this list it no longer carries.
CREATE TABLE core.dataset_import_job (
  job_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_code     text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('mhsds', 'cld')),
  state        text NOT NULL CHECK (state IN ('receiving', 'running', 'done', 'failed')),
  rows_total   bigint NOT NULL DEFAULT 0,
  rows_done    bigint NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  running_at   timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  error        text,
  error_code   int,
  report       bytea             -- serialised icr.v1.DatasetImportReport, when done
);
CREATE INDEX dataset_import_job_org ON core.dataset_import_job (org_code, started_at DESC);

CREATE TABLE core.dataset_load (
  org_code     text NOT NULL,
  kind         text NOT NULL,
  period_start date NOT NULL,
  period_end   date NOT NULL,
  event_ids    text[] NOT NULL,   -- of core.event (source_org = org_code)
  job_id       uuid NOT NULL,
  loaded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_code, kind, period_start)
);
