-- The person with NHS number $1, as PersonFromRow reads a person: id, NHS number, names, date of
-- birth, sex, ethnic category, postcode, GP practice, council ('' for none), ICB ('' for none),
-- date of death ('' for none), version, then the local identifiers' systems and values (two
-- arrays in the same order).
SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, p.date_of_birth::text,
  p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, coalesce(p.council_code, ''),
  coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, ''), p.version,
  ARRAY(SELECT i.system FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value),
  ARRAY(SELECT i.value FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value)
FROM core.person p
WHERE p.nhs_number = $1
