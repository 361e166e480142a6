-- Every S117 entitlement's responsible ICB and council on p_at: the ones it names now, or the
-- ones a later succession moved it from (perf.moved_from), so past months keep counting under
-- the body responsible then. Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.episode_bodies(p_at date)
RETURNS TABLE (episode_id uuid, icb_code text, council_code text)
LANGUAGE sql STABLE AS $$
  SELECT e.episode_id, coalesce(i.from_code, e.responsible_icb_code),
         coalesce(c.from_code, e.responsible_council_code)
  FROM s117.episode e
  LEFT JOIN perf.moved_from('s117_episode', 'icb', p_at) i ON i.entity_id = e.episode_id::text
  LEFT JOIN perf.moved_from('s117_episode', 'council', p_at) c
    ON c.entity_id = e.episode_id::text
$$;
