-- The active indicators, in display order: indicator_id, version, name, owner, grp, definition,
-- unit, kind, direction, target (float8, NULL when none).
SELECT indicator_id, version, name, owner, grp, definition, unit, kind, direction, target::float8
FROM perf.indicator
WHERE active
ORDER BY display_order, indicator_id
