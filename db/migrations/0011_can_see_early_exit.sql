-- core.can_see with one statement per rule, returning at the first that holds. As one
-- expression of seven EXISTS (0008), every call started an executor for all seven sub-plans
-- even when the first answered; most callers are the person's council, ICB or an organisation
-- that recorded something for them, so usually one or two look-ups run. The rule is unchanged
-- (0001, 0003, 0004, 0008).
CREATE OR REPLACE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM core.person p
              WHERE p.person_id = p_person AND (p.council_code = p_org OR p.icb_code = p_org)) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM core.person_relationship r
              WHERE r.person_id = p_person AND r.org_code = p_org) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM core.referral r
              WHERE r.person_id = p_person AND r.provider_code = p_org AND r.closed_date IS NULL) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM core.hospital_spell s
              WHERE s.person_id = p_person AND s.provider_code = p_org AND s.discharged_at IS NULL) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM core.key_worker k
              WHERE k.person_id = p_person AND k.worker_org_code = p_org AND k.end_date IS NULL) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM s117.episode e
              WHERE e.person_id = p_person AND e.state <> 'VOID'
                AND (e.responsible_council_code = p_org OR e.responsible_icb_code = p_org)) THEN
    RETURN true;
  END IF;
  RETURN EXISTS (SELECT 1 FROM careplan.plan_org o
                  WHERE o.person_id = p_person AND o.org_code = p_org);
END
$$;
