-- The current NHS number of each alias among $1 (NHS numbers no longer anyone's own: a merged
-- record's, or a changed number): alias, current number. Numbers that are no alias: no row.
SELECT a.nhs_number::text, p.nhs_number::text
FROM core.nhs_number_alias a JOIN core.person p ON p.person_id = a.person_id
WHERE a.nhs_number = ANY($1::bpchar[])
