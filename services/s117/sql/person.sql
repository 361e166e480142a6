-- Person $1's council code, ICB code and date of death ('' for each that is not recorded).
SELECT coalesce(council_code, ''), coalesce(icb_code, ''), coalesce(date_of_death::text, '')
FROM core.person
WHERE person_id = $1::uuid
