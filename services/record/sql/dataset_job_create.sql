-- A dataset import job of organisation $1, kind $2 ('mhsds' | 'cld'), receiving its file.
INSERT INTO core.dataset_import_job (org_code, kind, state)
VALUES ($1, $2, 'receiving')
RETURNING job_id::text, (extract(epoch FROM started_at) * 1000000)::bigint
