-- The person of each of event ids $2 organisation $1 stored.
SELECT event_id, person_id::text
FROM core.event
WHERE source_org = $1 AND event_id = ANY($2::text[])
