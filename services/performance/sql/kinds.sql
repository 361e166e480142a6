-- Each active indicator's kind: indicator_id, kind (ratio, count, sum or median).
SELECT indicator_id, kind
FROM perf.indicator
WHERE active
