-- Export job $1 of organisation $2, unless cancelled or expired: state, people total (-1 before
-- it started), people done, transaction time (RFC 3339 UTC, '' before it started), request URL,
-- error, expiry (microseconds since the epoch).
SELECT state, coalesce(people_total, -1), people_done,
  coalesce(to_char(transaction_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''),
  request_url, error, (extract(epoch FROM expires_at) * 1000000)::bigint
FROM fhir.export_job
WHERE job_id = $1::uuid AND org_code = $2 AND state <> 'cancelled' AND expires_at > now()
