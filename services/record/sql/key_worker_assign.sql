-- Key worker assignments deferred to the end of a batch (PendingWrites), one row per element of the
-- arrays: $1 is the organisation, then one text array per column (person, assignment id, name,
-- role, organisation, contact, start date), rows in order. Returns the key of every row it wrote,
-- so a row it did not write (already recorded) is known.
INSERT INTO core.key_worker (person_id, source_org, assignment_id, worker_name, worker_role,
  worker_org_code, worker_contact, start_date)
SELECT u.p::uuid, $1, u.id, u.name, u.role, u.org, u.contact, u.d::date
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  WITH ORDINALITY AS u(p, id, name, role, org, contact, d, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING assignment_id
