-- Stored figures of the month starting $1 for scope $2/$3 and breakdown $4: indicator_id,
-- period_start (text), breakdown_value, numerator, denominator, value (float8), computed_at (µs
-- since the epoch), kind. By indicator and breakdown value.
SELECT r.indicator_id, r.period_start::text, r.breakdown_value, r.numerator::float8,
       r.denominator::float8, r.value::float8,
       (extract(epoch FROM r.computed_at) * 1000000)::bigint, i.kind
FROM perf.kpi_result r
LEFT JOIN perf.indicator i USING (indicator_id)
WHERE r.period_start = $1::date
  AND r.scope_type = $2
  AND r.scope_code = $3
  AND r.breakdown = $4
ORDER BY r.indicator_id, r.breakdown_value
