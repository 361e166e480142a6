-- A split's work item: entity $4 ($5, person $6) names $1 (split on $2) as its $3; proposed
-- successor $8 ('' = decide) because $9, from postcode district $7. Once per item: returns the
-- new work_id, no row when the item is already listed.
INSERT INTO core.succession_work (predecessor_code, effective_on, role, entity, entity_id,
  person_id, postcode_district, proposed_code, proposal_basis)
VALUES ($1, $2::date, $3, $4, $5, $6::uuid, $7, nullif($8, ''), $9)
ON CONFLICT (predecessor_code, effective_on, entity, entity_id, role) DO NOTHING
RETURNING work_id
