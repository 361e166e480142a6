-- The S117 feed follower's position in the change feed (txid, seq) and whether it has applied
-- the change at ($1 txid, $2 seq): every change up to its cursor is applied.
SELECT txid::text, seq, (txid, seq) >= ($1::xid8, $2::bigint)
FROM s117.feed_cursor
WHERE consumer = 's117'
