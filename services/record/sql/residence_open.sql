-- Opens person $1's current residence: postcode $2, council $3, ICB $4 ('' for none), from $5
-- (NULL: a date not recorded), learnt from $6 (person_created | person_updated), sent by $7.
INSERT INTO core.residence (person_id, postcode, council_code, icb_code, from_date, source,
  recorded_by)
VALUES ($1::uuid, $2, nullif($3, ''), nullif($4, ''), $5::date, $6, $7)
