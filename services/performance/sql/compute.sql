-- One indicator's perf.kpi_result rows for the month $1 (first day) to $2 (last day), all text:
-- $3 indicator id, $4 kind, $5 its own breakdown (NULL when none), $6 the text of its unit query
-- (indicator_*.sql). See perf.kpi_results.
SELECT indicator_id, period_start, scope_type, scope_code, breakdown, breakdown_value,
       numerator, denominator, value
FROM perf.kpi_results($3, $1::date, $2::date, $4, $5, $6)
