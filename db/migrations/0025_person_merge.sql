-- Merged records and changed NHS numbers (issue 22 item 3).
--
-- core.person_merge: one row per merge. The superseded person's row is kept whole (as it was
-- when merged) so an unmerge puts it back exactly; unmerged_at is set by the unmerge.
-- core.person_merge_row: what the merge did to each row of every table with a person_id
-- (core.move_person_rows): 'moved' rows are named by their primary key after the move;
-- 'absorbed' rows (the survivor already had a row with the same key, e.g. the same
-- organisation's relationship) are kept whole and deleted. An unmerge reverses them in reverse
-- order, so it is exact, not a guess.
-- core.nhs_number_alias: an NHS number that is no longer a person's own but still resolves to
-- them (a superseded record's number, or a number changed by ChangeNhsNumber).

CREATE TABLE core.person_merge (
  merge_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  survivor_id       uuid NOT NULL,
  superseded_id     uuid NOT NULL,
  superseded_nhs    char(10) NOT NULL,
  superseded_person jsonb NOT NULL,   -- the core.person row as it was
  reason            text NOT NULL,
  merged_by_org     text NOT NULL,
  merged_by_role    text NOT NULL,
  merged_at         timestamptz NOT NULL DEFAULT now(),
  unmerged_at       timestamptz,
  unmerged_by_org   text,
  unmerge_reason    text
);
CREATE INDEX person_merge_survivor ON core.person_merge (survivor_id) WHERE unmerged_at IS NULL;
CREATE INDEX person_merge_superseded ON core.person_merge (superseded_id) WHERE unmerged_at IS NULL;

CREATE TABLE core.person_merge_row (
  merge_id    uuid NOT NULL REFERENCES core.person_merge (merge_id),
  ord         int NOT NULL,
  table_name  text NOT NULL,
  action      text NOT NULL CHECK (action IN ('moved', 'absorbed')),
  row_data    jsonb NOT NULL,   -- moved: the primary key after the move; absorbed: the whole row
  PRIMARY KEY (merge_id, ord)
);

CREATE TABLE core.nhs_number_alias (
  nhs_number  char(10) PRIMARY KEY CHECK (nhs_number ~ '^[0-9]{10}$'),
  person_id   uuid NOT NULL REFERENCES core.person (person_id),
  merge_id    uuid REFERENCES core.person_merge (merge_id),  -- NULL: a change of number
  reason      text NOT NULL,
  created_by_org text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nhs_number_alias_person ON core.nhs_number_alias (person_id);
