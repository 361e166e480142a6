-- The successor of each postcode district when $1 splits on $2 (core.successor_area).
SELECT postcode_district, successor_code
FROM core.successor_area
WHERE predecessor_code = $1
  AND effective_on = $2::date
