-- The NHS number of the person with id $1 (no row: no such person), for the look-ups by
-- person_id (GetPerson, GetIntegratedRecord), which then go the NHS number's way.
SELECT nhs_number FROM core.person WHERE person_id = $1::uuid
