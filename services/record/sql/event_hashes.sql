-- The event ids of $2 (a text array) organisation $1 already sent, with their content hashes.
SELECT event_id, content_hash
FROM core.event
WHERE source_org = $1 AND event_id = ANY($2::text[])
