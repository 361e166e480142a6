-- Records a placement of person $1 by council $2 in council $3: accommodation type $4, legal
-- basis $5, from $6 to $7 (NULL: open), provider $8, recorded by organisation $9. Returns its id.
INSERT INTO s117.placement (person_id, placing_council_code, placed_in_council_code,
  accommodation_type, legal_basis, start_date, end_date, provider_name, recorded_by)
VALUES ($1::uuid, $2, $3, $4, $5, $6::date, $7::date, $8, $9)
RETURNING placement_id::text
