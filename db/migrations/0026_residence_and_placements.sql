-- Residence and placement history (issue 22 item 4): where a person lived, by effective date, and
-- who placed them where; the S117 responsible council is derived from them (services/s117/
-- responsible_council.h). Disputes between councils keep their age, and the S117 indicators gain
-- S117_DISPUTES_3M.

-- ---- Residence ----

-- One row per period at one address: postcode, council (GSS) and ICB (ODS) as UpsertPerson sent
-- them. from_date NULL: since a date nobody recorded (a person's first residence sent without
-- residence_from, and every person already in the store when this migration ran); to_date NULL:
-- the current residence. Both dates inclusive. A change of postcode, council or ICB closes the
-- current row the day before the new one's from_date. source: how it was learnt
-- (person_created, person_updated, migration); recorded_by: the organisation that sent it.
CREATE TABLE core.residence (
  residence_id  bigserial PRIMARY KEY,
  person_id     uuid NOT NULL REFERENCES core.person (person_id),
  postcode      text NOT NULL DEFAULT '',
  council_code  text REFERENCES core.organisation (code),
  icb_code      text REFERENCES core.organisation (code),
  from_date     date,
  to_date       date,
  source        text NOT NULL CHECK (source IN ('person_created', 'person_updated', 'migration')),
  recorded_by   text NOT NULL DEFAULT '',
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (to_date IS NULL OR from_date IS NULL OR to_date >= from_date)
);
CREATE UNIQUE INDEX residence_one_current ON core.residence (person_id) WHERE to_date IS NULL;
CREATE INDEX residence_person ON core.residence (person_id, from_date);

INSERT INTO core.residence (person_id, postcode, council_code, icb_code, source)
SELECT person_id, postcode, council_code, icb_code, 'migration'
FROM core.person
WHERE postcode <> '' OR council_code IS NOT NULL OR icb_code IS NOT NULL;

-- ---- Placements ----

-- Accommodation a council arranged for a person, possibly in another council's area: the facts
-- the Mental Health Act 2025 s46 (s117(3A), Care Act s39 deeming) needs. accommodation_type:
-- the Care and Support and Aftercare (Choice of Accommodation) Regulations 2014 specified types
-- (CARE_HOME, SHARED_LIVES, SUPPORTED_LIVING) or OTHER. legal_basis: care_act (Care Act 2014
-- s18/s19), s117 (after-care), other.
CREATE TABLE s117.placement (
  placement_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id              uuid NOT NULL REFERENCES core.person (person_id),
  placing_council_code   text NOT NULL REFERENCES core.organisation (code),
  placed_in_council_code text NOT NULL REFERENCES core.organisation (code),
  accommodation_type     text NOT NULL
                         CHECK (accommodation_type IN ('CARE_HOME', 'SHARED_LIVES',
                                                       'SUPPORTED_LIVING', 'OTHER')),
  legal_basis            text NOT NULL CHECK (legal_basis IN ('care_act', 's117', 'other')),
  start_date             date NOT NULL,
  end_date               date,
  provider_name          text NOT NULL DEFAULT '',
  recorded_by            text NOT NULL,
  recorded_at            timestamptz NOT NULL DEFAULT now(),
  ended_by               text NOT NULL DEFAULT '',
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX placement_person ON s117.placement (person_id, start_date);

-- The placing council sees the person while the placement is open.
INSERT INTO core.relationship_kind (kind, care, responsible, description) VALUES
  ('placement', true, false, 'council that placed the person in accommodation (open placement)');
CREATE TRIGGER relate_placement_insert AFTER INSERT ON s117.placement
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.relate('placement', 'placing_council_code', 'placement_id::text',
                               'end_date IS NULL');
CREATE TRIGGER relate_placement_update AFTER UPDATE ON s117.placement
  REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.relate('placement', 'placing_council_code', 'placement_id::text',
                               'end_date IS NULL');

-- Both are part of the integrated record: a change stamps the person's record (migration 0010).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['core.residence', 's117.placement'] LOOP
    EXECUTE format('CREATE TRIGGER stamp_record_insert AFTER INSERT ON %s '
                   'REFERENCING NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
    EXECUTE format('CREATE TRIGGER stamp_record_update AFTER UPDATE ON %s '
                   'REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
  END LOOP;
END
$$;

-- ---- The responsible council: why, and the 2025 rule's switch ----

-- Why the register names the council it names ("resident in X from D1 to D2; placed by Y"),
-- written by the rule that derived it or by the person who set it.
ALTER TABLE s117.episode ADD COLUMN council_reason text NOT NULL DEFAULT '';

INSERT INTO s117.policy (key, value, description) VALUES
  ('mha2025_s46_from', '',
   'Commencement of the Mental Health Act 2025 s46 (s117(3A): Care Act s39 deeming for people aged 18 or over, e.g. a person placed out of area by a council stays that council''s responsibility). Detentions starting on or after this date follow it; empty = not in force (the Worcestershire [2023] UKSC 31 rule: ordinary residence immediately before detention, no deeming). Set it when the commencement regulations are made (YYYY-MM-DD)');

-- ---- Disputes keep their age ----

-- The day an ordinary-residence dispute was opened (or_dispute_status became DISPUTED or
-- REFERRED_TO_SOS; kept when it goes from one to the other) and the day it was closed (became
-- NONE or DETERMINED). Disputes open before this migration are dated today: their start was
-- never recorded.
ALTER TABLE s117.episode ADD COLUMN or_dispute_opened_on date;
ALTER TABLE s117.episode ADD COLUMN or_dispute_closed_on date;
UPDATE s117.episode SET or_dispute_opened_on = (now() AT TIME ZONE 'Europe/London')::date
WHERE or_dispute_status IN ('DISPUTED', 'REFERRED_TO_SOS');
ALTER TABLE s117.episode ADD CHECK (
  (or_dispute_status IN ('DISPUTED', 'REFERRED_TO_SOS'))
    = (or_dispute_opened_on IS NOT NULL AND or_dispute_closed_on IS NULL));
ALTER TABLE s117.episode ADD CHECK (or_dispute_closed_on IS NULL OR or_dispute_opened_on IS NOT NULL);

INSERT INTO perf.indicator (indicator_id, name, owner, grp, definition, unit, kind, target, direction, display_order) VALUES
  ('S117_DISPUTES_3M', 'Ordinary-residence disputes open longer than 3 months', 'joint', 's117',
   'Entitlements (planned or in force, not voided) whose dispute between councils about ordinary residence (DISPUTED or REFERRED_TO_SOS) was open at period end and had been opened more than 3 months before it.',
   'count', 'count', 0, 'lower', 315);
