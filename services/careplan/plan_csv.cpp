#include "services/careplan/plan_csv.h"

#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr::careplan {
namespace {

namespace v1 = icr::v1;
using v1::CarePlan;
using Funder = v1::CarePlanIntervention;
using Review = v1::CarePlanReview;
using SignOff = v1::CarePlanSignOff;

absl::Status Types(const std::string& cell, CarePlan& p) {
  for (const auto& t : SplitCell(cell, ';')) {
    const std::string code = CsvCode(t);
    if (code == "S117" || code == "S117_AFTERCARE") {
      p.set_is_s117_aftercare_plan(true);
    } else if (code == "CARE_ACT") {
      p.set_is_care_act_plan(true);
    } else if (code == "NHS_PCSP" || code == "PCSP" || code == "NHS") {
      p.set_is_nhs_pcsp(true);
    } else {
      return InvalidField("types", "'" + t + "' is not S117, CARE_ACT or NHS_PCSP");
    }
  }
  if (!p.is_s117_aftercare_plan() && !p.is_care_act_plan() && !p.is_nhs_pcsp()) {
    return InvalidField("types", "required: S117, CARE_ACT and/or NHS_PCSP, separated by ';'");
  }
  return absl::OkStatus();
}

// The four columns <agency>_signed_by, _signed_role, _signed_org, _signed_on: a sign-off when
// any is given (then the name and the date are required).
absl::Status AddSignOff(const CsvColumns& c, const CsvRecord& r, const std::string& prefix,
                     SignOff::Agency agency, v1::CarePlanImportRow& out) {
  const std::string by = c.Get(r, prefix + "_signed_by"), role = c.Get(r, prefix + "_signed_role"),
                    org = c.Get(r, prefix + "_signed_org");
  ASSIGN_OR_RETURN(auto on, CsvDate(c.Get(r, prefix + "_signed_on"), prefix + "_signed_on"));
  if (by.empty() && role.empty() && org.empty() && on.empty()) return absl::OkStatus();
  if (by.empty()) return InvalidField(prefix + "_signed_by", "required for a sign-off");
  if (on.empty()) return InvalidField(prefix + "_signed_on", "required for a sign-off");
  auto* s = out.add_signoffs();
  s->set_agency(agency);
  s->set_signed_by(by);
  s->set_role(role);
  s->set_organisation_code(CsvCode(org));
  s->set_signed_on(on);
  return absl::OkStatus();
}

// "description|responsible organisation|responsible person or role|funder|s117 (yes/no)".
absl::Status Intervention(const std::string& entry, const std::string& f, CarePlan& p) {
  const auto parts = SplitParts(entry, '|');
  if (parts.size() < 3 || parts.size() > 5) {
    return InvalidField(f,
                        "expected description|organisation|person or role|funder|s117 (3 to 5 "
                        "parts), found " +
                            std::to_string(parts.size()));
  }
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  auto* v = p.add_interventions();
  v->set_intervention_id("i" + std::to_string(p.interventions_size()));
  if (part(0).empty()) return InvalidField(f + ".description", "required");
  v->set_description(part(0));
  if (part(1).empty()) return InvalidField(f + ".organisation", "required");
  v->mutable_responsible()->set_organisation_code(CsvCode(part(1)));
  v->mutable_responsible()->set_role(part(2));
  Funder::Funder funder = Funder::FUNDER_UNSPECIFIED;
  if (!part(3).empty() &&
      (!Funder::Funder_Parse(CsvCode(part(3)), &funder) || funder == Funder::FUNDER_UNSPECIFIED)) {
    return InvalidField(f + ".funder", "COUNCIL, ICB, JOINT, OTHER or SELF, not '" + part(3) + "'");
  }
  v->set_funder(funder);
  const std::string s117 = CsvCode(part(4));
  if (s117.empty()) {
    v->set_is_s117(p.is_s117_aftercare_plan());
  } else if (s117 == "YES" || s117 == "Y" || s117 == "S117") {
    v->set_is_s117(true);
  } else if (s117 != "NO" && s117 != "N") {
    return InvalidField(f + ".s117", "yes or no, not '" + part(4) + "'");
  }
  for (const auto& n : p.needs()) v->add_need_ids(n.need_id());
  for (const auto& g : p.goals()) v->add_goal_ids(g.goal_id());
  return absl::OkStatus();
}

// "name|organisation|telephone".
// One entry "name|role|organisation" of the last_review_participants cell: a professional (or,
// with no organisation, someone else: the person, a carer, an advocate).
absl::Status Participant(const std::string& entry, const std::string& f, Review& review) {
  const auto parts = SplitParts(entry, '|');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
    return InvalidField(f, "expected name|role|organisation, found '" + entry + "'");
  }
  auto* who = review.add_participants();
  who->set_name(parts[0]);
  who->set_role(parts[1]);
  const std::string org = parts.size() == 3 ? CsvCode(parts[2]) : std::string();
  who->set_organisation_code(org);
  who->set_kind(org.empty() ? v1::CarePlanParticipant::OTHER : v1::CarePlanParticipant::PROFESSIONAL);
  return absl::OkStatus();
}

absl::Status CrisisContact(const std::string& entry, const std::string& f, CarePlan& p) {
  const auto parts = SplitParts(entry, '|');
  if (parts.size() > 3 || parts[0].empty()) {
    return InvalidField(f, "expected name|organisation|telephone");
  }
  auto* c = p.mutable_crisis_plan()->add_contacts();
  c->set_name(parts[0]);
  if (parts.size() > 1) c->set_organisation_code(CsvCode(parts[1]));
  if (parts.size() > 2) c->set_telephone(parts[2]);
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string_view>& PlanCsvColumns() {
  static const std::vector<std::string_view> kColumns = {"source_ref",
                                                         "nhs_number",
                                                         "types",
                                                         "key_worker_name",
                                                         "key_worker_role",
                                                         "key_worker_org",
                                                         "acting_for_council_code",
                                                         "acting_for_icb_code",
                                                         "started_on",
                                                         "health_signed_by",
                                                         "health_signed_role",
                                                         "health_signed_org",
                                                         "health_signed_on",
                                                         "social_care_signed_by",
                                                         "social_care_signed_role",
                                                         "social_care_signed_org",
                                                         "social_care_signed_on",
                                                         "last_review_date",
                                                         "last_review_outcome",
                                                         "last_review_participants",
                                                         "next_review_date",
                                                         "what_matters_to_me",
                                                         "needs",
                                                         "goals",
                                                         "interventions",
                                                         "crisis_warning_signs",
                                                         "crisis_contacts"};
  return kColumns;
}

absl::StatusOr<CsvColumns> PlanCsvHeader(const CsvRecord& header) {
  return CsvColumns::Match(header, PlanCsvColumns(), {"source_ref", "nhs_number", "types"});
}

absl::StatusOr<v1::CarePlanImportRow> ParsePlanRow(const CsvColumns& c, const CsvRecord& r) {
  RETURN_IF_ERROR(CheckCsvWidth(r, c.size()));
  v1::CarePlanImportRow out;
  out.set_row(r.line);
  out.set_source_ref(c.Get(r, "source_ref"));
  if (out.source_ref().empty()) return InvalidField("source_ref", "required");
  ASSIGN_OR_RETURN(auto nhs, NormaliseNhsNumber(c.Get(r, "nhs_number"), "nhs_number"));
  out.set_nhs_number(nhs);
  CarePlan& p = *out.mutable_plan();
  RETURN_IF_ERROR(Types(c.Get(r, "types"), p));
  p.mutable_key_worker()->set_name(c.Get(r, "key_worker_name"));
  p.mutable_key_worker()->set_role(c.Get(r, "key_worker_role"));
  p.mutable_key_worker()->set_organisation_code(CsvCode(c.Get(r, "key_worker_org")));
  if (p.key_worker().name().empty() && p.key_worker().role().empty() &&
      p.key_worker().organisation_code().empty()) {
    p.clear_key_worker();
  }
  p.set_acting_for_council_code(CsvCode(c.Get(r, "acting_for_council_code")));
  p.set_acting_for_icb_code(CsvCode(c.Get(r, "acting_for_icb_code")));
  ASSIGN_OR_RETURN(auto started, CsvDate(c.Get(r, "started_on"), "started_on"));
  out.set_started_on(started);
  RETURN_IF_ERROR(AddSignOff(c, r, "health", SignOff::HEALTH, out));
  RETURN_IF_ERROR(AddSignOff(c, r, "social_care", SignOff::SOCIAL_CARE, out));

  ASSIGN_OR_RETURN(auto next, CsvDate(c.Get(r, "next_review_date"), "next_review_date"));
  if (!next.empty()) p.mutable_review()->set_next_review_date(next);
  ASSIGN_OR_RETURN(auto reviewed, CsvDate(c.Get(r, "last_review_date"), "last_review_date"));
  const std::string outcome = CsvCode(c.Get(r, "last_review_outcome"));
  if (!reviewed.empty()) {
    Review::Outcome o = Review::OUTCOME_UNSPECIFIED;
    if (!Review::Outcome_Parse(outcome, &o) || o == Review::OUTCOME_UNSPECIFIED) {
      return InvalidField("last_review_outcome",
                          "CONTINUE, MODIFY or RECOMMEND_CLOSURE, not '" + outcome + "'");
    }
    auto* review = out.add_reviews();
    review->set_review_date(reviewed);
    review->set_outcome(o);
    review->set_next_review_date(next);
    const auto who = SplitCell(c.Get(r, "last_review_participants"), ';');
    for (size_t i = 0; i < who.size(); ++i) {
      RETURN_IF_ERROR(Participant(who[i], CsvEntryField("last_review_participants", i), *review));
    }
  } else if (!outcome.empty()) {
    return InvalidField("last_review_date", "required with last_review_outcome");
  }

  p.mutable_about_me()->set_what_matters_to_me(c.Get(r, "what_matters_to_me"));
  for (const auto& n : SplitCell(c.Get(r, "needs"), ';')) {
    auto* need = p.add_needs();
    need->set_need_id("n" + std::to_string(p.needs_size()));
    need->set_description(n);
    need->set_arises_from_mental_disorder(true);
  }
  for (const auto& g : SplitCell(c.Get(r, "goals"), ';')) {
    auto* goal = p.add_goals();
    goal->set_goal_id("g" + std::to_string(p.goals_size()));
    goal->set_in_my_words(g);
    for (const auto& n : p.needs()) goal->add_need_ids(n.need_id());
  }
  const auto interventions = SplitCell(c.Get(r, "interventions"), ';');
  for (size_t i = 0; i < interventions.size(); ++i) {
    RETURN_IF_ERROR(Intervention(interventions[i], CsvEntryField("interventions", i), p));
  }
  for (const auto& w : SplitCell(c.Get(r, "crisis_warning_signs"), ';')) {
    p.mutable_crisis_plan()->add_warning_signs(w);
  }
  const auto contacts = SplitCell(c.Get(r, "crisis_contacts"), ';');
  for (size_t i = 0; i < contacts.size(); ++i) {
    RETURN_IF_ERROR(CrisisContact(contacts[i], CsvEntryField("crisis_contacts", i), p));
  }
  return out;
}

}  // namespace icr::careplan
