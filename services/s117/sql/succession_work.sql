-- Work items of splits that organisation $3 may see (it is the old body or a successor; '':
-- any, for a caller that applies access::WorksOnSuccession itself), of
-- body $4 ('' = any: the old body or a successor), after work_id $1 (keyset), only open ones
-- unless $2, or just item $6 ('' = all); at most $5. Columns as SuccessionWorkItem, then the
-- person's id.
SELECT w.work_id::text, w.predecessor_code, w.effective_on::text, w.entity, w.entity_id, w.role,
  p.nhs_number, w.postcode_district,
  ARRAY(SELECT s.successor_code FROM core.organisation_successor s
        WHERE s.predecessor_code = w.predecessor_code AND s.effective_on = w.effective_on
        ORDER BY s.successor_code) AS successors,
  coalesce(w.proposed_code, ''), w.proposal_basis, w.status, coalesce(w.resolved_code, ''),
  coalesce(w.resolved_by_org, ''),
  coalesce(to_char(w.resolved_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD'), ''),
  w.person_id::text
FROM core.succession_work w
JOIN core.person p ON p.person_id = w.person_id
WHERE w.work_id > $1::uuid
  AND ($2 OR w.status = 'OPEN')
  AND ($6 = '' OR w.work_id = nullif($6, '')::uuid)
  AND ($3 = '' OR w.predecessor_code = $3
       OR EXISTS (SELECT 1 FROM core.organisation_successor s
                  WHERE s.predecessor_code = w.predecessor_code
                    AND s.effective_on = w.effective_on AND s.successor_code = $3))
  AND ($4 = '' OR w.predecessor_code = $4
       OR EXISTS (SELECT 1 FROM core.organisation_successor s
                  WHERE s.predecessor_code = w.predecessor_code
                    AND s.effective_on = w.effective_on AND s.successor_code = $4))
ORDER BY w.work_id
LIMIT $5
