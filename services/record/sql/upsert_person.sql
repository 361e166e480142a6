-- UpsertPerson in one statement: insert, or update when the version read is still current
-- ($11 = 0: any), and add the local identifiers ($12 systems, $13 values) not yet recorded.
-- Returns the person's id, version and date of death ('' for none), whether it was inserted,
-- whether its row was written (not: stale, or exactly as stored), how many identifiers were
-- added, and all its identifiers' systems and values (those read before, and those added: this
-- statement cannot read its own rows).
WITH up AS (
  INSERT INTO core.person AS p (nhs_number, family_name, given_name, date_of_birth, sex,
    ethnic_category, postcode, gp_practice_code, council_code, icb_code)
  VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, nullif($9, ''), nullif($10, ''))
  ON CONFLICT (nhs_number) DO UPDATE
  SET family_name = EXCLUDED.family_name, given_name = EXCLUDED.given_name,
    date_of_birth = EXCLUDED.date_of_birth, sex = EXCLUDED.sex,
    ethnic_category = EXCLUDED.ethnic_category, postcode = EXCLUDED.postcode,
    gp_practice_code = EXCLUDED.gp_practice_code, council_code = EXCLUDED.council_code,
    icb_code = EXCLUDED.icb_code, version = p.version + 1, updated_at = now()
  WHERE ($11 = 0 OR p.version = $11)
    AND (p.family_name, p.given_name, p.date_of_birth, p.sex, p.ethnic_category, p.postcode,
         p.gp_practice_code, p.council_code, p.icb_code)
        IS DISTINCT FROM
        (EXCLUDED.family_name, EXCLUDED.given_name, EXCLUDED.date_of_birth, EXCLUDED.sex,
         EXCLUDED.ethnic_category, EXCLUDED.postcode, EXCLUDED.gp_practice_code,
         EXCLUDED.council_code, EXCLUDED.icb_code)
  RETURNING p.person_id, p.version, p.date_of_death, (xmax = 0) AS inserted
),
old AS (
  SELECT person_id, version, date_of_death
  FROM core.person
  WHERE nhs_number = $1
),
me AS (
  SELECT coalesce(up.person_id, old.person_id) AS person_id,
    coalesce(up.version, old.version) AS version,
    CASE WHEN up.person_id IS NULL THEN old.date_of_death ELSE up.date_of_death END AS dod,
    coalesce(up.inserted, false) AS inserted,
    up.person_id IS NOT NULL AS written
  FROM (SELECT 1) one
  LEFT JOIN up ON true
  LEFT JOIN old ON true
),
ids AS (
  INSERT INTO core.person_identifier (system, value, person_id)
  SELECT i.s, i.v, me.person_id
  FROM me, unnest($12::text[], $13::text[]) AS i(s, v)
  WHERE me.person_id IS NOT NULL
  ON CONFLICT (system, value) DO NOTHING
  RETURNING system, value
),
every_id AS (
  SELECT i.system, i.value FROM core.person_identifier i, me WHERE i.person_id = me.person_id
  UNION ALL
  SELECT system, value FROM ids
)
SELECT me.person_id::text, me.version, coalesce(me.dod::text, ''), me.inserted, me.written,
  (SELECT count(*) FROM ids),
  ARRAY(SELECT system FROM every_id ORDER BY system, value),
  ARRAY(SELECT value FROM every_id ORDER BY system, value)
FROM me
