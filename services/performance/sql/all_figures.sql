-- Every stored figure of scope $3/$4 for the months starting $1 to $2, all breakdowns: the
-- columns of figures.sql, then breakdown. By month, indicator, breakdown and breakdown value.
SELECT r.indicator_id, r.period_start::text, r.breakdown_value, r.numerator::float8,
       r.denominator::float8, r.value::float8,
       (extract(epoch FROM r.computed_at) * 1000000)::bigint, i.kind, r.breakdown
FROM perf.kpi_result r
LEFT JOIN perf.indicator i USING (indicator_id)
WHERE r.period_start BETWEEN $1::date AND $2::date
  AND r.scope_type = $3
  AND r.scope_code = $4
ORDER BY r.period_start, r.indicator_id, r.breakdown, r.breakdown_value
