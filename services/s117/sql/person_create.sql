-- Creates the person an imported register row names (NHS number $1, family name $2, given name
-- $3, date of birth $4), living in council $5 with ICB $6 as far as the register knows; the
-- relationship triggers (0015) relate the council and the ICB. Returns the person's id, or no
-- row when someone created them first.
INSERT INTO core.person (nhs_number, family_name, given_name, date_of_birth, council_code,
  icb_code)
VALUES ($1, $2, $3, $4::date, nullif($5, ''), nullif($6, ''))
ON CONFLICT (nhs_number) DO NOTHING
RETURNING person_id::text
