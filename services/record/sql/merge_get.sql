-- Merge $1, locked: survivor id, superseded id, superseded NHS number, whether it was unmerged,
-- the survivor's NHS number now (NULL: the survivor is no longer a person, merged away since),
-- whether the superseded NHS number is some person's own now, and the NHS number of the person
-- the survivor is now part of when merged away since (core.survivor_of).
SELECT m.survivor_id::text, m.superseded_id::text, m.superseded_nhs::text,
       m.unmerged_at IS NOT NULL, p.nhs_number::text,
       EXISTS (SELECT 1 FROM core.person q WHERE q.nhs_number = m.superseded_nhs),
       (SELECT s.nhs_number::text FROM core.person s
        WHERE s.person_id = core.survivor_of(m.survivor_id))
FROM core.person_merge m LEFT JOIN core.person p ON p.person_id = m.survivor_id
WHERE m.merge_id = $1::uuid
FOR UPDATE OF m
