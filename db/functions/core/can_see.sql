-- The one rule of sight: an organisation sees a person while it has a current relationship of
-- any kind with them.
CREATE OR REPLACE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM core.relationship r
                  WHERE r.person_id = p_person AND r.org_code = p_org AND r.to_at IS NULL)
$$;
