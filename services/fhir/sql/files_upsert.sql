-- Nothing: records export job $1's files $2 (names) of types $3, numbers $4 and line counts $5
-- (arrays in the same order), or their new counts.
INSERT INTO fhir.export_file (job_id, name, type, seq, count)
SELECT $1::uuid, f.name, f.type, f.seq, f.count
FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS f (name, type, seq, count)
ON CONFLICT (job_id, name) DO UPDATE SET count = EXCLUDED.count
