-- Key worker assignments ended, deferred like the inserts and written after them: $1 is the
-- organisation, then one text array per column (person, assignment id, end date). An assignment
-- is updated only when it exists for that person, has not ended and started no later; returns
-- the id of every assignment it updated (key_worker_get tells why another was not).
UPDATE core.key_worker k
SET end_date = u.d::date
FROM unnest($2::text[], $3::text[], $4::text[]) AS u(p, id, d)
WHERE k.source_org = $1
  AND k.assignment_id = u.id
  AND k.person_id = u.p::uuid
  AND k.end_date IS NULL
  AND u.d::date >= k.start_date
RETURNING k.assignment_id
