-- Organisations with dates and successors (issue 22 item 1). An organisation is open from
-- opened_on (inclusive) until closed_on (exclusive: the first day it no longer exists, which is
-- its successors' effective date; NULL = open). Successor links come from the ODS successor file
-- layout and its GSS equivalent, loaded by `icrctl refdata load` (README "Keeping reference data
-- current"), never by a migration per change.
ALTER TABLE core.organisation RENAME COLUMN valid_from TO opened_on;
ALTER TABLE core.organisation RENAME COLUMN valid_to TO closed_on;
ALTER TABLE core.organisation ADD CHECK (closed_on IS NULL OR closed_on > opened_on);

-- One row per (predecessor, successor, effective date), as ODS states a succession (deduplicated:
-- ODS states it from both ends). Links are never closed. reason: the ODS succession reason
-- (F code change, O type change, R reconfiguration); blank when the source gives none.
CREATE TABLE core.organisation_successor (
  predecessor_code text NOT NULL REFERENCES core.organisation (code),
  successor_code   text NOT NULL REFERENCES core.organisation (code),
  effective_on     date NOT NULL,
  reason           text NOT NULL DEFAULT '',
  PRIMARY KEY (predecessor_code, successor_code, effective_on),
  CHECK (predecessor_code <> successor_code)
);
CREATE INDEX organisation_successor_successor ON core.organisation_successor (successor_code);

-- One-to-one or split, derived (a predecessor with more than one successor on a date is split),
-- so it never disagrees with the links.
CREATE VIEW core.organisation_succession AS
SELECT predecessor_code, successor_code, effective_on, reason,
       CASE WHEN count(*) OVER (PARTITION BY predecessor_code, effective_on) > 1
            THEN 'split' ELSE 'one_to_one' END AS kind
FROM core.organisation_successor;

-- ICB codes: the April 2026 ICBs have five-character ODS codes (S1Y5D, Z9B2Z: letter, digit,
-- letter, digit, letter); older ICBs keep Qxx. Still never the Q99 "not known" placeholder.
ALTER TABLE s117.episode DROP CONSTRAINT episode_responsible_icb_code_check;
ALTER TABLE s117.episode ADD CONSTRAINT episode_responsible_icb_code_check
  CHECK (responsible_icb_code ~ '^(Q[A-Z0-9]{2}|[A-Z][0-9][A-Z][0-9][A-Z])$'
         AND responsible_icb_code <> 'Q99');
