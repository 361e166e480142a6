-- Nothing: records a change of entity $1 ($2) of person $3 by organisation $5 for the feed.
INSERT INTO core.changes (entity, entity_id, person_id, change_type, org_code)
VALUES ($1, $2, $3::uuid, $4, $5)
