-- core.can_see as PL/pgSQL. As a SQL function with sub-selects it cannot be inlined, so every
-- call planned its seven sub-selects again (~0.5 ms on the read path of every person-level
-- call); PL/pgSQL keeps the plan for the session. The rule is unchanged (0001, 0003, 0004).
CREATE OR REPLACE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM core.person p
                  WHERE p.person_id = p_person AND (p.council_code = p_org OR p.icb_code = p_org))
      OR EXISTS (SELECT 1 FROM core.person_relationship r
                  WHERE r.person_id = p_person AND r.org_code = p_org)
      OR EXISTS (SELECT 1 FROM core.referral r
                  WHERE r.person_id = p_person AND r.provider_code = p_org AND r.closed_date IS NULL)
      OR EXISTS (SELECT 1 FROM core.hospital_spell s
                  WHERE s.person_id = p_person AND s.provider_code = p_org AND s.discharged_at IS NULL)
      OR EXISTS (SELECT 1 FROM core.key_worker k
                  WHERE k.person_id = p_person AND k.worker_org_code = p_org AND k.end_date IS NULL)
      OR EXISTS (SELECT 1 FROM s117.episode e
                  WHERE e.person_id = p_person AND e.state <> 'VOID'
                    AND (e.responsible_council_code = p_org OR e.responsible_icb_code = p_org))
      OR EXISTS (SELECT 1 FROM careplan.plan_org o
                  WHERE o.person_id = p_person AND o.org_code = p_org);
END
$$;
