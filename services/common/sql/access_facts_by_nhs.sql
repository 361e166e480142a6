-- The person with NHS number $1 and what organisation $2's relationships give it: id, sees, care.
SELECT p.person_id::text, f.sees, f.care
FROM core.person p, core.relationship_facts(p.person_id, $2) f
WHERE p.nhs_number = $1
