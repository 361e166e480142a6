-- EMPLOYMENT (ASCOF): a row per adult aged 18 to 69 open to mental health services at period end
-- ($2) and alive then, counted when their latest employment_status in the 12 months to period end
-- is in the group 'paid'. The unit query of perf.kpi_results.
SELECT *
FROM perf.ascof_status_units('employment_status', 'paid', $2)
