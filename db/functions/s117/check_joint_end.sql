-- Invariant 3: ENDED_DISCHARGED always has both decisions; one body alone cannot close it.
CREATE OR REPLACE FUNCTION s117.check_joint_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(DISTINCT body) FROM s117.end_decision
       WHERE episode_id = NEW.episode_id AND rescinded_at IS NULL) < 2 THEN
    RAISE EXCEPTION 'ENDED_DISCHARGED needs the decisions of both the council and the ICB'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
