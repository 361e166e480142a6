-- S117 aftercare register (domain-rules 2.10, 2.11): one episode per qualifying detention and
-- the aftercare after it. At most one open (PLANNED or ACTIVE) episode per person.
CREATE SCHEMA IF NOT EXISTS s117;

CREATE TABLE s117.episode (
  episode_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id               uuid NOT NULL REFERENCES core.person (person_id),
  state                   text NOT NULL CHECK (state IN ('PLANNED', 'ACTIVE', 'ENDED_DISCHARGED',
                                                         'ENDED_SUPERSEDED', 'ENDED_DECEASED', 'VOID')),
  predecessor_episode_id  uuid REFERENCES s117.episode (episode_id),
  responsible_council_code text REFERENCES core.organisation (code),
  responsible_icb_code    text REFERENCES core.organisation (code),
  next_review_due         date,
  version                 bigint NOT NULL DEFAULT 1,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
-- Invariant 1, enforced by the database too.
CREATE UNIQUE INDEX episode_one_open_per_person ON s117.episode (person_id)
  WHERE state IN ('PLANNED', 'ACTIVE');
CREATE INDEX episode_council ON s117.episode (responsible_council_code, state);
CREATE INDEX episode_icb ON s117.episode (responsible_icb_code, state);
