-- The dated responsibility row of one move (core.succession_move): entity $1 with id $2 (person
-- $3, '' for none) moved in role $4 from $5 to $6 effective $7, applied by $8, resolving work
-- item $9 ('' for none).
INSERT INTO core.succession_move (entity, entity_id, person_id, role, from_code, to_code,
  effective_on, applied_by, work_id)
VALUES ($1, $2, nullif($3, '')::uuid, $4, $5, $6, $7::date, $8, nullif($9, '')::uuid)
