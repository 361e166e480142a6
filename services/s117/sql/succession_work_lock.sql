-- Locks work item $1 against a concurrent resolution.
SELECT 1 FROM core.succession_work WHERE work_id = $1::uuid FOR UPDATE
