-- S117 aftercare register (domain-rules 2.10, 2.11): one episode per qualifying detention and
-- the aftercare after it, its service lines, reviews, joint end decisions and tasks, an
-- append-only history of every change, the cursor of the change-feed follower, and the
-- configuration that domain-rules marks POLICY or [U] (loaded by the service, never hard-coded).
CREATE SCHEMA IF NOT EXISTS s117;

-- ---- Configuration ----

-- Named settings read by the service at start (a bad value stops it from serving S117 calls).
CREATE TABLE s117.policy (
  key         text PRIMARY KEY,
  value       text NOT NULL,
  description text NOT NULL
);
INSERT INTO s117.policy (key, value, description) VALUES
  ('review_interval_months', '12',
   'Default and longest gap from a review (or the start of aftercare) to the next review due (2.9, POLICY); a funding agreement may set a shorter one'),
  ('review_overdue_tolerance_days', '0',
   'Days after next_review_due before a review counts as overdue (2.9, POLICY)'),
  ('discharge_review_window_days', '90',
   'A review concluding RECOMMEND_DISCHARGE must lie within this many days before the joint end (T6, POLICY)'),
  ('stale_after_months', '12',
   'ListRegister stale filter: ACTIVE with no open referral and no review within this many months'),
  ('on_cto_revocation', 'LEGAL_DETERMINATION',
   'A qualifying detention while on a CTO (2.7 [U]): LEGAL_DETERMINATION (task, no transition), SUPERSEDE (T5) or CONTINUE'),
  ('on_conditional_discharge_recall', 'LEGAL_DETERMINATION',
   'A qualifying detention while conditionally discharged (2.7 [U]): LEGAL_DETERMINATION, SUPERSEDE or CONTINUE'),
  ('section_change_redetermines_council', 'false',
   'T2 (section changed with no break in detention) re-determines the council (2.10 T2 [U]); false keeps it'),
  ('allow_discharge_rescission', 'true',
   'T9: an ENDED_DISCHARGED entitlement may be reinstated when both bodies rescind (2.6/2.13 [U])'),
  ('require_notification_before_end', 'false',
   'T6 also needs the date the person was notified (Mental Health Act 2025 joint notice, 2.13 [U])'),
  ('who_pays_2020_from', '2020-09-01',
   'Detentions from this date follow Who Pays? 2020 (responsibility_rule_version WHO_PAYS_2020; 2.5 [U])'),
  ('icb_regs_2022_from', '2022-07-01',
   'Detentions from this date follow the ICB Responsibilities Regulations 2022 (ICB_REGS_2022; 2.5 [U])');

-- Reasons for ending aftercare; a reason that may not stand alone (CoP ch. 33, 2.6 [U]) is
-- refused as primary_reason and accepted only as context.
CREATE TABLE s117.end_reason (
  code               text PRIMARY KEY,
  description        text NOT NULL,
  allowed_as_primary boolean NOT NULL
);
INSERT INTO s117.end_reason (code, description, allowed_as_primary) VALUES
  ('NO_LONGER_NEEDS_AFTERCARE', 'Both bodies are satisfied the person no longer needs after-care services', true),
  ('DISCHARGED_FROM_CMHT', 'Discharged from specialist mental health services', false),
  ('TIME_ELAPSED', 'A period of time has passed since leaving hospital', false),
  ('READMITTED_INFORMALLY_OR_S2', 'Back in hospital informally or under section 2', false),
  ('CTO_ENDED', 'No longer on a community treatment order', false),
  ('S17_LEAVE_ENDED', 'No longer on section 17 leave', false),
  ('REFUSED_SERVICES', 'Refuses after-care services', false),
  ('WELL_AND_SETTLED', 'Now well and settled', false);

-- MHSDS legal status code -> qualifying_section of 2.11. Whether a code qualifies at all is
-- core.mha_legal_status.s117_qualifying (yes / no / case_decision).
CREATE TABLE s117.qualifying_section (
  legal_status_code char(2) PRIMARY KEY REFERENCES core.mha_legal_status (code),
  section           text NOT NULL CHECK (section IN ('S3', 'S37', 'S37_41', 'S45A', 'S47', 'S47_49',
                                                     'S48', 'S48_49', 'OTHER_CASE_DECISION'))
);
INSERT INTO s117.qualifying_section (legal_status_code, section) VALUES
  ('03', 'S3'), ('09', 'S37_41'), ('10', 'S37'), ('15', 'S47_49'), ('16', 'S47'),
  ('17', 'S48_49'), ('18', 'S48'), ('37', 'S45A'), ('38', 'S45A'),
  ('14', 'OTHER_CASE_DECISION'), ('31', 'OTHER_CASE_DECISION'), ('32', 'OTHER_CASE_DECISION');

-- Kinds of after-care service; top-ups exist only for preferred accommodation (s117A).
CREATE TABLE s117.service_type (
  code             text PRIMARY KEY,
  description      text NOT NULL,
  is_accommodation boolean NOT NULL DEFAULT false
);
INSERT INTO s117.service_type (code, description, is_accommodation) VALUES
  ('SUPPORTED_ACCOMMODATION', 'Supported accommodation', true),
  ('RESIDENTIAL_CARE', 'Residential care home', true),
  ('NURSING_CARE', 'Nursing home', true),
  ('HOME_CARE', 'Home care', false),
  ('DAY_OPPORTUNITIES', 'Day opportunities', false),
  ('EMPLOYMENT_SUPPORT', 'Employment support', false),
  ('MEDICATION', 'Medication', false),
  ('PSYCHOLOGICAL_THERAPY', 'Psychological therapy', false),
  ('CARE_COORDINATION', 'Care coordination', false),
  ('OTHER', 'Other after-care service', false);

-- Per council and ICB, effective-dated (2.8, R7): the default JOINT split and review interval.
-- A deployment loads its local agreements; there is no national formula.
CREATE TABLE s117.funding_agreement (
  council_code           text NOT NULL REFERENCES core.organisation (code),
  icb_code               text NOT NULL REFERENCES core.organisation (code),
  valid_from             date NOT NULL,
  valid_to               date,
  council_pct            numeric(5,2) NOT NULL CHECK (council_pct BETWEEN 0 AND 100),
  icb_pct                numeric(5,2) NOT NULL CHECK (icb_pct BETWEEN 0 AND 100),
  review_interval_months int CHECK (review_interval_months BETWEEN 1 AND 12),
  panel                  text NOT NULL DEFAULT '',
  PRIMARY KEY (council_code, icb_code, valid_from),
  CHECK (council_pct + icb_pct = 100)
);

-- ---- The register ----

CREATE TABLE s117.episode (
  episode_id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id                    uuid NOT NULL REFERENCES core.person (person_id),
  state                        text NOT NULL CHECK (state IN ('PLANNED', 'ACTIVE', 'ENDED_DISCHARGED',
                                                    'ENDED_SUPERSEDED', 'ENDED_DECEASED', 'VOID')),
  predecessor_episode_id       uuid REFERENCES s117.episode (episode_id),
  qualifying_section           text NOT NULL,
  legal_status_code            char(2) NOT NULL REFERENCES core.mha_legal_status (code),
  -- The qualifying detention in core.detention (absent for records entered by hand).
  detention_source_org         text,
  detention_id                 text,
  detention_start_date         date NOT NULL,
  detaining_provider_code      text NOT NULL REFERENCES core.organisation (code),
  -- A case_decision section needs a recorded human decision (2.2).
  case_decision_by             text,
  case_decision_role           text,
  case_decision_date           date,
  case_decision_rationale      text,
  s17_trigger_by               text,
  s17_trigger_role             text,
  s17_trigger_date             date,
  s17_trigger_rationale        text,
  ceased_detained_date         date,
  left_hospital_date           date,
  effective_from               date,
  cto_start_date               date,
  cto_end_date                 date,
  conditional_discharge_date   date,
  absolute_discharge_date      date,
  on_cto                       boolean GENERATED ALWAYS AS
                                 (cto_start_date IS NOT NULL AND cto_end_date IS NULL) STORED,
  conditionally_discharged     boolean GENERATED ALWAYS AS
                                 (conditional_discharge_date IS NOT NULL AND absolute_discharge_date IS NULL) STORED,
  responsible_council_code     text REFERENCES core.organisation (code),
  council_basis                text CHECK (council_basis IN ('OR_ENGLAND_S117_3A', 'OR_WALES_S117_3B',
                                           'NOT_OR_RESIDENT_OR_SENT_S117_3C', 'PRE_2015_RESIDENCE_TEST')),
  council_provisional          boolean NOT NULL DEFAULT true,
  ordinary_residence_evidence  text,
  or_dispute_status            text NOT NULL DEFAULT 'NONE'
                                 CHECK (or_dispute_status IN ('NONE', 'DISPUTED', 'REFERRED_TO_SOS', 'DETERMINED')),
  responsible_icb_code         text REFERENCES core.organisation (code),
  icb_basis                    text CHECK (icb_basis IN ('CORE_GP_REGISTRATION', 'CORE_USUAL_RESIDENCE',
                                           'CARRIED_FROM_ORIGINATING_ICB', 'NHSE_COMMISSIONED', 'LEGACY_RULE')),
  gp_practice_at_application   text,
  responsibility_rule_version  text NOT NULL DEFAULT 'ICB_REGS_2022'
                                 CHECK (responsibility_rule_version IN ('PRE_2015', 'CCG_2013', 'WHO_PAYS_2020', 'ICB_REGS_2022')),
  in_hospital                  boolean NOT NULL DEFAULT true,
  legal_determination_required boolean NOT NULL DEFAULT false,
  -- The detention (CTO revocation, recall, case decision) awaiting a legal determination (T8).
  pending_detention_source_org text,
  pending_detention_id         text,
  pending_detention_start_date date,
  pending_legal_status_code    char(2) REFERENCES core.mha_legal_status (code),
  last_review_date             date,
  next_review_due              date,
  ended_on                     date,
  notification_sent_date       date,
  void_reason                  text,
  version                      bigint NOT NULL DEFAULT 1,
  created_at                   timestamptz NOT NULL DEFAULT now(),
  updated_at                   timestamptz NOT NULL DEFAULT now(),
  -- Invariant 6: never a district (E07) or a region (E12); social services authorities only.
  CHECK (responsible_council_code ~ '^(E06|E08|E09|E10|W06)[0-9]{6}$'),
  CHECK (responsible_icb_code ~ '^Q[A-Z0-9]{2}$' AND responsible_icb_code <> 'Q99'),
  CHECK (ceased_detained_date >= detention_start_date),
  CHECK (left_hospital_date >= ceased_detained_date),
  -- An ACTIVE duty has a trigger (2.3, T3).
  CHECK (state <> 'ACTIVE' OR left_hospital_date IS NOT NULL OR cto_start_date IS NOT NULL
         OR conditional_discharge_date IS NOT NULL OR s17_trigger_date IS NOT NULL),
  CHECK (state NOT IN ('ENDED_DISCHARGED', 'ENDED_SUPERSEDED', 'ENDED_DECEASED') OR ended_on IS NOT NULL),
  -- Invariant 2: never discharged while a CTO is in force on the end date (s117(2)).
  CHECK (state <> 'ENDED_DISCHARGED' OR cto_start_date IS NULL OR cto_start_date > ended_on
         OR cto_end_date <= ended_on)
);
-- Invariant 1, enforced by the database too.
CREATE UNIQUE INDEX episode_one_open_per_person ON s117.episode (person_id)
  WHERE state IN ('PLANNED', 'ACTIVE');
CREATE INDEX episode_person ON s117.episode (person_id, created_at DESC);
CREATE INDEX episode_council ON s117.episode (responsible_council_code, state);
CREATE INDEX episode_icb ON s117.episode (responsible_icb_code, state);
CREATE INDEX episode_predecessor ON s117.episode (predecessor_episode_id);

-- Every detention the register has acted on, and how: the section history of an episode and
-- what makes the feed follower idempotent (a detention is acted on once).
CREATE TABLE s117.episode_detention (
  source_org        text NOT NULL,
  detention_id      text NOT NULL,
  episode_id        uuid NOT NULL REFERENCES s117.episode (episode_id),
  role              text NOT NULL CHECK (role IN ('QUALIFYING', 'SECTION_CHANGE', 'LEGAL_DETERMINATION')),
  legal_status_code char(2) NOT NULL,
  started_on        date NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_org, detention_id)
);
CREATE INDEX episode_detention_episode ON s117.episode_detention (episode_id);

CREATE TABLE s117.service_line (
  service_line_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  episode_id                uuid NOT NULL REFERENCES s117.episode (episode_id),
  service_type              text NOT NULL REFERENCES s117.service_type (code),
  description               text NOT NULL DEFAULT '',
  provider_name             text NOT NULL,
  provider_code             text,
  need_ref                  text NOT NULL DEFAULT '',
  need_arises_from_mental_disorder boolean NOT NULL,
  is_s117                   boolean NOT NULL,
  start_date                date NOT NULL,
  end_date                  date,
  end_reason                text,
  moved_to_legal_basis      text,
  funder                    text NOT NULL CHECK (funder IN ('COUNCIL', 'ICB', 'JOINT')),
  council_pct               numeric(5,2) NOT NULL CHECK (council_pct BETWEEN 0 AND 100),
  icb_pct                   numeric(5,2) NOT NULL CHECK (icb_pct BETWEEN 0 AND 100),
  split_override_reason     text NOT NULL DEFAULT '',
  weekly_cost_pence         bigint NOT NULL CHECK (weekly_cost_pence >= 0),
  client_contribution_pence bigint NOT NULL DEFAULT 0 CHECK (client_contribution_pence >= 0),
  delivery_mode             text NOT NULL CHECK (delivery_mode IN ('COMMISSIONED', 'DIRECT_PAYMENT', 'PHB', 'IN_HOUSE')),
  top_up_payer              text NOT NULL DEFAULT '',
  top_up_weekly_pence       bigint NOT NULL DEFAULT 0 CHECK (top_up_weekly_pence >= 0),
  recorded_by_org           text NOT NULL,
  recorded_at               timestamptz NOT NULL DEFAULT now(),
  -- Invariant 4: s117 after-care is free (Stennett); a s117 line meets a need arising from the
  -- mental disorder (s117(6)); a split totals 100.
  CHECK (NOT is_s117 OR client_contribution_pence = 0),
  CHECK (NOT is_s117 OR need_arises_from_mental_disorder),
  CHECK (council_pct + icb_pct = 100),
  CHECK (funder <> 'COUNCIL' OR council_pct = 100),
  CHECK (funder <> 'ICB' OR icb_pct = 100),
  CHECK (end_date >= start_date)
);
CREATE INDEX service_line_episode ON s117.service_line (episode_id, start_date);

CREATE TABLE s117.review (
  review_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  episode_id             uuid NOT NULL REFERENCES s117.episode (episode_id),
  review_date            date NOT NULL,
  council_rep_name       text NOT NULL,
  council_rep_role       text NOT NULL,
  council_rep_org        text NOT NULL,
  health_rep_name        text NOT NULL,
  health_rep_role        text NOT NULL,
  health_rep_org         text NOT NULL,
  person_involvement     text NOT NULL CHECK (person_involvement IN ('ATTENDED', 'CONSULTED', 'DECLINED',
                                                                     'LACKS_CAPACITY_CONSULTED_OTHERS')),
  others_present         text NOT NULL DEFAULT '',
  outcome                text NOT NULL CHECK (outcome IN ('CONTINUE', 'MODIFY', 'RECOMMEND_DISCHARGE')),
  summary                text NOT NULL DEFAULT '',
  next_review_due        date NOT NULL,
  recorded_by_org        text NOT NULL,
  recorded_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (next_review_due > review_date)
);
CREATE INDEX review_episode ON s117.review (episode_id, review_date DESC);

-- One body's decision that aftercare is no longer needed (T6). Both bodies, each signed.
CREATE TABLE s117.end_decision (
  decision_id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  episode_id             uuid NOT NULL REFERENCES s117.episode (episode_id),
  body                   text NOT NULL CHECK (body IN ('COUNCIL', 'ICB')),
  body_code              text NOT NULL REFERENCES core.organisation (code),
  decider_name           text NOT NULL,
  decider_role           text NOT NULL,
  decision_date          date NOT NULL,
  primary_reason         text NOT NULL REFERENCES s117.end_reason (code),
  other_reasons          text[] NOT NULL DEFAULT '{}',
  reason_text            text NOT NULL CHECK (reason_text <> ''),
  person_involvement     text NOT NULL CHECK (person_involvement IN ('ATTENDED', 'CONSULTED', 'DECLINED',
                                                                     'LACKS_CAPACITY_CONSULTED_OTHERS')),
  consulted              text NOT NULL DEFAULT '',
  other_care_after_discharge text NOT NULL DEFAULT '',
  recorded_by_org        text NOT NULL,
  recorded_at            timestamptz NOT NULL DEFAULT now(),
  rescinded_at           timestamptz
);
CREATE UNIQUE INDEX end_decision_one_per_body ON s117.end_decision (episode_id, body)
  WHERE rescinded_at IS NULL;

-- Invariant 3: ENDED_DISCHARGED always has both decisions; one body alone cannot close it.
CREATE FUNCTION s117.check_joint_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(DISTINCT body) FROM s117.end_decision
       WHERE episode_id = NEW.episode_id AND rescinded_at IS NULL) < 2 THEN
    RAISE EXCEPTION 'ENDED_DISCHARGED needs the decisions of both the council and the ICB'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER episode_joint_end BEFORE INSERT OR UPDATE OF state ON s117.episode
  FOR EACH ROW WHEN (NEW.state = 'ENDED_DISCHARGED') EXECUTE FUNCTION s117.check_joint_end();

-- Work for people: a review after a referral closed (invariant 5), a legal determination after
-- a CTO revocation or recall (T8). source_ref makes raising one idempotent.
CREATE TABLE s117.task (
  task_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  episode_id   uuid NOT NULL REFERENCES s117.episode (episode_id),
  kind         text NOT NULL CHECK (kind IN ('REVIEW_REFERRAL_CLOSED', 'LEGAL_DETERMINATION_REQUIRED')),
  source_ref   text NOT NULL,
  detail       text NOT NULL DEFAULT '',
  status       text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  closed_at    timestamptz,
  closed_note  text,
  UNIQUE (episode_id, kind, source_ref)
);
CREATE INDEX task_open ON s117.task (episode_id) WHERE status = 'OPEN';

-- Append-only history: one row per change with the whole episode as it was after the change.
CREATE TABLE s117.episode_history (
  history_pk  bigserial PRIMARY KEY,
  episode_id  uuid NOT NULL REFERENCES s117.episode (episode_id),
  version     bigint NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_org   text NOT NULL,
  actor_role  text NOT NULL,
  action      text NOT NULL,
  reason      text NOT NULL DEFAULT '',
  snapshot    jsonb NOT NULL,
  UNIQUE (episode_id, version)
);
CREATE FUNCTION s117.history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 's117.episode_history is append-only';
END $$;
CREATE TRIGGER episode_history_no_update BEFORE UPDATE OR DELETE ON s117.episode_history
  FOR EACH ROW EXECUTE FUNCTION s117.history_append_only();

-- ---- The change-feed follower ----

-- Where the follower has read core.changes up to; advanced in the same transaction as the work.
CREATE TABLE s117.feed_cursor (
  consumer    text PRIMARY KEY,
  txid        xid8 NOT NULL DEFAULT '0',
  seq         bigint NOT NULL DEFAULT 0,
  lag_ms      bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO s117.feed_cursor (consumer) VALUES ('s117');

-- Changes the follower could not apply (a domain guard refused them); kept for a person to see.
CREATE TABLE s117.feed_error (
  txid        xid8 NOT NULL,
  seq         bigint NOT NULL,
  change_type text NOT NULL,
  entity_id   text NOT NULL,
  person_id   uuid,
  error       text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (txid, seq)
);

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
