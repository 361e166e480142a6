#include "services/careplan/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <sstream>

#include "services/common/status.h"

namespace icr::careplan {
namespace {
using google::protobuf::util::TimeUtil;
using icr::v1::CarePlan;

#define PLAN_SELECT                                                                            \
  "SELECT p.plan_id::text, p.person_id::text, per.nhs_number, p.current_version, p.status, "   \
  "p.is_s117_aftercare_plan, p.agreed_s117, coalesce(p.agreed_version, 0), p.signed_version, " \
  "f.sees, f.responsible OR p.created_by_org = $2 OR EXISTS (SELECT 1 FROM careplan.plan_org o " \
  "  WHERE o.plan_id = p.plan_id AND o.org_code = $2) FROM careplan.plan p "                   \
  "JOIN core.person per ON per.person_id = p.person_id "                                       \
  "CROSS JOIN LATERAL core.relationship_facts(p.person_id, $2) f WHERE p.plan_id = $1::uuid"

const Statement kPlanFind{"careplan_plan_find", PLAN_SELECT};
const Statement kPlanLock{"careplan_plan_lock", PLAN_SELECT " FOR UPDATE OF p"};
const Statement kOpenPlanOf{
    "careplan_open_plan_of",
    "SELECT plan_id::text FROM careplan.plan WHERE person_id = $1::uuid AND status <> 'CLOSED'"};
const Statement kRule{
    "careplan_rule",
    "SELECT array_to_string(signoff_agencies, ','), signoffs_needed, max_review_months "
    "FROM careplan.plan_type_rule WHERE plan_type = $1"};
const Statement kS117Open{"careplan_s117_open",
                          "SELECT EXISTS (SELECT 1 FROM s117.episode WHERE person_id = $1::uuid "
                          "AND state IN ('ACTIVE', 'PLANNED'))"};

const Statement kPlanInsert{
    "careplan_plan_insert",
    "INSERT INTO careplan.plan (person_id, status, key_worker_org, next_review_date, "
    "is_s117_aftercare_plan, is_care_act_plan, is_nhs_pcsp, created_by_org) "
    "VALUES ($1::uuid, 'DRAFT', nullif($2, ''), nullif($3, '')::date, $4, $5, $6, $7) "
    "RETURNING plan_id::text"};
// The optimistic lock: only moves on from the version the writer read.
const Statement kPlanAdvance{
    "careplan_plan_advance",
    "UPDATE careplan.plan SET current_version = current_version + 1, status = $3, "
    "key_worker_org = nullif($4, ''), next_review_date = nullif($5, '')::date, "
    "is_s117_aftercare_plan = $6, is_care_act_plan = $7, is_nhs_pcsp = $8, updated_at = now() "
    "WHERE plan_id = $1::uuid AND current_version = $2 RETURNING current_version"};
const Statement kVersionInsert{
    "careplan_version_insert",
    "INSERT INTO careplan.plan_version (plan_id, version, status, content, change, "
    "change_reason, signed_version, created_by_org, created_by_role) "
    "VALUES ($1::uuid, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)"};
const Statement kPlanAgreed{
    "careplan_plan_agreed",
    "UPDATE careplan.plan SET agreed_version = current_version, agreed_at = now(), "
    "agreed_s117 = is_s117_aftercare_plan, signed_version = $2 WHERE plan_id = $1::uuid"};
const Statement kPlanReviewed{
    "careplan_plan_reviewed",
    "UPDATE careplan.plan SET last_review_date = $2::date, last_reviewed_at = now(), "
    "agreed_version = CASE WHEN status = 'AGREED' THEN current_version ELSE agreed_version END "
    "WHERE plan_id = $1::uuid"};
const Statement kPlanClosed{
    "careplan_plan_closed",
    "UPDATE careplan.plan SET closed_at = now(), close_reason = $2 WHERE plan_id = $1::uuid"};

const Statement kPlanOrgClear{"careplan_plan_org_clear",
                              "DELETE FROM careplan.plan_org WHERE plan_id = $1::uuid"};
const Statement kPlanOrgAdd{"careplan_plan_org_add",
                            "INSERT INTO careplan.plan_org (person_id, org_code, plan_id) "
                            "VALUES ($2::uuid, $3, $1::uuid) ON CONFLICT DO NOTHING"};
const Statement kPlanOrgAddSigners{
    "careplan_plan_org_add_signers",
    "INSERT INTO careplan.plan_org (person_id, org_code, plan_id) "
    "SELECT DISTINCT $2::uuid, org_code, plan_id FROM careplan.signoff WHERE plan_id = $1::uuid "
    "ON CONFLICT DO NOTHING"};

const Statement kVersionGet{
    "careplan_version_get",
    "SELECT v.version, v.status, v.content::text, v.change, v.change_reason, "
    "coalesce(v.signed_version, v.version), (extract(epoch FROM v.created_at) * 1000000)::bigint, "
    "v.created_by_org, p.current_version, coalesce(p.agreed_version, 0), "
    "coalesce((extract(epoch FROM p.agreed_at) * 1000000)::bigint, 0), p.person_id::text, "
    "per.nhs_number FROM careplan.plan_version v "
    "JOIN careplan.plan p ON p.plan_id = v.plan_id "
    "JOIN core.person per ON per.person_id = p.person_id "
    "WHERE v.plan_id = $1::uuid "
    "AND v.version = CASE WHEN $2 = 0 THEN p.current_version ELSE $2 END"};
const Statement kSignoffs{
    "careplan_signoffs",
    "SELECT agency, org_code, signed_by, role, (extract(epoch FROM signed_at) * 1000000)::bigint, "
    "version FROM careplan.signoff WHERE plan_id = $1::uuid AND version = $2 "
    "ORDER BY signed_at, agency"};
const Statement kSignoffInsert{
    "careplan_signoff_insert",
    "INSERT INTO careplan.signoff (plan_id, version, agency, org_code, signed_by, role) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1"};
// The review of version k made version k + 1, so a version shows the reviews before it.
const Statement kLastReview{
    "careplan_last_review",
    "SELECT review_id::text, review_date::text, participants::text, outcome, "
    "next_review_date::text, notes, plan_version, recorded_by_org FROM careplan.review "
    "WHERE plan_id = $1::uuid AND plan_version < $2 "
    "ORDER BY review_date DESC, recorded_at DESC LIMIT 1"};
const Statement kReviewInsert{
    "careplan_review_insert",
    "INSERT INTO careplan.review (plan_id, plan_version, person_id, review_date, participants, "
    "health_participated, social_care_participated, outcome, next_review_date, notes, "
    "recorded_by_org) VALUES ($1::uuid, $2, $3::uuid, $4::date, $5::jsonb, $6, $7, $8, $9::date, "
    "$10, $11) RETURNING review_id::text"};

const Statement kVersions{
    "careplan_versions",
    "SELECT version, status, change, change_reason, "
    "(extract(epoch FROM created_at) * 1000000)::bigint, created_by_org, created_by_role "
    "FROM careplan.plan_version WHERE plan_id = $1::uuid AND version > $2 "
    "ORDER BY version LIMIT $3"};
// Keyset paging on (next review date, plan id); plans with no review date sort last.
const Statement kPlans{
    "careplan_plans",
    "SELECT p.plan_id::text, p.person_id::text, per.nhs_number, p.current_version, p.status, "
    "coalesce(v.content->'key_worker'->>'name', ''), "
    "coalesce(v.content->'key_worker'->>'role', ''), coalesce(p.key_worker_org, ''), "
    "coalesce(v.content->'key_worker'->>'contact', ''), "
    "coalesce(p.next_review_date::text, ''), p.is_s117_aftercare_plan, p.is_care_act_plan, "
    "coalesce(p.agreed_version, 0), "
    "coalesce((extract(epoch FROM p.agreed_at) * 1000000)::bigint, 0), "
    "coalesce(p.last_review_date::text, ''), "
    "coalesce(p.next_review_date, 'infinity'::date)::text "
    "FROM careplan.plan p JOIN core.person per ON per.person_id = p.person_id "
    "JOIN careplan.plan_version v ON v.plan_id = p.plan_id AND v.version = p.current_version "
    "WHERE ($1::uuid IS NULL OR p.person_id = $1::uuid) "
    "AND ($2::text IS NULL OR p.key_worker_org = $2) "
    "AND ($3::date IS NULL OR p.next_review_date < $3::date) "
    "AND ($4 OR p.status <> 'CLOSED') "
    "AND (coalesce(p.next_review_date, 'infinity'::date), p.plan_id) > ($5::date, $6::uuid) "
    "AND ($7::text IS NULL OR core.can_see(p.person_id, $7)) "
    "ORDER BY coalesce(p.next_review_date, 'infinity'::date), p.plan_id LIMIT $8"};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

// Stored content written by this or an earlier release: unknown fields are ignored.
void FromJson(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(json, message, options);
}

PlanStatus StatusOf(const pqxx::field& f) {
  return ParseStatus(f.c_str()).value_or(CarePlan::STATUS_UNSPECIFIED);
}

google::protobuf::Timestamp Micros(const pqxx::field& f) {
  return TimeUtil::MicrosecondsToTimestamp(f.as<int64_t>());
}

// NULL for an absent filter.
const char* Optional(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

void InsertVersion(pqxx::transaction_base& tx, const std::string& plan_id, int64_t version,
                   const NewVersion& v, const Caller& caller) {
  CarePlan content = *v.content;
  ClearAssigned(content);
  tx.exec_prepared(kVersionInsert.name, plan_id, version, StatusName(v.status), ToJson(content),
                   v.change, v.reason, v.signed_version, caller.org_code, RoleName(caller.role));
}

// The organisations with a role on an open plan: key worker, MDT members and signatories.
void RefreshOrganisations(pqxx::transaction_base& tx, const std::string& plan_id,
                          const std::string& person_id, const CarePlan* open_content) {
  tx.exec_prepared(kPlanOrgClear.name, plan_id);
  if (!open_content) return;
  std::set<std::string> orgs = {open_content->key_worker().organisation_code()};
  for (const auto& m : open_content->mdt_members()) orgs.insert(m.organisation_code());
  orgs.erase("");
  for (const auto& org : orgs) tx.exec_prepared(kPlanOrgAdd.name, plan_id, person_id, org);
  tx.exec_prepared(kPlanOrgAddSigners.name, plan_id, person_id);
}

void AddSignoffs(pqxx::transaction_base& tx, const std::string& plan_id, int64_t version,
                 google::protobuf::RepeatedPtrField<icr::v1::CarePlanSignOff>* out) {
  for (const auto& r : tx.exec_prepared(kSignoffs.name, plan_id, version)) {
    auto* s = out->Add();
    s->set_agency(ParseAgency(r[0].c_str()).value_or(icr::v1::CarePlanSignOff::AGENCY_UNSPECIFIED));
    s->set_organisation_code(r[1].c_str());
    s->set_signed_by(r[2].c_str());
    s->set_role(r[3].c_str());
    *s->mutable_signed_at() = Micros(r[4]);
    s->set_version(r[5].as<int64_t>());
  }
}

}  // namespace

const std::vector<Statement>& CarePlanStore::Statements() {
  static const std::vector<Statement> kStatements = {
      kPlanFind,     kPlanLock,          kOpenPlanOf, kRule,         kS117Open,      kPlanInsert,
      kPlanAdvance,  kVersionInsert,     kPlanAgreed, kPlanReviewed, kPlanClosed,    kPlanOrgClear,
      kPlanOrgAdd,   kPlanOrgAddSigners, kVersionGet, kSignoffs,     kSignoffInsert, kLastReview,
      kReviewInsert, kVersions,          kPlans};
  return kStatements;
}

std::optional<PlanRow> CarePlanStore::FindPlan(pqxx::transaction_base& tx,
                                               const std::string& plan_id,
                                               const std::string& org_code, bool lock) {
  auto r = tx.exec_prepared(lock ? kPlanLock.name : kPlanFind.name, plan_id, org_code);
  if (r.empty()) return std::nullopt;
  PlanRow row;
  row.plan_id = r[0][0].c_str();
  row.person_id = r[0][1].c_str();
  row.nhs_number = r[0][2].c_str();
  row.current_version = r[0][3].as<int64_t>();
  row.status = StatusOf(r[0][4]);
  row.is_s117 = r[0][5].as<bool>();
  row.agreed_s117 = r[0][6].as<bool>();
  row.agreed_version = r[0][7].as<int64_t>();
  if (!r[0][8].is_null()) row.signed_version = r[0][8].as<int64_t>();
  row.visible = r[0][9].as<bool>();
  row.plan_role = r[0][10].as<bool>();
  return row;
}

std::optional<std::string> CarePlanStore::OpenPlanOf(pqxx::transaction_base& tx,
                                                     const std::string& person_id) {
  auto r = tx.exec_prepared(kOpenPlanOf.name, person_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

absl::StatusOr<PlanTypeRule> CarePlanStore::LoadRule(pqxx::transaction_base& tx,
                                                     const std::string& plan_type) {
  auto r = tx.exec_prepared(kRule.name, plan_type);
  if (r.empty()) {
    return absl::InternalError("no careplan.plan_type_rule row for plan type " + plan_type);
  }
  PlanTypeRule rule;
  std::stringstream agencies(r[0][0].c_str());
  for (std::string name; std::getline(agencies, name, ',');) {
    if (auto a = ParseAgency(name)) rule.agencies.insert(*a);
  }
  rule.signoffs_needed = r[0][1].as<int>();
  rule.max_review_months = r[0][2].as<int>();
  return rule;
}

bool CarePlanStore::S117EntitlementOpen(pqxx::transaction_base& tx, const std::string& person_id) {
  return tx.exec_prepared1(kS117Open.name, person_id)[0].as<bool>();
}

std::string CarePlanStore::Create(pqxx::transaction_base& tx, const std::string& person_id,
                                  const CarePlan& p, const Caller& caller) {
  auto r = tx.exec_prepared1(kPlanInsert.name, person_id, p.key_worker().organisation_code(),
                             p.review().next_review_date(), p.is_s117_aftercare_plan(),
                             p.is_care_act_plan(), p.is_nhs_pcsp(), caller.org_code);
  const std::string plan_id = r[0].c_str();
  InsertVersion(tx, plan_id, 1, {CarePlan::DRAFT, &p, "created", "", std::nullopt}, caller);
  RefreshOrganisations(tx, plan_id, person_id, &p);
  return plan_id;
}

absl::StatusOr<int64_t> CarePlanStore::AppendVersion(pqxx::transaction_base& tx, const PlanRow& row,
                                                     int64_t expected, const NewVersion& v,
                                                     const Caller& caller) {
  const CarePlan& p = *v.content;
  auto r = tx.exec_prepared(kPlanAdvance.name, row.plan_id, expected, StatusName(v.status),
                            p.key_worker().organisation_code(), p.review().next_review_date(),
                            p.is_s117_aftercare_plan(), p.is_care_act_plan(), p.is_nhs_pcsp());
  if (r.empty()) {
    return absl::AbortedError("expected_version: the plan has changed since version " +
                              std::to_string(expected) + " was read");
  }
  const int64_t version = r[0][0].as<int64_t>();
  InsertVersion(tx, row.plan_id, version, v, caller);
  RefreshOrganisations(tx, row.plan_id, row.person_id, v.status == CarePlan::CLOSED ? nullptr : &p);
  return version;
}

std::optional<CarePlan> CarePlanStore::LoadVersion(pqxx::transaction_base& tx,
                                                   const std::string& plan_id, int64_t version) {
  auto r = tx.exec_prepared(kVersionGet.name, plan_id, version);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  CarePlan plan;
  FromJson(row[2].c_str(), &plan);
  ClearAssigned(plan);
  plan.set_plan_id(plan_id);
  plan.set_version(row[0].as<int64_t>());
  plan.set_status(StatusOf(row[1]));
  plan.set_change(row[3].c_str());
  plan.set_change_reason(row[4].c_str());
  *plan.mutable_version_created_at() = Micros(row[6]);
  plan.set_version_created_by(row[7].c_str());
  plan.set_current_version(row[8].as<int64_t>());
  plan.set_agreed_version(row[9].as<int64_t>());
  if (row[10].as<int64_t>() != 0) *plan.mutable_agreed_at() = Micros(row[10]);
  plan.set_person_id(row[11].c_str());
  plan.set_nhs_number(row[12].c_str());
  AddSignoffs(tx, plan_id, row[5].as<int64_t>(), plan.mutable_signoffs());
  auto review = tx.exec_prepared(kLastReview.name, plan_id, plan.version());
  if (!review.empty()) {
    const auto& rv = review[0];
    auto* last = plan.mutable_last_review();
    FromJson("{\"participants\":" + std::string(rv[2].c_str()) + "}", last);
    last->set_review_id(rv[0].c_str());
    last->set_review_date(rv[1].c_str());
    icr::v1::CarePlanReview::Outcome outcome;
    if (icr::v1::CarePlanReview::Outcome_Parse(rv[3].c_str(), &outcome)) last->set_outcome(outcome);
    last->set_next_review_date(rv[4].c_str());
    last->set_notes(rv[5].c_str());
    last->set_plan_version(rv[6].as<int64_t>());
    last->set_recorded_by_organisation(rv[7].c_str());
  }
  return plan;
}

bool CarePlanStore::AddSignoff(pqxx::transaction_base& tx, const PlanRow& row, Agency agency,
                               const std::string& org_code, const std::string& signed_by,
                               const std::string& role) {
  if (tx.exec_prepared(kSignoffInsert.name, row.plan_id, row.current_version, AgencyName(agency),
                       org_code, signed_by, role)
          .empty()) {
    return false;
  }
  tx.exec_prepared(kPlanOrgAdd.name, row.plan_id, row.person_id, org_code);  // a role on the plan
  return true;
}

std::set<Agency> CarePlanStore::SignedAgencies(pqxx::transaction_base& tx,
                                               const std::string& plan_id, int64_t version) {
  std::set<Agency> out;
  for (const auto& r : tx.exec_prepared(kSignoffs.name, plan_id, version)) {
    if (auto a = ParseAgency(r[0].c_str())) out.insert(*a);
  }
  return out;
}

void CarePlanStore::MarkAgreed(pqxx::transaction_base& tx, const std::string& plan_id,
                               int64_t signed_version) {
  tx.exec_prepared(kPlanAgreed.name, plan_id, signed_version);
}

std::string CarePlanStore::InsertReview(pqxx::transaction_base& tx, const PlanRow& row,
                                        const icr::v1::CarePlanReview& review, bool health,
                                        bool social_care, const std::string& org_code) {
  std::string participants = "[";
  for (int i = 0; i < review.participants_size(); ++i) {
    participants += (i ? "," : "") + ToJson(review.participants(i));
  }
  participants += "]";
  auto r = tx.exec_prepared1(kReviewInsert.name, row.plan_id, row.current_version, row.person_id,
                             review.review_date(), participants, health, social_care,
                             icr::v1::CarePlanReview::Outcome_Name(review.outcome()),
                             review.next_review_date(), review.notes(), org_code);
  tx.exec_prepared(kPlanReviewed.name, row.plan_id, review.review_date());
  return r[0].c_str();
}

void CarePlanStore::MarkClosed(pqxx::transaction_base& tx, const std::string& plan_id,
                               const std::string& reason) {
  tx.exec_prepared(kPlanClosed.name, plan_id, reason);
}

std::vector<icr::v1::CarePlanVersion> CarePlanStore::ListVersions(pqxx::transaction_base& tx,
                                                                  const std::string& plan_id,
                                                                  int64_t after_version,
                                                                  int limit) {
  std::vector<icr::v1::CarePlanVersion> out;
  for (const auto& r : tx.exec_prepared(kVersions.name, plan_id, after_version, limit)) {
    icr::v1::CarePlanVersion v;
    v.set_version(r[0].as<int64_t>());
    v.set_status(StatusOf(r[1]));
    v.set_change(r[2].c_str());
    v.set_change_reason(r[3].c_str());
    *v.mutable_created_at() = Micros(r[4]);
    v.set_created_by_organisation(r[5].c_str());
    v.set_created_by_role(r[6].c_str());
    out.push_back(std::move(v));
  }
  for (auto& v : out) AddSignoffs(tx, plan_id, v.version(), v.mutable_signoffs());
  return out;
}

std::vector<std::pair<icr::v1::CarePlanHeader, std::string>> CarePlanStore::ListPlans(
    pqxx::transaction_base& tx, const PlanFilter& f, const std::string& visible_to_org, int limit) {
  const std::optional<std::string> org =
      visible_to_org.empty() ? std::nullopt : std::optional<std::string>(visible_to_org);
  std::vector<std::pair<icr::v1::CarePlanHeader, std::string>> out;
  for (const auto& r :
       tx.exec_prepared(kPlans.name, Optional(f.person_id), Optional(f.key_worker_org),
                        Optional(f.review_due_before), f.include_closed, f.after_date, f.after_plan,
                        Optional(org), limit)) {
    icr::v1::CarePlanHeader h;
    h.set_plan_id(r[0].c_str());
    h.set_person_id(r[1].c_str());
    h.set_nhs_number(r[2].c_str());
    h.set_current_version(r[3].as<int64_t>());
    h.set_status(StatusOf(r[4]));
    h.mutable_key_worker()->set_name(r[5].c_str());
    h.mutable_key_worker()->set_role(r[6].c_str());
    h.mutable_key_worker()->set_organisation_code(r[7].c_str());
    h.mutable_key_worker()->set_contact(r[8].c_str());
    h.set_next_review_date(r[9].c_str());
    h.set_is_s117_aftercare_plan(r[10].as<bool>());
    h.set_is_care_act_plan(r[11].as<bool>());
    h.set_agreed_version(r[12].as<int64_t>());
    if (r[13].as<int64_t>() != 0) *h.mutable_agreed_at() = Micros(r[13]);
    h.set_last_review_date(r[14].c_str());
    out.emplace_back(std::move(h), std::string(r[15].c_str()) + "/" + r[0].c_str());
  }
  return out;
}

}  // namespace icr::careplan
