-- Up to $3 changes after cursor ($1 txid, $2 seq), for organisation $4 only those of people it
-- may see (NULL: all): txid, seq, committed (µs since the epoch), entity, entity id, person
-- ('' for none), change type, organisation, lag (ms).
-- Only rows of transactions below the snapshot's xmin: every such transaction has ended, so no
-- row with a smaller (txid, seq) can appear later. ORDER BY names the table's columns: a bare
-- "txid" would be the text output column, and '1001' sorts before '996' as text.
SELECT txid::text, seq, (extract(epoch FROM committed_at) * 1000000)::bigint, entity, entity_id,
  coalesce(person_id::text, ''), change_type, org_code,
  (extract(epoch FROM now() - committed_at) * 1000)::bigint
FROM core.changes c
WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
  AND (txid, seq) > ($1::xid8, $2)
  AND ($4::text IS NULL OR person_id IS NULL OR core.can_see(person_id, $4))
ORDER BY c.txid, c.seq
LIMIT $3
