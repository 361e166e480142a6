-- Successions applied (issue 22 item 2, README "Keeping reference data current"). On a
-- one-to-one succession's effective date, open S117 entitlements, open care plans (the council
-- or ICB they act for), people's council and ICB and API tokens move to the successor; a split
-- makes a work list for the bodies concerned instead.

-- Every body change a succession made: the dated responsibility row. The body named before the
-- move stays responsible for the days before effective_on, so the indicators of past months
-- count under it (perf.moved_from); the S117 history (s117.episode_history) and the care plan
-- versions keep the change itself as for any other write. entity_id: the episode, plan or person
-- id, or a token's id (the first 12 hex digits of its hash). role: council | icb | org (a token).
CREATE TABLE core.succession_move (
  move_pk      bigserial PRIMARY KEY,
  entity       text NOT NULL CHECK (entity IN ('s117_episode', 'care_plan', 'person', 'api_token')),
  entity_id    text NOT NULL,
  person_id    uuid,
  role         text NOT NULL CHECK (role IN ('council', 'icb', 'org')),
  from_code    text NOT NULL REFERENCES core.organisation (code),
  to_code      text NOT NULL REFERENCES core.organisation (code),
  effective_on date NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  applied_by   text NOT NULL,  -- organisation code of the caller, or 'icr-server'
  work_id      uuid,           -- a split's work item this move resolved
  CHECK (from_code <> to_code)
);
CREATE INDEX succession_move_entity ON core.succession_move (entity, role, entity_id, effective_on);

-- Which successor each postcode district (outward code, "KT10") goes to when a body splits, as
-- the instrument creating the successors sets out; loaded by `icrctl refdata load` (the
-- successor areas layout). The split's work list proposes from it; a district not listed is
-- "decide".
CREATE TABLE core.successor_area (
  predecessor_code  text NOT NULL REFERENCES core.organisation (code),
  effective_on      date NOT NULL,
  postcode_district text NOT NULL CHECK (postcode_district ~ '^[A-Z]{1,2}[0-9][0-9A-Z]?$'),
  successor_code    text NOT NULL REFERENCES core.organisation (code),
  PRIMARY KEY (predecessor_code, effective_on, postcode_district)
);

-- A split's work list: one item per open entitlement, open care plan and person naming the old
-- body, with the proposed successor ('' = decide) and why. Resolved by the s117_officer or admin
-- of the old body or a successor; resolving applies the move (core.succession_move.work_id).
CREATE TABLE core.succession_work (
  work_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  predecessor_code  text NOT NULL REFERENCES core.organisation (code),
  effective_on      date NOT NULL,
  entity            text NOT NULL CHECK (entity IN ('s117_episode', 'care_plan', 'person')),
  entity_id         text NOT NULL,
  person_id         uuid NOT NULL REFERENCES core.person (person_id),
  role              text NOT NULL CHECK (role IN ('council', 'icb')),
  postcode_district text NOT NULL DEFAULT '',
  proposed_code     text REFERENCES core.organisation (code),
  proposal_basis    text NOT NULL,
  status            text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
  resolved_code     text REFERENCES core.organisation (code),
  resolved_by_org   text,
  resolved_by_role  text,
  resolved_at       timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (predecessor_code, effective_on, entity, entity_id, role),
  CHECK (status = 'OPEN' OR resolved_code IS NOT NULL)
);
CREATE INDEX succession_work_predecessor ON core.succession_work (predecessor_code, work_id);
