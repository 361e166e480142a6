-- Detention $2 recorded by organisation $1: person id, legal status code, start date, provider
-- code, end date ('' while detained). Dates of the record's instants are taken in England's
-- civil time.
SELECT person_id::text, legal_status_code, (started_at AT TIME ZONE 'Europe/London')::date::text,
  provider_code, coalesce((ended_at AT TIME ZONE 'Europe/London')::date::text, '')
FROM core.detention
WHERE source_org = $1
  AND detention_id = $2
