-- For metrics, when scraped: the change feed's last seq given out, the S117 follower's seq, and
-- the lag (ms) of the last change it applied.
SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM core.changes_seq_seq),
  seq, lag_ms
FROM s117.feed_cursor
WHERE consumer = 's117'
