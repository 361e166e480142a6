-- S117 entitlements not voided and not ended by p_at whose ordinary-residence dispute between
-- councils (DISPUTED or REFERRED_TO_SOS) was open at p_at and had been opened more than 3 months
-- before it (s117.episode or_dispute_opened_on / or_dispute_closed_on, migration 0026): the one
-- definition of "a dispute open longer than 3 months", with the unit columns of perf.s117_units
-- (the bodies responsible on p_at: perf.episode_bodies, so a later succession does not move past
-- months) and the day the dispute was opened. Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.s117_long_disputes(p_at date)
RETURNS TABLE (provider_code text, icb_code text, council_code text, eth_code text,
               age_band text, sex text, section text, episode_id uuid, person_id uuid,
               opened_on date)
LANGUAGE sql STABLE AS $$
  SELECT e.detaining_provider_code, b.icb_code, b.council_code,
         p.eth_code, p.age_band, p.sex, perf.qualifying_section_label(e.qualifying_section),
         e.episode_id, e.person_id, e.or_dispute_opened_on
  FROM s117.episode e
  JOIN perf.episode_bodies(p_at) b USING (episode_id)
  JOIN perf.person_units(p_at) p USING (person_id)
  WHERE e.state <> 'VOID'
    AND e.or_dispute_opened_on < (p_at - interval '3 months')::date
    AND (e.or_dispute_closed_on IS NULL OR e.or_dispute_closed_on > p_at)
    AND (e.ended_on IS NULL OR e.ended_on > p_at)
$$;
