-- Carers' assessments (an update of the same person's assessment changes its completion and
-- outcome) deferred to the end of a batch (PendingWrites), one row per element of the arrays: $1 is
-- the organisation, then one text array per column (person, id, carer name, relationship, council,
-- offered or '', completed or '', outcome), rows in order. Returns the key of every row it wrote,
-- so a row it did not write (its id used for another person) is known.
INSERT INTO core.carer_assessment AS c (person_id, source_org, carer_assessment_id, carer_name,
  relationship, council_code, offered_date, completed_date, outcome)
SELECT u.p::uuid, $1, u.id, u.name, u.rel, u.council, nullif(u.od, '')::date,
  nullif(u.cd, '')::date, u.outcome
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[])
  WITH ORDINALITY AS u(p, id, name, rel, council, od, cd, outcome, n)
ORDER BY u.n
ON CONFLICT (source_org, carer_assessment_id) DO UPDATE
SET completed_date = EXCLUDED.completed_date, outcome = EXCLUDED.outcome
WHERE c.person_id = EXCLUDED.person_id
RETURNING carer_assessment_id
