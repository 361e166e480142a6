-- People found by one key, as PersonFromRow reads a person: id, NHS number, names, date of birth,
-- sex, ethnic category, postcode, GP practice, council ('' for none), ICB ('' for none), date of
-- death ('' for none), version, then the local identifiers' systems and values (two arrays in the
-- same order). The key, by kind $1: 'nhs', NHS number $2; 'name', family name $2 (any case) and
-- date of birth $4; 'postcode', postcode $2; 'identifier', local identifier system $2 and value
-- $3. At most $7 people, with ids after $5 in id order, and when $6 is not null only those
-- organisation $6 may see.
WITH found AS (
  SELECT person_id FROM core.person WHERE $1 = 'nhs' AND nhs_number = $2::text::bpchar
  UNION ALL
  SELECT person_id FROM core.person
  WHERE $1 = 'name' AND lower(family_name) = lower($2::text) AND date_of_birth = $4::date
  UNION ALL
  SELECT person_id FROM core.person WHERE $1 = 'postcode' AND postcode = $2::text
  UNION ALL
  SELECT person_id FROM core.person_identifier
  WHERE $1 = 'identifier' AND system = $2::text AND value = $3::text
)
SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, p.date_of_birth::text,
  p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, coalesce(p.council_code, ''),
  coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, ''), p.version,
  ARRAY(SELECT i.system FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value),
  ARRAY(SELECT i.value FROM core.person_identifier i
        WHERE i.person_id = p.person_id ORDER BY i.system, i.value)
FROM found f
JOIN core.person p ON p.person_id = f.person_id
WHERE p.person_id > $5::uuid
  AND ($6::text IS NULL OR core.can_see(p.person_id, $6))
ORDER BY p.person_id
LIMIT $7
