// Pure care plan rules (domain-rules 4.4-4.8): field validation, every agree-time rule with all
// missing parts listed, Care Act eligibility for adults and carers, S117, budgets, states.
#include "services/careplan/care_plan.h"

#include <gtest/gtest.h>

#include <functional>

namespace icr::careplan {
namespace {
using icr::v1::AdultOutcome;
using icr::v1::CarePlan;
using icr::v1::CarePlanIntervention;
using icr::v1::CarePlanNeed;
using icr::v1::CarePlanReview;
using icr::v1::CarePlanSignOff;
using icr::v1::CarerOutcome;
using icr::v1::EligibilityDetermination;
using icr::v1::UnableOutcome;

const Date kToday = *ParseDate("2026-11-23");
const PlanTypeRule kDefaultRule{{CarePlanSignOff::HEALTH, CarePlanSignOff::SOCIAL_CARE}, 1, 12};
const PlanTypeRule kS117Rule{{CarePlanSignOff::HEALTH, CarePlanSignOff::SOCIAL_CARE}, 2, 12};

ReferenceData Ref() {
  ReferenceData ref;
  ref.AddOrganisation({"RGD", "trust", "Leeds and York Partnership", "QWO"});
  ref.AddOrganisation({"QWO", "icb", "West Yorkshire ICB", ""});
  ref.AddOrganisation({"E08000035", "council", "Leeds", "QWO"});
  ref.AddOrganisation({"B86001", "gp_practice", "A practice", "QWO"});
  return ref;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// INVALID_ARGUMENT whose message names `field` first ("field: reason").
void ExpectInvalid(const absl::Status& s, const std::string& field, const std::string& label) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << label;
  EXPECT_EQ(Message(s).rfind(field + ":", 0), 0u) << label << " -> " << Message(s);
}

void AddUnable(EligibilityDetermination* d, AdultOutcome::Code code, UnableOutcome::Reason why) {
  auto* o = d->add_unable_outcomes();
  o->set_adult_outcome(code);
  o->add_reasons(why);
}

// An adult determination that meets reg 2: impairment, two outcomes with reasons, wellbeing.
EligibilityDetermination AdultDetermination() {
  EligibilityDetermination d;
  d.set_subject(EligibilityDetermination::ADULT);
  d.set_arises_from_impairment_or_illness(true);
  AddUnable(&d, AdultOutcome::NUTRITION, UnableOutcome::NEEDS_ASSISTANCE);
  AddUnable(&d, AdultOutcome::HABITABLE_HOME, UnableOutcome::SIGNIFICANT_PAIN_DISTRESS_ANXIETY);
  d.set_significant_impact_on_wellbeing(true);
  d.set_determined_on("2026-10-12");
  return d;
}

// A carer determination that meets reg 3 through one outcome.
EligibilityDetermination CarerDetermination() {
  EligibilityDetermination d;
  d.set_subject(EligibilityDetermination::CARER);
  d.set_arises_from_providing_necessary_care(true);
  auto* o = d.add_unable_outcomes();
  o->set_carer_outcome(CarerOutcome::WORK_EDUCATION_VOLUNTEERING);
  o->add_reasons(UnableOutcome::SIGNIFICANTLY_LONGER);
  d.set_significant_impact_on_wellbeing(true);
  return d;
}

CarePlanNeed EligibleNeed(const EligibilityDetermination& d) {
  CarePlanNeed n;
  n.set_need_id("n");
  n.set_description("need");
  n.set_care_act_eligible(CarePlanNeed::ELIGIBLE);
  *n.mutable_determination() = d;
  return n;
}

// A plan that passes every check: PCSP and Care Act plan, one eligible council-met need with a
// personal budget, a clinical need, a carer, a crisis plan, agreement and a review in 6 months.
CarePlan GoodPlan() {
  CarePlan p;
  p.set_is_nhs_pcsp(true);
  p.set_is_care_act_plan(true);
  auto* kw = p.mutable_key_worker();
  kw->set_name("Alex Key");
  kw->set_role("Care coordinator");
  kw->set_organisation_code("RGD");
  auto* mdt = p.add_mdt_members();
  mdt->set_role("Social worker");
  mdt->set_organisation_code("E08000035");
  p.mutable_about_me()->set_what_matters_to_me(
      "Getting back to my allotment and seeing my sister.");
  auto* n1 = p.add_needs();
  *n1 = EligibleNeed(AdultDetermination());
  n1->set_need_id("n1");
  n1->set_description("Managing meals and the home");
  n1->set_care_act_outcome(AdultOutcome::NUTRITION);
  n1->set_arises_from_mental_disorder(true);
  auto* n2 = p.add_needs();
  n2->set_need_id("n2");
  n2->set_description("Taking medication reliably");
  n2->set_arises_from_mental_disorder(true);
  auto* g = p.add_goals();
  g->set_goal_id("g1");
  g->set_in_my_words("I want to cook for myself again.");
  g->add_need_ids("n1");
  auto* i1 = p.add_interventions();
  i1->set_intervention_id("i1");
  i1->set_description("Home support three times a week");
  i1->add_need_ids("n1");
  i1->add_goal_ids("g1");
  i1->mutable_responsible()->set_role("Support worker");
  i1->mutable_responsible()->set_organisation_code("E08000035");
  i1->set_funder(CarePlanIntervention::COUNCIL);
  i1->set_delivery_mode(CarePlanIntervention::COMMISSIONED);
  auto* i2 = p.add_interventions();
  i2->set_intervention_id("i2");
  i2->set_description("Depot clinic");
  i2->add_need_ids("n2");
  i2->mutable_responsible()->set_name("Jo Nurse");
  i2->mutable_responsible()->set_organisation_code("RGD");
  i2->set_funder(CarePlanIntervention::ICB);
  i2->set_delivery_mode(CarePlanIntervention::IN_HOUSE);
  p.mutable_crisis_plan()->add_warning_signs("Not sleeping for two nights");
  auto* contact = p.mutable_crisis_plan()->add_contacts();
  contact->set_name("Crisis team");
  contact->set_telephone("0113 000 0000");
  auto* carer = p.add_carers();
  carer->set_name("Pat");
  carer->set_relationship("sister");
  carer->set_involvement(icr::v1::CarePlanCarer::INVOLVED);
  carer->set_assessment_offered_date("2026-10-01");
  p.mutable_personal_budget()->set_amount_pence(15000);
  p.mutable_personal_budget()->set_period(icr::v1::CarePlanBudget::WEEKLY);
  p.set_advice_and_prevention("Leeds Directory; peer support group on Tuesdays.");
  auto* a = p.mutable_agreement();
  auto* me = a->add_participants();
  me->set_name("The person");
  me->set_kind(icr::v1::CarePlanParticipant::PERSON);
  a->set_person_agrees(icr::v1::CarePlanAgreement::YES);
  p.mutable_review()->set_next_review_date("2027-05-23");
  return p;
}

// GoodPlan as the S117 aftercare plan: the medication clinic is S117 aftercare.
CarePlan GoodS117Plan() {
  CarePlan p = GoodPlan();
  p.set_is_s117_aftercare_plan(true);
  p.mutable_interventions(1)->set_is_s117(true);
  return p;
}

AgreeContext Context(const PlanTypeRule& rule = kDefaultRule) { return {kToday, rule, false}; }

std::vector<std::string> Missing(const CarePlan& p, const AgreeContext& ctx = Context()) {
  return MissingForAgreement(p, ctx);
}

// ---- Field validation (create and update) ----

TEST(ValidatePlan, AcceptsACompletePlanAndClearsWhatTheServiceAssigns) {
  CarePlan p = GoodS117Plan();
  p.set_plan_id("someone-else's");
  p.set_version(7);
  p.set_status(CarePlan::AGREED);
  p.add_signoffs()->set_signed_by("forged");
  ASSERT_TRUE(ValidatePlan(p, Ref(), "plan", kToday).ok())
      << ValidatePlan(p, Ref(), "plan", kToday);
  EXPECT_TRUE(p.plan_id().empty());
  EXPECT_EQ(p.version(), 0);
  EXPECT_EQ(p.status(), CarePlan::STATUS_UNSPECIFIED);
  EXPECT_EQ(p.signoffs_size(), 0);
  CarePlan empty;
  EXPECT_TRUE(ValidatePlan(empty, Ref(), "plan", kToday).ok())
      << "an empty draft is valid; completeness is checked at agreement";
}

TEST(ValidatePlan, RefusesEachBadFieldByName) {
  struct Case {
    std::function<void(CarePlan&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& p) { p.mutable_key_worker()->set_organisation_code("RZZ"); },
       "plan.key_worker.organisation_code"},
      {[](auto& p) { p.mutable_key_worker()->set_organisation_code(""); },
       "plan.key_worker.organisation_code"},
      {[](auto& p) { p.mutable_mdt_members(0)->clear_role(); }, "plan.mdt_members[0]"},
      {[](auto& p) { p.mutable_needs(1)->set_need_id("n1"); }, "plan.needs[1].need_id"},
      {[](auto& p) { p.mutable_needs(0)->clear_description(); }, "plan.needs[0].description"},
      {[](auto& p) {
         p.mutable_needs(1)->set_care_act_outcome(static_cast<AdultOutcome::Code>(11));
       },
       "plan.needs[1].care_act_outcome"},
      {[](auto& p) { p.mutable_needs(0)->set_carer_outcome(CarerOutcome::RECREATION); },
       "plan.needs[0].carer_outcome"},  // as well as its adult outcome
      {[](auto& p) { p.mutable_needs(0)->set_assessed_on("2027-01-01"); },
       "plan.needs[0].assessed_on"},
      {[](auto& p) { p.mutable_goals(0)->add_need_ids("n9"); }, "plan.goals[0].need_ids[1]"},
      {[](auto& p) { p.mutable_goals(0)->clear_in_my_words(); }, "plan.goals[0].in_my_words"},
      {[](auto& p) { p.mutable_interventions(0)->add_goal_ids("g9"); },
       "plan.interventions[0].goal_ids[1]"},
      {[](auto& p) { p.mutable_interventions(1)->set_intervention_id("i1"); },
       "plan.interventions[1].intervention_id"},
      {[](auto& p) { p.mutable_interventions(0)->set_client_charge_pence(-1); },
       "plan.interventions[0].client_charge_pence"},
      {[](auto& p) {
         p.mutable_interventions(0)->set_start_date("2026-12-01");
         p.mutable_interventions(0)->set_end_date("2026-11-01");
       },
       "plan.interventions[0].end_date"},
      {[](auto& p) {
         p.mutable_interventions(0)->set_funder(static_cast<CarePlanIntervention::Funder>(42));
       },
       "plan.interventions[0].funder"},
      {[](auto& p) { p.mutable_crisis_plan()->mutable_contacts(0)->clear_telephone(); },
       "plan.crisis_plan.contacts[0].telephone"},
      {[](auto& p) { p.mutable_crisis_plan()->add_warning_signs(""); },
       "plan.crisis_plan.warning_signs[1]"},
      {[](auto& p) { p.mutable_carers(0)->set_assessment_completed_date("2026-09-01"); },
       "plan.carers[0].assessment_completed_date"},
      {[](auto& p) { p.mutable_carers(0)->set_nhs_number("9990000019"); },
       "plan.carers[0].nhs_number"},
      {[](auto& p) {
         auto* pro = p.mutable_agreement()->add_participants();
         pro->set_name("A doctor");
         pro->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
       },
       "plan.agreement.participants[1].organisation_code"},
      {[](auto& p) { p.mutable_agreement()->set_discussed_on("2030-01-01"); },
       "plan.agreement.discussed_on"},
      {[](auto& p) { p.mutable_review()->set_next_review_date("2027-02-30"); },
       "plan.review.next_review_date"},
      {[](auto& p) { p.set_acting_for_council_code("E07000008"); }, "plan.acting_for_council_code"},
      {[](auto& p) { p.set_acting_for_icb_code("RGD"); }, "plan.acting_for_icb_code"},
      {[](auto& p) { p.set_is_mha_care_and_treatment_plan(true); },
       "plan.is_mha_care_and_treatment_plan"},
      {[](auto& p) { p.mutable_about_me()->set_what_matters_to_me(std::string(4001, 'x')); },
       "plan.about_me.what_matters_to_me"},
  };
  for (const auto& c : cases) {
    CarePlan p = GoodPlan();
    c.mutate(p);
    ExpectInvalid(ValidatePlan(p, Ref(), "plan", kToday), c.field, c.field);
  }
}

// ---- Agree-time rules (4.4 rules 1-5, 8): every missing part, all at once ----

TEST(Agreement, ACompletePlanCanBeAgreed) {
  EXPECT_TRUE(Missing(GoodPlan()).empty());
  EXPECT_TRUE(CheckAgreement(GoodPlan(), Context()).ok());
  EXPECT_TRUE(CheckAgreement(GoodS117Plan(), Context(kS117Rule)).ok());
}

TEST(Agreement, AnEmptyPlanListsEveryMissingPart) {
  CarePlan p;
  auto s = CheckAgreement(p, Context());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(s).rfind("cannot agree: ", 0), 0u) << Message(s);
  const std::vector<std::string> expected = {"legal_basis:",
                                             "key_worker:",
                                             "about_me.what_matters_to_me:",
                                             "needs: at least one",
                                             "goals: at least one",
                                             "crisis_plan.warning_signs: required",
                                             "crisis_plan.contacts: at least one",
                                             "agreement: required",
                                             "review.next_review_date:"};
  const auto missing = Missing(p);
  ASSERT_EQ(missing.size(), expected.size()) << Message(s);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(missing[i].rfind(expected[i], 0), 0u) << missing[i];
    EXPECT_NE(Message(s).find(missing[i]), std::string::npos) << missing[i];
  }
}

// Each rule alone: take one thing away from a complete plan and exactly the parts it breaks
// are named, nothing else.
TEST(Agreement, EachRuleNamesItsMissingParts) {
  struct Case {
    std::string name;
    std::function<void(CarePlan&)> mutate;
    std::vector<std::string> parts;  // prefixes of the missing parts, in order
    bool s117 = false;
  };
  const std::vector<Case> cases = {
      {"no legal basis",
       [](auto& p) {
         p.set_is_nhs_pcsp(false);
         p.set_is_care_act_plan(false);
       },
       {"legal_basis:"}},
      {"no key worker", [](auto& p) { p.clear_key_worker(); }, {"key_worker:"}},
      {"key worker TBC",
       [](auto& p) { p.mutable_key_worker()->set_name(" TBC "); },
       {"key_worker:"}},
      {"no words",
       [](auto& p) { p.mutable_about_me()->set_what_matters_to_me("  "); },
       {"about_me.what_matters_to_me:"}},
      {"no need", [](auto& p) { p.clear_needs(); }, {"needs: at least one"}},
      {"no goal", [](auto& p) { p.clear_goals(); }, {"goals: at least one"}},
      {"unlinked intervention",
       [](auto& p) { p.mutable_interventions(1)->clear_need_ids(); },
       {"interventions[1]: link to at least one need or goal"}},
      {"nobody responsible",
       [](auto& p) { p.mutable_interventions(0)->mutable_responsible()->set_role("tbc"); },
       {"interventions[0].responsible:"}},
      {"no responsible organisation",
       [](auto& p) { p.mutable_interventions(1)->clear_responsible(); },
       {"interventions[1].responsible.organisation_code:", "interventions[1].responsible:"}},
      {"no warning signs",
       [](auto& p) { p.mutable_crisis_plan()->clear_warning_signs(); },
       {"crisis_plan.warning_signs:"}},
      {"no crisis contact",
       [](auto& p) { p.mutable_crisis_plan()->clear_contacts(); },
       {"crisis_plan.contacts:"}},
      {"carer not involved or offered",
       [](auto& p) {
         p.mutable_carers(0)->clear_involvement();
         p.mutable_carers(0)->clear_assessment_offered_date();
       },
       {"carers[0].involvement:", "carers[0].assessment_offered_date:"}},
      {"council-met eligible need, no budget",
       [](auto& p) { p.clear_personal_budget(); },
       {"personal_budget:"}},
      {"budget with no period",
       [](auto& p) { p.mutable_personal_budget()->clear_period(); },
       {"personal_budget:"}},
      {"Care Act plan without advice",
       [](auto& p) { p.clear_advice_and_prevention(); },
       {"advice_and_prevention:"}},
      {"no agreement", [](auto& p) { p.clear_agreement(); }, {"agreement: required"}},
      {"nobody took part",
       [](auto& p) { p.mutable_agreement()->clear_participants(); },
       {"agreement.participants:"}},
      {"agreement not recorded",
       [](auto& p) { p.mutable_agreement()->clear_person_agrees(); },
       {"agreement.person_agrees:"}},
      {"partly agrees, disagreements not recorded",
       [](auto& p) {
         p.mutable_agreement()->set_person_agrees(icr::v1::CarePlanAgreement::PARTLY);
       },
       {"agreement.disagreements:"}},
      {"no next review",
       [](auto& p) { p.mutable_review()->clear_next_review_date(); },
       {"review.next_review_date: required"}},
      {"next review too late",
       [](auto& p) { p.mutable_review()->set_next_review_date("2027-11-24"); },
       {"review.next_review_date: after the agreement and within 12 months"}},
      {"next review today",
       [](auto& p) { p.mutable_review()->set_next_review_date("2026-11-23"); },
       {"review.next_review_date: after"}},
      {"direct payment incomplete",
       [](auto& p) {
         p.mutable_interventions(0)->set_delivery_mode(CarePlanIntervention::DIRECT_PAYMENT);
       },
       {"personal_budget.direct_payment.amount_pence:", "personal_budget.direct_payment.frequency:",
        "personal_budget.direct_payment.need_ids:"}},
      {"S117 plan with no S117 service",
       [](auto& p) { p.mutable_interventions(1)->set_is_s117(false); },
       {"interventions: at least one S117 service"},
       true},
      {"S117 service without a funder",
       [](auto& p) { p.mutable_interventions(1)->clear_funder(); },
       {"interventions[1].funder: required for an S117 service"},
       true},
  };
  for (const auto& c : cases) {
    CarePlan p = c.s117 ? GoodS117Plan() : GoodPlan();
    c.mutate(p);
    const auto missing = Missing(p, Context(c.s117 ? kS117Rule : kDefaultRule));
    ASSERT_EQ(missing.size(), c.parts.size())
        << c.name << ": " << Message(CheckAgreement(p, Context()));
    for (size_t i = 0; i < c.parts.size(); ++i) {
      EXPECT_EQ(missing[i].rfind(c.parts[i], 0), 0u) << c.name << ": " << missing[i];
    }
  }
}

TEST(Agreement, SeveralGapsAreListedTogetherInOneMessage) {
  CarePlan p = GoodPlan();
  p.clear_key_worker();
  p.clear_goals();
  p.mutable_crisis_plan()->clear_warning_signs();
  auto s = CheckAgreement(p, Context());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(s),
            "cannot agree: key_worker: required (a named key worker and their organisation); "
            "goals: at least one; crisis_plan.warning_signs: required");
}

TEST(Agreement, NextReviewWithinTheConfiguredInterval) {
  CarePlan p = GoodPlan();
  p.mutable_review()->set_next_review_date("2027-11-23");  // exactly 12 months
  EXPECT_TRUE(Missing(p).empty());
  p.mutable_review()->set_next_review_date("2026-11-24");  // tomorrow
  EXPECT_TRUE(Missing(p).empty());
  // A tenant that reviews S117 plans every 6 months (plan_type_rule.max_review_months).
  PlanTypeRule six = kS117Rule;
  six.max_review_months = 6;
  CarePlan s = GoodS117Plan();
  s.mutable_review()->set_next_review_date("2027-05-23");
  EXPECT_TRUE(Missing(s, Context(six)).empty());
  s.mutable_review()->set_next_review_date("2027-05-24");
  ASSERT_EQ(Missing(s, Context(six)).size(), 1u);
  EXPECT_NE(Missing(s, Context(six))[0].find("within 6 months of it (by 2027-05-23)"),
            std::string::npos);
}

TEST(Agreement, AnS117PlanInForceIsOnlySupersededByAnotherS117Plan) {
  CarePlan p = GoodPlan();  // the new draft dropped the S117 flag
  const auto missing = Missing(p, {kToday, kDefaultRule, /*must_stay_s117=*/true});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].rfind("is_s117_aftercare_plan: required", 0), 0u);
  EXPECT_TRUE(Missing(GoodS117Plan(), {kToday, kS117Rule, true}).empty());
}

// ---- Care Act eligibility: adults (reg 2) ----

TEST(AdultEligibility, TwoOutcomesWithReasonsImpairmentAndWellbeing) {
  EXPECT_TRUE(CheckEligibility(EligibleNeed(AdultDetermination()), "n").ok());
  // Three outcomes, one with several reasons.
  auto d = AdultDetermination();
  AddUnable(&d, AdultOutcome::RELATIONSHIPS, UnableOutcome::ENDANGERS_HEALTH_SAFETY);
  d.mutable_unable_outcomes(2)->add_reasons(UnableOutcome::SIGNIFICANTLY_LONGER);
  EXPECT_TRUE(CheckEligibility(EligibleNeed(d), "n").ok());
}

TEST(AdultEligibility, RefusesAnythingElse) {
  struct Case {
    std::string name;
    std::function<void(EligibilityDetermination&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"exactly one outcome", [](auto& d) { d.mutable_unable_outcomes()->RemoveLast(); },
       "n.determination.unable_outcomes"},
      {"no outcomes", [](auto& d) { d.clear_unable_outcomes(); },
       "n.determination.unable_outcomes"},
      {"two with reasons but no wellbeing impact",
       [](auto& d) { d.set_significant_impact_on_wellbeing(false); },
       "n.determination.significant_impact_on_wellbeing"},
      {"no impairment or illness", [](auto& d) { d.set_arises_from_impairment_or_illness(false); },
       "n.determination.arises_from_impairment_or_illness"},
      {"an outcome without a reason",
       [](auto& d) { d.mutable_unable_outcomes(1)->clear_reasons(); },
       "n.determination.unable_outcomes[1].reasons"},
      {"an unspecified reason",
       [](auto& d) {
         d.mutable_unable_outcomes(0)->add_reasons(UnableOutcome::REASON_UNSPECIFIED);
       },
       "n.determination.unable_outcomes[0].reasons[1]"},
      {"the same outcome twice",
       [](auto& d) { d.mutable_unable_outcomes(1)->set_adult_outcome(AdultOutcome::NUTRITION); },
       "n.determination.unable_outcomes[1].adult_outcome"},
      {"an outcome code outside the ten",
       [](auto& d) {
         d.mutable_unable_outcomes(1)->set_adult_outcome(static_cast<AdultOutcome::Code>(11));
       },
       "n.determination.unable_outcomes[1].adult_outcome"},
      {"a carer outcome in an adult's determination",
       [](auto& d) { d.mutable_unable_outcomes(1)->set_carer_outcome(CarerOutcome::RECREATION); },
       "n.determination.unable_outcomes[1].carer_outcome"},
      {"no subject", [](auto& d) { d.clear_subject(); }, "n.determination.subject"},
  };
  for (const auto& c : cases) {
    auto d = AdultDetermination();
    c.mutate(d);
    ExpectInvalid(CheckEligibility(EligibleNeed(d), "n"), c.field, c.name);
  }
  CarePlanNeed bare = EligibleNeed(AdultDetermination());
  bare.clear_determination();
  EXPECT_EQ(Message(CheckEligibility(bare, "n")).rfind("n.determination: required", 0), 0u);
}

TEST(AdultEligibility, OtherDeterminationsNeedNoThreshold) {
  for (auto e : {CarePlanNeed::NOT_ELIGIBLE, CarePlanNeed::NOT_ASSESSED,
                 CarePlanNeed::ELIGIBILITY_UNSPECIFIED}) {
    CarePlanNeed n;
    n.set_care_act_eligible(e);
    EXPECT_TRUE(CheckEligibility(n, "n").ok());
    auto one = AdultDetermination();
    one.mutable_unable_outcomes()->RemoveLast();
    *n.mutable_determination() = one;  // one outcome: rightly not eligible
    EXPECT_TRUE(CheckEligibility(n, "n").ok());
  }
  CarePlanNeed n;
  n.set_care_act_eligible(static_cast<CarePlanNeed::Eligibility>(9));
  EXPECT_EQ(CheckEligibility(n, "n").code(), absl::StatusCode::kInvalidArgument);
}

// ---- Care Act eligibility: carers (reg 3): one outcome or health at risk ----

TEST(CarerEligibility, OneOutcomeIsEnough) {
  EXPECT_TRUE(CheckEligibility(EligibleNeed(CarerDetermination()), "n").ok());
}

TEST(CarerEligibility, HealthAtRiskAloneIsEnough) {
  auto d = CarerDetermination();
  d.clear_unable_outcomes();
  d.set_carer_health_at_risk(true);
  EXPECT_TRUE(CheckEligibility(EligibleNeed(d), "n").ok());
}

TEST(CarerEligibility, RefusesAnythingElse) {
  struct Case {
    std::string name;
    std::function<void(EligibilityDetermination&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no outcome and health not at risk", [](auto& d) { d.clear_unable_outcomes(); },
       "n.determination.unable_outcomes"},
      {"not from providing necessary care",
       [](auto& d) { d.set_arises_from_providing_necessary_care(false); },
       "n.determination.arises_from_providing_necessary_care"},
      {"no wellbeing impact", [](auto& d) { d.set_significant_impact_on_wellbeing(false); },
       "n.determination.significant_impact_on_wellbeing"},
      {"an adult outcome in a carer's determination",
       [](auto& d) { d.mutable_unable_outcomes(0)->set_adult_outcome(AdultOutcome::CLOTHING); },
       "n.determination.unable_outcomes[0].adult_outcome"},
      {"an outcome without a reason",
       [](auto& d) { d.mutable_unable_outcomes(0)->clear_reasons(); },
       "n.determination.unable_outcomes[0].reasons"},
      {"no carer outcome code",
       [](auto& d) { d.mutable_unable_outcomes(0)->clear_carer_outcome(); },
       "n.determination.unable_outcomes[0].carer_outcome"},
  };
  for (const auto& c : cases) {
    auto d = CarerDetermination();
    c.mutate(d);
    ExpectInvalid(CheckEligibility(EligibleNeed(d), "n"), c.field, c.name);
  }
}

TEST(Eligibility, IsCheckedWhenAPlanIsWritten) {
  CarePlan p = GoodPlan();
  p.mutable_needs(0)->mutable_determination()->mutable_unable_outcomes()->RemoveLast();
  ExpectInvalid(ValidatePlan(p, Ref(), "plan", kToday),
                "plan.needs[0].determination.unable_outcomes", "one outcome");
}

// ---- S117 interventions (4.4 rule 4, 2.8) ----

TEST(S117Interventions, MeetANeedFromTheMentalDisorderAndAreFree) {
  EXPECT_TRUE(CheckS117Interventions(GoodS117Plan(), "plan").ok());
  struct Case {
    std::string name;
    std::function<void(CarePlan&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"need not from the mental disorder",
       [](auto& p) { p.mutable_needs(1)->set_arises_from_mental_disorder(false); },
       "plan.interventions[1].need_ids[0]"},
      {"one of two needs not from the mental disorder",
       [](auto& p) {
         p.mutable_needs(0)->set_arises_from_mental_disorder(false);
         p.mutable_interventions(1)->add_need_ids("n1");
       },
       "plan.interventions[1].need_ids[1]"},
      {"linked to a goal only",
       [](auto& p) {
         p.mutable_interventions(1)->clear_need_ids();
         p.mutable_interventions(1)->add_goal_ids("g1");
       },
       "plan.interventions[1].need_ids"},
      {"a charge to the person",
       [](auto& p) { p.mutable_interventions(1)->set_client_charge_pence(2500); },
       "plan.interventions[1].client_charge_pence"},
      {"funded by the person",
       [](auto& p) { p.mutable_interventions(1)->set_funder(CarePlanIntervention::SELF); },
       "plan.interventions[1].funder"},
      {"in a plan that is not the S117 plan", [](auto& p) { p.set_is_s117_aftercare_plan(false); },
       "plan.interventions[1].is_s117"},
  };
  for (const auto& c : cases) {
    CarePlan p = GoodS117Plan();
    c.mutate(p);
    ExpectInvalid(CheckS117Interventions(p, "plan"), c.field, c.name);
    EXPECT_EQ(ValidatePlan(p, Ref(), "plan", kToday).code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": refused on every write too";
  }
  // A charge on a service that is not S117 is the Care Act's business, not refused here.
  CarePlan p = GoodS117Plan();
  p.mutable_interventions(0)->set_client_charge_pence(2500);
  EXPECT_TRUE(ValidatePlan(p, Ref(), "plan", kToday).ok());
}

// ---- Personal budget and direct payment (4.4 rule 5, s25(1)(e), s25(2)) ----

TEST(Budget, ValuesAreCheckedOnWrite) {
  struct Case {
    std::function<void(icr::v1::CarePlanBudget&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& b) { b.set_amount_pence(-1); }, "plan.personal_budget.amount_pence"},
      {[](auto& b) {
         b.set_council_amount_pence(10000);
         b.set_icb_amount_pence(4000);
       },
       "plan.personal_budget.council_amount_pence"},
      {[](auto& b) { b.mutable_direct_payment()->set_amount_pence(-5); },
       "plan.personal_budget.direct_payment.amount_pence"},
      {[](auto& b) { b.mutable_direct_payment()->add_need_ids("n7"); },
       "plan.personal_budget.direct_payment.need_ids[0]"},
  };
  for (const auto& c : cases) {
    CarePlan p = GoodPlan();
    c.mutate(*p.mutable_personal_budget());
    ExpectInvalid(CheckBudgetValues(p, "plan"), c.field, c.field);
  }
  CarePlan split = GoodPlan();
  split.mutable_personal_budget()->set_council_amount_pence(7500);
  split.mutable_personal_budget()->set_icb_amount_pence(7500);
  EXPECT_TRUE(CheckBudgetValues(split, "plan").ok());
}

TEST(Budget, APersonalBudgetIsRequiredOnlyForCouncilMetEligibleNeeds) {
  CarePlan p = GoodPlan();
  p.clear_personal_budget();
  EXPECT_EQ(Missing(p).size(), 1u);  // council-funded eligible need
  p.mutable_interventions(0)->set_funder(CarePlanIntervention::JOINT);
  EXPECT_EQ(Missing(p).size(), 1u);  // jointly funded: the council meets part of it
  p.mutable_interventions(0)->set_funder(CarePlanIntervention::ICB);
  EXPECT_TRUE(Missing(p).empty());  // met by the ICB
  p.mutable_interventions(0)->set_funder(CarePlanIntervention::COUNCIL);
  p.mutable_needs(0)->set_care_act_eligible(CarePlanNeed::NOT_ELIGIBLE);
  EXPECT_TRUE(Missing(p).empty());  // not an eligible need
}

TEST(Budget, ADirectPaymentNeedsAnAmountAndAFrequency) {
  CarePlan p = GoodPlan();
  p.mutable_interventions(0)->set_delivery_mode(CarePlanIntervention::DIRECT_PAYMENT);
  auto* dp = p.mutable_personal_budget()->mutable_direct_payment();
  dp->add_need_ids("n1");
  dp->set_amount_pence(12000);
  EXPECT_EQ(Missing(p).size(), 1u);
  EXPECT_EQ(Missing(p)[0].rfind("personal_budget.direct_payment.frequency:", 0), 0u);
  dp->set_frequency(icr::v1::CarePlanBudget::FOUR_WEEKLY);
  EXPECT_TRUE(Missing(p).empty());
  dp->set_amount_pence(0);
  ASSERT_EQ(Missing(p).size(), 1u);
  EXPECT_EQ(Missing(p)[0].rfind("personal_budget.direct_payment.amount_pence:", 0), 0u);
}

// ---- Sign-off ----

TEST(SignOff, TheOrganisationKindDecidesTheAgency) {
  EXPECT_EQ(*SigningAgency("trust", CarePlanSignOff::AGENCY_UNSPECIFIED), CarePlanSignOff::HEALTH);
  EXPECT_EQ(*SigningAgency("icb", CarePlanSignOff::HEALTH), CarePlanSignOff::HEALTH);
  EXPECT_EQ(*SigningAgency("council", CarePlanSignOff::SOCIAL_CARE), CarePlanSignOff::SOCIAL_CARE);
  EXPECT_EQ(SigningAgency("council", CarePlanSignOff::HEALTH).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SigningAgency("trust", CarePlanSignOff::SOCIAL_CARE).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SigningAgency("gp_practice", CarePlanSignOff::AGENCY_UNSPECIFIED).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SignOff, S117PlansNeedBothAgenciesOthersEither) {
  const std::set<Agency> health = {CarePlanSignOff::HEALTH};
  const std::set<Agency> council = {CarePlanSignOff::SOCIAL_CARE};
  const std::set<Agency> both = {CarePlanSignOff::HEALTH, CarePlanSignOff::SOCIAL_CARE};
  EXPECT_FALSE(SignoffsComplete(kS117Rule, {}));
  EXPECT_FALSE(SignoffsComplete(kS117Rule, health));
  EXPECT_FALSE(SignoffsComplete(kS117Rule, council));
  EXPECT_TRUE(SignoffsComplete(kS117Rule, both));
  EXPECT_FALSE(SignoffsComplete(kDefaultRule, {}));
  EXPECT_TRUE(SignoffsComplete(kDefaultRule, health));
  EXPECT_TRUE(SignoffsComplete(kDefaultRule, council));
  EXPECT_EQ(PlanType(GoodS117Plan()), "s117_aftercare");
  EXPECT_EQ(PlanType(GoodPlan()), "default");
}

// ---- State machine (4.8) ----

TEST(StateMachine, Transitions) {
  using R = CarePlanReview;
  struct Case {
    PlanStatus from;
    Action action;
    R::Outcome outcome;
    std::optional<PlanStatus> to;  // nullopt: refused
  };
  const std::vector<Case> cases = {
      {CarePlan::DRAFT, Action::kUpdate, R::OUTCOME_UNSPECIFIED, CarePlan::DRAFT},
      {CarePlan::AGREED, Action::kUpdate, R::OUTCOME_UNSPECIFIED, CarePlan::DRAFT},
      {CarePlan::UNDER_REVIEW, Action::kUpdate, R::OUTCOME_UNSPECIFIED, CarePlan::DRAFT},
      {CarePlan::CLOSED, Action::kUpdate, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::DRAFT, Action::kSignOff, R::OUTCOME_UNSPECIFIED, CarePlan::DRAFT},
      {CarePlan::DRAFT, Action::kAgree, R::OUTCOME_UNSPECIFIED, CarePlan::AGREED},
      {CarePlan::AGREED, Action::kAgree, R::OUTCOME_UNSPECIFIED, std::nullopt},
      // A late sign-off of the version in force (CheckLateSignoff decides whether it may).
      {CarePlan::AGREED, Action::kSignOff, R::OUTCOME_UNSPECIFIED, CarePlan::AGREED},
      {CarePlan::UNDER_REVIEW, Action::kSignOff, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::UNDER_REVIEW, Action::kAgree, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::CLOSED, Action::kAgree, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::AGREED, Action::kStartReview, R::OUTCOME_UNSPECIFIED, CarePlan::UNDER_REVIEW},
      {CarePlan::DRAFT, Action::kStartReview, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::UNDER_REVIEW, Action::kStartReview, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::UNDER_REVIEW, Action::kRecordReview, R::CONTINUE, CarePlan::AGREED},
      {CarePlan::UNDER_REVIEW, Action::kRecordReview, R::RECOMMEND_CLOSURE, CarePlan::AGREED},
      {CarePlan::UNDER_REVIEW, Action::kRecordReview, R::MODIFY, CarePlan::DRAFT},
      {CarePlan::AGREED, Action::kRecordReview, R::CONTINUE, std::nullopt},
      {CarePlan::DRAFT, Action::kRecordReview, R::CONTINUE, std::nullopt},
      {CarePlan::DRAFT, Action::kClose, R::OUTCOME_UNSPECIFIED, CarePlan::CLOSED},
      {CarePlan::AGREED, Action::kClose, R::OUTCOME_UNSPECIFIED, CarePlan::CLOSED},
      {CarePlan::UNDER_REVIEW, Action::kClose, R::OUTCOME_UNSPECIFIED, CarePlan::CLOSED},
      {CarePlan::CLOSED, Action::kClose, R::OUTCOME_UNSPECIFIED, std::nullopt},
      {CarePlan::CLOSED, Action::kStartReview, R::OUTCOME_UNSPECIFIED, std::nullopt},
  };
  for (const auto& c : cases) {
    auto to = Transition(c.from, c.action, c.outcome);
    const std::string label = StatusName(c.from) + " action " + std::to_string(int(c.action));
    if (c.to) {
      ASSERT_TRUE(to.ok()) << label << ": " << to.status();
      EXPECT_EQ(*to, *c.to) << label;
    } else {
      EXPECT_EQ(to.status().code(), absl::StatusCode::kFailedPrecondition) << label;
      EXPECT_EQ(Message(to.status()).rfind("status: ", 0), 0u) << label;
    }
  }
}

TEST(StateMachine, AnS117PlanCannotCloseWhileTheEntitlementIsOpen) {
  EXPECT_EQ(CheckClose(true, true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckClose(true, false).ok());
  EXPECT_TRUE(CheckClose(false, true).ok());
  EXPECT_TRUE(CheckClose(false, false).ok());
}

// ---- Reviews ----

CarePlanReview GoodReview() {
  CarePlanReview r;
  r.set_review_date("2026-11-20");
  for (const char* org : {"RGD", "E08000035"}) {
    auto* p = r.add_participants();
    p->set_name(std::string("Worker at ") + org);
    p->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
    p->set_organisation_code(org);
  }
  r.set_outcome(CarePlanReview::CONTINUE);
  r.set_next_review_date("2027-11-20");
  return r;
}

TEST(Review, ValidatesDateParticipantsOutcomeAndNextReview) {
  auto ok = GoodReview();
  ok.set_review_id("assigned later");
  ASSERT_TRUE(ValidateReview(ok, Ref(), kS117Rule, true, kToday).ok());
  EXPECT_TRUE(ok.review_id().empty());
  struct Case {
    std::function<void(CarePlanReview&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_review_date("2026-11-24"); }, "review.review_date"},
      {[](auto& r) { r.clear_participants(); }, "review.participants"},
      {[](auto& r) { r.mutable_participants(0)->clear_organisation_code(); },
       "review.participants[0].organisation_code"},
      {[](auto& r) { r.clear_outcome(); }, "review.outcome"},
      {[](auto& r) { r.set_next_review_date("2027-11-21"); }, "review.next_review_date"},
      {[](auto& r) { r.set_next_review_date("2026-11-20"); }, "review.next_review_date"},
  };
  for (const auto& c : cases) {
    auto r = GoodReview();
    c.mutate(r);
    ExpectInvalid(ValidateReview(r, Ref(), kDefaultRule, false, kToday), c.field, c.field);
  }
}

TEST(Review, AnS117PlanIsReviewedByTheCouncilAndHealthTogether) {
  auto r = GoodReview();
  r.mutable_participants()->RemoveLast();  // the council's worker
  EXPECT_TRUE(ValidateReview(r, Ref(), kDefaultRule, false, kToday).ok());
  auto s = ValidateReview(r, Ref(), kS117Rule, true, kToday);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(s).rfind("review.participants:", 0), 0u);
  EXPECT_EQ(ParticipantAgencies(GoodReview().participants(), Ref()).size(), 2u);
}

TEST(Dates, AddMonthsClampsToTheEndOfTheMonth) {
  EXPECT_EQ(FormatDate(AddMonths(*ParseDate("2026-01-31"), 1)), "2026-02-28");
  EXPECT_EQ(FormatDate(AddMonths(*ParseDate("2024-02-29"), 12)), "2025-02-28");
  EXPECT_EQ(FormatDate(AddMonths(*ParseDate("2026-11-23"), 12)), "2027-11-23");
  EXPECT_EQ(FormatDate(AddMonths(*ParseDate("2026-08-31"), 6)), "2027-02-28");
}

}  // namespace
}  // namespace icr::careplan

namespace icr::careplan {
namespace {

using icr::v1::CarePlanSignOff;
constexpr Agency kHealth = CarePlanSignOff::HEALTH;
constexpr Agency kSocial = CarePlanSignOff::SOCIAL_CARE;

PlanTypeRule DefaultRule() { return {{kHealth, kSocial}, 1, 12}; }
PlanTypeRule S117Rule() { return {{kHealth, kSocial}, 2, 12}; }
Date D(const char* s) { return *ParseDate(s); }

TEST(SignOff, AJointPlanWaitsForEveryAgencyOfItsRule) {
  EXPECT_TRUE(SignoffsComplete(DefaultRule(), {kHealth}));
  EXPECT_FALSE(SignoffsComplete(DefaultRule(), {kHealth}, true));
  EXPECT_TRUE(SignoffsComplete(DefaultRule(), {kHealth, kSocial}, true));
  EXPECT_FALSE(SignoffsComplete(S117Rule(), {kSocial}));
  EXPECT_TRUE(SignoffsComplete(S117Rule(), {kSocial, kHealth}));
}

TEST(SignOff, TheOtherAgencyMaySignAnAgreedPlanOnce) {
  EXPECT_TRUE(CheckLateSignoff(DefaultRule(), kSocial, {kHealth}, 3).ok());
  const auto again = CheckLateSignoff(DefaultRule(), kHealth, {kHealth}, 3);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Message(again), "agency: health has already signed version 3");
  const auto unnamed = CheckLateSignoff({{kHealth}, 1, 12}, kSocial, {kHealth}, 3);
  EXPECT_EQ(unnamed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(unnamed).rfind("agency: ", 0), 0u);
}

TEST(SignOff, JointlyAgreedMeansBothAgencies) {
  EXPECT_FALSE(JointlyAgreed({kHealth}));
  EXPECT_FALSE(JointlyAgreed({}));
  EXPECT_TRUE(JointlyAgreed({kHealth, kSocial}));
}

TEST(SignOff, TheDayOfAgreement) {
  // Live: the latest of the sign-offs needed, whatever order they were recorded in.
  EXPECT_EQ(LatestSignedOn({{kSocial, D("2025-03-10")}, {kHealth, D("2025-03-02")}}),
            D("2025-03-10"));
  // Imported: in date order, the day the rule was complete.
  EXPECT_EQ(AgreedOnByRule(DefaultRule(), {{kSocial, D("2025-03-10")}, {kHealth, D("2025-03-02")}}),
            D("2025-03-02"));
  EXPECT_EQ(AgreedOnByRule(S117Rule(), {{kSocial, D("2025-03-10")}, {kHealth, D("2025-03-02")}}),
            D("2025-03-10"));
  EXPECT_EQ(AgreedOnByRule(S117Rule(), {{kHealth, D("2025-03-02")}}), std::nullopt);
  EXPECT_EQ(AgreedOnByRule(DefaultRule(), {}), std::nullopt);
  EXPECT_EQ(FirstLightTouchReview(D("2025-01-01")), D("2025-02-12"));
}

}  // namespace
}  // namespace icr::careplan
