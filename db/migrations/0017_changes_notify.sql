-- WatchChanges followers wait for a notification instead of polling (services/record/
-- change_stream.h): every statement that adds rows to the change feed notifies channel
-- icr_changes. PostgreSQL delivers it when the transaction commits, once per transaction however
-- many rows it added; followers still read again on their own after a bounded wait, so a
-- notification lost only delays them.
CREATE FUNCTION core.changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('icr_changes', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER changes_notify AFTER INSERT ON core.changes
  FOR EACH STATEMENT EXECUTE FUNCTION core.changes_notify();
