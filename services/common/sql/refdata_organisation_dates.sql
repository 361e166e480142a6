-- An organisation's opened_on and closed_on ('' while open); no row when unknown.
SELECT opened_on::text, coalesce(closed_on::text, '')
FROM core.organisation
WHERE code = $1
