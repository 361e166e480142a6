-- ACCOMMODATION_RECORDED: a row per adult aged 18 to 69 open to mental health services at period
-- end ($2) and alive then, counted when an accommodation_status was recorded in the 12 months to
-- period end (no group: any status counts). The unit query of perf.kpi_results.
SELECT *
FROM perf.ascof_status_units('accommodation_status', NULL, $2)
