-- The rows a transaction leaves to its end (PendingWrites), in one statement: the event log
-- ($2-$6), the change outbox ($7-$11, in order: seq follows the array) and the relationships of
-- organisation $1 with people $12 (recorded something) and $13 (registered them). Returns how
-- many event rows were new, and the feed position (txid, seq) of the last change written (NULL
-- when none).
WITH ev AS (
  INSERT INTO core.event (source_org, event_id, person_id, kind, content_hash, payload)
  SELECT $1, e.id, e.person::uuid, e.kind, decode(e.hash, 'hex'), e.payload::jsonb
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS e(id, person, kind, hash, payload)
  ON CONFLICT (source_org, event_id) DO NOTHING
  RETURNING 1
),
ch AS (
  INSERT INTO core.changes (entity, entity_id, person_id, change_type, org_code)
  SELECT c.entity, c.entity_id, nullif(c.person, '')::uuid, c.type, c.org
  FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
    WITH ORDINALITY AS c(entity, entity_id, person, type, org, n)
  ORDER BY c.n
  RETURNING txid, seq
),
rel AS (
  INSERT INTO core.relationship (person_id, org_code, kind)
  SELECT p, $1, 'recorded' FROM unnest($12::uuid[]) AS p
  UNION ALL
  SELECT p, $1, 'registered' FROM unnest($13::uuid[]) AS p
  ORDER BY 1, 3
  ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM ev), last.txid::text, last.seq
FROM (SELECT 1) one
LEFT JOIN (SELECT txid, seq FROM ch ORDER BY seq DESC LIMIT 1) last ON true
