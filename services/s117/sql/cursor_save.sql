-- Moves the S117 feed follower's cursor to ($1 txid, $2 seq), with the lag $3 (ms) of the last
-- change read.
UPDATE s117.feed_cursor
SET txid = $1::xid8,
  seq = $2,
  lag_ms = $3,
  updated_at = now()
WHERE consumer = 's117'
