-- A merge of person $2 into person $1, keeping $2's row whole; reason $3, by organisation $4 in
-- role $5. Returns the merge id.
INSERT INTO core.person_merge (survivor_id, superseded_id, superseded_nhs, superseded_person,
                               reason, merged_by_org, merged_by_role)
SELECT $1::uuid, p.person_id, p.nhs_number, to_jsonb(p), $3, $4, $5
FROM core.person p WHERE p.person_id = $2::uuid
RETURNING merge_id::text
