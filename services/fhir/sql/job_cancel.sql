-- Nothing: marks export job $1 cancelled (its worker stops at the next page and removes it).
UPDATE fhir.export_job SET state = 'cancelled' WHERE job_id = $1::uuid
