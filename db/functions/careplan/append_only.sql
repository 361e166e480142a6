-- History is kept, not overwritten: versions, sign-offs and reviews are append-only. The one
-- exception is a merge or unmerge moving a person's rows (icr.moving_person,
-- core.move_person_rows): an update that changes person_id and nothing else.
CREATE OR REPLACE FUNCTION careplan.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('icr.moving_person', true) = 'on'
     AND to_jsonb(NEW) - 'person_id' = to_jsonb(OLD) - 'person_id' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
