-- A row when $1 is a known organisation code.
SELECT 1
FROM core.organisation
WHERE code = $1
