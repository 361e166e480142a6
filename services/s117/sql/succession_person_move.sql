-- Moves person $1's $2 ('council' or 'icb') from $4 to $3 when it is still $4: a new version of
-- the person. Returns the person's id; no row when it no longer names $4.
UPDATE core.person
SET council_code = CASE WHEN $2 = 'council' THEN $3 ELSE council_code END,
  icb_code = CASE WHEN $2 = 'icb' THEN $3 ELSE icb_code END,
  version = version + 1,
  updated_at = now()
WHERE person_id = $1::uuid
  AND (($2 = 'council' AND council_code = $4) OR ($2 = 'icb' AND icb_code = $4))
RETURNING person_id
