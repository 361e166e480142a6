-- The S117 entitlements in force at p_at (perf.s117_in_force) with the unit columns of the S117
-- indicators: the detaining provider (provider_code) and the responsible ICB and council on p_at
-- (perf.episode_bodies: a later succession does not move past months), the person's ethnic
-- category, age band and sex, and the qualifying section as people write it (section,
-- perf.qualifying_section_label); with the episode's id, person and effective_from for the
-- indicators' own conditions. Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.s117_units(p_at date)
RETURNS TABLE (provider_code text, icb_code text, council_code text, eth_code text,
               age_band text, sex text, section text, episode_id uuid, person_id uuid,
               effective_from date)
LANGUAGE sql STABLE AS $$
  SELECT e.detaining_provider_code, b.icb_code, b.council_code,
         p.eth_code, p.age_band, p.sex, perf.qualifying_section_label(e.qualifying_section),
         e.episode_id, e.person_id, e.effective_from
  FROM perf.s117_in_force(p_at) e
  JOIN perf.episode_bodies(p_at) b USING (episode_id)
  JOIN perf.person_units(p_at) p USING (person_id)
$$;
