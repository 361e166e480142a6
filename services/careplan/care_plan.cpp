#include "services/careplan/care_plan.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "services/common/status.h"

namespace icr::careplan {
namespace {
using icr::v1::CarePlan;
using icr::v1::CarePlanCarer;
using icr::v1::CarePlanIntervention;
using icr::v1::CarePlanNeed;
using icr::v1::CarePlanParticipant;
using icr::v1::EligibilityDetermination;
using icr::v1::StaffRef;
using Ids = std::set<std::string>;
using Strings = google::protobuf::RepeatedPtrField<std::string>;

constexpr size_t kNameLen = 200;
constexpr size_t kLineLen = 1000;
constexpr size_t kTextLen = 4000;
constexpr int kMaxItems = 200;

std::string At(const std::string& field, int i) { return field + "[" + std::to_string(i) + "]"; }

std::string Trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool Blank(const std::string& s) { return Trimmed(s).empty(); }

// "TBC", "unknown" and the like name no one (4.4 rule 3).
bool IsPlaceholder(const std::string& s) {
  std::string t = Trimmed(s);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> kPlaceholders = {
      "",   "tbc",  "tba", "tbd", "to be confirmed", "to be arranged", "unknown", "n/a",
      "na", "none", "?",   "-"};
  return kPlaceholders.count(t) > 0;
}

absl::Status CheckCount(int n, const std::string& field) {
  if (n > kMaxItems) return InvalidField(field, "at most 200 entries");
  return absl::OkStatus();
}

// An optional date that, when given, is not in the future.
absl::Status CheckPastDate(const std::string& value, const std::string& field, Date today) {
  auto d = OptionalDate(value, field);
  if (!d.ok()) return d.status();
  if (*d && **d > today) return InvalidField(field, "is in the future");
  return absl::OkStatus();
}

absl::Status CheckLines(const Strings& lines, const std::string& field, size_t max_len) {
  RETURN_IF_ERROR(CheckCount(lines.size(), field));
  for (int i = 0; i < lines.size(); ++i) {
    RETURN_IF_ERROR(CheckText(lines[i], At(field, i), max_len, true));
  }
  return absl::OkStatus();
}

// A person or team: the organisation is required once anything about them is given, or when
// `required`; then a name or a role is required too.
absl::Status CheckStaff(const StaffRef& s, const std::string& f, const ReferenceData& ref,
                        bool required) {
  RETURN_IF_ERROR(CheckText(s.name(), f + ".name", kNameLen, false));
  RETURN_IF_ERROR(CheckText(s.role(), f + ".role", kNameLen, false));
  RETURN_IF_ERROR(CheckText(s.contact(), f + ".contact", kNameLen, false));
  const bool given = required || !s.name().empty() || !s.role().empty() || !s.contact().empty();
  if (given && s.name().empty() && s.role().empty()) return InvalidField(f, "a name or a role");
  return ref.CheckOrganisation(s.organisation_code(), f + ".organisation_code", {}, given);
}

absl::Status AddId(const std::string& id, const std::string& field, Ids& ids) {
  RETURN_IF_ERROR(CheckText(id, field, 64, true));
  if (!ids.insert(id).second) return InvalidField(field, "'" + id + "' is used twice");
  return absl::OkStatus();
}

absl::Status CheckLinks(const Strings& links, const Ids& ids, const std::string& field,
                        const std::string& what) {
  RETURN_IF_ERROR(CheckCount(links.size(), field));
  for (int i = 0; i < links.size(); ++i) {
    if (!ids.count(links[i])) {
      return InvalidField(At(field, i), "no " + what + " '" + links[i] + "' in the plan");
    }
  }
  return absl::OkStatus();
}

Ids NeedIds(const CarePlan& p) {
  Ids ids;
  for (const auto& n : p.needs()) ids.insert(n.need_id());
  return ids;
}

absl::Status CheckParticipant(const CarePlanParticipant& p, const std::string& f,
                              const ReferenceData& ref) {
  RETURN_IF_ERROR(CheckText(p.name(), f + ".name", kNameLen, true));
  RETURN_IF_ERROR(CheckText(p.role(), f + ".role", kNameLen, false));
  if (!CarePlanParticipant::Kind_IsValid(p.kind()))
    return InvalidField(f + ".kind", "unknown value");
  if (!CarePlanParticipant::Method_IsValid(p.method())) {
    return InvalidField(f + ".method", "unknown value");
  }
  return ref.CheckOrganisation(p.organisation_code(), f + ".organisation_code", {},
                               p.kind() == CarePlanParticipant::PROFESSIONAL);
}

absl::Status CheckParticipants(const google::protobuf::RepeatedPtrField<CarePlanParticipant>& ps,
                               const std::string& f, const ReferenceData& ref) {
  RETURN_IF_ERROR(CheckCount(ps.size(), f));
  for (int i = 0; i < ps.size(); ++i) RETURN_IF_ERROR(CheckParticipant(ps[i], At(f, i), ref));
  return absl::OkStatus();
}

// The shape of a determination, whatever the eligibility it supports: a known subject, and for
// each outcome a code of the subject's list, given once, with at least one reason.
absl::Status CheckDetermination(const EligibilityDetermination& d, const std::string& f) {
  const bool adult = d.subject() == EligibilityDetermination::ADULT;
  if (!adult && d.subject() != EligibilityDetermination::CARER) {
    return InvalidField(f + ".subject", "ADULT or CARER");
  }
  RETURN_IF_ERROR(CheckCount(d.unable_outcomes_size(), f + ".unable_outcomes"));
  std::set<int> seen;
  for (int i = 0; i < d.unable_outcomes_size(); ++i) {
    const auto& o = d.unable_outcomes(i);
    const std::string of = At(f + ".unable_outcomes", i);
    const int adult_code = o.adult_outcome(), carer_code = o.carer_outcome();
    const int code = adult ? adult_code : carer_code;
    const bool valid = adult ? icr::v1::AdultOutcome::Code_IsValid(code)
                             : icr::v1::CarerOutcome::Code_IsValid(code);
    const std::string own = adult ? ".adult_outcome" : ".carer_outcome";
    if (code == 0 || !valid) {
      return InvalidField(of + own, adult ? "one of the ten adult outcomes (domain-rules 4.5)"
                                          : "one of the eight carer outcomes (domain-rules 4.6)");
    }
    if ((adult ? carer_code : adult_code) != 0) {
      return InvalidField(
          of + (adult ? ".carer_outcome" : ".adult_outcome"),
          adult ? "not for an adult's determination" : "not for a carer's determination");
    }
    if (!seen.insert(code).second) return InvalidField(of + own, "outcome given twice");
    if (o.reasons_size() == 0) {
      return InvalidField(of + ".reasons", "at least one reason the outcome cannot be achieved");
    }
    for (int r = 0; r < o.reasons_size(); ++r) {
      if (o.reasons(r) == 0 || !icr::v1::UnableOutcome::Reason_IsValid(o.reasons(r))) {
        return InvalidField(At(of + ".reasons", r), "unknown reason");
      }
    }
    RETURN_IF_ERROR(CheckText(o.note(), of + ".note", kLineLen, false));
  }
  RETURN_IF_ERROR(OptionalDate(d.determined_on(), f + ".determined_on").status());
  return absl::OkStatus();
}

absl::Status CheckNeeds(const CarePlan& p, const std::string& f, Date today) {
  RETURN_IF_ERROR(CheckCount(p.needs_size(), f + ".needs"));
  Ids ids;
  for (int i = 0; i < p.needs_size(); ++i) {
    const auto& n = p.needs(i);
    const std::string nf = At(f + ".needs", i);
    RETURN_IF_ERROR(AddId(n.need_id(), nf + ".need_id", ids));
    RETURN_IF_ERROR(CheckText(n.description(), nf + ".description", kTextLen, true));
    if (!icr::v1::AdultOutcome::Code_IsValid(n.care_act_outcome())) {
      return InvalidField(nf + ".care_act_outcome", "not a Care Act outcome (domain-rules 4.5)");
    }
    if (!icr::v1::CarerOutcome::Code_IsValid(n.carer_outcome())) {
      return InvalidField(nf + ".carer_outcome", "not a carer outcome (domain-rules 4.6)");
    }
    if (n.care_act_outcome() != 0 && n.carer_outcome() != 0) {
      return InvalidField(nf + ".carer_outcome",
                          "a need has an adult or a carer outcome, not both");
    }
    RETURN_IF_ERROR(CheckPastDate(n.assessed_on(), nf + ".assessed_on", today));
    RETURN_IF_ERROR(CheckEligibility(n, nf));
  }
  return absl::OkStatus();
}

absl::Status CheckGoals(const CarePlan& p, const std::string& f, const Ids& needs, Ids& ids) {
  RETURN_IF_ERROR(CheckCount(p.goals_size(), f + ".goals"));
  for (int i = 0; i < p.goals_size(); ++i) {
    const auto& g = p.goals(i);
    const std::string gf = At(f + ".goals", i);
    RETURN_IF_ERROR(AddId(g.goal_id(), gf + ".goal_id", ids));
    RETURN_IF_ERROR(CheckText(g.in_my_words(), gf + ".in_my_words", kTextLen, true));
    RETURN_IF_ERROR(CheckLinks(g.need_ids(), needs, gf + ".need_ids", "need"));
    RETURN_IF_ERROR(OptionalDate(g.target_date(), gf + ".target_date").status());
    RETURN_IF_ERROR(CheckText(g.measure(), gf + ".measure", kLineLen, false));
  }
  return absl::OkStatus();
}

absl::Status CheckInterventions(const CarePlan& p, const std::string& f, const ReferenceData& ref,
                                const Ids& needs, const Ids& goals) {
  RETURN_IF_ERROR(CheckCount(p.interventions_size(), f + ".interventions"));
  Ids ids;
  for (int i = 0; i < p.interventions_size(); ++i) {
    const auto& v = p.interventions(i);
    const std::string vf = At(f + ".interventions", i);
    RETURN_IF_ERROR(AddId(v.intervention_id(), vf + ".intervention_id", ids));
    RETURN_IF_ERROR(CheckText(v.description(), vf + ".description", kTextLen, true));
    RETURN_IF_ERROR(CheckLinks(v.need_ids(), needs, vf + ".need_ids", "need"));
    RETURN_IF_ERROR(CheckLinks(v.goal_ids(), goals, vf + ".goal_ids", "goal"));
    RETURN_IF_ERROR(CheckStaff(v.responsible(), vf + ".responsible", ref, false));
    if (!CarePlanIntervention::Funder_IsValid(v.funder())) {
      return InvalidField(vf + ".funder", "unknown value");
    }
    if (!CarePlanIntervention::DeliveryMode_IsValid(v.delivery_mode())) {
      return InvalidField(vf + ".delivery_mode", "unknown value");
    }
    RETURN_IF_ERROR(CheckText(v.frequency(), vf + ".frequency", kNameLen, false));
    auto start = OptionalDate(v.start_date(), vf + ".start_date");
    if (!start.ok()) return start.status();
    auto end = OptionalDate(v.end_date(), vf + ".end_date");
    if (!end.ok()) return end.status();
    if (*start && *end && **end < **start)
      return InvalidField(vf + ".end_date", "before the start");
    RETURN_IF_ERROR(CheckPence(v.client_charge_pence(), vf + ".client_charge_pence"));
  }
  return absl::OkStatus();
}

absl::Status CheckCrisisPlan(const icr::v1::CrisisPlan& c, const std::string& f,
                             const ReferenceData& ref) {
  RETURN_IF_ERROR(CheckLines(c.warning_signs(), f + ".warning_signs", kLineLen));
  RETURN_IF_ERROR(CheckText(c.what_i_can_do(), f + ".what_i_can_do", kTextLen, false));
  RETURN_IF_ERROR(CheckCount(c.contacts_size(), f + ".contacts"));
  for (int i = 0; i < c.contacts_size(); ++i) {
    const auto& k = c.contacts(i);
    const std::string kf = At(f + ".contacts", i);
    RETURN_IF_ERROR(CheckText(k.name(), kf + ".name", kNameLen, true));
    RETURN_IF_ERROR(CheckText(k.role(), kf + ".role", kNameLen, false));
    RETURN_IF_ERROR(CheckText(k.telephone(), kf + ".telephone", 40, true));
    RETURN_IF_ERROR(
        ref.CheckOrganisation(k.organisation_code(), kf + ".organisation_code", {}, false));
    if (!icr::v1::CrisisContact::Hours_IsValid(k.hours())) {
      return InvalidField(kf + ".hours", "unknown value");
    }
  }
  RETURN_IF_ERROR(CheckText(c.how_services_should_respond(), f + ".how_services_should_respond",
                            kTextLen, false));
  RETURN_IF_ERROR(
      CheckText(c.advance_statement_ref(), f + ".advance_statement_ref", kNameLen, false));
  RETURN_IF_ERROR(
      CheckText(c.advance_decision_ref(), f + ".advance_decision_ref", kNameLen, false));
  return CheckText(c.contingency_if_carer_unavailable(), f + ".contingency_if_carer_unavailable",
                   kTextLen, false);
}

absl::Status CheckCarers(CarePlan& p, const std::string& f, Date today) {
  RETURN_IF_ERROR(CheckCount(p.carers_size(), f + ".carers"));
  for (int i = 0; i < p.carers_size(); ++i) {
    auto* c = p.mutable_carers(i);
    const std::string cf = At(f + ".carers", i);
    RETURN_IF_ERROR(CheckText(c->name(), cf + ".name", kNameLen, true));
    RETURN_IF_ERROR(CheckText(c->relationship(), cf + ".relationship", kNameLen, false));
    if (!c->nhs_number().empty()) {
      auto nhs = NormaliseNhsNumber(c->nhs_number(), cf + ".nhs_number");
      if (!nhs.ok()) return nhs.status();
      c->set_nhs_number(*nhs);
    }
    if (!CarePlanCarer::Involvement_IsValid(c->involvement())) {
      return InvalidField(cf + ".involvement", "unknown value");
    }
    RETURN_IF_ERROR(
        CheckPastDate(c->assessment_offered_date(), cf + ".assessment_offered_date", today));
    RETURN_IF_ERROR(
        CheckPastDate(c->assessment_completed_date(), cf + ".assessment_completed_date", today));
    if (!c->assessment_completed_date().empty()) {
      if (c->assessment_offered_date().empty()) {
        return InvalidField(cf + ".assessment_offered_date",
                            "required when the assessment is completed");
      }
      if (c->assessment_completed_date() < c->assessment_offered_date()) {
        return InvalidField(cf + ".assessment_completed_date", "before it was offered");
      }
    }
    RETURN_IF_ERROR(CheckText(c->support_plan_ref(), cf + ".support_plan_ref", kNameLen, false));
    if (!CarePlanCarer::Consent_IsValid(c->information_sharing_consent())) {
      return InvalidField(cf + ".information_sharing_consent", "unknown value");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAgreementValues(const icr::v1::CarePlanAgreement& a, const std::string& f,
                                  const ReferenceData& ref, Date today) {
  RETURN_IF_ERROR(CheckParticipants(a.participants(), f + ".participants", ref));
  if (!icr::v1::CarePlanAgreement::PersonAgrees_IsValid(a.person_agrees())) {
    return InvalidField(f + ".person_agrees", "unknown value");
  }
  RETURN_IF_ERROR(CheckLines(a.disagreements(), f + ".disagreements", kTextLen));
  RETURN_IF_ERROR(CheckText(a.capacity_note(), f + ".capacity_note", kTextLen, false));
  RETURN_IF_ERROR(CheckPastDate(a.discussed_on(), f + ".discussed_on", today));
  RETURN_IF_ERROR(
      CheckPastDate(a.copy_given_to_person_date(), f + ".copy_given_to_person_date", today));
  return CheckLines(a.copies_shared_with(), f + ".copies_shared_with", kNameLen);
}

// Needs that are ELIGIBLE and met (wholly or jointly) by the council: they need a personal
// budget (s25(1)(e)).
bool HasCouncilMetEligibleNeed(const CarePlan& p) {
  Ids eligible;
  for (const auto& n : p.needs()) {
    if (n.care_act_eligible() == CarePlanNeed::ELIGIBLE) eligible.insert(n.need_id());
  }
  for (const auto& v : p.interventions()) {
    if (v.funder() != CarePlanIntervention::COUNCIL && v.funder() != CarePlanIntervention::JOINT) {
      continue;
    }
    for (const auto& id : v.need_ids()) {
      if (eligible.count(id)) return true;
    }
  }
  return false;
}

bool UsesDirectPayment(const CarePlan& p) {
  if (p.personal_budget().has_direct_payment()) return true;
  return std::any_of(p.interventions().begin(), p.interventions().end(), [](const auto& v) {
    return v.delivery_mode() == CarePlanIntervention::DIRECT_PAYMENT;
  });
}

}  // namespace

std::string PlanType(const CarePlan& plan) {
  return plan.is_s117_aftercare_plan() ? "s117_aftercare" : "default";
}

void ClearAssigned(CarePlan& p) {
  p.clear_plan_id();
  p.clear_person_id();
  p.clear_nhs_number();
  p.clear_version();
  p.clear_status();
  p.clear_version_created_at();
  p.clear_version_created_by();
  p.clear_change();
  p.clear_change_reason();
  p.clear_current_version();
  p.clear_agreed_version();
  p.clear_agreed_at();
  p.clear_signoffs();
  p.clear_last_review();
  p.clear_started_on();
  p.clear_agreed_on();
  p.clear_jointly_agreed();
  p.clear_source_ref();
}

absl::Status ValidatePlan(CarePlan& p, const ReferenceData& ref, const std::string& f, Date today) {
  ClearAssigned(p);
  if (p.is_mha_care_and_treatment_plan()) {
    return InvalidField(f + ".is_mha_care_and_treatment_plan",
                        "reserved until the Mental Health Act 2025 regulations are in force");
  }
  RETURN_IF_ERROR(
      ref.CheckCouncil(p.acting_for_council_code(), f + ".acting_for_council_code", false));
  RETURN_IF_ERROR(
      ref.CheckOrganisation(p.acting_for_icb_code(), f + ".acting_for_icb_code", {"icb"}, false));
  RETURN_IF_ERROR(CheckStaff(p.key_worker(), f + ".key_worker", ref, false));
  RETURN_IF_ERROR(CheckCount(p.mdt_members_size(), f + ".mdt_members"));
  for (int i = 0; i < p.mdt_members_size(); ++i) {
    RETURN_IF_ERROR(CheckStaff(p.mdt_members(i), At(f + ".mdt_members", i), ref, true));
  }
  const auto& me = p.about_me();
  RETURN_IF_ERROR(
      CheckText(me.what_matters_to_me(), f + ".about_me.what_matters_to_me", kTextLen, false));
  RETURN_IF_ERROR(CheckText(me.strengths(), f + ".about_me.strengths", kTextLen, false));
  RETURN_IF_ERROR(
      CheckText(me.communication_needs(), f + ".about_me.communication_needs", kTextLen, false));
  RETURN_IF_ERROR(CheckText(me.preferred_name(), f + ".about_me.preferred_name", kNameLen, false));

  RETURN_IF_ERROR(CheckNeeds(p, f, today));
  const Ids needs = NeedIds(p);
  Ids goals;
  RETURN_IF_ERROR(CheckGoals(p, f, needs, goals));
  RETURN_IF_ERROR(CheckInterventions(p, f, ref, needs, goals));
  RETURN_IF_ERROR(CheckS117Interventions(p, f));
  RETURN_IF_ERROR(CheckCrisisPlan(p.crisis_plan(), f + ".crisis_plan", ref));
  RETURN_IF_ERROR(CheckText(p.risk().summary(), f + ".risk.summary", kTextLen, false));
  RETURN_IF_ERROR(
      CheckText(p.risk().safety_plan_ref(), f + ".risk.safety_plan_ref", kNameLen, false));
  RETURN_IF_ERROR(CheckCarers(p, f, today));
  RETURN_IF_ERROR(CheckBudgetValues(p, f));
  RETURN_IF_ERROR(
      CheckText(p.advice_and_prevention(), f + ".advice_and_prevention", kTextLen, false));
  RETURN_IF_ERROR(CheckAgreementValues(p.agreement(), f + ".agreement", ref, today));
  const auto& r = p.review();
  RETURN_IF_ERROR(OptionalDate(r.next_review_date(), f + ".review.next_review_date").status());
  RETURN_IF_ERROR(
      OptionalDate(r.light_touch_review_date(), f + ".review.light_touch_review_date").status());
  RETURN_IF_ERROR(CheckLines(r.review_triggers(), f + ".review.review_triggers", kNameLen));
  RETURN_IF_ERROR(
      CheckText(p.sharing().legal_basis(), f + ".sharing.legal_basis", kNameLen, false));
  return CheckText(p.sharing().restrictions(), f + ".sharing.restrictions", kTextLen, false);
}

absl::Status CheckEligibility(const CarePlanNeed& need, const std::string& f) {
  if (!CarePlanNeed::Eligibility_IsValid(need.care_act_eligible())) {
    return InvalidField(f + ".care_act_eligible", "unknown value");
  }
  const std::string df = f + ".determination";
  if (need.has_determination()) RETURN_IF_ERROR(CheckDetermination(need.determination(), df));
  if (need.care_act_eligible() != CarePlanNeed::ELIGIBLE) return absl::OkStatus();
  if (!need.has_determination()) {
    return InvalidField(df, "required for an ELIGIBLE need (the recorded determination)");
  }
  const auto& d = need.determination();
  const int unable = d.unable_outcomes_size();  // distinct, each with a reason (checked above)
  if (d.subject() == EligibilityDetermination::ADULT) {
    if (!d.arises_from_impairment_or_illness()) {
      return InvalidField(df + ".arises_from_impairment_or_illness",
                          "ELIGIBLE needs arise from a physical or mental impairment or illness "
                          "(reg 2(1)(a))");
    }
    if (unable < 2) {
      return InvalidField(df + ".unable_outcomes",
                          "ELIGIBLE needs two or more outcomes the adult cannot achieve "
                          "(reg 2(1)(b)); " +
                              std::to_string(unable) + " recorded");
    }
  } else {
    if (!d.arises_from_providing_necessary_care()) {
      return InvalidField(
          df + ".arises_from_providing_necessary_care",
          "a carer's ELIGIBLE needs arise from providing necessary care (reg 3(1)(a))");
    }
    if (unable < 1 && !d.carer_health_at_risk()) {
      return InvalidField(df + ".unable_outcomes",
                          "a carer's ELIGIBLE needs put their health at risk or leave at least one "
                          "outcome they cannot achieve (reg 3(1)(b))");
    }
  }
  if (!d.significant_impact_on_wellbeing()) {
    return InvalidField(df + ".significant_impact_on_wellbeing",
                        "ELIGIBLE needs a significant impact on wellbeing (reg 2(1)(c), 3(1)(c))");
  }
  return absl::OkStatus();
}

absl::Status CheckS117Interventions(const CarePlan& p, const std::string& f) {
  std::map<std::string, bool> arises;  // need id -> arises from the mental disorder
  for (const auto& n : p.needs()) arises[n.need_id()] = n.arises_from_mental_disorder();
  for (int i = 0; i < p.interventions_size(); ++i) {
    const auto& v = p.interventions(i);
    if (!v.is_s117()) continue;
    const std::string vf = At(f + ".interventions", i);
    if (!p.is_s117_aftercare_plan()) {
      return InvalidField(vf + ".is_s117",
                          "only in the S117 aftercare plan (is_s117_aftercare_plan)");
    }
    if (v.client_charge_pence() != 0) {
      return InvalidField(vf + ".client_charge_pence",
                          "S117 aftercare is free: no charge to the person (domain-rules 2.8)");
    }
    if (v.funder() == CarePlanIntervention::SELF) {
      return InvalidField(vf + ".funder", "S117 aftercare is free: never funded by the person");
    }
    if (v.need_ids_size() == 0) {
      return InvalidField(
          vf + ".need_ids",
          "an S117 service meets a need arising from the mental disorder: link one");
    }
    for (int j = 0; j < v.need_ids_size(); ++j) {
      auto it = arises.find(v.need_ids(j));
      if (it == arises.end()) {
        return InvalidField(At(vf + ".need_ids", j), "no need '" + v.need_ids(j) + "' in the plan");
      }
      if (!it->second) {
        return InvalidField(At(vf + ".need_ids", j),
                            "need '" + v.need_ids(j) +
                                "' does not arise from the mental disorder, so it is not S117 "
                                "aftercare");
      }
    }
  }
  return absl::OkStatus();
}

namespace {
// The most an amount paid every `period` may be (kMaxWeeklyPence a week); a one-off amount, or
// one of no stated period, as much as a year's.
int64_t MaxPence(icr::v1::CarePlanBudget::Frequency period) {
  using icr::v1::CarePlanBudget;
  switch (period) {
    case CarePlanBudget::WEEKLY:
      return kMaxWeeklyPence;
    case CarePlanBudget::FOUR_WEEKLY:
      return 4 * kMaxWeeklyPence;
    case CarePlanBudget::MONTHLY:
      return 5 * kMaxWeeklyPence;
    default:
      return 53 * kMaxWeeklyPence;
  }
}
}  // namespace

absl::Status CheckBudgetValues(const CarePlan& p, const std::string& f) {
  const auto& b = p.personal_budget();
  const std::string bf = f + ".personal_budget";
  if (!icr::v1::CarePlanBudget::Frequency_IsValid(b.period())) {
    return InvalidField(bf + ".period", "unknown value");
  }
  RETURN_IF_ERROR(CheckPence(b.amount_pence(), bf + ".amount_pence", MaxPence(b.period())));
  RETURN_IF_ERROR(
      CheckPence(b.council_amount_pence(), bf + ".council_amount_pence", MaxPence(b.period())));
  RETURN_IF_ERROR(CheckPence(b.icb_amount_pence(), bf + ".icb_amount_pence", MaxPence(b.period())));
  if (b.council_amount_pence() + b.icb_amount_pence() != 0 &&
      b.council_amount_pence() + b.icb_amount_pence() != b.amount_pence()) {
    return InvalidField(bf + ".council_amount_pence",
                        "the council and ICB amounts add up to amount_pence");
  }
  const auto& dp = b.direct_payment();
  if (!icr::v1::CarePlanBudget::Frequency_IsValid(dp.frequency())) {
    return InvalidField(bf + ".direct_payment.frequency", "unknown value");
  }
  RETURN_IF_ERROR(
      CheckPence(dp.amount_pence(), bf + ".direct_payment.amount_pence", MaxPence(dp.frequency())));
  return CheckLinks(dp.need_ids(), NeedIds(p), bf + ".direct_payment.need_ids", "need");
}

std::vector<std::string> MissingForAgreement(const CarePlan& p, const AgreeContext& ctx) {
  std::vector<std::string> missing;
  auto require = [&](bool ok, std::string what) {
    if (!ok) missing.push_back(std::move(what));
  };
  require(p.is_nhs_pcsp() || p.is_care_act_plan() || p.is_s117_aftercare_plan(),
          "legal_basis: at least one of is_nhs_pcsp, is_care_act_plan, is_s117_aftercare_plan");
  if (ctx.must_stay_s117) {
    require(p.is_s117_aftercare_plan(),
            "is_s117_aftercare_plan: required while the person's S117 entitlement is active");
  }
  require(!IsPlaceholder(p.key_worker().name()) && !p.key_worker().organisation_code().empty(),
          "key_worker: required (a named key worker and their organisation)");
  require(!Blank(p.about_me().what_matters_to_me()),
          "about_me.what_matters_to_me: required, in the person's own words");
  require(p.needs_size() > 0, "needs: at least one");
  require(p.goals_size() > 0, "goals: at least one");
  bool any_s117 = false;
  for (int i = 0; i < p.interventions_size(); ++i) {
    const auto& v = p.interventions(i);
    const std::string vf = At("interventions", i);
    require(v.need_ids_size() + v.goal_ids_size() > 0, vf + ": link to at least one need or goal");
    require(!v.responsible().organisation_code().empty(),
            vf + ".responsible.organisation_code: required");
    require(!IsPlaceholder(v.responsible().name()) || !IsPlaceholder(v.responsible().role()),
            vf + ".responsible: a named person or role (not TBC)");
    if (v.is_s117()) {
      any_s117 = true;
      require(v.funder() != CarePlanIntervention::FUNDER_UNSPECIFIED,
              vf + ".funder: required for an S117 service");
    }
  }
  if (p.is_s117_aftercare_plan()) {
    require(any_s117,
            "interventions: at least one S117 service (is_s117) in an S117 aftercare plan");
  }
  const auto& crisis = p.crisis_plan();
  require(std::any_of(crisis.warning_signs().begin(), crisis.warning_signs().end(),
                      [](const std::string& s) { return !Blank(s); }),
          "crisis_plan.warning_signs: required");
  require(crisis.contacts_size() > 0, "crisis_plan.contacts: at least one");
  for (int i = 0; i < p.carers_size(); ++i) {
    const auto& c = p.carers(i);
    require(c.involvement() != CarePlanCarer::INVOLVEMENT_UNSPECIFIED,
            At("carers", i) + ".involvement: required");
    require(!c.assessment_offered_date().empty(),
            At("carers", i) + ".assessment_offered_date: required (a carer's assessment offered)");
  }
  const auto& budget = p.personal_budget();
  if (HasCouncilMetEligibleNeed(p)) {
    require(budget.amount_pence() > 0 &&
                budget.period() != icr::v1::CarePlanBudget::FREQUENCY_UNSPECIFIED,
            "personal_budget: required (amount and period) for an eligible need the council meets");
  }
  if (UsesDirectPayment(p)) {
    const auto& dp = budget.direct_payment();
    require(dp.amount_pence() > 0, "personal_budget.direct_payment.amount_pence: required");
    require(dp.frequency() != icr::v1::CarePlanBudget::FREQUENCY_UNSPECIFIED,
            "personal_budget.direct_payment.frequency: required");
    require(dp.need_ids_size() > 0,
            "personal_budget.direct_payment.need_ids: at least one (the needs it meets)");
  }
  if (p.is_care_act_plan()) {
    require(!Blank(p.advice_and_prevention()),
            "advice_and_prevention: required in a Care Act plan");
  }
  if (!p.has_agreement()) {
    missing.push_back("agreement: required (who took part and the person's agreement)");
  } else {
    const auto& a = p.agreement();
    require(a.participants_size() > 0, "agreement.participants: at least one (who took part)");
    require(a.person_agrees() != icr::v1::CarePlanAgreement::PERSON_AGREES_UNSPECIFIED,
            "agreement.person_agrees: required");
    if (a.person_agrees() == icr::v1::CarePlanAgreement::PARTLY ||
        a.person_agrees() == icr::v1::CarePlanAgreement::NO) {
      require(a.disagreements_size() > 0,
              "agreement.disagreements: record what the person disagrees with");
    }
  }
  const auto next = ParseDate(p.review().next_review_date());
  if (!next) {
    missing.push_back("review.next_review_date: required");
  } else {
    const Date latest = AddMonths(ctx.agreed_on, ctx.rule.max_review_months);
    require(*next > ctx.agreed_on && *next <= latest,
            "review.next_review_date: after the agreement and within " +
                std::to_string(ctx.rule.max_review_months) + " months of it (by " +
                FormatDate(latest) + ")");
  }
  return missing;
}

absl::Status CheckAgreement(const CarePlan& plan, const AgreeContext& context) {
  const auto missing = MissingForAgreement(plan, context);
  if (missing.empty()) return absl::OkStatus();
  std::string message = "cannot agree: ";
  for (size_t i = 0; i < missing.size(); ++i) message += (i ? "; " : "") + missing[i];
  return absl::FailedPreconditionError(message);
}

std::optional<Agency> AgencyOf(const std::string& kind) {
  if (kind == "trust" || kind == "icb") return icr::v1::CarePlanSignOff::HEALTH;
  if (kind == "council") return icr::v1::CarePlanSignOff::SOCIAL_CARE;
  return std::nullopt;
}

absl::StatusOr<Agency> SigningAgency(const std::string& org_kind, Agency requested) {
  const auto own = AgencyOf(org_kind);
  if (!own) {
    return absl::PermissionDeniedError("only a trust, an ICB or a council signs off a care plan");
  }
  if (requested != icr::v1::CarePlanSignOff::AGENCY_UNSPECIFIED && requested != *own) {
    return absl::PermissionDeniedError("agency: a " + org_kind + " signs for " + AgencyName(*own) +
                                       ", not " + AgencyName(requested));
  }
  return *own;
}

bool SignoffsComplete(const PlanTypeRule& rule, const std::set<Agency>& signed_by, bool joint) {
  const auto n = std::count_if(rule.agencies.begin(), rule.agencies.end(),
                               [&](Agency a) { return signed_by.count(a) > 0; });
  return n >= (joint ? static_cast<int>(rule.agencies.size()) : rule.signoffs_needed);
}

absl::Status CheckLateSignoff(const PlanTypeRule& rule, Agency agency,
                              const std::set<Agency>& signed_in_force, int64_t version) {
  if (signed_in_force.count(agency)) {
    return absl::AlreadyExistsError("agency: " + AgencyName(agency) +
                                    " has already signed version " + std::to_string(version));
  }
  if (!rule.agencies.count(agency)) {
    return RefusedField("agency", AgencyName(agency) + " does not sign plans of this type");
  }
  return absl::OkStatus();
}

bool JointlyAgreed(const std::set<Agency>& signed_by) {
  return signed_by.count(icr::v1::CarePlanSignOff::HEALTH) &&
         signed_by.count(icr::v1::CarePlanSignOff::SOCIAL_CARE);
}

Date LatestSignedOn(const std::vector<DatedSignoff>& signoffs) {
  Date latest{};
  for (const auto& s : signoffs) latest = std::max(latest, s.signed_on);
  return latest;
}

std::optional<Date> AgreedOnByRule(const PlanTypeRule& rule, std::vector<DatedSignoff> signoffs) {
  std::stable_sort(
      signoffs.begin(), signoffs.end(),
      [](const DatedSignoff& a, const DatedSignoff& b) { return a.signed_on < b.signed_on; });
  std::set<Agency> signed_by;
  for (const auto& s : signoffs) {
    signed_by.insert(s.agency);
    if (SignoffsComplete(rule, signed_by)) return s.signed_on;
  }
  return std::nullopt;
}

Date FirstLightTouchReview(Date agreed_on) { return agreed_on + std::chrono::days{42}; }

std::string AgencyName(Agency agency) {
  switch (agency) {
    case icr::v1::CarePlanSignOff::HEALTH:
      return "health";
    case icr::v1::CarePlanSignOff::SOCIAL_CARE:
      return "social_care";
    default:
      return "unspecified";
  }
}

std::optional<Agency> ParseAgency(const std::string& name) {
  if (name == "health") return icr::v1::CarePlanSignOff::HEALTH;
  if (name == "social_care") return icr::v1::CarePlanSignOff::SOCIAL_CARE;
  return std::nullopt;
}

std::string StatusName(PlanStatus status) { return CarePlan::Status_Name(status); }

std::optional<PlanStatus> ParseStatus(const std::string& name) {
  PlanStatus s;
  if (!CarePlan::Status_Parse(name, &s) || s == CarePlan::STATUS_UNSPECIFIED) return std::nullopt;
  return s;
}

absl::StatusOr<PlanStatus> Transition(PlanStatus from, Action action,
                                      icr::v1::CarePlanReview::Outcome outcome) {
  auto refuse = [](const std::string& why) { return RefusedField("status", why); };
  if (from == CarePlan::CLOSED) return refuse("the plan is CLOSED; nothing changes it");
  switch (action) {
    case Action::kUpdate:
      return CarePlan::DRAFT;  // an agreed version is never edited: the change is a new draft
    case Action::kSignOff:
      // An AGREED plan may still be signed by an agency that has not signed the version in force
      // (CheckLateSignoff); no new version.
      if (from == CarePlan::AGREED) return CarePlan::AGREED;
      [[fallthrough]];
    case Action::kAgree:
      if (from == CarePlan::DRAFT)
        return action == Action::kAgree ? CarePlan::AGREED : CarePlan::DRAFT;
      return refuse("only a DRAFT is agreed; this version is " + StatusName(from) +
                    " (update it to make a new draft)");
    case Action::kStartReview:
      if (from == CarePlan::AGREED) return CarePlan::UNDER_REVIEW;
      return refuse(from == CarePlan::UNDER_REVIEW ? "a review is already open"
                                                   : "only an AGREED plan is reviewed");
    case Action::kRecordReview:
      if (from != CarePlan::UNDER_REVIEW) return refuse("no review is open (StartReview first)");
      if (outcome == icr::v1::CarePlanReview::MODIFY) return CarePlan::DRAFT;
      return CarePlan::AGREED;
    case Action::kClose:
      return CarePlan::CLOSED;
  }
  return refuse("unknown action");
}

std::set<Agency> ParticipantAgencies(
    const google::protobuf::RepeatedPtrField<CarePlanParticipant>& participants,
    const ReferenceData& ref) {
  std::set<Agency> present;
  for (const auto& p : participants) {
    const Organisation* org = ref.FindOrganisation(p.organisation_code());
    if (auto a = org ? AgencyOf(org->kind) : std::nullopt) present.insert(*a);
  }
  return present;
}

absl::Status CheckClose(bool is_s117_plan, bool s117_entitlement_open) {
  if (is_s117_plan && s117_entitlement_open) {
    return absl::FailedPreconditionError(
        "cannot close: this is the person's S117 aftercare plan and their S117 entitlement is "
        "active; it can only be superseded by a new version that is the S117 plan too");
  }
  return absl::OkStatus();
}

absl::Status ValidateReview(icr::v1::CarePlanReview& r, const ReferenceData& ref,
                            const PlanTypeRule& rule, bool is_s117_plan, Date today) {
  r.clear_review_id();
  r.clear_plan_version();
  r.clear_recorded_by_organisation();
  auto date = RequireDate(r.review_date(), "review.review_date");
  if (!date.ok()) return date.status();
  if (*date > today) return InvalidField("review.review_date", "is in the future");
  if (r.participants_size() == 0) {
    return InvalidField("review.participants", "at least one (who took part)");
  }
  RETURN_IF_ERROR(CheckParticipants(r.participants(), "review.participants", ref));
  if (r.outcome() == icr::v1::CarePlanReview::OUTCOME_UNSPECIFIED ||
      !icr::v1::CarePlanReview::Outcome_IsValid(r.outcome())) {
    return InvalidField("review.outcome", "CONTINUE, MODIFY or RECOMMEND_CLOSURE");
  }
  auto next = RequireDate(r.next_review_date(), "review.next_review_date");
  if (!next.ok()) return next.status();
  const Date latest = AddMonths(*date, rule.max_review_months);
  if (*next <= *date || *next > latest) {
    return InvalidField("review.next_review_date",
                        "after the review and within " + std::to_string(rule.max_review_months) +
                            " months of it (by " + FormatDate(latest) + ")");
  }
  RETURN_IF_ERROR(CheckText(r.notes(), "review.notes", kTextLen, false));
  if (is_s117_plan && ParticipantAgencies(r.participants(), ref).size() < 2) {
    return RefusedField("review.participants",
                        "an S117 aftercare plan is reviewed jointly: a participant from the "
                        "council and one from health (domain-rules 5)");
  }
  return absl::OkStatus();
}

Date AddMonths(Date d, int months) {
  using namespace std::chrono;
  const year_month_day ymd{d};
  const year_month ym = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  const day last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
  return sys_days{ym.year() / ym.month() / std::min(ymd.day(), last)};
}

}  // namespace icr::careplan
