-- Whether NHS number $1 is taken: some person's own, or an alias.
SELECT EXISTS (SELECT 1 FROM core.person WHERE nhs_number = $1::text::bpchar)
    OR EXISTS (SELECT 1 FROM core.nhs_number_alias WHERE nhs_number = $1::text::bpchar)
