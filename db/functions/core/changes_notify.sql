-- Trigger function (core.changes, after each inserting statement): notifies channel icr_changes,
-- which wakes the WatchChanges followers (services/record/change_stream.h) when the transaction
-- commits; PostgreSQL folds the notifications of one transaction into one. Created first by
-- migration 0017 with its trigger.
CREATE OR REPLACE FUNCTION core.changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('icr_changes', '');
  RETURN NULL;
END
$$;
