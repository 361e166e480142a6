#include "services/careplan/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <sstream>

#include "services/careplan/sql/statements.h"
#include "services/common/status.h"

namespace icr::careplan {
namespace {
using google::protobuf::util::TimeUtil;
using icr::v1::CarePlan;

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
  Exec(tx, sql::kVersionInsert, plan_id, version, StatusName(v.status), ToJson(content), v.change,
       v.reason, v.signed_version, caller.org_code, RoleName(caller.role), v.agreed_on);
}

// The organisations with a role on an open plan: key worker, MDT members, the council and ICB it
// acts for, and signatories.
void RefreshOrganisations(pqxx::transaction_base& tx, const std::string& plan_id,
                          const std::string& person_id, const CarePlan* open_content) {
  Exec(tx, sql::kPlanOrgClear, plan_id);
  if (!open_content) return;
  std::set<std::string> orgs = {open_content->key_worker().organisation_code()};
  for (const auto& m : open_content->mdt_members()) orgs.insert(m.organisation_code());
  orgs.insert(open_content->acting_for_council_code());
  orgs.insert(open_content->acting_for_icb_code());
  orgs.erase("");
  for (const auto& org : orgs) Exec(tx, sql::kPlanOrgAdd, plan_id, person_id, org);
  Exec(tx, sql::kPlanOrgAddSigners, plan_id, person_id);
}

void AddSignoffs(pqxx::transaction_base& tx, const std::string& plan_id, int64_t version,
                 google::protobuf::RepeatedPtrField<icr::v1::CarePlanSignOff>* out) {
  for (const auto& r : Exec(tx, sql::kSignoffs, plan_id, version)) {
    auto* s = out->Add();
    s->set_agency(ParseAgency(r[0].c_str()).value_or(icr::v1::CarePlanSignOff::AGENCY_UNSPECIFIED));
    s->set_organisation_code(r[1].c_str());
    s->set_signed_by(r[2].c_str());
    s->set_role(r[3].c_str());
    *s->mutable_signed_at() = Micros(r[4]);
    s->set_version(r[5].as<int64_t>());
    s->set_signed_on(r[6].c_str());
  }
}

}  // namespace

std::optional<PlanRow> CarePlanStore::FindPlan(pqxx::transaction_base& tx,
                                               const std::string& plan_id,
                                               const std::string& org_code, bool lock) {
  if (lock) Exec(tx, sql::kPlanLock, plan_id);
  auto r = Exec(tx, sql::kPlanFind, plan_id, org_code);
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
  row.started_on = r[0][11].c_str();
  return row;
}

std::optional<std::string> CarePlanStore::OpenPlanOf(pqxx::transaction_base& tx,
                                                     const std::string& person_id) {
  auto r = Exec(tx, sql::kOpenPlanOf, person_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

absl::StatusOr<PlanTypeRule> CarePlanStore::LoadRule(pqxx::transaction_base& tx,
                                                     const std::string& plan_type) {
  auto r = Exec(tx, sql::kRule, plan_type);
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
  return Exec(tx, sql::kS117Open, person_id).at(0)[0].as<bool>();
}

std::string CarePlanStore::Create(pqxx::transaction_base& tx, const std::string& person_id,
                                  const CarePlan& p, const Caller& caller,
                                  const PlanOrigin& origin) {
  auto r = Exec(tx, sql::kPlanInsert, person_id, p.key_worker().organisation_code(),
                p.review().next_review_date(), p.is_s117_aftercare_plan(), p.is_care_act_plan(),
                p.is_nhs_pcsp(), caller.org_code, origin.started_on, origin.source_ref,
                origin.source_row);
  const std::string plan_id = r.at(0)[0].c_str();
  InsertVersion(tx, plan_id, 1, {CarePlan::DRAFT, &p, "created", "", std::nullopt}, caller);
  RefreshOrganisations(tx, plan_id, person_id, &p);
  return plan_id;
}

std::string CarePlanStore::SourceRow(const icr::v1::CarePlanImportRow& row) {
  icr::v1::CarePlanImportRow content = row;
  content.clear_row();
  content.clear_dry_run();
  return ToJson(content);
}

std::optional<std::pair<std::string, bool>> CarePlanStore::FindBySource(
    pqxx::transaction_base& tx, const std::string& org_code, const std::string& source_ref,
    const std::string& source_row) {
  auto r = Exec(tx, sql::kPlanBySource, org_code, source_ref, source_row);
  if (r.empty()) return std::nullopt;
  return std::make_pair(std::string(r[0][0].c_str()), r[0][1].as<bool>());
}

std::string CarePlanStore::BirthDate(pqxx::transaction_base& tx, const std::string& person_id) {
  return Exec(tx, sql::kPersonBirth, person_id).at(0)[0].c_str();
}

absl::StatusOr<int64_t> CarePlanStore::AppendVersion(pqxx::transaction_base& tx, const PlanRow& row,
                                                     int64_t expected, const NewVersion& v,
                                                     const Caller& caller) {
  const CarePlan& p = *v.content;
  auto r = Exec(tx, sql::kPlanAdvance, row.plan_id, expected, StatusName(v.status),
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
  auto r = Exec(tx, sql::kVersionGet, plan_id, version);
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
  plan.set_started_on(row[13].c_str());
  plan.set_agreed_on(row[14].c_str());
  plan.set_jointly_agreed(row[15].as<bool>());
  plan.set_source_ref(row[16].c_str());
  AddSignoffs(tx, plan_id, row[5].as<int64_t>(), plan.mutable_signoffs());
  auto review = Exec(tx, sql::kLastReview, plan_id, plan.version());
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

bool CarePlanStore::AddSignoff(pqxx::transaction_base& tx, const PlanRow& row, int64_t version,
                               Agency agency, const std::string& org_code,
                               const std::string& signed_by, const std::string& role,
                               const std::string& signed_on) {
  if (Exec(tx, sql::kSignoffInsert, row.plan_id, version, AgencyName(agency), org_code, signed_by,
           role, signed_on)
          .empty()) {
    return false;
  }
  Exec(tx, sql::kPlanOrgAdd, row.plan_id, row.person_id, org_code);  // a role on the plan
  return true;
}

std::vector<DatedSignoff> CarePlanStore::Signoffs(pqxx::transaction_base& tx,
                                                  const std::string& plan_id, int64_t version) {
  std::vector<DatedSignoff> out;
  for (const auto& r : Exec(tx, sql::kSignoffs, plan_id, version)) {
    auto agency = ParseAgency(r[0].c_str());
    auto on = ParseDate(r[6].c_str());
    if (agency && on) out.push_back({*agency, *on});
  }
  return out;
}

std::set<Agency> CarePlanStore::SignedAgencies(pqxx::transaction_base& tx,
                                               const std::string& plan_id, int64_t version) {
  std::set<Agency> out;
  for (const auto& s : Signoffs(tx, plan_id, version)) out.insert(s.agency);
  return out;
}

void CarePlanStore::MarkAgreed(pqxx::transaction_base& tx, const std::string& plan_id,
                               int64_t signed_version, const std::string& agreed_on) {
  Exec(tx, sql::kPlanAgreed, plan_id, signed_version, agreed_on);
}

std::string CarePlanStore::InsertReview(pqxx::transaction_base& tx, const PlanRow& row,
                                        const icr::v1::CarePlanReview& review, bool health,
                                        bool social_care, const std::string& org_code) {
  std::string participants = "[";
  for (int i = 0; i < review.participants_size(); ++i) {
    participants += (i ? "," : "") + ToJson(review.participants(i));
  }
  participants += "]";
  auto r = Exec(tx, sql::kReviewInsert, row.plan_id, row.current_version, row.person_id,
                review.review_date(), participants, health, social_care,
                icr::v1::CarePlanReview::Outcome_Name(review.outcome()), review.next_review_date(),
                review.notes(), org_code);
  Exec(tx, sql::kPlanReviewed, row.plan_id, review.review_date());
  return r.at(0)[0].c_str();
}

void CarePlanStore::MarkClosed(pqxx::transaction_base& tx, const std::string& plan_id,
                               const std::string& reason) {
  Exec(tx, sql::kPlanClosed, plan_id, reason);
}

std::vector<icr::v1::CarePlanVersion> CarePlanStore::ListVersions(pqxx::transaction_base& tx,
                                                                  const std::string& plan_id,
                                                                  int64_t after_version,
                                                                  int limit) {
  std::vector<icr::v1::CarePlanVersion> out;
  for (const auto& r : Exec(tx, sql::kVersions, plan_id, after_version, limit)) {
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
  for (const auto& r : Exec(tx, sql::kPlans, Optional(f.person_id), Optional(f.key_worker_org),
                            Optional(f.review_due_before), f.include_closed, f.after_date,
                            f.after_plan, Optional(org), limit)) {
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
    h.set_agreed_on(r[16].c_str());
    h.set_jointly_agreed(r[17].as<bool>());
    out.emplace_back(std::move(h), std::string(r[15].c_str()) + "/" + r[0].c_str());
  }
  return out;
}

}  // namespace icr::careplan
