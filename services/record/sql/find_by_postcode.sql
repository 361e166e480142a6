-- FindPeople by postcode $1: up to $4 people, as person_by_nhs, with ids after $2 in id order,
-- and when $3 is not null only those organisation $3 may see.
SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, p.date_of_birth::text,
  p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, coalesce(p.council_code, ''),
  coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, ''), p.version,
  ARRAY(SELECT i.system FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value),
  ARRAY(SELECT i.value FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value)
FROM core.person p
WHERE p.postcode = $1
  AND p.person_id > $2::uuid
  AND ($3::text IS NULL OR core.can_see(p.person_id, $3))
ORDER BY p.person_id
LIMIT $4
