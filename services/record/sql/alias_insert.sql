-- NHS number $1 becomes an alias of person $2: by merge $3 (NULL: a change of number), for
-- reason $4, by organisation $5.
INSERT INTO core.nhs_number_alias (nhs_number, person_id, merge_id, reason, created_by_org)
VALUES ($1, $2::uuid, $3::uuid, $4, $5)
