-- Person $1's placements (s117.placement), newest first, as icr.v1.Placement JSON; with the
-- fields the responsible-council rule reads as columns: placing council, placed-in council,
-- accommodation type, legal basis, start and end ('' for an open one).
SELECT jsonb_strip_nulls(jsonb_build_object(
    'placement_id', pl.placement_id, 'nhs_number', p.nhs_number,
    'placing_council_code', pl.placing_council_code,
    'placed_in_council_code', pl.placed_in_council_code,
    'accommodation_type', pl.accommodation_type, 'legal_basis', pl.legal_basis,
    'start_date', pl.start_date, 'end_date', pl.end_date, 'provider_name', pl.provider_name,
    'recorded_by_org', pl.recorded_by))::text,
  pl.placing_council_code, pl.placed_in_council_code, pl.accommodation_type, pl.legal_basis,
  pl.start_date::text, coalesce(pl.end_date::text, '')
FROM s117.placement pl
JOIN core.person p USING (person_id)
WHERE pl.person_id = $1::uuid
ORDER BY pl.start_date DESC, pl.recorded_at DESC
