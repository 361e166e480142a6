-- Carries the funding agreements (s117.funding_agreement) that name $1 as their $3 ('council'
-- or 'icb') and are in force on $4 over to its successor $2, from $4 on, with the same split,
-- review interval and panel: the old rows stay as the history of the old body's agreement. An
-- agreement the successor already has in force on $4 is kept. Returns one row per agreement
-- carried over.
INSERT INTO s117.funding_agreement (council_code, icb_code, valid_from, valid_to, council_pct,
  icb_pct, review_interval_months, panel)
SELECT CASE WHEN $3 = 'council' THEN $2 ELSE a.council_code END,
  CASE WHEN $3 = 'icb' THEN $2 ELSE a.icb_code END, $4::date, a.valid_to, a.council_pct,
  a.icb_pct, a.review_interval_months, a.panel
FROM s117.funding_agreement a
WHERE (($3 = 'council' AND a.council_code = $1) OR ($3 = 'icb' AND a.icb_code = $1))
  AND a.valid_from <= $4::date
  AND (a.valid_to IS NULL OR a.valid_to >= $4::date)
  AND NOT EXISTS (
    SELECT 1 FROM s117.funding_agreement b
    WHERE b.council_code = CASE WHEN $3 = 'council' THEN $2 ELSE a.council_code END
      AND b.icb_code = CASE WHEN $3 = 'icb' THEN $2 ELSE a.icb_code END
      AND b.valid_from <= $4::date
      AND (b.valid_to IS NULL OR b.valid_to >= $4::date))
ON CONFLICT DO NOTHING
RETURNING council_code
