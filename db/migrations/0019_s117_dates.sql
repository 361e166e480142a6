-- Issue 18, the S117 register's dates of the past (README "Dates of the past"):
--  * s117.episode.registered_on: the day the entitlement was registered (real world), backfilled
--    from the local date of created_at; source_ref: the previous register's reference of an
--    imported entitlement (unique per responsible council); end_migrated: ended by a joint
--    decision carried over from a previous register.
--  * s117.review: attendance per body (ATTENDED | INVITED_ABSENT | NOT_INVITED, NOT_RECORDED for
--    an imported review); a representative is named only for a body that attended. joint: both
--    bodies attended. Existing rows attended where a name is given.
--  * s117.end_decision.migrated: a decision carried over from a previous register.

ALTER TABLE s117.episode
  ADD COLUMN registered_on date,
  ADD COLUMN source_ref text,
  ADD COLUMN end_migrated boolean NOT NULL DEFAULT false;
UPDATE s117.episode SET registered_on = (created_at AT TIME ZONE 'Europe/London')::date;
ALTER TABLE s117.episode
  ALTER COLUMN registered_on SET NOT NULL,
  ALTER COLUMN registered_on SET DEFAULT (now() AT TIME ZONE 'Europe/London')::date,
  ADD CHECK (registered_on >= detention_start_date),
  ADD CHECK (source_ref <> ''),
  ADD CHECK (NOT end_migrated OR state IN ('ENDED_DISCHARGED', 'VOID'));
CREATE UNIQUE INDEX episode_source_ref ON s117.episode (responsible_council_code, source_ref)
  WHERE source_ref IS NOT NULL;

ALTER TABLE s117.review
  ADD COLUMN council_attendance text,
  ADD COLUMN health_attendance text;
UPDATE s117.review
SET council_attendance = CASE WHEN council_rep_name <> '' THEN 'ATTENDED' ELSE 'NOT_INVITED' END,
  health_attendance = CASE WHEN health_rep_name <> '' THEN 'ATTENDED' ELSE 'NOT_INVITED' END;
ALTER TABLE s117.review
  ALTER COLUMN council_attendance SET NOT NULL,
  ALTER COLUMN health_attendance SET NOT NULL,
  ADD CHECK (council_attendance IN ('ATTENDED', 'INVITED_ABSENT', 'NOT_INVITED', 'NOT_RECORDED')),
  ADD CHECK (health_attendance IN ('ATTENDED', 'INVITED_ABSENT', 'NOT_INVITED', 'NOT_RECORDED')),
  -- An attending body's representative is named.
  ADD CHECK (council_attendance <> 'ATTENDED' OR council_rep_name <> ''),
  ADD CHECK (health_attendance <> 'ATTENDED' OR health_rep_name <> ''),
  ADD COLUMN joint boolean GENERATED ALWAYS AS
    (council_attendance = 'ATTENDED' AND health_attendance = 'ATTENDED') STORED;

ALTER TABLE s117.end_decision
  ADD COLUMN migrated boolean NOT NULL DEFAULT false;

-- ImportRegister: the digest of the register row an imported entitlement came from (a row
-- loaded again with the same content is a duplicate), and the person's involvement the old
-- register did not keep (NOT_RECORDED, only for carried-over reviews and decisions).
ALTER TABLE s117.episode ADD COLUMN import_digest text;
ALTER TABLE s117.review DROP CONSTRAINT review_person_involvement_check,
  ADD CHECK (person_involvement IN ('ATTENDED', 'CONSULTED', 'DECLINED',
                                    'LACKS_CAPACITY_CONSULTED_OTHERS', 'NOT_RECORDED'));
ALTER TABLE s117.end_decision DROP CONSTRAINT end_decision_person_involvement_check,
  ADD CHECK (person_involvement IN ('ATTENDED', 'CONSULTED', 'DECLINED',
                                    'LACKS_CAPACITY_CONSULTED_OTHERS', 'NOT_RECORDED'));
