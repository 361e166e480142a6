-- The event ids the last load of (organisation $1, kind $2, period starting $3) stored, after
-- taking the period's lock for this transaction (loads of one period run one after the other).
SELECT pg_advisory_xact_lock(hashtextextended('dataset_load/' || $1 || '/' || $2 || '/' || $3, 0)),
  (SELECT event_ids FROM core.dataset_load
   WHERE org_code = $1 AND kind = $2 AND period_start = $3::date)
