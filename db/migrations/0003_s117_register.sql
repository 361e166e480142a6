-- S117 aftercare register (domain-rules 2.10, 2.11): one episode per qualifying detention and
-- the aftercare after it. At most one open (PLANNED or ACTIVE) episode per person.
CREATE SCHEMA IF NOT EXISTS s117;

CREATE TABLE s117.episode (
  episode_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id               uuid NOT NULL REFERENCES core.person (person_id),
  state                   text NOT NULL CHECK (state IN ('PLANNED', 'ACTIVE', 'ENDED_DISCHARGED',
                                                         'ENDED_SUPERSEDED', 'ENDED_DECEASED', 'VOID')),
  predecessor_episode_id  uuid REFERENCES s117.episode (episode_id),
  responsible_council_code text REFERENCES core.organisation (code),
  responsible_icb_code    text REFERENCES core.organisation (code),
  next_review_due         date,
  version                 bigint NOT NULL DEFAULT 1,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
-- Invariant 1, enforced by the database too.
CREATE UNIQUE INDEX episode_one_open_per_person ON s117.episode (person_id)
  WHERE state IN ('PLANNED', 'ACTIVE');
CREATE INDEX episode_council ON s117.episode (responsible_council_code, state);
CREATE INDEX episode_icb ON s117.episode (responsible_icb_code, state);

-- Visibility gains the register: the responsible council and ICB of an entitlement see the
-- person even when the person now lives elsewhere (responsibility follows ordinary residence
-- before detention, not the current address).
CREATE OR REPLACE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM core.person p
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
$$;
