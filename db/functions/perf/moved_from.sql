-- The body each entity of p_entity named in role p_role on p_at, where a succession moved it
-- later (core.succession_move): for each entity_id with a move effective after p_at, the body it
-- was moved from by the earliest such move. Entities never moved after p_at are absent (their
-- current body is the one). Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.moved_from(p_entity text, p_role text, p_at date)
RETURNS TABLE (entity_id text, from_code text)
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (m.entity_id) m.entity_id, m.from_code
  FROM core.succession_move m
  WHERE m.entity = p_entity AND m.role = p_role AND m.effective_on > p_at
  ORDER BY m.entity_id, m.effective_on, m.move_pk
$$;
