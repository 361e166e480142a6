-- The funding agreement between council $1 and ICB $2 in force on date $3, if any: council
-- share, ICB share (percentages) and the review interval in months (0: not agreed).
SELECT council_pct::float8, icb_pct::float8, coalesce(review_interval_months, 0)
FROM s117.funding_agreement
WHERE council_code = $1
  AND icb_code = $2
  AND valid_from <= $3::date
  AND (valid_to IS NULL OR valid_to >= $3::date)
ORDER BY valid_from DESC
LIMIT 1
