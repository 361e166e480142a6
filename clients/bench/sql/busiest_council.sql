-- The council with the most open (PLANNED or ACTIVE) S117 entitlements; no row when none.
SELECT responsible_council_code
FROM s117.episode
WHERE state IN ('PLANNED', 'ACTIVE')
  AND responsible_council_code IS NOT NULL
GROUP BY responsible_council_code
ORDER BY count(*) DESC
LIMIT 1
