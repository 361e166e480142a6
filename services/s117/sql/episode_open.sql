-- Person $1's open (PLANNED or ACTIVE) episode as JSON, locked for update; at most one row.
SELECT to_jsonb(e)::text
FROM s117.episode e
WHERE e.person_id = $1::uuid
  AND e.state IN ('PLANNED', 'ACTIVE')
FOR UPDATE
