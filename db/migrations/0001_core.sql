-- Core store: organisations and reference code lists, people, their episodes of care,
-- principals and tokens, the append-only audit trail and the change outbox.
CREATE SCHEMA IF NOT EXISTS core;

-- Organisations: NHS bodies by ODS code, councils by GSS code. Effective-dated, never deleted.
CREATE TABLE core.organisation (
  code        text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('trust', 'icb', 'council', 'district', 'region', 'gp_practice', 'other')),
  name        text NOT NULL,
  icb_code    text REFERENCES core.organisation (code),
  valid_from  date NOT NULL DEFAULT DATE '1900-01-01',
  valid_to    date
);

-- Versioned code lists (NHS Data Dictionary and MHSDS code sets). One row per code and validity.
CREATE TABLE core.code_list (
  list_name   text NOT NULL,
  code        text NOT NULL,
  description text NOT NULL,
  group_code  text,
  valid_from  date NOT NULL DEFAULT DATE '1900-01-01',
  valid_to    date,
  PRIMARY KEY (list_name, code, valid_from)
);

-- MHA legal status codes with their S117 qualifying flag (domain-rules 2.2 and 8.5).
CREATE TABLE core.mha_legal_status (
  code             char(2) PRIMARY KEY,
  description      text NOT NULL,
  s117_qualifying  text NOT NULL CHECK (s117_qualifying IN ('yes', 'no', 'case_decision', 'invalid')),
  short_term_hold  boolean NOT NULL DEFAULT false
);

CREATE TABLE core.person (
  person_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  nhs_number       char(10) NOT NULL UNIQUE CHECK (nhs_number ~ '^[0-9]{10}$'),
  family_name      text NOT NULL,
  given_name       text NOT NULL DEFAULT '',
  date_of_birth    date NOT NULL,
  sex              text NOT NULL DEFAULT '0',
  ethnic_category  text NOT NULL DEFAULT '99',
  postcode         text NOT NULL DEFAULT '',
  gp_practice_code text NOT NULL DEFAULT '',
  council_code     text REFERENCES core.organisation (code),
  icb_code         text REFERENCES core.organisation (code),
  date_of_death    date,
  version          bigint NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_name_dob ON core.person (lower(family_name), date_of_birth, person_id);
CREATE INDEX person_postcode ON core.person (postcode, person_id);
CREATE INDEX person_council ON core.person (council_code);
CREATE INDEX person_icb ON core.person (icb_code);

CREATE TABLE core.person_identifier (
  system     text NOT NULL,
  value      text NOT NULL,
  person_id  uuid NOT NULL REFERENCES core.person (person_id),
  PRIMARY KEY (system, value)
);
CREATE INDEX person_identifier_person ON core.person_identifier (person_id);

-- Organisations that recorded something for a person: a legitimate relationship for visibility.
CREATE TABLE core.person_relationship (
  person_id   uuid NOT NULL REFERENCES core.person (person_id),
  org_code    text NOT NULL,
  first_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, org_code)
);

-- Every event as received: the sender's id makes resending idempotent.
CREATE TABLE core.event (
  event_pk      bigserial PRIMARY KEY,
  source_org    text NOT NULL,
  event_id      text NOT NULL,
  person_id     uuid NOT NULL REFERENCES core.person (person_id),
  kind          text NOT NULL,
  content_hash  bytea NOT NULL,
  payload       jsonb NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_org, event_id)
);
CREATE INDEX event_person ON core.event (person_id);

CREATE TABLE core.referral (
  person_id        uuid NOT NULL REFERENCES core.person (person_id),
  source_org       text NOT NULL,
  referral_id      text NOT NULL,
  provider_code    text NOT NULL REFERENCES core.organisation (code),
  team_type        text NOT NULL,
  service_area     text NOT NULL,
  received_date    date NOT NULL,
  source_of_referral text NOT NULL DEFAULT '',
  closed_date      date,
  close_reason     text,
  PRIMARY KEY (source_org, referral_id),
  CHECK (closed_date IS NULL OR closed_date >= received_date)
);
CREATE INDEX referral_person ON core.referral (person_id);
CREATE INDEX referral_open_provider ON core.referral (provider_code, person_id) WHERE closed_date IS NULL;

CREATE TABLE core.hospital_spell (
  person_id        uuid NOT NULL REFERENCES core.person (person_id),
  source_org       text NOT NULL,
  spell_id         text NOT NULL,
  provider_code    text NOT NULL REFERENCES core.organisation (code),
  referral_id      text NOT NULL DEFAULT '',
  admitted_at      timestamptz NOT NULL,
  bed_type         text NOT NULL,
  admission_method text NOT NULL DEFAULT '',
  discharged_at    timestamptz,
  discharge_method text,
  discharge_destination text,
  PRIMARY KEY (source_org, spell_id),
  CHECK (discharged_at IS NULL OR discharged_at >= admitted_at)
);
CREATE INDEX spell_person ON core.hospital_spell (person_id, admitted_at DESC);
CREATE INDEX spell_discharged ON core.hospital_spell (discharged_at);

CREATE TABLE core.detention (
  person_id         uuid NOT NULL REFERENCES core.person (person_id),
  source_org        text NOT NULL,
  detention_id      text NOT NULL,
  legal_status_code char(2) NOT NULL REFERENCES core.mha_legal_status (code),
  started_at        timestamptz NOT NULL,
  spell_id          text NOT NULL DEFAULT '',
  provider_code     text NOT NULL REFERENCES core.organisation (code),
  ended_at          timestamptz,
  end_reason        text,
  PRIMARY KEY (source_org, detention_id),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX detention_person ON core.detention (person_id, started_at DESC);

CREATE TABLE core.care_contact (
  person_id        uuid NOT NULL REFERENCES core.person (person_id),
  source_org       text NOT NULL,
  contact_id       text NOT NULL,
  referral_id      text NOT NULL DEFAULT '',
  contact_date     date NOT NULL,
  attended         boolean NOT NULL,
  attend_status    text NOT NULL DEFAULT '',
  consultation_mechanism text NOT NULL DEFAULT '',
  team_type        text NOT NULL DEFAULT '',
  PRIMARY KEY (source_org, contact_id)
);
CREATE INDEX contact_person ON core.care_contact (person_id, contact_date);

CREATE TABLE core.key_worker (
  person_id        uuid NOT NULL REFERENCES core.person (person_id),
  source_org       text NOT NULL,
  assignment_id    text NOT NULL,
  worker_name      text NOT NULL,
  worker_role      text NOT NULL,
  worker_org_code  text NOT NULL REFERENCES core.organisation (code),
  worker_contact   text NOT NULL DEFAULT '',
  start_date       date NOT NULL,
  end_date         date,
  PRIMARY KEY (source_org, assignment_id),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX key_worker_person ON core.key_worker (person_id);

-- Employment (list 'employment_status') and accommodation ('accommodation_status') observations.
CREATE TABLE core.status_observation (
  obs_pk        bigserial PRIMARY KEY,
  person_id     uuid NOT NULL REFERENCES core.person (person_id),
  list_name     text NOT NULL CHECK (list_name IN ('employment_status', 'accommodation_status')),
  code          text NOT NULL,
  recorded_date date NOT NULL,
  weekly_hours  int,
  recording_org text NOT NULL
);
CREATE INDEX status_obs_person ON core.status_observation (person_id, list_name, recorded_date DESC, obs_pk DESC);

CREATE TABLE core.social_care_event (
  person_id          uuid NOT NULL REFERENCES core.person (person_id),
  source_org         text NOT NULL,
  care_act_id        text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('request', 'assessment', 'service', 'review')),
  council_code       text NOT NULL REFERENCES core.organisation (code),
  start_date         date NOT NULL,
  end_date           date,
  outcome            text NOT NULL DEFAULT '',
  assessment_type    text NOT NULL DEFAULT '',
  service_type       text NOT NULL DEFAULT '',
  delivery_mechanism text NOT NULL DEFAULT '',
  primary_support_reason text NOT NULL DEFAULT '',
  weekly_cost_pence  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (source_org, care_act_id),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX social_care_event_person ON core.social_care_event (person_id);

CREATE TABLE core.carer_assessment (
  person_id        uuid NOT NULL REFERENCES core.person (person_id),
  source_org       text NOT NULL,
  carer_assessment_id text NOT NULL,
  carer_name       text NOT NULL,
  relationship     text NOT NULL DEFAULT '',
  council_code     text NOT NULL REFERENCES core.organisation (code),
  offered_date     date,
  completed_date   date,
  outcome          text NOT NULL DEFAULT '',
  PRIMARY KEY (source_org, carer_assessment_id)
);
CREATE INDEX carer_assessment_person ON core.carer_assessment (person_id);

-- Principals are per client system; only the SHA-256 of a bearer token is stored.
CREATE TABLE core.api_token (
  token_sha256  bytea PRIMARY KEY,
  org_code      text NOT NULL REFERENCES core.organisation (code),
  role          text NOT NULL CHECK (role IN ('clinician', 'social_worker', 's117_officer',
                                              'performance_analyst', 'system', 'admin')),
  label         text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- Append-only audit of every read and write of person-level data.
CREATE TABLE core.audit (
  audit_pk           bigserial PRIMARY KEY,
  at                 timestamptz NOT NULL DEFAULT now(),
  org_code           text NOT NULL,
  role               text NOT NULL,
  person_id          uuid,
  action             text NOT NULL,
  purpose_of_use     text NOT NULL DEFAULT '',
  request_id         text NOT NULL DEFAULT '',
  outcome            text NOT NULL,
  break_glass_reason text NOT NULL DEFAULT ''
);
CREATE INDEX audit_person ON core.audit (person_id, at DESC, audit_pk DESC);

CREATE FUNCTION core.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'core.audit is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON core.audit
  FOR EACH ROW EXECUTE FUNCTION core.audit_append_only();

-- Change outbox, written in the same transaction as each change. Readers only read rows whose
-- transaction id is below the current snapshot's xmin, so a late commit is never skipped.
CREATE TABLE core.changes (
  seq          bigserial,
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  committed_at timestamptz NOT NULL DEFAULT now(),
  entity       text NOT NULL,
  entity_id    text NOT NULL,
  person_id    uuid,
  change_type  text NOT NULL,
  org_code     text NOT NULL DEFAULT '',
  PRIMARY KEY (txid, seq)
);

-- Visibility: an organisation sees a person when it is their council or ICB, has an open
-- referral, hospital stay or key worker for them, or has recorded something for them.
CREATE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
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
$$;
