-- What the write rule needs to know of an organisation and a person: whether it sees them,
-- whether it has a current care relationship with them, and whether it is a body responsible for
-- them (their council or ICB, or an S117 responsible body).
CREATE OR REPLACE FUNCTION core.relationship_facts(p_person uuid, p_org text,
                                        OUT sees boolean, OUT care boolean,
                                        OUT responsible boolean)
LANGUAGE sql STABLE AS $$
  SELECT count(*) > 0, coalesce(bool_or(k.care), false), coalesce(bool_or(k.responsible), false)
    FROM core.relationship r JOIN core.relationship_kind k ON k.kind = r.kind
   WHERE r.person_id = p_person AND r.org_code = p_org AND r.to_at IS NULL
$$;
