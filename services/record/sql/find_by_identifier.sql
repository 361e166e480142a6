-- FindPeople by local identifier (system $1, value $2): up to $5 people, as person_by_nhs, with
-- ids after $3 in id order, and when $4 is not null only those organisation $4 may see.
SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, p.date_of_birth::text,
  p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, coalesce(p.council_code, ''),
  coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, ''), p.version,
  ARRAY(SELECT i.system FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value),
  ARRAY(SELECT i.value FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value)
FROM core.person p
JOIN core.person_identifier i ON i.person_id = p.person_id
WHERE i.system = $1
  AND i.value = $2
  AND p.person_id > $3::uuid
  AND ($4::text IS NULL OR core.can_see(p.person_id, $4))
ORDER BY p.person_id
LIMIT $5
