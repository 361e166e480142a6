-- The S117 feed follower's cursor in the change feed, locked (one follower at a time): txid,
-- seq.
SELECT txid::text, seq
FROM s117.feed_cursor
WHERE consumer = 's117'
FOR UPDATE
