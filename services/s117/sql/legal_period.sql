-- The community treatment order ($3 = 'cto') or conditional discharge ($3 = 'conditional') $2
-- recorded by organisation $1: its start date and end date ('' while in force).
SELECT start_date::text, coalesce(end_date::text, '')
FROM core.community_treatment_order
WHERE $3 = 'cto' AND source_org = $1 AND cto_id = $2
UNION ALL
SELECT start_date::text, coalesce(end_date::text, '')
FROM core.conditional_discharge
WHERE $3 = 'conditional' AND source_org = $1 AND conditional_discharge_id = $2
