-- Care plans (domain-rules 4.4-4.8): one plan per person at a time, every change an immutable
-- version, sign-offs per agency, reviews, and the organisations with a role on an open plan
-- (which gives them visibility of the person).
CREATE SCHEMA IF NOT EXISTS careplan;

-- Configuration, not code: per plan type, which agencies sign and how many of them must sign
-- before the plan is AGREED, and the longest interval to the next review.
CREATE TABLE careplan.plan_type_rule (
  plan_type          text PRIMARY KEY,
  signoff_agencies   text[] NOT NULL CHECK (signoff_agencies <@ ARRAY['health', 'social_care']),
  signoffs_needed    int NOT NULL CHECK (signoffs_needed >= 1),
  max_review_months  int NOT NULL CHECK (max_review_months BETWEEN 1 AND 12),
  CHECK (signoffs_needed <= cardinality(signoff_agencies))
);
INSERT INTO careplan.plan_type_rule VALUES
  ('default', ARRAY['health', 'social_care'], 1, 12),
  ('s117_aftercare', ARRAY['health', 'social_care'], 2, 12);

-- The current state of each plan, with the columns lists and indicators filter on.
CREATE TABLE careplan.plan (
  plan_id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id              uuid NOT NULL REFERENCES core.person (person_id),
  current_version        int NOT NULL DEFAULT 1,
  status                 text NOT NULL CHECK (status IN ('DRAFT', 'AGREED', 'UNDER_REVIEW', 'CLOSED')),
  key_worker_org         text,
  next_review_date       date,
  is_s117_aftercare_plan boolean NOT NULL DEFAULT false,
  is_care_act_plan       boolean NOT NULL DEFAULT false,
  is_nhs_pcsp            boolean NOT NULL DEFAULT false,
  signed_version         int,          -- the draft whose sign-offs agreed the plan in force
  agreed_version         int,          -- the latest AGREED version
  agreed_at              timestamptz,
  agreed_s117            boolean NOT NULL DEFAULT false,  -- the agreed version is the S117 plan
  last_review_date       date,
  last_reviewed_at       timestamptz,
  created_by_org         text NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  closed_at              timestamptz,
  close_reason           text
);
-- One open plan per person.
CREATE UNIQUE INDEX plan_one_open_per_person ON careplan.plan (person_id) WHERE status <> 'CLOSED';
CREATE INDEX plan_person ON careplan.plan (person_id);
CREATE INDEX plan_key_worker_org ON careplan.plan (key_worker_org, next_review_date, plan_id);
CREATE INDEX plan_review_due ON careplan.plan (next_review_date, plan_id) WHERE status <> 'CLOSED';

-- Every version as written: the plan message as protobuf JSON (proto field names). Immutable.
CREATE TABLE careplan.plan_version (
  plan_id          uuid NOT NULL REFERENCES careplan.plan (plan_id),
  version          int NOT NULL CHECK (version >= 1),
  status           text NOT NULL CHECK (status IN ('DRAFT', 'AGREED', 'UNDER_REVIEW', 'CLOSED')),
  content          jsonb NOT NULL,
  change           text NOT NULL,   -- created, updated, agreed, review_started, reviewed, closed
  change_reason    text NOT NULL DEFAULT '',
  signed_version   int,             -- for versions in force: the draft whose sign-offs agreed it
  created_by_org   text NOT NULL,
  created_by_role  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plan_id, version)
);

-- Each agency's sign-off of one draft version (domain-rules 5: an individual signed record each).
CREATE TABLE careplan.signoff (
  plan_id    uuid NOT NULL,
  version    int NOT NULL,
  agency     text NOT NULL CHECK (agency IN ('health', 'social_care')),
  org_code   text NOT NULL REFERENCES core.organisation (code),
  signed_by  text NOT NULL,
  role       text NOT NULL,
  signed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plan_id, version, agency),
  FOREIGN KEY (plan_id, version) REFERENCES careplan.plan_version (plan_id, version)
);

CREATE TABLE careplan.review (
  review_id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  plan_id                  uuid NOT NULL REFERENCES careplan.plan (plan_id),
  plan_version             int NOT NULL,   -- the version reviewed
  person_id                uuid NOT NULL REFERENCES core.person (person_id),
  review_date              date NOT NULL,
  participants             jsonb NOT NULL,
  health_participated      boolean NOT NULL,
  social_care_participated boolean NOT NULL,
  outcome                  text NOT NULL CHECK (outcome IN ('CONTINUE', 'MODIFY', 'RECOMMEND_CLOSURE')),
  next_review_date         date NOT NULL,
  notes                    text NOT NULL DEFAULT '',
  recorded_by_org          text NOT NULL,
  recorded_at              timestamptz NOT NULL DEFAULT now(),
  CHECK (next_review_date > review_date)
);
CREATE INDEX review_plan ON careplan.review (plan_id, review_date DESC, recorded_at DESC);
CREATE INDEX review_person ON careplan.review (person_id, review_date);

-- History is kept, not overwritten: versions, sign-offs and reviews are append-only.
CREATE FUNCTION careplan.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER plan_version_no_update BEFORE UPDATE OR DELETE ON careplan.plan_version
  FOR EACH ROW EXECUTE FUNCTION careplan.append_only();
CREATE TRIGGER signoff_no_update BEFORE UPDATE OR DELETE ON careplan.signoff
  FOR EACH ROW EXECUTE FUNCTION careplan.append_only();
CREATE TRIGGER review_no_update BEFORE UPDATE OR DELETE ON careplan.review
  FOR EACH ROW EXECUTE FUNCTION careplan.append_only();

-- Organisations with a role on an open plan (key worker, MDT member, signatory), rewritten with
-- each version and emptied when the plan closes, so visibility is one indexed lookup.
CREATE TABLE careplan.plan_org (
  person_id  uuid NOT NULL REFERENCES core.person (person_id),
  org_code   text NOT NULL,
  plan_id    uuid NOT NULL REFERENCES careplan.plan (plan_id),
  PRIMARY KEY (person_id, org_code, plan_id)
);
CREATE INDEX plan_org_plan ON careplan.plan_org (plan_id);

-- Visibility gains care plan roles: the body of 0003 plus the organisations on an open plan.
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
      OR EXISTS (SELECT 1 FROM careplan.plan_org o
                  WHERE o.person_id = p_person AND o.org_code = p_org)
$$;
