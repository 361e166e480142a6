-- Deletes the stored results of the month starting $1 (returns nothing).
DELETE FROM perf.kpi_result
WHERE period_start = $1::date
