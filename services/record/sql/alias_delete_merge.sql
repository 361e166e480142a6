-- The alias merge $1 made (its superseded NHS number), removed by the unmerge.
DELETE FROM core.nhs_number_alias WHERE merge_id = $1::uuid
