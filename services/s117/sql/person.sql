-- Person $1's council code, ICB code, date of death and date of birth ('' for each that is not
-- recorded).
SELECT coalesce(council_code, ''), coalesce(icb_code, ''), coalesce(date_of_death::text, ''),
  coalesce(date_of_birth::text, '')
FROM core.person
WHERE person_id = $1::uuid
