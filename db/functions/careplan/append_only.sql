-- History is kept, not overwritten: versions, sign-offs and reviews are append-only.
CREATE OR REPLACE FUNCTION careplan.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
