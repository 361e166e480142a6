-- Creates the person an imported register row names (NHS number $1, family name $2, given name
-- $3, date of birth $4), living in council $5 with ICB $6 as far as the register knows, created
-- by organisation $7, which gets its 'registered' relationship (as the record service gives a
-- creator); the relationship triggers (0015) relate the council and the ICB. Returns the
-- person's id, or no row when someone created them first. Their first residence (core.residence)
-- is that council and ICB since a date not recorded.
WITH person AS (
  INSERT INTO core.person (nhs_number, family_name, given_name, date_of_birth, council_code,
    icb_code)
  VALUES ($1, $2, $3, $4::date, nullif($5, ''), nullif($6, ''))
  ON CONFLICT (nhs_number) DO NOTHING
  RETURNING person_id
),
residence AS (
  INSERT INTO core.residence (person_id, council_code, icb_code, source, recorded_by)
  SELECT person_id, nullif($5, ''), nullif($6, ''), 'person_created', $7
  FROM person
  WHERE $5 <> '' OR $6 <> ''
),
registered AS (
  INSERT INTO core.relationship (person_id, org_code, kind)
  SELECT person_id, $7, 'registered'
  FROM person
  ON CONFLICT DO NOTHING
)
SELECT person_id::text
FROM person
