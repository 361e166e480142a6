-- Relationships as data: one table of (person, organisation, kind, from, to) that says who has a
-- legitimate relationship with whom, and one function that reads it (core.can_see). Until now
-- the rule was the body of core.can_see, restated by each migration that added a kind (0001,
-- 0003, 0004, 0008, 0011) and reading other services' tables (s117.episode, careplan.plan_org).
--
-- Each relationship is written in the transaction that creates it, by the triggers below on the
-- table that holds its source (a referral, a hospital stay, a detention, a key worker, the
-- person's council and ICB, an S117 responsibility, a care plan role), or by the record service
-- itself for "registered" (the organisation created the person) and "recorded" (the
-- organisation recorded something for them; the old core.person_relationship). A later
-- migration adds a kind as a row of core.relationship_kind and a trigger on its source table;
-- core.can_see does not change.
--
-- The write rule (architecture.md, Who may write) needs two more facts per kind: whether it is
-- an active care relationship, which demographics and a death need ("care"), and whether it
-- makes the organisation a body responsible for the person, which may change a care plan it is
-- not named in ("responsible").

CREATE TABLE core.relationship_kind (
  kind        text PRIMARY KEY,
  care        boolean NOT NULL,  -- an active care relationship (demographics, a death)
  responsible boolean NOT NULL,  -- a body responsible for the person (care plan changes)
  description text NOT NULL
);
INSERT INTO core.relationship_kind (kind, care, responsible, description) VALUES
  ('registered',    false, false, 'created the person in the record'),
  ('recorded',      false, false, 'recorded something for the person'),
  ('council',       true,  true,  'the council of residence'),
  ('icb',           true,  true,  'the ICB of the person'),
  ('referral',      true,  false, 'provider of an open referral'),
  ('hospital_stay', true,  false, 'provider of an open hospital stay'),
  ('detention',     true,  false, 'provider of a current detention'),
  ('key_worker',    true,  false, 'employer of the current key worker'),
  ('s117_council',  true,  true,  'responsible council of an S117 entitlement'),
  ('s117_icb',      true,  true,  'responsible ICB of an S117 entitlement'),
  ('care_plan',     true,  false, 'named in a care plan');

CREATE TABLE core.relationship (
  person_id  uuid NOT NULL REFERENCES core.person (person_id),
  org_code   text NOT NULL,
  kind       text NOT NULL REFERENCES core.relationship_kind (kind),
  source_id  text NOT NULL DEFAULT '',   -- the row that carries it (referral, episode, plan ...)
  from_at    timestamptz NOT NULL DEFAULT now(),
  to_at      timestamptz,                -- NULL: current
  PRIMARY KEY (person_id, org_code, kind, source_id)
);

-- Keeps core.relationship in step with a source table, statement by statement (transition
-- tables `changed` and `gone`). TG_ARGV: 0 the kind, 1 the organisation (an expression over the
-- source row), 2 the source id (an expression), 3 the condition under which it is current.
-- Rows that are gone or changed are closed, then those current now are (re)opened, in one
-- order so that concurrent writers lock alike.
CREATE FUNCTION core.relate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format(
      'UPDATE core.relationship r SET to_at = now() '
      'FROM (SELECT DISTINCT person_id, %1$s AS org, %2$s AS src FROM gone) g '
      'WHERE r.person_id = g.person_id AND r.org_code = g.org AND r.kind = %3$L '
      '  AND r.source_id = g.src AND r.to_at IS NULL', TG_ARGV[1], TG_ARGV[2], TG_ARGV[0]);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format(
      'INSERT INTO core.relationship (person_id, org_code, kind, source_id) '
      'SELECT DISTINCT person_id, %1$s, %3$L, %2$s FROM changed '
      ' WHERE %1$s IS NOT NULL AND %1$s <> '''' AND (%4$s) ORDER BY 1, 2, 4 '
      'ON CONFLICT (person_id, org_code, kind, source_id) DO UPDATE SET to_at = NULL '
      '  WHERE core.relationship.to_at IS NOT NULL',
      TG_ARGV[1], TG_ARGV[2], TG_ARGV[0], TG_ARGV[3]);
  END IF;
  RETURN NULL;
END
$$;

-- One set of triggers per (source table, kind), and the relationships the store holds today.
DO $$
DECLARE
  s record;
BEGIN
  FOR s IN SELECT * FROM (VALUES
      ('core.person',       'council',       'council_code',            '''''',                             'true'),
      ('core.person',       'icb',           'icb_code',                '''''',                             'true'),
      ('core.referral',     'referral',      'provider_code',           'source_org || ''/'' || referral_id',   'closed_date IS NULL'),
      ('core.hospital_spell', 'hospital_stay', 'provider_code',         'source_org || ''/'' || spell_id',      'discharged_at IS NULL'),
      ('core.detention',    'detention',     'provider_code',           'source_org || ''/'' || detention_id',  'ended_at IS NULL'),
      ('core.key_worker',   'key_worker',    'worker_org_code',         'source_org || ''/'' || assignment_id', 'end_date IS NULL'),
      ('s117.episode',      's117_council',  'responsible_council_code', 'episode_id::text',                'state <> ''VOID'''),
      ('s117.episode',      's117_icb',      'responsible_icb_code',    'episode_id::text',                 'state <> ''VOID'''),
      ('careplan.plan_org', 'care_plan',     'org_code',                'plan_id::text',                    'true'))
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
    -- Every row the store holds: current ones open, the others closed now.
    EXECUTE format('INSERT INTO core.relationship (person_id, org_code, kind, source_id, to_at) '
                   'SELECT DISTINCT ON (p, o, src) p, o, %1$L, src, t FROM ('
                   '  SELECT person_id AS p, %3$s AS o, %4$s AS src, '
                   '    CASE WHEN %5$s THEN NULL ELSE now() END AS t FROM %2$s) x '
                   ' WHERE o IS NOT NULL AND o <> '''' '
                   ' ORDER BY p, o, src, t NULLS FIRST '
                   'ON CONFLICT DO NOTHING',
                   s.kind, s.tbl, s.org, s.src, s.cond);
  END LOOP;
END
$$;

-- The organisations that recorded something for a person keep their relationship.
INSERT INTO core.relationship (person_id, org_code, kind, from_at)
SELECT person_id, org_code, 'recorded', first_at FROM core.person_relationship
ON CONFLICT DO NOTHING;
DROP TABLE core.person_relationship;

-- A change of relationship changes what an organisation may see: it stamps the person's record
-- version (0013), so the visibility answers icr-server keeps per version stay right.
CREATE TRIGGER stamp_record_insert AFTER INSERT ON core.relationship
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION core.stamp_record();
CREATE TRIGGER stamp_record_update AFTER UPDATE ON core.relationship
  REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.stamp_record();
CREATE TRIGGER stamp_record_delete AFTER DELETE ON core.relationship
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.stamp_record();

-- The one rule of sight: an organisation sees a person while it has a current relationship of
-- any kind with them.
CREATE OR REPLACE FUNCTION core.can_see(p_person uuid, p_org text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM core.relationship r
                  WHERE r.person_id = p_person AND r.org_code = p_org AND r.to_at IS NULL)
$$;

-- What the write rule needs to know of an organisation and a person: whether it sees them,
-- whether it has a current care relationship with them, and whether it is a body responsible for
-- them (their council or ICB, or an S117 responsible body).
CREATE FUNCTION core.relationship_facts(p_person uuid, p_org text,
                                        OUT sees boolean, OUT care boolean,
                                        OUT responsible boolean)
LANGUAGE sql STABLE AS $$
  SELECT count(*) > 0, coalesce(bool_or(k.care), false), coalesce(bool_or(k.responsible), false)
    FROM core.relationship r JOIN core.relationship_kind k ON k.kind = r.kind
   WHERE r.person_id = p_person AND r.org_code = p_org AND r.to_at IS NULL
$$;
