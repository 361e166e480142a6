-- One successor area row (core.successor_area): postcode district $4 goes to $2 when $1 splits
-- on $3. The succession link must be stored; no row returned when it is not. Returns whether it
-- was added (true), updated (false), or null when unchanged.
WITH link AS (
  SELECT 1 FROM core.organisation_successor
  WHERE predecessor_code = $1 AND successor_code = $2 AND effective_on = $3::date
),
up AS (
  INSERT INTO core.successor_area AS a (predecessor_code, effective_on, postcode_district,
    successor_code)
  SELECT $1, $3::date, $4, $2 FROM link
  ON CONFLICT (predecessor_code, effective_on, postcode_district) DO UPDATE
    SET successor_code = excluded.successor_code
    WHERE a.successor_code <> excluded.successor_code
  RETURNING xmax = 0 AS added
)
SELECT (SELECT added FROM up) FROM link
