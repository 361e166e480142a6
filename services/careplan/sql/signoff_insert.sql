-- Records agency $3's sign-off of plan $1 at version $2 (organisation $4, signed by $5 in role
-- $6, on $7); a row when it is new (an agency signs a version once).
INSERT INTO careplan.signoff (plan_id, version, agency, org_code, signed_by, role, signed_on)
VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::date)
ON CONFLICT DO NOTHING
RETURNING 1
