-- Job $1 of organisation $2 (none when it is another's): its state, progress, times (microseconds
-- since the epoch) and outcome.
SELECT job_id::text, kind, state, rows_total, rows_done,
  (extract(epoch FROM started_at) * 1000000)::bigint,
  (extract(epoch FROM updated_at) * 1000000)::bigint,
  (extract(epoch FROM coalesce(running_at, started_at)) * 1000000)::bigint,
  coalesce(error, ''), coalesce(error_code, 0), report
FROM core.dataset_import_job
WHERE job_id = $1::uuid AND org_code = $2
