-- The end of job $1: state $2 ('done' | 'failed'), the report $3 (bytea, empty when failed), the
-- error $4 and its grpc code $5 ('' and 0 when done), items $6 done of $7.
UPDATE core.dataset_import_job
SET state = $2, report = nullif($3, ''::bytea), error = nullif($4, ''),
  error_code = nullif($5, 0), rows_done = $6, rows_total = $7, updated_at = now()
WHERE job_id = $1::uuid
