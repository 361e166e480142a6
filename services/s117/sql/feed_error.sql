-- Records that the change at ($1 txid, $2 seq) (type $3, entity $4, person $5, '' for none)
-- was not applied, and why ($6); once per change.
INSERT INTO s117.feed_error (txid, seq, change_type, entity_id, person_id, error)
VALUES ($1::xid8, $2, $3, $4, nullif($5, '')::uuid, $6)
ON CONFLICT DO NOTHING
