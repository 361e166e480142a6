-- Total figures (breakdown none) of scope $3/$4 for the months starting $1 to $2, of indicator
-- $5 or every indicator ($5 = ''): the columns of figures.sql. By indicator and month.
SELECT r.indicator_id, r.period_start::text, r.breakdown_value, r.numerator::float8,
       r.denominator::float8, r.value::float8,
       (extract(epoch FROM r.computed_at) * 1000000)::bigint, i.kind
FROM perf.kpi_result r
LEFT JOIN perf.indicator i USING (indicator_id)
WHERE r.period_start BETWEEN $1::date AND $2::date
  AND r.scope_type = $3
  AND r.scope_code = $4
  AND r.breakdown = 'none'
  AND ($5 = '' OR r.indicator_id = $5)
ORDER BY r.indicator_id, r.period_start
