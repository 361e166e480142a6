#include "services/record/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <string_view>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/auth.h"
#include "services/common/changes.h"
#include "services/common/status.h"
#include "services/record/record_rules.h"

namespace icr::record {
namespace {
using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

#define PERSON_COLUMNS                                                                       \
  "SELECT p.person_id::text, p.nhs_number, p.family_name, p.given_name, "                    \
  "p.date_of_birth::text, p.sex, p.ethnic_category, p.postcode, p.gp_practice_code, "        \
  "coalesce(p.council_code, ''), coalesce(p.icb_code, ''), coalesce(p.date_of_death::text, " \
  "''), p.version, "
#define PERSON_SELECT                                                   \
  PERSON_COLUMNS "ARRAY(SELECT i.system FROM core.person_identifier i " \
                 "  WHERE i.person_id = p.person_id ORDER BY i.system, i.value), "   \
                 "ARRAY(SELECT i.value FROM core.person_identifier i "  \
                 "  WHERE i.person_id = p.person_id ORDER BY i.system, i.value) FROM core.person p "

const Statement kPersonByNhs{"record_person_by_nhs", PERSON_SELECT "WHERE p.nhs_number = $1"};
// The people of a batch, without their local identifiers (events do not need them: two index
// scans a person saved), with the facts of the access rule for organisation $2.
const Statement kPeopleByNhs{
    "record_people_by_nhs",
    PERSON_COLUMNS "'{}'::text[], '{}'::text[], f.sees, f.care FROM core.person p "
                   "CROSS JOIN LATERAL core.relationship_facts(p.person_id, $2) f "
                   "WHERE p.nhs_number = ANY($1::bpchar[])"};
// The rows a transaction leaves to its end (PendingWrites), in one statement: the event log
// ($2-$6), the change outbox ($7-$11, in order: seq follows the array) and the relationships of
// organisation $1 with people $12 (recorded something) and $13 (registered them). Returns how
// many event rows were new.
const Statement kWritePending{
    "record_write_pending",
    "WITH ev AS (INSERT INTO core.event (source_org, event_id, person_id, kind, content_hash, "
    "  payload) SELECT $1, e.id, e.person::uuid, e.kind, decode(e.hash, 'hex'), e.payload::jsonb "
    "  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) "
    "    AS e(id, person, kind, hash, payload) "
    "  ON CONFLICT (source_org, event_id) DO NOTHING RETURNING 1), "
    "ch AS (INSERT INTO core.changes (entity, entity_id, person_id, change_type, org_code) "
    "  SELECT c.entity, c.entity_id, nullif(c.person, '')::uuid, c.type, c.org "
    "  FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) "
    "    WITH ORDINALITY AS c(entity, entity_id, person, type, org, n) ORDER BY c.n), "
    "rel AS (INSERT INTO core.relationship (person_id, org_code, kind) "
    "  SELECT p, $1, 'recorded' FROM unnest($12::uuid[]) AS p "
    "  UNION ALL SELECT p, $1, 'registered' FROM unnest($13::uuid[]) AS p "
    "  ORDER BY 1, 3 ON CONFLICT DO NOTHING) "
    "SELECT count(*) FROM ev"};
// One statement: insert, or update when the version read is still current ($11 = 0: any), and
// add the local identifiers ($12 systems, $13 values) not yet recorded. Returns the person's id,
// version and date of death, whether it was inserted, whether its row was written (not: stale,
// or exactly as stored), how many identifiers were added, and all its identifiers (those read
// before, and those added: this statement cannot read its own rows).
const Statement kUpsertPerson{
    "record_upsert_person",
    "WITH up AS (INSERT INTO core.person AS p (nhs_number, family_name, given_name, "
    "date_of_birth, sex, ethnic_category, postcode, gp_practice_code, council_code, icb_code) "
    "VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, nullif($9, ''), nullif($10, '')) "
    "ON CONFLICT (nhs_number) DO UPDATE SET family_name = EXCLUDED.family_name, "
    "given_name = EXCLUDED.given_name, date_of_birth = EXCLUDED.date_of_birth, "
    "sex = EXCLUDED.sex, ethnic_category = EXCLUDED.ethnic_category, "
    "postcode = EXCLUDED.postcode, gp_practice_code = EXCLUDED.gp_practice_code, "
    "council_code = EXCLUDED.council_code, icb_code = EXCLUDED.icb_code, "
    "version = p.version + 1, updated_at = now() "
    "WHERE ($11 = 0 OR p.version = $11) AND (p.family_name, p.given_name, p.date_of_birth, p.sex, "
    "p.ethnic_category, p.postcode, p.gp_practice_code, p.council_code, p.icb_code) IS DISTINCT "
    "FROM (EXCLUDED.family_name, EXCLUDED.given_name, EXCLUDED.date_of_birth, EXCLUDED.sex, "
    "EXCLUDED.ethnic_category, EXCLUDED.postcode, EXCLUDED.gp_practice_code, "
    "EXCLUDED.council_code, EXCLUDED.icb_code) "
    "  RETURNING p.person_id, p.version, p.date_of_death, (xmax = 0) AS inserted), "
    "old AS (SELECT person_id, version, date_of_death FROM core.person WHERE nhs_number = $1), "
    "me AS (SELECT coalesce(up.person_id, old.person_id) AS person_id, "
    "  coalesce(up.version, old.version) AS version, "
    "  CASE WHEN up.person_id IS NULL THEN old.date_of_death ELSE up.date_of_death END AS dod, "
    "  coalesce(up.inserted, false) AS inserted, up.person_id IS NOT NULL AS written "
    "  FROM (SELECT 1) one LEFT JOIN up ON true LEFT JOIN old ON true), "
    "ids AS (INSERT INTO core.person_identifier (system, value, person_id) "
    "  SELECT i.s, i.v, me.person_id FROM me, unnest($12::text[], $13::text[]) AS i(s, v) "
    "  WHERE me.person_id IS NOT NULL ON CONFLICT (system, value) DO NOTHING "
    "  RETURNING system, value), "
    "every_id AS (SELECT i.system, i.value FROM core.person_identifier i, me "
    "  WHERE i.person_id = me.person_id UNION ALL SELECT system, value FROM ids) "
    "SELECT me.person_id::text, me.version, coalesce(me.dod::text, ''), me.inserted, me.written, "
    "(SELECT count(*) FROM ids), "
    "ARRAY(SELECT system FROM every_id ORDER BY system, value), "
    "ARRAY(SELECT value FROM every_id ORDER BY system, value) FROM me"};
const Statement kIdentifierOwner{
    "record_identifier_owner",
    "SELECT person_id::text FROM core.person_identifier WHERE system = $1 AND value = $2"};

// The content hashes of events this organisation already sent, by event id ($2: a text array).
const Statement kEventHashes{"record_event_hashes",
                             "SELECT event_id, content_hash FROM core.event WHERE source_org = $1 "
                             "AND event_id = ANY($2::text[])"};

// Inserts deferred to the end of the batch (PendingWrites::inserts), one statement per kind:
// $1 is the organisation, then one text array per column, rows in order; each returns the key
// of every row it wrote, so a row it did not write (already recorded) is known.
#define ROWS(cols, names) " FROM unnest(" cols ") WITH ORDINALITY AS u(" names ", n) "
const Statement kReferralOpen{
    "record_referral_open",
    "INSERT INTO core.referral (person_id, source_org, referral_id, provider_code, team_type, "
    "service_area, received_date, source_of_referral) "
    "SELECT u.p::uuid, $1, u.id, u.prov, u.team, u.area, u.rd::date, u.src"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]",
         "p, id, prov, team, area, rd, src")
    "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING referral_id"};
const Statement kSpellOpen{
    "record_spell_open",
    "INSERT INTO core.hospital_spell (person_id, source_org, spell_id, provider_code, "
    "referral_id, admitted_at, bed_type, admission_method) "
    "SELECT u.p::uuid, $1, u.id, u.prov, u.ref, u.at::timestamptz, u.bed, u.method"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]",
         "p, id, prov, ref, at, bed, method")
    "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING spell_id"};
const Statement kDetentionStart{
    "record_detention_start",
    "INSERT INTO core.detention (person_id, source_org, detention_id, legal_status_code, "
    "started_at, spell_id, provider_code) "
    "SELECT u.p::uuid, $1, u.id, u.code, u.at::timestamptz, u.spell, u.prov"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]",
         "p, id, code, at, spell, prov")
    "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING detention_id"};
const Statement kContactInsert{
    "record_contact_insert",
    "INSERT INTO core.care_contact (person_id, source_org, contact_id, referral_id, "
    "contact_date, attended, attend_status, consultation_mechanism, team_type) "
    "SELECT u.p::uuid, $1, u.id, u.ref, u.d::date, u.att::boolean, u.status, u.mech, u.team"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
         "$9::text[]", "p, id, ref, d, att, status, mech, team")
    "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING contact_id"};
const Statement kKeyWorkerAssign{
    "record_key_worker_assign",
    "INSERT INTO core.key_worker (person_id, source_org, assignment_id, worker_name, "
    "worker_role, worker_org_code, worker_contact, start_date) "
    "SELECT u.p::uuid, $1, u.id, u.name, u.role, u.org, u.contact, u.d::date"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]",
         "p, id, name, role, org, contact, d")
    "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING assignment_id"};
// Status observations have no key: every row is written (each returns an empty key).
const Statement kStatusInsert{
    "record_status_insert",
    "INSERT INTO core.status_observation (person_id, list_name, code, recorded_date, "
    "weekly_hours, recording_org) "
    "SELECT u.p::uuid, u.list, u.code, u.d::date, nullif(u.hours, '')::int, $1" ROWS(
        "$2::text[], $3::text[], $4::text[], $5::text[], $6::text[]",
        "p, list, code, d, hours") "ORDER BY u.n RETURNING ''"};
const Statement kCareActUpsert{
    "record_care_act_upsert",
    "INSERT INTO core.social_care_event AS s (person_id, source_org, care_act_id, kind, "
    "council_code, start_date, end_date, outcome, assessment_type, service_type, "
    "delivery_mechanism, primary_support_reason, weekly_cost_pence) "
    "SELECT u.p::uuid, $1, u.id, u.kind, u.council, u.sd::date, nullif(u.ed, '')::date, "
    "u.outcome, u.atype, u.stype, u.mech, u.psr, u.cost::bigint"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
         "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[]",
         "p, id, kind, council, sd, ed, outcome, atype, stype, mech, psr, cost")
    "ORDER BY u.n ON CONFLICT (source_org, care_act_id) DO UPDATE SET end_date = EXCLUDED.end_date, "
    "outcome = EXCLUDED.outcome, delivery_mechanism = EXCLUDED.delivery_mechanism, "
    "weekly_cost_pence = EXCLUDED.weekly_cost_pence "
    "WHERE s.person_id = EXCLUDED.person_id AND s.kind = EXCLUDED.kind RETURNING care_act_id"};
const Statement kCarerUpsert{
    "record_carer_upsert",
    "INSERT INTO core.carer_assessment AS c (person_id, source_org, carer_assessment_id, "
    "carer_name, relationship, council_code, offered_date, completed_date, outcome) "
    "SELECT u.p::uuid, $1, u.id, u.name, u.rel, u.council, nullif(u.od, '')::date, "
    "nullif(u.cd, '')::date, u.outcome"
    ROWS("$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
         "$9::text[]", "p, id, name, rel, council, od, cd, outcome")
    "ORDER BY u.n ON CONFLICT (source_org, carer_assessment_id) DO UPDATE SET "
    "completed_date = EXCLUDED.completed_date, outcome = EXCLUDED.outcome "
    "WHERE c.person_id = EXCLUDED.person_id RETURNING carer_assessment_id"};
#undef ROWS

// Closing events, deferred like the inserts and flushed after them (they update rows the
// inserts may have written), one statement per kind: $1 is the organisation, then one text array
// per column (person, id, the date compared with the row's start, then the rest). A row is
// updated only when it exists for that person, is still open and did not start later; each
// returns the key of every row it updated (kClosings says why another was not).
const Statement kReferralCloseMany{
    "record_referral_close_many",
    "UPDATE core.referral r SET closed_date = u.d::date, close_reason = u.reason "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, id, d, reason) "
    "WHERE r.source_org = $1 AND r.referral_id = u.id AND r.person_id = u.p::uuid "
    "AND r.closed_date IS NULL AND u.d::date >= r.received_date RETURNING r.referral_id"};
const Statement kSpellDischargeMany{
    "record_spell_discharge_many",
    "UPDATE core.hospital_spell s SET discharged_at = u.at::timestamptz, "
    "discharge_method = u.method, discharge_destination = nullif(u.dest, '') "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) "
    "  AS u(p, id, secs, at, method, dest) "
    "WHERE s.source_org = $1 AND s.spell_id = u.id AND s.person_id = u.p::uuid "
    "AND s.discharged_at IS NULL AND u.secs::bigint >= (extract(epoch FROM s.admitted_at))::bigint "
    "RETURNING s.spell_id"};
const Statement kDetentionEndMany{
    "record_detention_end_many",
    "UPDATE core.detention d SET ended_at = u.at::timestamptz, end_reason = u.reason "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) "
    "  AS u(p, id, secs, at, reason) "
    "WHERE d.source_org = $1 AND d.detention_id = u.id AND d.person_id = u.p::uuid "
    "AND d.ended_at IS NULL AND u.secs::bigint >= (extract(epoch FROM d.started_at))::bigint "
    "RETURNING d.detention_id"};
const Statement kKeyWorkerEndMany{
    "record_key_worker_end_many",
    "UPDATE core.key_worker k SET end_date = u.d::date "
    "FROM unnest($2::text[], $3::text[], $4::text[]) AS u(p, id, d) "
    "WHERE k.source_org = $1 AND k.assignment_id = u.id AND k.person_id = u.p::uuid "
    "AND k.end_date IS NULL AND u.d::date >= k.start_date RETURNING k.assignment_id"};

// Why a closing row was not updated, read only then: the row of this organisation and person
// ($1-$3), whether it is closed already, and whether the closing date ($4, as in the update)
// is before its start.
const Statement kReferralGet{
    "record_referral_get",
    "SELECT closed_date IS NOT NULL, $4::date < received_date FROM core.referral "
    "WHERE source_org = $1 AND referral_id = $2 AND person_id = $3::uuid FOR UPDATE"};
const Statement kSpellGet{
    "record_spell_get",
    "SELECT discharged_at IS NOT NULL, $4::bigint < (extract(epoch FROM admitted_at))::bigint "
    "FROM core.hospital_spell WHERE source_org = $1 AND spell_id = $2 AND person_id = $3::uuid "
    "FOR UPDATE"};
const Statement kDetentionGet{
    "record_detention_get",
    "SELECT ended_at IS NOT NULL, $4::bigint < (extract(epoch FROM started_at))::bigint "
    "FROM core.detention WHERE source_org = $1 AND detention_id = $2 AND person_id = $3::uuid "
    "FOR UPDATE"};
const Statement kKeyWorkerGet{
    "record_key_worker_get",
    "SELECT end_date IS NOT NULL, $4::date < start_date FROM core.key_worker "
    "WHERE source_org = $1 AND assignment_id = $2 AND person_id = $3::uuid FOR UPDATE"};

// A kind of closing event: its refusals, by the field they name (after the item's prefix).
struct Closing {
  const Statement& get;
  std::string id_field, what, closed, date_field, early;
};
const Closing kReferralClosing{kReferralGet,  ".referral_closed.referral_id", "referral",
                               "already closed", ".referral_closed.closed_date",
                               "before the referral was received"};
const Closing kDischarge{kSpellGet,          ".discharge.spell_id",      "hospital admission",
                         "already discharged", ".discharge.discharged_at", "before the admission"};
const Closing kDetentionEnding{kDetentionGet,   ".detention_end.detention_id", "detention",
                               "already ended",   ".detention_end.ended_at",
                               "before the detention started"};
const Closing kKeyWorkerEnding{kKeyWorkerGet,   ".key_worker_ended.assignment_id",
                               "key worker assignment", "already ended",
                               ".key_worker_ended.end_date", "before the assignment started"};

// The deferred writes, flushed in this order: the inserts (no foreign keys between them; the
// order is only for stable seq), then the closes. A row must not be written before an earlier
// row with its key (Defer).
struct DeferredKind {
  const Statement* statement;
  std::string_view table;
  const Closing* closing = nullptr;  // null: an insert, refused when its key was recorded before
};
const DeferredKind kDeferred[] = {
    {&kReferralOpen, "referral"},
    {&kSpellOpen, "hospital_spell"},
    {&kDetentionStart, "detention"},
    {&kContactInsert, "care_contact"},
    {&kKeyWorkerAssign, "key_worker"},
    {&kStatusInsert, "status_observation"},
    {&kCareActUpsert, "social_care_event"},
    {&kCarerUpsert, "carer_assessment"},
    {&kReferralCloseMany, "referral", &kReferralClosing},
    {&kSpellDischargeMany, "hospital_spell", &kDischarge},
    {&kDetentionEndMany, "detention", &kDetentionEnding},
    {&kKeyWorkerEndMany, "key_worker", &kKeyWorkerEnding},
};

const Statement kDeath{
    "record_death",
    "UPDATE core.person SET date_of_death = $2::date, version = version + 1, updated_at = now() "
    "WHERE person_id = $1::uuid"};
const Statement kLatestEventDate{
    "record_latest_activity",
    "SELECT greatest("
    " (SELECT max(received_date) FROM core.referral WHERE person_id = $1::uuid),"
    " (SELECT max(admitted_at)::date FROM core.hospital_spell WHERE person_id = $1::uuid),"
    " (SELECT max(contact_date) FROM core.care_contact WHERE person_id = $1::uuid),"
    " (SELECT max(started_at)::date FROM core.detention WHERE person_id = $1::uuid))::text"};

const Statement kFindByName{
    "record_find_by_name", PERSON_SELECT
    "WHERE lower(p.family_name) = lower($1) AND p.date_of_birth = $2::date "
    "AND p.person_id > $3::uuid AND ($4::text IS NULL OR core.can_see(p.person_id, $4)) "
    "ORDER BY p.person_id LIMIT $5"};
const Statement kFindByPostcode{
    "record_find_by_postcode", PERSON_SELECT
    "WHERE p.postcode = $1 AND p.person_id > $2::uuid "
    "AND ($3::text IS NULL OR core.can_see(p.person_id, $3)) ORDER BY p.person_id LIMIT $4"};
const Statement kFindByIdentifier{
    "record_find_by_identifier", PERSON_SELECT
    "JOIN core.person_identifier i ON i.person_id = p.person_id "
    "WHERE i.system = $1 AND i.value = $2 AND p.person_id > $3::uuid "
    "AND ($4::text IS NULL OR core.can_see(p.person_id, $4)) ORDER BY p.person_id LIMIT $5"};

// RFC 3339 in UTC, as protobuf JSON writes a Timestamp (whole seconds).
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// The person with NHS number $1, whether organisation $2 may see them (core.can_see, as
// Access::ResolvePerson), the audit row of the read (role $3, action $4, purpose $5, request
// $6, break-glass reason $7; denied when not visible and no reason, as access::DecideRead), and,
// when they may see them, their cached record body if it is still valid: same stamp as now
// (no write since it was read) and built today (migration 0010). One statement, so the check,
// the audit row and the read cost one round trip.
// GetIntegratedRecord's look-ups, several callers' in one statement (migration 0013).
const Statement kRecordLookups{
    "record_lookups",
    "SELECT ord, person_id::text, visible, fresh, version, body "
    "FROM core.lookup_records($1, $2, $3, $4, $5, $6, $7, $8)"};

// The integrated record of person $1 as protobuf JSON of icr.v1.IntegratedRecord (nulls
// stripped), with its version (migration 0013) read in the same snapshot: the key under which
// the body may be kept.
// Every table read here must carry the record-stamp triggers of migration 0010 (reference
// tables: the cache-clearing trigger), or cached bodies would miss its changes.
const Statement kIntegratedRecord{
    "record_integrated",
    "WITH target AS (SELECT $1::uuid AS person_id) "
    "SELECT json_strip_nulls(json_build_object("
    " 'person', (SELECT json_build_object('person_id', p.person_id, 'nhs_number', p.nhs_number, "
    "   'family_name', p.family_name, 'given_name', p.given_name, 'date_of_birth', p.date_of_birth, "
    "   'sex', p.sex, 'ethnic_category', p.ethnic_category, 'postcode', p.postcode, "
    "   'gp_practice_code', p.gp_practice_code, 'council_code', p.council_code, "
    "   'icb_code', p.icb_code, 'date_of_death', p.date_of_death, 'version', p.version, "
    "   'local_identifiers', (SELECT json_agg(json_build_object('system', i.system, 'value', i.value) "
    "       ORDER BY i.system, i.value) FROM core.person_identifier i WHERE i.person_id = p.person_id)) "
    "   FROM core.person p WHERE p.person_id = t.person_id), "
    " 'open_referrals', (SELECT json_agg(json_build_object('referral_id', r.referral_id, "
    "   'provider_code', r.provider_code, 'team_type', r.team_type, 'service_area', r.service_area, "
    "   'received_date', r.received_date) ORDER BY r.received_date DESC, r.referral_id) "
    "   FROM core.referral r WHERE r.person_id = t.person_id AND r.closed_date IS NULL), "
    " 'hospital_stay', (SELECT json_build_object('spell_id', s.spell_id, 'provider_code', "
    "   s.provider_code, 'admitted_at', " TS("s.admitted_at") ", 'discharged_at', "
    "   " TS("s.discharged_at") ", 'bed_type', s.bed_type, 'discharge_method', s.discharge_method, "
    "   'discharge_destination', s.discharge_destination) FROM core.hospital_spell s "
    "   WHERE s.person_id = t.person_id ORDER BY (s.discharged_at IS NULL) DESC, s.admitted_at DESC "
    "   LIMIT 1), "
    " 'current_detention', (SELECT json_build_object('detention_id', d.detention_id, "
    "   'legal_status_code', d.legal_status_code, 'legal_status_description', l.description, "
    "   's117_qualifying', l.s117_qualifying = 'yes', 'started_at', " TS("d.started_at") ") "
    "   FROM core.detention d JOIN core.mha_legal_status l ON l.code = d.legal_status_code "
    "   WHERE d.person_id = t.person_id AND d.ended_at IS NULL ORDER BY d.started_at DESC LIMIT 1), "
    " 'key_worker', (SELECT json_build_object('assignment_id', k.assignment_id, 'key_worker', "
    "   json_build_object('name', k.worker_name, 'role', k.worker_role, 'organisation_code', "
    "   k.worker_org_code, 'contact', k.worker_contact), 'start_date', k.start_date) "
    "   FROM core.key_worker k WHERE k.person_id = t.person_id AND k.end_date IS NULL "
    "   ORDER BY k.start_date DESC LIMIT 1), "
    " 'employment', (SELECT json_build_object('code', o.code, 'description', c.description, "
    "   'recorded_date', o.recorded_date, 'recorded_by', o.recording_org) "
    "   FROM core.status_observation o LEFT JOIN core.code_list c "
    "     ON c.list_name = o.list_name AND c.code = o.code "
    "   WHERE o.person_id = t.person_id AND o.list_name = 'employment_status' "
    "   ORDER BY o.recorded_date DESC, o.obs_pk DESC LIMIT 1), "
    " 'accommodation', (SELECT json_build_object('code', o.code, 'description', c.description, "
    "   'recorded_date', o.recorded_date, 'recorded_by', o.recording_org) "
    "   FROM core.status_observation o LEFT JOIN core.code_list c "
    "     ON c.list_name = o.list_name AND c.code = o.code "
    "   WHERE o.person_id = t.person_id AND o.list_name = 'accommodation_status' "
    "   ORDER BY o.recorded_date DESC, o.obs_pk DESC LIMIT 1), "
    " 'care_act_assessments', (SELECT json_agg(x.j ORDER BY x.start_date DESC) FROM ("
    "   SELECT e.start_date, json_build_object('care_act_id', e.care_act_id, 'kind', upper(e.kind), "
    "   'council_code', e.council_code, 'start_date', e.start_date, 'end_date', e.end_date, "
    "   'outcome', e.outcome, 'assessment_type', e.assessment_type, 'service_type', e.service_type, "
    "   'delivery_mechanism', e.delivery_mechanism, 'primary_support_reason', "
    "   e.primary_support_reason, 'weekly_cost_pence', e.weekly_cost_pence) AS j "
    "   FROM core.social_care_event e WHERE e.person_id = t.person_id AND (e.kind = 'assessment' "
    "   OR (e.kind = 'service' AND (e.end_date IS NULL OR e.end_date >= current_date))) "
    "   ORDER BY e.start_date DESC LIMIT 20) x), "
    " 'carers', (SELECT json_agg(json_build_object('carer_assessment_id', ca.carer_assessment_id, "
    "   'carer_name', ca.carer_name, 'relationship', ca.relationship, 'council_code', "
    "   ca.council_code, 'offered_date', ca.offered_date, 'completed_date', ca.completed_date, "
    "   'outcome', ca.outcome) ORDER BY ca.carer_name) FROM core.carer_assessment ca "
    "   WHERE ca.person_id = t.person_id), "
    // The person's open care plan (careplan schema, CarePlanService).
    " 'care_plan', (SELECT json_build_object('plan_id', cp.plan_id, 'version', cp.current_version, "
    "   'status', cp.status, 'key_worker', json_build_object('name', v.content->'key_worker'->>'name', "
    "   'role', v.content->'key_worker'->>'role', 'organisation_code', cp.key_worker_org, "
    "   'contact', v.content->'key_worker'->>'contact'), 'next_review_date', cp.next_review_date, "
    "   'is_s117_aftercare_plan', cp.is_s117_aftercare_plan) FROM careplan.plan cp "
    "   JOIN careplan.plan_version v ON v.plan_id = cp.plan_id AND v.version = cp.current_version "
    "   WHERE cp.person_id = t.person_id AND cp.status <> 'CLOSED' LIMIT 1), "
    // The S117 entitlement (s117 schema): the open one, else the most recent, with its open
    // s117 aftercare services.
    " 's117', (SELECT json_build_object('entitlement_id', e.episode_id, 'state', e.state, "
    "   'responsible_council_code', e.responsible_council_code, 'responsible_icb_code', "
    "   e.responsible_icb_code, 'next_review_due', e.next_review_due, 'aftercare_services', "
    "   (SELECT json_agg(coalesce(nullif(sl.description, ''), st.description) "
    "      ORDER BY coalesce(nullif(sl.description, ''), st.description)) "
    "    FROM s117.service_line sl LEFT JOIN s117.service_type st ON st.code = sl.service_type "
    "    WHERE sl.episode_id = e.episode_id AND sl.is_s117 "
    "      AND (sl.end_date IS NULL OR sl.end_date > current_date))) "
    "   FROM s117.episode e WHERE e.person_id = t.person_id AND e.state <> 'VOID' "
    "   ORDER BY e.state IN ('PLANNED', 'ACTIVE') DESC, e.created_at DESC LIMIT 1)"
    "))::text, (SELECT core.record_version(s.txid, e.n, current_date) FROM core.record_epoch e "
    "  LEFT JOIN core.record_stamp s ON s.person_id = t.person_id) FROM target t"};

// Keeps a body read by kIntegratedRecord. A concurrent fill may win; either body carries the
// version it was read with, so a stale one is never used.
const Statement kRecordBodyFill{
    "record_body_fill",
    "INSERT INTO core.record_body (person_id, version, body) VALUES ($1::uuid, $2, $3::bytea) "
    "ON CONFLICT (person_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body"};

const Statement kAuditTrail{
    "record_audit_trail",
    "SELECT audit_pk, (extract(epoch FROM at) * 1000000)::bigint, org_code, role, action, "
    "purpose_of_use, request_id, outcome, break_glass_reason FROM core.audit "
    "WHERE person_id = $1::uuid AND ($2 = 0 OR audit_pk < $2) ORDER BY audit_pk DESC LIMIT $3"};

constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

std::string Iso(const Timestamp& ts) { return TimeUtil::ToString(ts); }

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<std::string> TextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (auto next = parser.get_next(); next.first != pqxx::array_parser::done;
       next = parser.get_next()) {
    if (next.first == pqxx::array_parser::string_value) out.push_back(next.second);
  }
  return out;
}

icr::v1::Person PersonFromRow(const pqxx::row& r) {
  icr::v1::Person p;
  p.set_person_id(r[0].c_str());
  p.set_nhs_number(r[1].c_str());
  p.set_family_name(r[2].c_str());
  p.set_given_name(r[3].c_str());
  p.set_date_of_birth(r[4].c_str());
  p.set_sex(r[5].c_str());
  p.set_ethnic_category(r[6].c_str());
  p.set_postcode(r[7].c_str());
  p.set_gp_practice_code(r[8].c_str());
  p.set_council_code(r[9].c_str());
  p.set_icb_code(r[10].c_str());
  p.set_date_of_death(r[11].c_str());
  p.set_version(r[12].as<int64_t>());
  const auto systems = TextArray(r[13]), values = TextArray(r[14]);
  for (size_t i = 0; i < systems.size() && i < values.size(); ++i) {
    auto* id = p.add_local_identifiers();
    id->set_system(systems[i]);
    id->set_value(values[i]);
  }
  return p;
}

// A sender reference that must name something this organisation recorded for this person.
absl::Status Missing(const std::string& field, const std::string& what) {
  return absl::FailedPreconditionError(field + ": no " + what + " with this id for this person");
}

// Adds a row to the deferred `statement` (kDeferred); `error` is the refusal if an insert is not
// written (already recorded), or the field prefix of a close. The rows pending with its key in
// its kind, or in a kind of its table flushed after it, are flushed first: one statement must not
// write a key twice, and a close must not be written before an insert it preceded.
absl::Status Defer(pqxx::transaction_base& tx, const std::string& org, PendingWrites& out,
                   const Statement& statement, std::vector<std::string> row, std::string key,
                   std::string error) {
  const size_t kind = std::find_if(std::begin(kDeferred), std::end(kDeferred),
                                   [&](const DeferredKind& k) { return k.statement == &statement; }) -
                      std::begin(kDeferred);
  out.deferred.resize(std::size(kDeferred));
  for (size_t later = kind; !key.empty() && later < std::size(kDeferred); ++later) {
    if (kDeferred[later].table == kDeferred[kind].table &&
        out.deferred[later].pending_keys.count(key)) {
      RETURN_IF_ERROR(RecordStore::FlushDeferred(tx, org, out));
      out.deferred.resize(std::size(kDeferred));
      break;
    }
  }
  auto& rows = out.deferred[kind];
  rows.columns.resize(row.size());
  for (size_t i = 0; i < row.size(); ++i) rows.columns[i].push_back(std::move(row[i]));
  if (!key.empty()) rows.pending_keys.insert(key);
  rows.keys.push_back(std::move(key));
  rows.errors.push_back(std::move(error));
  return absl::OkStatus();
}

// Why the close of row `i` of `rows` was not written, `field` being its item's prefix.
absl::Status CloseRefusal(pqxx::transaction_base& tx, const std::string& org,
                          const Closing& closing, const PendingWrites::Deferred& rows, size_t i) {
  const std::string& field = rows.errors[i];
  auto row = tx.exec_prepared(closing.get.name, org, rows.columns[1][i], rows.columns[0][i],
                              rows.columns[2][i]);
  if (row.empty()) return Missing(field + closing.id_field, closing.what);
  if (row[0][0].as<bool>()) {
    return absl::FailedPreconditionError(field + closing.id_field + ": " + closing.closed);
  }
  if (row[0][1].as<bool>()) return InvalidField(field + closing.date_field, closing.early);
  return absl::AbortedError(field + closing.id_field + ": changed by a concurrent call; send again");
}

absl::Status ApplyEvent(pqxx::transaction_base& tx, const icr::v1::Event& e,
                        const icr::v1::Person& person, const std::string& org, const std::string& f,
                        PendingWrites& out) {
  const std::string& pid = person.person_id();
  using K = icr::v1::Event::KindCase;
  switch (e.kind_case()) {
    case K::kReferralOpened: {
      const auto& r = e.referral_opened();
      RETURN_IF_ERROR(Defer(tx, org, out, kReferralOpen,
                            {pid, r.referral_id(), r.provider_code(), r.team_type(),
                             r.service_area(), r.received_date(), r.source_of_referral()},
                            r.referral_id(), f + ".referral_opened.referral_id: already recorded"));
      out.changes.push_back({"referral", org + "/" + r.referral_id(), pid, "referral_opened", org});
      return absl::OkStatus();
    }
    case K::kReferralClosed: {
      const auto& r = e.referral_closed();
      RETURN_IF_ERROR(Defer(tx, org, out, kReferralCloseMany,
                            {pid, r.referral_id(), r.closed_date(), r.reason()}, r.referral_id(), f));
      // Closing a referral never ends anything else; followers (S117) decide what it means.
      out.changes.push_back({"referral", org + "/" + r.referral_id(), pid, "referral_closed", org});
      return absl::OkStatus();
    }
    case K::kAdmission: {
      const auto& a = e.admission();
      RETURN_IF_ERROR(Defer(tx, org, out, kSpellOpen,
                            {pid, a.spell_id(), a.provider_code(), a.referral_id(),
                             Iso(a.admitted_at()), a.bed_type(), a.admission_method()},
                            a.spell_id(), f + ".admission.spell_id: already recorded"));
      out.changes.push_back({"hospital_spell", org + "/" + a.spell_id(), pid, "admitted", org});
      return absl::OkStatus();
    }
    case K::kDischarge: {
      const auto& d = e.discharge();
      RETURN_IF_ERROR(Defer(tx, org, out, kSpellDischargeMany,
                            {pid, d.spell_id(), std::to_string(d.discharged_at().seconds()),
                             Iso(d.discharged_at()), d.discharge_method(),
                             d.discharge_destination()},
                            d.spell_id(), f));
      out.changes.push_back({"hospital_spell", org + "/" + d.spell_id(), pid, "discharged", org});
      return absl::OkStatus();
    }
    case K::kDetentionStart: {
      const auto& d = e.detention_start();
      RETURN_IF_ERROR(Defer(tx, org, out, kDetentionStart,
                            {pid, d.detention_id(), d.legal_status_code(), Iso(d.started_at()),
                             d.spell_id(), d.provider_code()},
                            d.detention_id(),
                            f + ".detention_start.detention_id: already recorded"));
      out.changes.push_back(
          {"detention", org + "/" + d.detention_id(), pid, "detention_started", org});
      return absl::OkStatus();
    }
    case K::kDetentionEnd: {
      const auto& d = e.detention_end();
      RETURN_IF_ERROR(Defer(tx, org, out, kDetentionEndMany,
                            {pid, d.detention_id(), std::to_string(d.ended_at().seconds()),
                             Iso(d.ended_at()), d.end_reason()},
                            d.detention_id(), f));
      out.changes.push_back(
          {"detention", org + "/" + d.detention_id(), pid, "detention_ended", org});
      return absl::OkStatus();
    }
    case K::kCareContact: {
      const auto& c = e.care_contact();
      RETURN_IF_ERROR(Defer(
          tx, org, out, kContactInsert,
          {pid, c.contact_id(), c.referral_id(), c.contact_date(), c.attended() ? "true" : "false",
           c.attend_status(), c.consultation_mechanism(), c.team_type()},
          c.contact_id(), f + ".care_contact.contact_id: already recorded"));
      out.changes.push_back({"care_contact", org + "/" + c.contact_id(), pid, "care_contact", org});
      return absl::OkStatus();
    }
    case K::kKeyWorkerAssigned: {
      const auto& k = e.key_worker_assigned();
      RETURN_IF_ERROR(
          Defer(tx, org, out, kKeyWorkerAssign,
                {pid, k.assignment_id(), k.key_worker().name(), k.key_worker().role(),
                 k.key_worker().organisation_code(), k.key_worker().contact(), k.start_date()},
                k.assignment_id(), f + ".key_worker_assigned.assignment_id: already recorded"));
      out.changes.push_back(
          {"key_worker", org + "/" + k.assignment_id(), pid, "key_worker_assigned", org});
      return absl::OkStatus();
    }
    case K::kKeyWorkerEnded: {
      const auto& k = e.key_worker_ended();
      RETURN_IF_ERROR(Defer(tx, org, out, kKeyWorkerEndMany,
                            {pid, k.assignment_id(), k.end_date()}, k.assignment_id(), f));
      out.changes.push_back(
          {"key_worker", org + "/" + k.assignment_id(), pid, "key_worker_ended", org});
      return absl::OkStatus();
    }
    case K::kEmploymentStatus: {
      const auto& s = e.employment_status();
      RETURN_IF_ERROR(Defer(
          tx, org, out, kStatusInsert,
          {pid, "employment_status", s.code(), s.recorded_date(), std::to_string(s.weekly_hours())},
          "", ""));
      out.changes.push_back({"person", pid, pid, "employment_status", org});
      return absl::OkStatus();
    }
    case K::kAccommodationStatus: {
      const auto& s = e.accommodation_status();
      RETURN_IF_ERROR(Defer(tx, org, out, kStatusInsert,
                            {pid, "accommodation_status", s.code(), s.recorded_date(), ""}, "",
                            ""));
      out.changes.push_back({"person", pid, pid, "accommodation_status", org});
      return absl::OkStatus();
    }
    case K::kCareAct: {
      const auto& c = e.care_act();
      std::string kind = icr::v1::CareActEvent::Kind_Name(c.kind());
      std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
      RETURN_IF_ERROR(Defer(
          tx, org, out, kCareActUpsert,
          {pid, c.care_act_id(), kind, c.council_code(), c.start_date(), c.end_date(), c.outcome(),
           c.assessment_type(), c.service_type(), c.delivery_mechanism(),
           c.primary_support_reason(), std::to_string(c.weekly_cost_pence())},
          c.care_act_id(), f + ".care_act.care_act_id: already used for another person or kind"));
      out.changes.push_back(
          {"social_care_event", org + "/" + c.care_act_id(), pid, "care_act_" + kind, org});
      return absl::OkStatus();
    }
    case K::kCarerAssessment: {
      const auto& c = e.carer_assessment();
      RETURN_IF_ERROR(
          Defer(tx, org, out, kCarerUpsert,
                {pid, c.carer_assessment_id(), c.carer_name(), c.relationship(), c.council_code(),
                 c.offered_date(), c.completed_date(), c.outcome()},
                c.carer_assessment_id(),
                f + ".carer_assessment.carer_assessment_id: already used for another person"));
      out.changes.push_back(
          {"carer_assessment", org + "/" + c.carer_assessment_id(), pid, "carer_assessment", org});
      return absl::OkStatus();
    }
    case K::kDeath: {
      RETURN_IF_ERROR(RecordStore::FlushDeferred(tx, org, out));  // it reads what they write
      const std::string& dod = e.death().date_of_death();
      if (dod < person.date_of_birth()) {
        return InvalidField(f + ".death.date_of_death", "before the date of birth");
      }
      if (!person.date_of_death().empty() && person.date_of_death() != dod) {
        return absl::FailedPreconditionError(
            f + ".death.date_of_death: a different date of death is already recorded");
      }
      auto latest = tx.exec_prepared(kLatestEventDate.name, pid);
      if (!latest[0][0].is_null() && dod < std::string(latest[0][0].c_str())) {
        return InvalidField(f + ".death.date_of_death", "before activity already recorded");
      }
      tx.exec_prepared(kDeath.name, pid, dod);
      out.changes.push_back({"person", pid, pid, "died", org});
      return absl::OkStatus();
    }
    case K::KIND_NOT_SET:
      break;
  }
  return InvalidField(f, "event has no kind");
}

}  // namespace

const std::vector<Statement>& RecordStore::Statements() {
  static const std::vector<Statement> kStatements = {
      kPersonByNhs,        kPeopleByNhs,       kWritePending,     kUpsertPerson,
      kIdentifierOwner,    kEventHashes,       kReferralOpen,     kReferralGet,
      kReferralCloseMany,  kSpellOpen,         kSpellGet,         kSpellDischargeMany,
      kDetentionStart,     kDetentionGet,      kDetentionEndMany, kContactInsert,
      kKeyWorkerAssign,    kKeyWorkerGet,      kKeyWorkerEndMany, kStatusInsert,
      kCareActUpsert,      kCarerUpsert,       kDeath,            kLatestEventDate,
      kFindByName,         kFindByPostcode,    kFindByIdentifier, kRecordLookups,
      kIntegratedRecord,   kRecordBodyFill,    kAuditTrail};
  return kStatements;
}

std::optional<icr::v1::Person> RecordStore::FindByNhsNumber(pqxx::transaction_base& tx,
                                                            const std::string& nhs_number) {
  auto r = tx.exec_prepared(kPersonByNhs.name, nhs_number);
  if (r.empty()) return std::nullopt;
  return PersonFromRow(r[0]);
}

std::vector<PersonFacts> RecordStore::FindByNhsNumbers(pqxx::transaction_base& tx,
                                                       const std::vector<std::string>& nhs_numbers,
                                                       const std::string& org_code) {
  std::vector<PersonFacts> people;
  if (nhs_numbers.empty()) return people;
  for (const auto& r : tx.exec_prepared(kPeopleByNhs.name, PgTextArray(nhs_numbers), org_code)) {
    people.push_back({PersonFromRow(r), Access::ReadFacts(r, 15)});
  }
  return people;
}

absl::StatusOr<UpsertResult> RecordStore::UpsertPerson(pqxx::transaction_base& tx,
                                                       const icr::v1::Person& p,
                                                       int64_t expected_version,
                                                       const std::string& org_code,
                                                       std::vector<NewChange>& changes) {
  std::vector<std::string> systems, values;
  for (const auto& id : p.local_identifiers()) {
    systems.push_back(id.system());
    values.push_back(id.value());
  }
  auto r = tx.exec_prepared1(kUpsertPerson.name, p.nhs_number(), p.family_name(), p.given_name(),
                             p.date_of_birth(), p.sex(), p.ethnic_category(), p.postcode(),
                             p.gp_practice_code(), p.council_code(), p.icb_code(),
                             expected_version, PgTextArray(systems), PgTextArray(values));
  // Not written: either the version read is stale, or the demographics are exactly as stored.
  if (r[0].is_null() ||
      (!r[4].as<bool>() && expected_version != 0 && r[1].as<int64_t>() != expected_version)) {
    return absl::AbortedError("expected_version: the person has changed since it was read");
  }
  const std::string person_id = r[0].c_str();
  const auto added = r[5].as<int>();
  if (added < p.local_identifiers_size()) {  // some were recorded before: for this person?
    for (int i = 0; i < p.local_identifiers_size(); ++i) {
      const auto& id = p.local_identifiers(i);
      auto owner = tx.exec_prepared1(kIdentifierOwner.name, id.system(), id.value());
      if (owner[0].c_str() != person_id) {
        return absl::AlreadyExistsError("person.local_identifiers[" + std::to_string(i) +
                                        "]: already identifies another person");
      }
    }
  }
  UpsertResult result{p, r[4].as<bool>() || added > 0, r[3].as<bool>()};
  // As stored: the demographics are those sent (written, or equal), the rest is the row's.
  result.person.set_person_id(person_id);
  result.person.set_version(r[1].as<int64_t>());
  result.person.set_date_of_death(r[2].c_str());
  result.person.clear_local_identifiers();
  const auto stored_systems = TextArray(r[6]), stored_values = TextArray(r[7]);
  for (size_t i = 0; i < stored_systems.size() && i < stored_values.size(); ++i) {
    auto* id = result.person.add_local_identifiers();
    id->set_system(stored_systems[i]);
    id->set_value(stored_values[i]);
  }
  if (result.changed) {
    changes.push_back({"person", person_id, person_id, r[3].as<bool>() ? "created" : "updated",
                       org_code});
  }
  return result;
}

KnownEvents RecordStore::KnownEventHashes(pqxx::transaction_base& tx, const std::string& org,
                                          const std::vector<std::string>& event_ids) {
  KnownEvents known;
  if (event_ids.empty()) return known;
  for (const auto& r : tx.exec_prepared(kEventHashes.name, org, PgTextArray(event_ids))) {
    known[r[0].c_str()] = pqxx::binarystring(r[1]).str();
  }
  return known;
}

absl::StatusOr<EventResult> RecordStore::StoreEvent(pqxx::transaction_base& tx,
                                                    const icr::v1::Event& e,
                                                    const icr::v1::Person& person,
                                                    const std::string& org, const std::string& f,
                                                    const KnownEvents& known, PendingWrites& out) {
  std::string json = CanonicalJson(e);
  std::string hash = Sha256(json);
  if (auto existing = known.find(e.event_id()); existing != known.end()) {
    if (existing->second == hash) return EventResult::kDuplicate;
    return absl::AlreadyExistsError(f + ".event_id: already used with different content");
  }
  if (!person.date_of_death().empty()) {
    auto when = EventDate(e);
    if (when && FormatDate(*when) > person.date_of_death()) {
      return InvalidField(f, "dated after the person's death");
    }
  }
  RETURN_IF_ERROR(ApplyEvent(tx, e, person, org, f, out));
  out.events.push_back(
      {e.event_id(), person.person_id(), EventKind(e), std::move(hash), std::move(json)});
  return EventResult::kStored;
}

absl::Status RecordStore::FlushDeferred(pqxx::transaction_base& tx, const std::string& org,
                                        PendingWrites& pending) {
  auto deferred = std::move(pending.deferred);
  pending.deferred.clear();
  for (size_t kind = 0; kind < deferred.size(); ++kind) {
    const auto& rows = deferred[kind];
    if (rows.keys.empty()) continue;
    std::vector<std::string> params{org};
    for (const auto& column : rows.columns) params.push_back(PgTextArray(column));
    auto written = tx.exec_prepared(kDeferred[kind].statement->name,
                                    pqxx::prepare::make_dynamic_params(params));
    if (written.size() == rows.keys.size()) continue;
    std::set<std::string> keys;
    for (const auto& r : written) keys.insert(r[0].c_str());
    for (size_t i = 0; i < rows.keys.size(); ++i) {
      if (keys.count(rows.keys[i])) continue;
      if (const Closing* closing = kDeferred[kind].closing) {
        return CloseRefusal(tx, org, *closing, rows, i);
      }
      return absl::AlreadyExistsError(rows.errors[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status RecordStore::WritePending(pqxx::transaction_base& tx, const std::string& org,
                                       const PendingWrites& pending,
                                       const std::vector<std::string>& person_ids,
                                       const std::vector<std::string>& registered) {
  std::vector<std::string> ids, people, kinds, hashes, payloads;
  for (const auto& e : pending.events) {
    ids.push_back(e.event_id);
    people.push_back(e.person_id);
    kinds.push_back(e.kind);
    hashes.push_back(Hex(e.hash));
    payloads.push_back(e.json);
  }
  std::vector<std::string> entities, entity_ids, change_people, types, orgs;
  for (const auto& c : pending.changes) {
    entities.push_back(c.entity);
    entity_ids.push_back(c.entity_id);
    change_people.push_back(c.person_id);
    types.push_back(c.change_type);
    orgs.push_back(c.org_code);
  }
  auto r = tx.exec_prepared1(
      kWritePending.name, org, PgTextArray(ids), PgTextArray(people), PgTextArray(kinds),
      PgTextArray(hashes), PgTextArray(payloads), PgTextArray(entities), PgTextArray(entity_ids),
      PgTextArray(change_people), PgTextArray(types), PgTextArray(orgs), PgTextArray(person_ids),
      PgTextArray(registered));
  if (r[0].as<size_t>() != pending.events.size()) {
    // Another call stored one of these events after this one looked: sending again finds them
    // stored (DUPLICATE) or refuses them (ALREADY_EXISTS).
    return absl::AbortedError(
        "event_id: an event of this call was stored by a concurrent call; send again");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<icr::v1::Person>> RecordStore::FindPeople(
    pqxx::transaction_base& tx, const icr::v1::FindPeopleRequest& req,
    const std::string& visible_to_org, int limit) {
  std::string after = req.page().page_token().empty() ? kNoUuid : req.page().page_token();
  const char* org = visible_to_org.empty() ? nullptr : visible_to_org.c_str();
  pqxx::result r;
  using Q = icr::v1::FindPeopleRequest::QueryCase;
  switch (req.query_case()) {
    case Q::kNameAndBirth:
      r = tx.exec_prepared(kFindByName.name, req.name_and_birth().family_name(),
                           req.name_and_birth().date_of_birth(), after, org, limit);
      break;
    case Q::kPostcode:
      r = tx.exec_prepared(kFindByPostcode.name, req.postcode(), after, org, limit);
      break;
    case Q::kLocalIdentifier:
      r = tx.exec_prepared(kFindByIdentifier.name, req.local_identifier().system(),
                           req.local_identifier().value(), after, org, limit);
      break;
    case Q::QUERY_NOT_SET:
      return InvalidField("query",
                          "one of name_and_birth, postcode or local_identifier is required");
  }
  std::vector<icr::v1::Person> people;
  for (const auto& row : r) {
    people.push_back(PersonFromRow(row));
  }
  return people;
}

std::vector<std::optional<RecordStore::RecordLookup>> RecordStore::LookupRecords(
    pqxx::transaction_base& tx, const std::vector<const RecordLookupRequest*>& requests) {
  std::vector<std::string> nhs, orgs, roles, purposes, request_ids, reasons, versions, visible;
  for (const RecordLookupRequest* r : requests) {
    nhs.push_back(r->nhs_number);
    orgs.push_back(r->caller->org_code);
    roles.push_back(RoleName(r->caller->role));
    purposes.push_back(r->caller->purpose_of_use);
    request_ids.push_back(r->caller->request_id);
    reasons.push_back(r->caller->break_glass_reason);
    versions.push_back(r->seen_version);
    visible.push_back(!r->seen_visible ? "" : *r->seen_visible ? "t" : "f");
  }
  auto rows = tx.exec_prepared(kRecordLookups.name, PgTextArray(nhs), PgTextArray(orgs),
                               PgTextArray(roles), PgTextArray(purposes),
                               PgTextArray(request_ids), PgTextArray(reasons),
                               PgTextArray(versions), PgTextArray(visible));
  std::vector<std::optional<RecordLookup>> out(requests.size());
  for (const auto& row : rows) {
    RecordLookup found{row[1].c_str(), row[2].as<bool>(), row[3].as<bool>(), row[4].c_str(),
                       std::nullopt};
    if (!row[5].is_null()) found.body = pqxx::binarystring(row[5]).str();
    out.at(row[0].as<size_t>() - 1) = std::move(found);
  }
  return out;
}

absl::StatusOr<RecordStore::BuiltRecord> RecordStore::BuildIntegratedRecord(
    pqxx::transaction_base& tx, const std::string& person_id) {
  auto row = tx.exec_prepared1(kIntegratedRecord.name, person_id);
  icr::v1::IntegratedRecord record;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(row[0].c_str(), &record, options);
  if (!parsed.ok()) return absl::InternalError("integrated record: " + parsed.ToString());
  BuiltRecord built{record.SerializeAsString(), row[1].c_str()};
  tx.exec_prepared(kRecordBodyFill.name, person_id, built.version,
                   pqxx::binarystring(built.body));
  return built;
}

std::vector<std::pair<int64_t, icr::v1::AuditEntry>> RecordStore::AuditTrail(
    pqxx::transaction_base& tx, const std::string& person_id, int64_t before_pk, int limit) {
  std::vector<std::pair<int64_t, icr::v1::AuditEntry>> out;
  for (const auto& r : tx.exec_prepared(kAuditTrail.name, person_id, before_pk, limit)) {
    icr::v1::AuditEntry e;
    *e.mutable_at() = TimeUtil::MicrosecondsToTimestamp(r[1].as<int64_t>());
    e.set_organisation_code(r[2].c_str());
    e.set_role(r[3].c_str());
    e.set_action(r[4].c_str());
    e.set_purpose_of_use(r[5].c_str());
    e.set_request_id(r[6].c_str());
    e.set_outcome(r[7].c_str());
    e.set_break_glass_reason(r[8].c_str());
    out.emplace_back(r[0].as<int64_t>(), std::move(e));
  }
  return out;
}

}  // namespace icr::record
