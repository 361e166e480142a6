-- Trigger: refuses every change to core.audit (the audit trail is append-only).
CREATE OR REPLACE FUNCTION core.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'core.audit is append-only';
END $$;
