-- Ids of the export jobs that expired, removed with their file rows (a running one's worker
-- stops at its next page).
DELETE FROM fhir.export_job WHERE expires_at <= now() RETURNING job_id::text
