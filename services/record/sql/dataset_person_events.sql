-- Every event organisation $1 stored about people $2, in the order it stored them: a correction
-- rebuilds these people's part of the record from them (dataset_reset, then stored again).
SELECT event_id, payload::text
FROM core.event
WHERE source_org = $1 AND person_id = ANY($2::uuid[])
ORDER BY event_pk
