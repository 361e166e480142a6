-- Whether person $1 is in hospital now (an open hospital spell or detention), and the first
-- discharge date on or after $2 ('' for none), in England's civil time.
SELECT
  EXISTS (
    SELECT 1
    FROM core.hospital_spell
    WHERE person_id = $1::uuid
      AND discharged_at IS NULL)
  OR EXISTS (
    SELECT 1
    FROM core.detention
    WHERE person_id = $1::uuid
      AND ended_at IS NULL),
  coalesce((
    SELECT min((discharged_at AT TIME ZONE 'Europe/London')::date)
    FROM core.hospital_spell
    WHERE person_id = $1::uuid
      AND (discharged_at AT TIME ZONE 'Europe/London')::date >= $2::date)::text, '')
