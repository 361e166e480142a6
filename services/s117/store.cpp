#include "services/s117/store.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "services/common/status.h"

// Dates travel as ISO text in JSON, and an absent date as null.
namespace nlohmann {
template <>
struct adl_serializer<std::optional<icr::Date>> {
  static void to_json(json& j, const std::optional<icr::Date>& d) {
    if (d) {
      j = icr::FormatDate(*d);
    } else {
      j = nullptr;
    }
  }
  static void from_json(const json& j, std::optional<icr::Date>& d) {
    d = j.is_string() ? icr::ParseDate(j.get<std::string>()) : std::nullopt;
  }
};
}  // namespace nlohmann

namespace icr::s117 {

void to_json(nlohmann::json& j, State s) { j = StateName(s); }
void from_json(const nlohmann::json& j, State& s) {
  s = ParseState(j.get<std::string>()).value_or(State::kVoid);
}

// The JSON keys are the columns of s117.episode.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Episode, episode_id, person_id, state, predecessor_episode_id, qualifying_section,
    legal_status_code, detention_source_org, detention_id, detention_start_date,
    detaining_provider_code, case_decision_by, case_decision_role, case_decision_rationale,
    case_decision_date, s17_trigger_by, s17_trigger_role, s17_trigger_rationale, s17_trigger_date,
    ceased_detained_date, left_hospital_date, effective_from, cto_start_date, cto_end_date,
    conditional_discharge_date, absolute_discharge_date, responsible_council_code, council_basis,
    council_provisional, ordinary_residence_evidence, or_dispute_status, responsible_icb_code,
    icb_basis, gp_practice_at_application, responsibility_rule_version, in_hospital,
    legal_determination_required, pending_detention_source_org, pending_detention_id,
    pending_detention_start_date, pending_legal_status_code, last_review_date, next_review_due,
    ended_on, notification_sent_date, void_reason, version)

namespace {

// Every stored column of s117.episode but its key, generated columns and timestamps; the
// values come from the episode as JSON, spread over a row by jsonb_populate_record.
#define EPISODE_COLUMNS                                                                           \
  "person_id, state, predecessor_episode_id, qualifying_section, legal_status_code, "             \
  "detention_source_org, detention_id, detention_start_date, detaining_provider_code, "           \
  "case_decision_by, case_decision_role, case_decision_rationale, case_decision_date, "           \
  "s17_trigger_by, s17_trigger_role, s17_trigger_rationale, s17_trigger_date, "                   \
  "ceased_detained_date, left_hospital_date, effective_from, cto_start_date, cto_end_date, "      \
  "conditional_discharge_date, absolute_discharge_date, responsible_council_code, "               \
  "council_basis, council_provisional, ordinary_residence_evidence, or_dispute_status, "          \
  "responsible_icb_code, icb_basis, gp_practice_at_application, responsibility_rule_version, "    \
  "in_hospital, legal_determination_required, pending_detention_source_org, "                     \
  "pending_detention_id, pending_detention_start_date, pending_legal_status_code, "               \
  "last_review_date, next_review_due, ended_on, notification_sent_date, void_reason, version"

const Statement kPolicy{"s117_policy", "SELECT key, value FROM s117.policy"};
const Statement kEndReasons{"s117_end_reasons",
                            "SELECT code, allowed_as_primary FROM s117.end_reason"};
const Statement kSections{"s117_sections",
                          "SELECT legal_status_code, section FROM s117.qualifying_section"};
const Statement kServiceTypes{"s117_service_types",
                              "SELECT code, is_accommodation FROM s117.service_type"};
const Statement kAgreement{
    "s117_agreement",
    "SELECT council_pct::float8, icb_pct::float8, coalesce(review_interval_months, 0) "
    "FROM s117.funding_agreement WHERE council_code = $1 AND icb_code = $2 "
    "AND valid_from <= $3::date AND (valid_to IS NULL OR valid_to >= $3::date) "
    "ORDER BY valid_from DESC LIMIT 1"};

const Statement kEpisodeLoad{
    "s117_episode_load",
    "SELECT to_jsonb(e)::text FROM s117.episode e WHERE e.episode_id = $1::uuid FOR UPDATE"};
const Statement kEpisodeOpen{
    "s117_episode_open",
    "SELECT to_jsonb(e)::text FROM s117.episode e "
    "WHERE e.person_id = $1::uuid AND e.state IN ('PLANNED', 'ACTIVE') FOR UPDATE"};
const Statement kEpisodeCurrent{
    "s117_episode_current",
    "SELECT episode_id::text FROM s117.episode WHERE person_id = $1::uuid AND state <> 'VOID' "
    "ORDER BY state IN ('PLANNED', 'ACTIVE') DESC, created_at DESC, episode_id LIMIT 1"};
const Statement kEpisodeInsert{
    "s117_episode_insert",
    "INSERT INTO s117.episode (" EPISODE_COLUMNS ") SELECT " EPISODE_COLUMNS
    " FROM jsonb_populate_record(NULL::s117.episode, $1::jsonb) RETURNING episode_id::text"};
const Statement kEpisodeUpdate{
    "s117_episode_update",
    "UPDATE s117.episode e SET (" EPISODE_COLUMNS ") = (SELECT " EPISODE_COLUMNS
    " FROM jsonb_populate_record(NULL::s117.episode, $1::jsonb)), updated_at = now() "
    "WHERE e.episode_id = $2::uuid AND e.version = $3 RETURNING e.version"};
// The whole episode after the change, as the history keeps it.
const Statement kHistoryInsert{
    "s117_history_insert",
    "INSERT INTO s117.episode_history (episode_id, version, actor_org, actor_role, action, "
    "reason, snapshot) SELECT e.episode_id, e.version, $2, $3, $4, $5, to_jsonb(e) "
    "FROM s117.episode e WHERE e.episode_id = $1::uuid"};

const Statement kDetentionHandled{
    "s117_detention_handled",
    "SELECT 1 FROM s117.episode_detention WHERE source_org = $1 AND detention_id = $2"};
const Statement kLinkDetention{
    "s117_link_detention",
    "INSERT INTO s117.episode_detention (source_org, detention_id, episode_id, role, "
    "legal_status_code, started_on) VALUES ($1, $2, $3::uuid, $4, $5, $6::date) "
    "ON CONFLICT DO NOTHING"};

// Dates of the record's instants are taken in England's civil time.
const Statement kDetention{
    "s117_detention",
    "SELECT person_id::text, legal_status_code, "
    "(started_at AT TIME ZONE 'Europe/London')::date::text, provider_code, "
    "coalesce((ended_at AT TIME ZONE 'Europe/London')::date::text, '') "
    "FROM core.detention WHERE source_org = $1 AND detention_id = $2"};
const Statement kPerson{
    "s117_person",
    "SELECT coalesce(council_code, ''), coalesce(icb_code, ''), coalesce(date_of_death::text, '') "
    "FROM core.person WHERE person_id = $1::uuid"};
const Statement kPresence{
    "s117_presence",
    "SELECT EXISTS (SELECT 1 FROM core.hospital_spell WHERE person_id = $1::uuid "
    "               AND discharged_at IS NULL) "
    "    OR EXISTS (SELECT 1 FROM core.detention WHERE person_id = $1::uuid AND ended_at IS NULL), "
    "  coalesce((SELECT min((discharged_at AT TIME ZONE 'Europe/London')::date) "
    "   FROM core.hospital_spell WHERE person_id = $1::uuid "
    "   AND (discharged_at AT TIME ZONE 'Europe/London')::date >= $2::date)::text, '')"};

const Statement kServiceInsert{
    "s117_service_insert",
    "INSERT INTO s117.service_line (episode_id, service_type, description, provider_name, "
    "provider_code, need_ref, need_arises_from_mental_disorder, is_s117, start_date, funder, "
    "council_pct, icb_pct, split_override_reason, weekly_cost_pence, client_contribution_pence, "
    "delivery_mode, top_up_payer, top_up_weekly_pence, recorded_by_org) VALUES ($1::uuid, $2, $3, "
    "$4, nullif($5, ''), $6, $7, $8, $9::date, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"};
const Statement kServiceGet{
    "s117_service_get",
    "SELECT start_date::text, end_date IS NOT NULL FROM s117.service_line "
    "WHERE episode_id = $1::uuid AND service_line_id = $2::uuid FOR UPDATE"};
const Statement kServiceEnd{
    "s117_service_end",
    "UPDATE s117.service_line SET end_date = $3::date, end_reason = $4, "
    "moved_to_legal_basis = nullif($5, '') WHERE episode_id = $1::uuid AND service_line_id = $2::uuid"};
const Statement kServiceEndOpen{
    "s117_service_end_open",
    "UPDATE s117.service_line SET end_date = greatest(start_date, $2::date), end_reason = $3 "
    "WHERE episode_id = $1::uuid AND (end_date IS NULL OR end_date > $2::date)"};
const Statement kServiceFacts{
    "s117_service_facts",
    "SELECT service_line_id::text, is_s117, coalesce(end_date::text, ''), "
    "coalesce(moved_to_legal_basis, '') FROM s117.service_line WHERE episode_id = $1::uuid"};

const Statement kReviewInsert{
    "s117_review_insert",
    "INSERT INTO s117.review (episode_id, review_date, council_rep_name, council_rep_role, "
    "council_rep_org, health_rep_name, health_rep_role, health_rep_org, person_involvement, "
    "others_present, outcome, summary, next_review_due, recorded_by_org) VALUES ($1::uuid, "
    "$2::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::date, $14)"};
const Statement kReviewFacts{
    "s117_review_facts",
    "SELECT review_date::text, outcome FROM s117.review WHERE episode_id = $1::uuid"};

const Statement kDecisionInsert{
    "s117_decision_insert",
    "INSERT INTO s117.end_decision (episode_id, body, body_code, decider_name, decider_role, "
    "decision_date, primary_reason, other_reasons, reason_text, person_involvement, consulted, "
    "other_care_after_discharge, recorded_by_org) VALUES ($1::uuid, $2, $3, $4, $5, $6::date, "
    "$7, ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9, $10, $11, $12, $13)"};
const Statement kDecisionFacts{
    "s117_decision_facts",
    "SELECT body, decision_date::text FROM s117.end_decision "
    "WHERE episode_id = $1::uuid AND rescinded_at IS NULL"};
const Statement kDecisionRescind{
    "s117_decision_rescind",
    "UPDATE s117.end_decision SET rescinded_at = now() "
    "WHERE episode_id = $1::uuid AND rescinded_at IS NULL"};

// Raised once per person and source: a change delivered again, even after the episode it was
// raised on has been superseded, raises nothing.
const Statement kTaskRaise{
    "s117_task_raise",
    "INSERT INTO s117.task (episode_id, kind, source_ref, detail) "
    "SELECT $1::uuid, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM s117.task t "
    "  JOIN s117.episode e ON e.episode_id = t.episode_id "
    "  WHERE e.person_id = (SELECT person_id FROM s117.episode WHERE episode_id = $1::uuid) "
    "    AND t.kind = $2 AND t.source_ref = $3) "
    "ON CONFLICT DO NOTHING RETURNING 1"};
const Statement kTaskClose{
    "s117_task_close",
    "UPDATE s117.task SET status = 'CLOSED', closed_at = now(), closed_note = $3 "
    "WHERE episode_id = $1::uuid AND status = 'OPEN' AND ($2 = '' OR kind = $2) RETURNING 1"};

// The entitlement as the proto's JSON: the episode's columns carry the proto's field names;
// nested parts and lists are built here.
const Statement kEntitlement{
    "s117_entitlement",
    "SELECT (to_jsonb(e) || jsonb_build_object("
    " 'entitlement_id', e.episode_id, 'nhs_number', p.nhs_number,"
    " 'successor_episode_id', (SELECT s.episode_id FROM s117.episode s"
    "   WHERE s.predecessor_episode_id = e.episode_id AND s.state <> 'VOID'"
    "   ORDER BY s.created_at DESC LIMIT 1),"
    " 'case_decision', CASE WHEN e.case_decision_date IS NOT NULL THEN jsonb_build_object("
    "   'by', e.case_decision_by, 'role', e.case_decision_role, 'date', e.case_decision_date,"
    "   'rationale', e.case_decision_rationale) END,"
    " 's17_trigger', CASE WHEN e.s17_trigger_date IS NOT NULL THEN jsonb_build_object("
    "   'by', e.s17_trigger_by, 'role', e.s17_trigger_role, 'date', e.s17_trigger_date,"
    "   'rationale', e.s17_trigger_rationale) END,"
    " 'council', jsonb_build_object('code', e.responsible_council_code, 'basis', e.council_basis,"
    "   'evidence', e.ordinary_residence_evidence, 'provisional', e.council_provisional),"
    " 'icb', jsonb_build_object('code', e.responsible_icb_code, 'basis', e.icb_basis,"
    "   'gp_practice_at_application', e.gp_practice_at_application),"
    " 'services', (SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.start_date, l.recorded_at),"
    "   '[]') FROM s117.service_line l WHERE l.episode_id = e.episode_id),"
    " 'reviews', (SELECT coalesce(jsonb_agg(to_jsonb(v) || jsonb_build_object("
    "   'council_rep', jsonb_build_object('name', v.council_rep_name, 'role', v.council_rep_role,"
    "     'organisation_code', v.council_rep_org),"
    "   'health_rep', jsonb_build_object('name', v.health_rep_name, 'role', v.health_rep_role,"
    "     'organisation_code', v.health_rep_org)) ORDER BY v.review_date DESC, v.recorded_at DESC),"
    "   '[]') FROM s117.review v WHERE v.episode_id = e.episode_id),"
    " 'end_decisions', (SELECT coalesce(jsonb_agg(to_jsonb(d) || jsonb_build_object('decider',"
    "   jsonb_build_object('name', d.decider_name, 'role', d.decider_role,"
    "     'organisation_code', d.body_code)) ORDER BY d.recorded_at), '[]')"
    "   FROM s117.end_decision d WHERE d.episode_id = e.episode_id AND d.rescinded_at IS NULL),"
    " 'tasks', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.created_at), '[]')"
    "   FROM s117.task t WHERE t.episode_id = e.episode_id),"
    " 'detentions', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.started_on, x.recorded_at),"
    "   '[]') FROM s117.episode_detention x WHERE x.episode_id = e.episode_id),"
    " 'history', CASE WHEN $2 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object("
    "   'version', h.version, 'at', h.at, 'actor_org', h.actor_org, 'actor_role', h.actor_role,"
    "   'action', h.action, 'reason', h.reason, 'snapshot_json', h.snapshot::text)"
    "   ORDER BY h.version), '[]') FROM s117.episode_history h"
    "   WHERE h.episode_id = e.episode_id) ELSE '[]'::jsonb END))::text "
    "FROM s117.episode e JOIN core.person p USING (person_id) WHERE e.episode_id = $1::uuid"};

// A sum of stored pence (never negative) as a bigint, summed as numeric and held at bigint's
// largest value: amounts stored before they were bounded (kMaxWeeklyPence) never fail a listing.
#define PENCE_SUM(x) "least(coalesce(round(sum(" x ")), 0), 9223372036854775807)::bigint"

// One page of the register. $2/$3: whose rows the caller sees (Visibility); $4..$10 filters;
// $7: the date "overdue" is judged on. Open s117 lines are costed per funder share.
const Statement kRegister{
    "s117_register",
    "SELECT e.person_id::text, jsonb_build_object("
    " 'entitlement_id', e.episode_id, 'nhs_number', p.nhs_number, 'family_name', p.family_name,"
    " 'given_name', p.given_name, 'date_of_birth', p.date_of_birth, 'state', e.state,"
    " 'responsible_council_code', e.responsible_council_code, 'council_basis', e.council_basis,"
    " 'council_provisional', e.council_provisional, 'responsible_icb_code', e.responsible_icb_code,"
    " 'icb_basis', e.icb_basis, 'or_dispute_status', e.or_dispute_status,"
    " 'qualifying_section', e.qualifying_section, 'effective_from', e.effective_from,"
    " 'ended_on', e.ended_on, 'last_review_date', e.last_review_date,"
    " 'next_review_due', e.next_review_due,"
    " 'review_overdue', coalesce(e.state = 'ACTIVE' AND e.next_review_due + $11::int < $7::date, false),"
    " 'on_cto', e.on_cto, 'conditionally_discharged', e.conditionally_discharged,"
    " 'in_hospital', e.in_hospital, 'legal_determination_required', e.legal_determination_required,"
    " 'open_services', s.n, 'weekly_cost_pence', s.cost, 'council_weekly_pence', s.council,"
    " 'icb_weekly_pence', s.icb, 'open_tasks', (SELECT count(*) FROM s117.task t"
    "   WHERE t.episode_id = e.episode_id AND t.status = 'OPEN'), 'version', e.version)::text "
    "FROM s117.episode e JOIN core.person p USING (person_id) "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, " PENCE_SUM("l.weekly_cost_pence") " AS cost, "
    PENCE_SUM("l.weekly_cost_pence * l.council_pct / 100") " AS council, "
    PENCE_SUM("l.weekly_cost_pence * l.icb_pct / 100") " AS icb"
    "  FROM s117.service_line l WHERE l.episode_id = e.episode_id AND l.is_s117"
    "  AND (l.end_date IS NULL OR l.end_date > $7::date)) s "
    "WHERE e.episode_id > $1::uuid "
    "  AND CASE $2 WHEN 'council' THEN e.responsible_council_code = $3"
    "              WHEN 'icb' THEN e.responsible_icb_code = $3"
    "              ELSE core.can_see(e.person_id, $3) END "
    "  AND ($4::text IS NULL OR e.responsible_council_code = $4) "
    "  AND ($5::text IS NULL OR e.responsible_icb_code = $5) "
    "  AND CASE WHEN $6::text IS NULL THEN e.state <> 'VOID' ELSE e.state = $6 END "
    "  AND (NOT $8::bool OR (e.state = 'ACTIVE' AND e.next_review_due + $11::int < $7::date)) "
    "  AND (NOT $9::bool OR (e.state = 'ACTIVE'"
    "       AND NOT EXISTS (SELECT 1 FROM core.referral r"
    "                        WHERE r.person_id = e.person_id AND r.closed_date IS NULL)"
    "       AND NOT EXISTS (SELECT 1 FROM s117.review v WHERE v.episode_id = e.episode_id"
    "                        AND v.review_date > current_date - make_interval(months => $12::int)))) "
    "  AND (NOT $10::bool OR e.legal_determination_required) "
    "ORDER BY e.episode_id LIMIT $13"};
#undef PENCE_SUM

const Statement kCursorLock{
    "s117_cursor_lock",
    "SELECT txid::text, seq FROM s117.feed_cursor WHERE consumer = 's117' FOR UPDATE"};
const Statement kCursorSave{
    "s117_cursor_save",
    "UPDATE s117.feed_cursor SET txid = $1::xid8, seq = $2, lag_ms = $3, updated_at = now() "
    "WHERE consumer = 's117'"};
const Statement kFeedError{
    "s117_feed_error",
    "INSERT INTO s117.feed_error (txid, seq, change_type, entity_id, person_id, error) "
    "VALUES ($1::xid8, $2, $3, $4, nullif($5, '')::uuid, $6) ON CONFLICT DO NOTHING"};

constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

std::optional<std::string> Text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::optional<Episode> EpisodeFromJson(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(r[0][0].c_str());
  for (auto it = j.begin(); it != j.end();) {
    it = it->is_null() ? j.erase(it) : std::next(it);
  }
  return j.get<Episode>();
}

std::string EpisodeJson(const Episode& e) {
  nlohmann::json j = e;
  for (auto& value : j) {
    if (value.is_string() && value.get<std::string>().empty()) value = nullptr;
  }
  return j.dump();
}

absl::Status ParseJson(const std::string& json, google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, out, options).ok()) {
    return absl::InternalError("cannot read the register row");
  }
  return absl::OkStatus();
}

void WriteHistory(pqxx::transaction_base& tx, const Episode& e, const Actor& actor,
                  const std::string& action, const std::string& reason) {
  tx.exec_prepared(kHistoryInsert.name, e.episode_id, actor.org_code, actor.role, action, reason);
  Changes::Append(tx, "s117_episode", e.episode_id, e.person_id, action, actor.org_code);
}

}  // namespace

const std::vector<Statement>& S117Store::Statements() {
  static const std::vector<Statement> kStatements = {
      kPolicy, kEndReasons, kSections, kServiceTypes, kAgreement, kEpisodeLoad, kEpisodeOpen,
      kEpisodeCurrent, kEpisodeInsert, kEpisodeUpdate, kHistoryInsert, kDetentionHandled,
      kLinkDetention, kDetention, kPerson, kPresence, kServiceInsert, kServiceGet, kServiceEnd,
      kServiceEndOpen, kServiceFacts, kReviewInsert, kReviewFacts, kDecisionInsert,
      kDecisionFacts, kDecisionRescind, kTaskRaise, kTaskClose, kEntitlement, kRegister,
      kCursorLock, kCursorSave, kFeedError};
  return kStatements;
}

absl::StatusOr<Policy> S117Store::LoadPolicy(pqxx::transaction_base& tx) {
  Policy p;
  for (const auto& r : tx.exec_prepared(kPolicy.name)) {
    RETURN_IF_ERROR(ApplyPolicySetting(p, r[0].c_str(), r[1].c_str()));
  }
  for (const auto& r : tx.exec_prepared(kEndReasons.name)) p.end_reasons[r[0].c_str()] = r[1].as<bool>();
  for (const auto& r : tx.exec_prepared(kSections.name)) p.sections[r[0].c_str()] = r[1].c_str();
  for (const auto& r : tx.exec_prepared(kServiceTypes.name)) {
    p.service_types[r[0].c_str()] = r[1].as<bool>();
  }
  return p;
}

std::optional<Split> S117Store::DefaultSplit(pqxx::transaction_base& tx, const Episode& e,
                                             Date date) {
  auto r = tx.exec_prepared(kAgreement.name, e.responsible_council_code, e.responsible_icb_code,
                            FormatDate(date));
  if (r.empty()) return std::nullopt;
  return Split{r[0][0].as<double>(), r[0][1].as<double>()};
}

int S117Store::ReviewIntervalMonths(pqxx::transaction_base& tx, const Episode& e,
                                    const Policy& policy) {
  auto r = tx.exec_prepared(kAgreement.name, e.responsible_council_code, e.responsible_icb_code,
                            FormatDate(Today()));
  const int agreed = r.empty() ? 0 : r[0][2].as<int>();
  return agreed > 0 ? std::min(agreed, policy.review_interval_months) : policy.review_interval_months;
}

std::optional<Episode> S117Store::LoadEpisode(pqxx::transaction_base& tx, const std::string& id) {
  return EpisodeFromJson(tx.exec_prepared(kEpisodeLoad.name, id));
}

std::optional<Episode> S117Store::OpenEpisode(pqxx::transaction_base& tx,
                                              const std::string& person_id) {
  return EpisodeFromJson(tx.exec_prepared(kEpisodeOpen.name, person_id));
}

std::optional<std::string> S117Store::CurrentEpisodeId(pqxx::transaction_base& tx,
                                                       const std::string& person_id) {
  auto r = tx.exec_prepared(kEpisodeCurrent.name, person_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

void S117Store::InsertEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                              const std::string& action, const std::string& reason) {
  e.version = 1;
  e.episode_id = tx.exec_prepared1(kEpisodeInsert.name, EpisodeJson(e))[0].c_str();
  WriteHistory(tx, e, actor, action, reason);
}

absl::Status S117Store::SaveEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                                    const std::string& action, const std::string& reason) {
  const int64_t read = e.version;
  e.version = read + 1;
  auto r = tx.exec_prepared(kEpisodeUpdate.name, EpisodeJson(e), e.episode_id, read);
  if (r.empty()) {
    e.version = read;
    return absl::AbortedError("expected_version: the entitlement has changed since it was read");
  }
  WriteHistory(tx, e, actor, action, reason);
  return absl::OkStatus();
}

bool S117Store::DetentionHandled(pqxx::transaction_base& tx, const std::string& source_org,
                                 const std::string& detention_id) {
  return !tx.exec_prepared(kDetentionHandled.name, source_org, detention_id).empty();
}

void S117Store::LinkDetention(pqxx::transaction_base& tx, const DetentionFacts& d,
                              const std::string& episode_id, const std::string& role) {
  tx.exec_prepared(kLinkDetention.name, d.source_org, d.detention_id, episode_id, role,
                   d.legal_status_code, FormatDate(d.start));
}

std::optional<DetentionRecord> S117Store::Detention(pqxx::transaction_base& tx,
                                                    const std::string& source_org,
                                                    const std::string& detention_id) {
  auto r = tx.exec_prepared(kDetention.name, source_org, detention_id);
  if (r.empty()) return std::nullopt;
  DetentionRecord d;
  d.person_id = r[0][0].c_str();
  d.facts.source_org = source_org;
  d.facts.detention_id = detention_id;
  d.facts.legal_status_code = r[0][1].c_str();
  d.facts.start = *ParseDate(r[0][2].c_str());
  d.facts.provider_code = r[0][3].c_str();
  d.ended = ParseDate(r[0][4].c_str());
  return d;
}

std::optional<PersonFacts> S117Store::Person(pqxx::transaction_base& tx,
                                             const std::string& person_id,
                                             std::optional<Date>* date_of_death) {
  auto r = tx.exec_prepared(kPerson.name, person_id);
  if (r.empty()) return std::nullopt;
  if (date_of_death) *date_of_death = ParseDate(r[0][2].c_str());
  return PersonFacts{person_id, r[0][0].c_str(), r[0][1].c_str()};
}

Presence S117Store::HospitalPresence(pqxx::transaction_base& tx, const std::string& person_id,
                                     Date since) {
  auto r = tx.exec_prepared1(kPresence.name, person_id, FormatDate(since));
  return Presence{r[0].as<bool>(), ParseDate(r[1].c_str())};
}

void S117Store::InsertServiceLine(pqxx::transaction_base& tx, const std::string& episode_id,
                                  const icr::v1::AftercareService& l, const std::string& org) {
  tx.exec_prepared(kServiceInsert.name, episode_id, l.service_type(), l.description(),
                   l.provider_name(), l.provider_code(), l.need_ref(),
                   l.need_arises_from_mental_disorder(), l.is_s117(), l.start_date(), l.funder(),
                   l.council_pct(), l.icb_pct(), l.split_override_reason(), l.weekly_cost_pence(),
                   l.client_contribution_pence(), l.delivery_mode(), l.top_up_payer(),
                   l.top_up_weekly_pence(), org);
}

absl::Status S117Store::EndServiceLine(pqxx::transaction_base& tx, const std::string& episode_id,
                                       const icr::v1::EndAftercareServiceRequest& req) {
  auto r = tx.exec_prepared(kServiceGet.name, episode_id, req.service_line_id());
  if (r.empty()) {
    return absl::NotFoundError("service_line_id: no such service on this entitlement");
  }
  if (r[0][1].as<bool>()) return absl::FailedPreconditionError("service_line_id: already ended");
  if (req.end_date() < std::string(r[0][0].c_str())) {
    return InvalidField("end_date", "before the service started");
  }
  tx.exec_prepared(kServiceEnd.name, episode_id, req.service_line_id(), req.end_date(),
                   req.end_reason(), req.moved_to_legal_basis());
  return absl::OkStatus();
}

void S117Store::EndOpenServiceLines(pqxx::transaction_base& tx, const std::string& episode_id,
                                    Date date, const std::string& reason) {
  tx.exec_prepared(kServiceEndOpen.name, episode_id, FormatDate(date), reason);
}

std::vector<ServiceLineFacts> S117Store::ServiceLines(pqxx::transaction_base& tx,
                                                      const std::string& episode_id) {
  std::vector<ServiceLineFacts> out;
  for (const auto& r : tx.exec_prepared(kServiceFacts.name, episode_id)) {
    out.push_back({r[0].c_str(), r[1].as<bool>(), ParseDate(r[2].c_str()), r[3].c_str()});
  }
  return out;
}

void S117Store::InsertReview(pqxx::transaction_base& tx, const std::string& episode_id,
                             const icr::v1::S117Review& v, const std::string& org) {
  tx.exec_prepared(kReviewInsert.name, episode_id, v.review_date(), v.council_rep().name(),
                   v.council_rep().role(), v.council_rep().organisation_code(),
                   v.health_rep().name(), v.health_rep().role(),
                   v.health_rep().organisation_code(), v.person_involvement(), v.others_present(),
                   v.outcome(), v.summary(), v.next_review_due(), org);
}

std::vector<ReviewFacts> S117Store::Reviews(pqxx::transaction_base& tx,
                                            const std::string& episode_id) {
  std::vector<ReviewFacts> out;
  for (const auto& r : tx.exec_prepared(kReviewFacts.name, episode_id)) {
    out.push_back({*ParseDate(r[0].c_str()), r[1].c_str()});
  }
  return out;
}

void S117Store::InsertEndDecision(pqxx::transaction_base& tx, const std::string& episode_id,
                                  const icr::v1::S117EndDecision& d, const std::string& body_code,
                                  const std::string& org) {
  const nlohmann::json others(std::vector<std::string>(d.other_reasons().begin(),
                                                       d.other_reasons().end()));
  tx.exec_prepared(kDecisionInsert.name, episode_id, d.body(), body_code, d.decider().name(),
                   d.decider().role(), d.decision_date(), d.primary_reason(), others.dump(),
                   d.reason_text(), d.person_involvement(), d.consulted(),
                   d.other_care_after_discharge(), org);
}

std::vector<EndDecisionFacts> S117Store::EndDecisions(pqxx::transaction_base& tx,
                                                      const std::string& episode_id) {
  std::vector<EndDecisionFacts> out;
  for (const auto& r : tx.exec_prepared(kDecisionFacts.name, episode_id)) {
    out.push_back({r[0].c_str(), *ParseDate(r[1].c_str())});
  }
  return out;
}

void S117Store::RescindEndDecisions(pqxx::transaction_base& tx, const std::string& episode_id) {
  tx.exec_prepared(kDecisionRescind.name, episode_id);
}

bool S117Store::RaiseTask(pqxx::transaction_base& tx, const std::string& episode_id,
                          const std::string& kind, const std::string& source_ref,
                          const std::string& detail) {
  return !tx.exec_prepared(kTaskRaise.name, episode_id, kind, source_ref, detail).empty();
}

int S117Store::CloseTasks(pqxx::transaction_base& tx, const std::string& episode_id,
                          const std::string& kind, const std::string& note) {
  return static_cast<int>(tx.exec_prepared(kTaskClose.name, episode_id, kind, note).size());
}

absl::Status S117Store::LoadEntitlement(pqxx::transaction_base& tx, const std::string& episode_id,
                                        bool include_history, icr::v1::Entitlement* out) {
  auto r = tx.exec_prepared(kEntitlement.name, episode_id, include_history);
  if (r.empty()) return absl::NotFoundError("entitlement_id: no such entitlement");
  out->Clear();
  return ParseJson(r[0][0].c_str(), out);
}

absl::StatusOr<std::vector<std::pair<std::string, icr::v1::RegisterRow>>> S117Store::ListRegister(
    pqxx::transaction_base& tx, const icr::v1::RegisterFilter& f, const Visibility& visibility,
    const Policy& policy, const std::string& after_id, int limit) {
  const std::string as_of =
      f.review_overdue_as_of().empty() ? FormatDate(Today()) : f.review_overdue_as_of();
  auto r = tx.exec_prepared(kRegister.name, after_id.empty() ? kNoUuid : after_id,
                            visibility.mode, visibility.org_code, Text(f.council_code()),
                            Text(f.icb_code()), Text(f.state()), as_of,
                            !f.review_overdue_as_of().empty(), f.stale(),
                            f.legal_determination_required(),
                            policy.review_overdue_tolerance_days, policy.stale_after_months, limit);
  std::vector<std::pair<std::string, icr::v1::RegisterRow>> rows;
  for (const auto& row : r) {
    icr::v1::RegisterRow out;
    RETURN_IF_ERROR(ParseJson(row[1].c_str(), &out));
    rows.emplace_back(row[0].c_str(), std::move(out));
  }
  return rows;
}

absl::StatusOr<ChangeCursor> S117Store::LockCursor(pqxx::transaction_base& tx) {
  auto r = tx.exec_prepared(kCursorLock.name);
  if (r.empty()) return absl::FailedPreconditionError("s117.feed_cursor has no row for 's117'");
  return ChangeCursor{r[0][0].c_str(), r[0][1].as<int64_t>()};
}

void S117Store::SaveCursor(pqxx::transaction_base& tx, const ChangeCursor& cursor,
                           int64_t lag_ms) {
  tx.exec_prepared(kCursorSave.name, cursor.txid, cursor.seq, lag_ms);
}

void S117Store::RecordFeedError(pqxx::transaction_base& tx, const ChangeRow& c,
                                const std::string& error) {
  tx.exec_prepared(kFeedError.name, c.cursor.txid, c.cursor.seq, c.change_type, c.entity_id,
                   c.person_id, error);
}

absl::StatusOr<std::shared_ptr<const Policy>> PolicyCache::Get() {
  std::lock_guard lock(mu_);
  if (policy_) return policy_;
  absl::StatusOr<Policy> loaded;
  absl::Status s = db_.Read([&](pqxx::nontransaction& tx) {
    loaded = S117Store::LoadPolicy(tx);
    return loaded.status();
  });
  if (s.code() == absl::StatusCode::kInvalidArgument) {  // a bad row: the server's fault
    return absl::InternalError("S117 configuration: " + std::string(s.message()));
  }
  if (!s.ok()) return s;
  policy_ = std::make_shared<const Policy>(std::move(*loaded));
  return policy_;
}

}  // namespace icr::s117
