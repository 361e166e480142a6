-- What this load of (organisation $1, kind $2, period $3 to $4) stored: event ids $5, by job $6.
INSERT INTO core.dataset_load (org_code, kind, period_start, period_end, event_ids, job_id)
VALUES ($1, $2, $3::date, $4::date, $5::text[], $6::uuid)
ON CONFLICT (org_code, kind, period_start) DO UPDATE
SET period_end = excluded.period_end, event_ids = excluded.event_ids, job_id = excluded.job_id,
  loaded_at = now()
