-- Community treatment orders (s17A; MHSDS MHS404CommTreatOrder) and conditional discharges of
-- restricted patients (s42/s73; MHSDS MHS403ConditionalDischarge) in the record: the events
-- cto_start/cto_end and conditional_discharge_start/_end (Event kinds 24-27) and what they
-- project to. Keyed like the detention they follow: (recording organisation, its id). Each
-- opens a care relationship for its provider while in force (the "Who may write" rule), and
-- stamps the person's record version like every table the integrated record reads (0010).

CREATE TABLE core.community_treatment_order (
  person_id     uuid NOT NULL REFERENCES core.person (person_id),
  source_org    text NOT NULL,
  cto_id        text NOT NULL,
  detention_id  text NOT NULL DEFAULT '',
  provider_code text NOT NULL REFERENCES core.organisation (code),
  start_date    date NOT NULL,
  expiry_date   date,
  end_date      date,
  end_reason    text NOT NULL DEFAULT '',
  PRIMARY KEY (source_org, cto_id),
  CHECK (expiry_date IS NULL OR expiry_date >= start_date),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX community_treatment_order_person
  ON core.community_treatment_order (person_id, start_date DESC);

CREATE TABLE core.conditional_discharge (
  person_id                      uuid NOT NULL REFERENCES core.person (person_id),
  source_org                     text NOT NULL,
  conditional_discharge_id       text NOT NULL,
  detention_id                   text NOT NULL DEFAULT '',
  provider_code                  text NOT NULL REFERENCES core.organisation (code),
  start_date                     date NOT NULL,
  end_date                       date,
  end_reason                     text NOT NULL DEFAULT '',
  absolute_discharge_responsible text NOT NULL DEFAULT '',
  PRIMARY KEY (source_org, conditional_discharge_id),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX conditional_discharge_person
  ON core.conditional_discharge (person_id, start_date DESC);

INSERT INTO core.relationship_kind (kind, care, responsible, description) VALUES
  ('cto',                   true, false, 'provider of a current community treatment order'),
  ('conditional_discharge', true, false, 'provider of a current conditional discharge');

DO $$
DECLARE
  s record;
  t text;
BEGIN
  FOR s IN SELECT * FROM (VALUES
      ('core.community_treatment_order', 'cto', 'provider_code',
       'source_org || ''/'' || cto_id', 'end_date IS NULL'),
      ('core.conditional_discharge', 'conditional_discharge', 'provider_code',
       'source_org || ''/'' || conditional_discharge_id', 'end_date IS NULL'))
    AS v(tbl, kind, org, src, cond)
  LOOP
    EXECUTE format('CREATE TRIGGER relate_%1$s_insert AFTER INSERT ON %2$s '
                   'REFERENCING NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.relate(%1$L, %3$L, %4$L, %5$L)',
                   s.kind, s.tbl, s.org, s.src, s.cond);
    EXECUTE format('CREATE TRIGGER relate_%1$s_update AFTER UPDATE ON %2$s '
                   'REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.relate(%1$L, %3$L, %4$L, %5$L)',
                   s.kind, s.tbl, s.org, s.src, s.cond);
    EXECUTE format('CREATE TRIGGER relate_%1$s_delete AFTER DELETE ON %2$s '
                   'REFERENCING OLD TABLE AS gone FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.relate(%1$L, %3$L, %4$L, %5$L)',
                   s.kind, s.tbl, s.org, s.src, s.cond);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['core.community_treatment_order', 'core.conditional_discharge'] LOOP
    EXECUTE format('CREATE TRIGGER stamp_record_insert AFTER INSERT ON %s '
                   'REFERENCING NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
    EXECUTE format('CREATE TRIGGER stamp_record_update AFTER UPDATE ON %s '
                   'REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
    EXECUTE format('CREATE TRIGGER stamp_record_delete AFTER DELETE ON %s '
                   'REFERENCING OLD TABLE AS gone FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
  END LOOP;
END
$$;
