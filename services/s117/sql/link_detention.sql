-- Links detention $2 recorded by organisation $1 to episode $3 in role $4 (QUALIFYING,
-- SECTION_CHANGE, LEGAL_DETERMINATION), with its legal status $5 and start $6; once only.
INSERT INTO s117.episode_detention (source_org, detention_id, episode_id, role,
  legal_status_code, started_on)
VALUES ($1, $2, $3::uuid, $4, $5, $6::date)
ON CONFLICT DO NOTHING
