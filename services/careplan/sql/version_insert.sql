-- Stores version $2 of plan $1: status, content (JSON), change and its reason, the version whose
-- sign-offs it carries, who made it (organisation, role) and, for an agreement, the day it was
-- agreed ($10, NULL otherwise).
INSERT INTO careplan.plan_version (plan_id, version, status, content, change, change_reason,
  signed_version, created_by_org, created_by_role, agreed_on)
VALUES ($1::uuid, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10::date)
