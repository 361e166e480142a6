-- Dates of the past for care plans (issue 18): the day a plan was started, the day each agency
-- signed and the day the version in force was agreed, kept apart from the times they were
-- recorded (created_at, signed_at, agreed_at stay the server's). Plans imported from another
-- system keep their reference there (source_ref, unique per importing organisation) and the row
-- they were imported from (source_row), so a rerun of the same row is recognised as a duplicate.
ALTER TABLE careplan.plan
  ADD COLUMN started_on date,
  ADD COLUMN agreed_on  date,
  ADD COLUMN source_ref text,
  ADD COLUMN source_row jsonb;
UPDATE careplan.plan
SET started_on = (created_at AT TIME ZONE 'Europe/London')::date,
  agreed_on = (agreed_at AT TIME ZONE 'Europe/London')::date;
ALTER TABLE careplan.plan ALTER COLUMN started_on SET NOT NULL,
  ALTER COLUMN started_on SET DEFAULT current_date;
CREATE UNIQUE INDEX plan_source_ref ON careplan.plan (created_by_org, source_ref)
  WHERE source_ref IS NOT NULL;

-- The day an agreed version was agreed (NULL for versions that are not an agreement; readers
-- take a NULL there as the day it was recorded).
ALTER TABLE careplan.plan_version ADD COLUMN agreed_on date;
ALTER TABLE careplan.plan_version DISABLE TRIGGER plan_version_no_update;
UPDATE careplan.plan_version
SET agreed_on = (created_at AT TIME ZONE 'Europe/London')::date
WHERE change = 'agreed';
ALTER TABLE careplan.plan_version ENABLE TRIGGER plan_version_no_update;

-- The day the agency signed.
ALTER TABLE careplan.signoff ADD COLUMN signed_on date;
ALTER TABLE careplan.signoff DISABLE TRIGGER signoff_no_update;
UPDATE careplan.signoff SET signed_on = (signed_at AT TIME ZONE 'Europe/London')::date;
ALTER TABLE careplan.signoff ENABLE TRIGGER signoff_no_update;
ALTER TABLE careplan.signoff ALTER COLUMN signed_on SET NOT NULL,
  ALTER COLUMN signed_on SET DEFAULT current_date;
