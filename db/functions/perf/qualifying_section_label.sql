-- A qualifying section as people write it: S3 -> s3, S37_41 -> s37/41, S45A -> s45A; a section
-- that qualified by a recorded case decision -> 'Other (case decision)'.
CREATE OR REPLACE FUNCTION perf.qualifying_section_label(section text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN section = 'OTHER_CASE_DECISION' THEN 'Other (case decision)'
              ELSE 's' || replace(substr(section, 2), '_', '/') END
$$;
