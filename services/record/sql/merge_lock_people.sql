-- Locks people $1 and $2 (in id order, so two merges lock alike) for a merge or an unmerge.
SELECT person_id FROM core.person WHERE person_id IN ($1::uuid, $2::uuid)
ORDER BY person_id FOR UPDATE
