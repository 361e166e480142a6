-- Trigger: refuses every change to s117.episode_history (append-only).
CREATE OR REPLACE FUNCTION s117.history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 's117.episode_history is append-only';
END $$;
