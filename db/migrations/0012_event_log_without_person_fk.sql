-- The event log (core.event) without its foreign key to core.person. The key's check ran once
-- per event row (a look-up and row lock on the person, about a tenth of an import's database
-- time) and protected nothing the other writes do not: an event row is written only with the
-- event's own write in the same transaction (RecordStore::StoreEvent), which either inserts an
-- episode-table row that keeps its key to core.person (referral, spell, detention, contact, key
-- worker, status, care act, carer assessment) or updates rows of that person (closes, death),
-- after the person was read for the event's NHS number; and people are never deleted. The log
-- keeps its person index.
ALTER TABLE core.event DROP CONSTRAINT event_person_id_fkey;
