-- A running job's progress (written from its own connection while the load's transaction runs):
-- job $1, state $2, items $3 done of $4.
UPDATE core.dataset_import_job
SET state = $2, rows_done = $3, rows_total = $4, updated_at = now(),
  running_at = coalesce(running_at, CASE WHEN $2 = 'running' THEN now() END)
WHERE job_id = $1::uuid
