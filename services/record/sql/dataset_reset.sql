-- Undoes everything organisation $1 recorded about people $2 (uuid[]): its event log rows and the
-- episode-table rows its events wrote, and a date of death only its death events set; the caller
-- stores the events that stay again (dataset_person_events). Returns how many events it removed.
WITH ev AS (
  DELETE FROM core.event WHERE source_org = $1 AND person_id = ANY($2::uuid[])
  RETURNING person_id, kind
),
referral AS (
  DELETE FROM core.referral WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
spell AS (
  DELETE FROM core.hospital_spell WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
detention AS (
  DELETE FROM core.detention WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
contact AS (
  DELETE FROM core.care_contact WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
key_worker AS (
  DELETE FROM core.key_worker WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
care_act AS (
  DELETE FROM core.social_care_event WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
carer AS (
  DELETE FROM core.carer_assessment WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
cto AS (
  DELETE FROM core.community_treatment_order WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
conditional_discharge AS (
  DELETE FROM core.conditional_discharge WHERE source_org = $1 AND person_id = ANY($2::uuid[])
),
status AS (
  DELETE FROM core.status_observation WHERE recording_org = $1 AND person_id = ANY($2::uuid[])
),
death AS (
  UPDATE core.person p SET date_of_death = NULL
  WHERE p.person_id = ANY($2::uuid[])
    AND EXISTS (SELECT 1 FROM ev WHERE ev.person_id = p.person_id AND ev.kind = 'death')
    AND NOT EXISTS (SELECT 1 FROM core.event o
                    WHERE o.person_id = p.person_id AND o.kind = 'death' AND o.source_org <> $1)
)
SELECT count(*) FROM ev
