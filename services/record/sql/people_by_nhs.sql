-- The people of a batch with NHS numbers in $1, as person_by_nhs but without their local
-- identifiers (events do not need them: two index scans a person saved), then the facts of the
-- access rule for organisation $2 (sees, care).
SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, p.date_of_birth::text,
  p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, coalesce(p.council_code, ''),
  coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, ''), p.version,
  '{}'::text[], '{}'::text[], f.sees, f.care
FROM core.person p
CROSS JOIN LATERAL core.relationship_facts(p.person_id, $2) f
WHERE p.nhs_number = ANY($1::bpchar[])
