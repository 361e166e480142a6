// The S117 state machine and rules alone (no database): every transition T1..T10 and its guards,
// the configurable policy, and each bad input of domain-rules 2.12 at the rules level.
#include "services/s117/entitlement.h"

#include <gtest/gtest.h>

namespace icr::s117 {
namespace {

Date D(const char* iso) { return *ParseDate(iso); }

Policy TestPolicy() {
  Policy p;  // the defaults are the values the migration seeds
  p.end_reasons = {{"NO_LONGER_NEEDS_AFTERCARE", true}, {"DISCHARGED_FROM_CMHT", false},
                   {"TIME_ELAPSED", false},             {"REFUSED_SERVICES", false},
                   {"WELL_AND_SETTLED", false}};
  p.sections = {{"03", "S3"},  {"10", "S37"},  {"09", "S37_41"},
                {"37", "S45A"}, {"31", "OTHER_CASE_DECISION"}};
  p.service_types = {{"SUPPORTED_ACCOMMODATION", true}, {"HOME_CARE", false}};
  return p;
}

const ReferenceData& Ref() {
  static const ReferenceData* ref = [] {
    auto* r = new ReferenceData();
    r->AddOrganisation({"E08000035", "council", "Leeds City Council", "QWO"});
    r->AddOrganisation({"E09000007", "council", "London Borough of Camden", "QMJ"});
    r->AddOrganisation({"E07000008", "district", "Cambridge City Council", ""});
    r->AddOrganisation({"E12000001", "region", "North East", ""});
    r->AddOrganisation({"QWO", "icb", "NHS West Yorkshire ICB", ""});
    r->AddOrganisation({"QMJ", "icb", "NHS North Central London ICB", ""});
    r->AddOrganisation({"RGD", "trust", "Leeds and York Partnership NHS FT", "QWO"});
    r->AddLegalStatus({"02", "Section 2", "no", false});
    r->AddLegalStatus({"03", "Section 3", "yes", false});
    r->AddLegalStatus({"09", "Section 37 with section 41 restrictions", "yes", false});
    r->AddLegalStatus({"10", "Section 37", "yes", false});
    r->AddLegalStatus({"31", "Criminal Procedure (Insanity) Act 1964", "case_decision", false});
    r->AddLegalStatus({"99", "Not known", "invalid", false});
    return r;
  }();
  return *ref;
}

DetentionFacts Detention(const std::string& code, const char* start,
                         const std::string& id = "D1") {
  DetentionFacts d;
  d.source_org = "RGD";
  d.detention_id = id;
  d.legal_status_code = code;
  d.qualifying = QualifyingOf(Ref().FindLegalStatus(code));
  d.start = D(start);
  d.provider_code = "RGD";
  return d;
}

// A person living in one council's area since before anything was recorded.
PersonFacts Living(const std::string& id, const std::string& council, const std::string& icb) {
  PersonFacts p{id, council, icb};
  p.residences.push_back({"LS1 4AP", council, icb, std::nullopt, std::nullopt});
  return p;
}

const PersonFacts kPerson = Living("p-1", "E08000035", "QWO");

Episode Planned(const char* start = "2025-01-10") {
  auto e = OpenPlanned(Detention("03", start), kPerson, nullptr, TestPolicy());
  EXPECT_TRUE(e.ok()) << e.status();
  e->episode_id = "ep-1";
  e->version = 1;
  return *e;
}

Episode Active(const char* start = "2025-01-10", const char* left = "2025-03-01") {
  Episode e = Planned(start);
  EXPECT_TRUE(ActivateOnLeavingHospital(e, D(left), D(left), 12).ok());
  return e;
}

void ExpectField(const absl::Status& s, absl::StatusCode code, const std::string& field) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_EQ(std::string(s.message()).rfind(field + ":", 0), 0u) << s;
}

TEST(Entitlement, StateNamesRoundTrip) {
  for (State s : {State::kPlanned, State::kActive, State::kEndedDischarged,
                  State::kEndedSuperseded, State::kEndedDeceased, State::kVoid}) {
    EXPECT_EQ(ParseState(StateName(s)), s);
  }
  EXPECT_FALSE(ParseState("OPEN"));
  EXPECT_TRUE(IsOpen(State::kPlanned));
  EXPECT_TRUE(IsOpen(State::kActive));
  EXPECT_FALSE(IsOpen(State::kEndedSuperseded));
}

TEST(Entitlement, QualifyingComesFromReferenceData) {
  EXPECT_EQ(QualifyingOf(Ref().FindLegalStatus("03")), Qualifying::kYes);
  EXPECT_EQ(QualifyingOf(Ref().FindLegalStatus("02")), Qualifying::kNo);
  EXPECT_EQ(QualifyingOf(Ref().FindLegalStatus("31")), Qualifying::kCaseDecision);
  EXPECT_EQ(QualifyingOf(Ref().FindLegalStatus("99")), Qualifying::kInvalid);
  EXPECT_EQ(QualifyingOf(nullptr), Qualifying::kInvalid);
}

TEST(Entitlement, WhatTheFeedDoesWhenADetentionStarts) {
  const Policy p = TestPolicy();
  // No open episode: only a "yes" section opens one (T1); s2 and case decisions do not.
  EXPECT_EQ(OnDetentionStarted(nullptr, Detention("03", "2025-01-10"), p), DetentionAction::kOpen);
  EXPECT_EQ(OnDetentionStarted(nullptr, Detention("02", "2025-01-10"), p), DetentionAction::kNone);
  EXPECT_EQ(OnDetentionStarted(nullptr, Detention("31", "2025-01-10"), p), DetentionAction::kNone);
  EXPECT_EQ(OnDetentionStarted(nullptr, Detention("99", "2025-01-10"), p), DetentionAction::kNone);
  // PLANNED: another qualifying section is a section change (T2); s2 changes nothing.
  const Episode planned = Planned();
  EXPECT_EQ(OnDetentionStarted(&planned, Detention("10", "2025-02-01"), p),
            DetentionAction::kSectionChange);
  EXPECT_EQ(OnDetentionStarted(&planned, Detention("02", "2025-02-01"), p), DetentionAction::kNone);
  EXPECT_EQ(OnDetentionStarted(&planned, Detention("10", "2024-12-01"), p), DetentionAction::kNone);
  // ACTIVE: re-detention supersedes (T5); s2 only puts them in hospital (T4).
  const Episode active = Active();
  EXPECT_EQ(OnDetentionStarted(&active, Detention("03", "2025-06-01"), p),
            DetentionAction::kSupersede);
  EXPECT_EQ(OnDetentionStarted(&active, Detention("02", "2025-06-01"), p),
            DetentionAction::kInHospital);
  EXPECT_EQ(OnDetentionStarted(&active, Detention("31", "2025-06-01"), p),
            DetentionAction::kLegalDetermination);
  EXPECT_EQ(OnDetentionStarted(&active, Detention("03", "2025-02-01"), p), DetentionAction::kNone);
}

TEST(Entitlement, CtoRevocationAndRecallFollowThePolicy) {
  Policy p = TestPolicy();
  Episode on_cto = Active();
  on_cto.cto_start_date = D("2025-03-01");
  EXPECT_EQ(OnDetentionStarted(&on_cto, Detention("03", "2025-06-01"), p),
            DetentionAction::kLegalDetermination);
  Episode recalled = Active();
  recalled.legal_status_code = "09";
  recalled.conditional_discharge_date = D("2025-03-01");
  EXPECT_EQ(OnDetentionStarted(&recalled, Detention("09", "2025-06-01"), p),
            DetentionAction::kLegalDetermination);
  // After the CTO ended, a new s3 is an ordinary re-detention.
  on_cto.cto_end_date = D("2025-05-01");
  EXPECT_EQ(OnDetentionStarted(&on_cto, Detention("03", "2025-06-01"), p),
            DetentionAction::kSupersede);
  on_cto.cto_end_date.reset();
  ASSERT_TRUE(ApplyPolicySetting(p, "on_cto_revocation", "SUPERSEDE").ok());
  EXPECT_EQ(OnDetentionStarted(&on_cto, Detention("03", "2025-06-01"), p),
            DetentionAction::kSupersede);
  ASSERT_TRUE(ApplyPolicySetting(p, "on_conditional_discharge_recall", "CONTINUE").ok());
  EXPECT_EQ(OnDetentionStarted(&recalled, Detention("09", "2025-06-01"), p),
            DetentionAction::kInHospital);
}

TEST(Entitlement, T1OpensPlannedWithProvisionalCouncilAndIcb) {
  const Episode e = Planned();
  EXPECT_EQ(e.state, State::kPlanned);
  EXPECT_EQ(e.qualifying_section, "S3");
  EXPECT_EQ(e.legal_status_code, "03");
  EXPECT_EQ(e.detention_id, "D1");
  EXPECT_EQ(e.responsible_council_code, "E08000035");
  EXPECT_EQ(e.council_basis, "OR_ENGLAND_S117_3A");
  EXPECT_TRUE(e.council_provisional);
  EXPECT_EQ(e.responsible_icb_code, "QWO");
  EXPECT_EQ(e.icb_basis, "CORE_USUAL_RESIDENCE");
  EXPECT_EQ(e.responsibility_rule_version, "ICB_REGS_2022");
  EXPECT_TRUE(e.in_hospital);

  const Policy p = TestPolicy();
  auto old = OpenPlanned(Detention("03", "2014-06-01"), kPerson, nullptr, p);
  EXPECT_EQ(old->council_basis, "PRE_2015_RESIDENCE_TEST");
  EXPECT_EQ(old->responsibility_rule_version, "PRE_2015");
  EXPECT_EQ(OpenPlanned(Detention("03", "2019-06-01"), kPerson, nullptr, p)->responsibility_rule_version,
            "CCG_2013");
  EXPECT_EQ(OpenPlanned(Detention("03", "2021-06-01"), kPerson, nullptr, p)->responsibility_rule_version,
            "WHO_PAYS_2020");
  auto welsh =
      OpenPlanned(Detention("03", "2025-01-10"), Living("p-2", "W06000015", "QWO"), nullptr, p);
  EXPECT_EQ(welsh->council_basis, "OR_WALES_S117_3B");
}

TEST(Entitlement, T1RefusesANonQualifyingSectionAndASecondOpenEpisode) {
  const Policy p = TestPolicy();
  // 2.12: "Create episode with section S2".
  auto s2 = OpenPlanned(Detention("02", "2025-01-10"), kPerson, nullptr, p);
  EXPECT_EQ(s2.status().code(), absl::StatusCode::kFailedPrecondition);
  // 2.12: "Second open episode for the same person".
  const Episode open = Active();
  auto second = OpenPlanned(Detention("03", "2025-06-01"), kPerson, &open, p);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T5SupersedesAndT1CarriesTheIcbOver) {
  Episode old = Active();
  old.responsible_icb_code = "QMJ";
  old.icb_basis = "CORE_GP_REGISTRATION";
  ASSERT_TRUE(Supersede(old, D("2025-09-01")).ok());
  EXPECT_EQ(old.state, State::kEndedSuperseded);
  EXPECT_EQ(old.ended_on, D("2025-09-01"));
  EXPECT_FALSE(old.next_review_due);
  // Now living in Camden: the council is re-determined, the originating ICB stays.
  auto next = OpenPlanned(Detention("03", "2025-09-01", "D2"), Living("p-1", "E09000007", "QMJ"),
                          &old, TestPolicy());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->predecessor_episode_id, "ep-1");
  EXPECT_EQ(next->responsible_council_code, "E09000007");
  EXPECT_EQ(next->responsible_icb_code, "QMJ");
  EXPECT_EQ(next->icb_basis, "CARRIED_FROM_ORIGINATING_ICB");
  // Only an ACTIVE episode is superseded.
  Episode planned = Planned();
  EXPECT_EQ(Supersede(planned, D("2025-09-01")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T2SectionChangeKeepsTheCouncilUnlessPolicySaysOtherwise) {
  Policy p = TestPolicy();
  Episode e = Planned();
  e.ceased_detained_date = D("2025-02-01");
  const PersonFacts moved = Living("p-1", "E09000007", "QMJ");
  ASSERT_TRUE(ChangeSection(e, Detention("10", "2025-02-01", "D2"), moved, p).ok());
  EXPECT_EQ(e.qualifying_section, "S37");
  EXPECT_EQ(e.detention_id, "D2");
  EXPECT_FALSE(e.ceased_detained_date);
  EXPECT_EQ(e.responsible_council_code, "E08000035");
  ASSERT_TRUE(ApplyPolicySetting(p, "section_change_redetermines_council", "true").ok());
  ASSERT_TRUE(ChangeSection(e, Detention("03", "2025-03-01", "D3"), moved, p).ok());
  EXPECT_EQ(e.responsible_council_code, "E09000007");
  Episode active = Active();
  EXPECT_EQ(ChangeSection(active, Detention("10", "2025-06-01"), kPerson, p).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T3StartsTheDutyOnlyAfterCeasingToBeDetainedAndLeavingHospital) {
  Episode e = Planned();
  // 2.12: "left_hospital_date earlier than ceased_detained_date".
  Episode bad = e;
  ExpectField(ActivateOnLeavingHospital(bad, D("2025-03-10"), D("2025-03-01"), 12),
              absl::StatusCode::kInvalidArgument, "left_hospital_date");
  EXPECT_EQ(bad, e);
  ASSERT_TRUE(ActivateOnLeavingHospital(e, D("2025-03-01"), D("2025-03-15"), 12).ok());
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_EQ(e.effective_from, D("2025-03-15"));
  EXPECT_EQ(e.next_review_due, D("2026-03-15"));
  EXPECT_FALSE(e.in_hospital);
  EXPECT_EQ(ActivateOnLeavingHospital(e, D("2025-03-01"), D("2025-03-15"), 12).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T3OnAnotherTriggerNeedsOne) {
  // 2.12: "ACTIVE episode with no left_hospital_date and no CTO/conditional-discharge/s17".
  Episode e = Planned();
  ExpectField(ActivateOnTrigger(e, D("2025-03-01"), 12), absl::StatusCode::kInvalidArgument,
              "left_hospital_date");
  EXPECT_EQ(e.state, State::kPlanned);
  e.cto_start_date = D("2025-03-01");
  ASSERT_TRUE(ActivateOnTrigger(e, D("2025-03-01"), 6).ok());
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_EQ(e.next_review_due, D("2025-09-01"));
}

TEST(Entitlement, T4OnlyTogglesInHospital) {
  Episode e = Active();
  const Episode before = e;
  EXPECT_TRUE(SetInHospital(e, true));
  EXPECT_TRUE(e.in_hospital);
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_EQ(e.responsible_council_code, before.responsible_council_code);
  EXPECT_FALSE(SetInHospital(e, true));
  EXPECT_TRUE(SetInHospital(e, false));
  EXPECT_EQ(e, before);
}

icr::v1::S117EndDecision Decision(const std::string& body, const char* date,
                                  const std::string& reason = "NO_LONGER_NEEDS_AFTERCARE") {
  icr::v1::S117EndDecision d;
  d.set_body(body);
  d.mutable_decider()->set_name("Pat Lee");
  d.mutable_decider()->set_role("S117 lead");
  d.set_decision_date(date);
  d.set_primary_reason(reason);
  d.set_reason_text("Settled for two years with no services needed");
  d.set_person_involvement("ATTENDED");
  return d;
}

TEST(Entitlement, T6EachDecisionIsRefusedOnACtoOrAForbiddenSoleReason) {
  const Policy p = TestPolicy();
  Episode e = Active();
  EXPECT_TRUE(CheckEndDecision(e, Decision("COUNCIL", "2026-01-10"), p).ok());
  // 2.12: "Discharge effective on a date when on_cto = true".
  Episode cto = e;
  cto.cto_start_date = D("2025-03-01");
  ExpectField(CheckEndDecision(cto, Decision("COUNCIL", "2026-01-10"), p),
              absl::StatusCode::kFailedPrecondition, "on_cto");
  // 2.12: DISCHARGED_FROM_CMHT, TIME_ELAPSED or REFUSED_SERVICES as the only reason.
  for (const char* reason : {"DISCHARGED_FROM_CMHT", "TIME_ELAPSED", "REFUSED_SERVICES"}) {
    ExpectField(CheckEndDecision(e, Decision("ICB", "2026-01-10", reason), p),
                absl::StatusCode::kFailedPrecondition, "decision.primary_reason");
  }
  // Allowed as context next to a real reason.
  auto with_context = Decision("ICB", "2026-01-10");
  with_context.add_other_reasons("DISCHARGED_FROM_CMHT");
  EXPECT_TRUE(ValidateEndDecision(with_context, p, Role::kAdmin, D("2026-02-01"), "decision").ok());
  EXPECT_TRUE(CheckEndDecision(e, with_context, p).ok());
  // Not while PLANNED, nor while a legal determination is pending.
  EXPECT_EQ(CheckEndDecision(Planned(), Decision("ICB", "2026-01-10"), p).code(),
            absl::StatusCode::kFailedPrecondition);
  e.legal_determination_required = true;
  ExpectField(CheckEndDecision(e, Decision("ICB", "2026-01-10"), p),
              absl::StatusCode::kFailedPrecondition, "legal_determination_required");
}

TEST(Entitlement, T6JointEndNeedsEveryGuard) {
  const Policy p = TestPolicy();
  const Episode e = Active();
  const std::vector<ReviewFacts> reviewed = {{D("2025-12-01"), "RECOMMEND_DISCHARGE", true}};
  const std::vector<ServiceLineFacts> ended = {{"l1", true, D("2025-12-31"), ""},
                                               {"l2", true, std::nullopt, "Care Act 2014 s18"},
                                               {"l3", false, std::nullopt, ""}};
  const std::vector<EndDecisionFacts> both = {{"COUNCIL", D("2026-01-10")},
                                              {"ICB", D("2026-01-20")}};
  auto effective = CheckJointEnd(e, both, reviewed, ended, std::nullopt, p);
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_EQ(*effective, D("2026-01-20"));  // the later of the two decisions

  // 2.12: "Discharge decision with only the council's (or only the ICB's) decision".
  auto council_only = CheckJointEnd(e, {{"COUNCIL", D("2026-01-10")}}, reviewed, ended,
                                    std::nullopt, p);
  EXPECT_EQ(council_only.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(council_only.status().message().find("the ICB's decision"), std::string::npos);
  auto icb_only = CheckJointEnd(e, {{"ICB", D("2026-01-10")}}, reviewed, ended, std::nullopt, p);
  EXPECT_NE(icb_only.status().message().find("the council's decision"), std::string::npos);

  // No review recommending discharge within 90 days.
  auto stale = CheckJointEnd(e, both, {{D("2025-09-01"), "RECOMMEND_DISCHARGE", true}}, ended,
                             std::nullopt, p);
  EXPECT_NE(stale.status().message().find("RECOMMEND_DISCHARGE"), std::string::npos);
  // A single-agency review does not stand for the joint review the decision is made at (2.6).
  auto single = CheckJointEnd(e, both, {{D("2025-12-01"), "RECOMMEND_DISCHARGE", false}}, ended,
                              std::nullopt, p);
  EXPECT_NE(single.status().message().find("joint review"), std::string::npos);
  auto wrong = CheckJointEnd(e, both, {{D("2025-12-01"), "CONTINUE"}}, ended, std::nullopt, p);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  // A s117 line still open after the end date.
  auto open = CheckJointEnd(e, both, reviewed, {{"l1", true, D("2026-02-01"), ""}},
                            std::nullopt, p);
  EXPECT_NE(open.status().message().find("1 s117 service line"), std::string::npos);
  // On a CTO on the effective date (invariant 2).
  Episode cto = e;
  cto.cto_start_date = D("2026-01-15");
  EXPECT_EQ(CheckJointEnd(cto, both, reviewed, ended, std::nullopt, p).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A joint notice, when policy requires one (2.13).
  Policy notice = p;
  ASSERT_TRUE(ApplyPolicySetting(notice, "require_notification_before_end", "true").ok());
  EXPECT_FALSE(CheckJointEnd(e, both, reviewed, ended, std::nullopt, notice).ok());
  EXPECT_TRUE(CheckJointEnd(e, both, reviewed, ended, D("2026-01-21"), notice).ok());

  Episode end = e;
  EndDischarged(end, *effective, std::nullopt);
  EXPECT_EQ(end.state, State::kEndedDischarged);
  EXPECT_EQ(end.ended_on, D("2026-01-20"));
  EXPECT_FALSE(end.next_review_due);
  EXPECT_FALSE(end.end_migrated);
}

TEST(Entitlement, AMigratedJointEndNeedsNoReviewAndNoEndedServicesButEveryOtherGuard) {
  const Policy p = TestPolicy();
  const Episode e = Active();
  const std::vector<EndDecisionFacts> migrated = {{"COUNCIL", D("2026-01-10"), true},
                                                  {"ICB", D("2026-01-20"), true}};
  const std::vector<ServiceLineFacts> open = {{"l1", true, std::nullopt, ""}};
  EXPECT_TRUE(MigratedJointEnd(migrated));
  auto effective = CheckJointEnd(e, migrated, {}, open, std::nullopt, p);
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_EQ(*effective, D("2026-01-20"));
  // One live decision: today's rules.
  const std::vector<EndDecisionFacts> mixed = {{"COUNCIL", D("2026-01-10"), true},
                                               {"ICB", D("2026-01-20"), false}};
  EXPECT_FALSE(MigratedJointEnd(mixed));
  EXPECT_FALSE(CheckJointEnd(e, mixed, {}, open, std::nullopt, p).ok());
  // Both bodies still needed, and never while on a CTO.
  EXPECT_FALSE(MigratedJointEnd({{"COUNCIL", D("2026-01-10"), true}}));
  EXPECT_FALSE(
      CheckJointEnd(e, {{"COUNCIL", D("2026-01-10"), true}}, {}, open, std::nullopt, p).ok());
  Episode cto = e;
  cto.cto_start_date = D("2026-01-15");
  EXPECT_FALSE(CheckJointEnd(cto, migrated, {}, open, std::nullopt, p).ok());
  Episode end = e;
  EndDischarged(end, *effective, std::nullopt, true);
  EXPECT_TRUE(end.end_migrated);
  // Who may carry a decision over.
  const Caller officer{"E08000035", Role::kS117Officer};
  const Caller other_officer{"E09000007", Role::kS117Officer};
  const Caller worker{"E08000035", Role::kSocialWorker};
  EXPECT_TRUE(CheckMayMigrate(officer, e, "migrated").ok());
  EXPECT_TRUE(CheckMayMigrate(Caller{"X", Role::kSystem}, e, "migrated").ok());
  EXPECT_EQ(CheckMayMigrate(other_officer, e, "migrated").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckMayMigrate(worker, e, "migrated").code(), absl::StatusCode::kPermissionDenied);
}

TEST(Entitlement, T7EndsOnDeath) {
  Episode e = Active();
  ExpectField(EndOnDeath(e, D("2024-01-01")), absl::StatusCode::kFailedPrecondition,
              "date_of_death");
  ASSERT_TRUE(EndOnDeath(e, D("2025-10-01")).ok());
  EXPECT_EQ(e.state, State::kEndedDeceased);
  EXPECT_EQ(e.ended_on, D("2025-10-01"));
  EXPECT_EQ(EndOnDeath(e, D("2025-10-01")).code(), absl::StatusCode::kFailedPrecondition);
  Episode planned = Planned();
  EXPECT_TRUE(EndOnDeath(planned, D("2025-02-01")).ok());
}

TEST(Entitlement, T8FlagsALegalDeterminationAndKeepsTheEpisodeActive) {
  Episode e = Active();
  e.cto_start_date = D("2025-03-01");
  const DetentionFacts revoked = Detention("03", "2025-06-01", "D2");
  ASSERT_TRUE(RequireLegalDetermination(e, revoked).ok());
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_TRUE(e.legal_determination_required);
  EXPECT_EQ(e.pending_detention_id, "D2");
  EXPECT_EQ(e.cto_end_date, D("2025-06-01"));  // a revoked CTO has ended
  EXPECT_TRUE(e.in_hospital);
  ASSERT_TRUE(ContinueAfterDetermination(e).ok());
  EXPECT_FALSE(e.legal_determination_required);
  EXPECT_TRUE(e.pending_detention_id.empty());
  EXPECT_EQ(ContinueAfterDetermination(e).code(), absl::StatusCode::kFailedPrecondition);
  Episode planned = Planned();
  EXPECT_EQ(RequireLegalDetermination(planned, revoked).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T9RescindsADischargeOnlyWhereAllowed) {
  Policy p = TestPolicy();
  Episode e = Active();
  EndDischarged(e, D("2026-01-20"), std::nullopt);
  Episode copy = e;
  EXPECT_EQ(RescindDischarge(copy, D("2026-03-01"), /*other_open=*/true, p, 12).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(RescindDischarge(copy, D("2026-03-01"), false, p, 12).ok());
  EXPECT_EQ(copy.state, State::kActive);
  EXPECT_FALSE(copy.ended_on);
  EXPECT_EQ(copy.next_review_due, D("2027-03-01"));
  ASSERT_TRUE(ApplyPolicySetting(p, "allow_discharge_rescission", "false").ok());
  EXPECT_EQ(RescindDischarge(e, D("2026-03-01"), false, p, 12).code(),
            absl::StatusCode::kFailedPrecondition);
  Episode active = Active();
  EXPECT_EQ(RescindDischarge(active, D("2026-03-01"), false, TestPolicy(), 12).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, T10VoidsFromAnyState) {
  for (Episode e : {Planned(), Active()}) {
    ASSERT_TRUE(MarkVoid(e, "duplicate of another record").ok());
    EXPECT_EQ(e.state, State::kVoid);
    EXPECT_EQ(e.void_reason, "duplicate of another record");
    EXPECT_EQ(MarkVoid(e, "again").code(), absl::StatusCode::kFailedPrecondition);
  }
  Episode ended = Active();
  EndDischarged(ended, D("2026-01-20"), std::nullopt);
  EXPECT_TRUE(MarkVoid(ended, "wrong person").ok());
}

TEST(Entitlement, ResponsibleCouncilIsNeverADistrictOrARegion) {
  icr::v1::ResponsibleCouncil c;
  c.set_basis("OR_ENGLAND_S117_3A");
  // 2.12: E07000008 (Cambridge, a district) and E12000001 (a region).
  for (const char* code : {"E07000008", "E12000001", "S12000033", "E0800003X"}) {
    c.set_code(code);
    ExpectField(CheckResponsibleCouncil(c, Ref(), "council"), absl::StatusCode::kInvalidArgument,
                "council.code");
  }
  c.set_code("E08000035");
  EXPECT_TRUE(CheckResponsibleCouncil(c, Ref(), "council").ok());
  c.set_basis("WHERE_THEY_LIVE");
  ExpectField(CheckResponsibleCouncil(c, Ref(), "council"), absl::StatusCode::kInvalidArgument,
              "council.basis");
}

TEST(Entitlement, ResponsibleIcbIsAnIcb) {
  icr::v1::ResponsibleIcb icb;
  icb.set_basis("CORE_GP_REGISTRATION");
  for (const char* code : {"Q99", "X98", "RGD", "QZZ"}) {
    icb.set_code(code);
    ExpectField(CheckResponsibleIcb(icb, Ref(), "icb"), absl::StatusCode::kInvalidArgument,
                "icb.code");
  }
  icb.set_code("QWO");
  EXPECT_TRUE(CheckResponsibleIcb(icb, Ref(), "icb").ok());
}

TEST(Entitlement, SetResponsibleBodiesChangesOnlyAnOpenEpisode) {
  Episode e = Active();
  icr::v1::SetResponsibleBodiesRequest req;
  req.mutable_council()->set_code("E09000007");
  req.mutable_council()->set_basis("NOT_OR_RESIDENT_OR_SENT_S117_3C");
  req.mutable_council()->set_evidence("sent to Camden on discharge");
  req.set_or_dispute_status("DISPUTED");
  ASSERT_TRUE(SetResponsibleBodies(e, req, Ref(), Role::kS117Officer, Today()).ok());
  EXPECT_EQ(e.responsible_council_code, "E09000007");
  EXPECT_FALSE(e.council_provisional);
  EXPECT_EQ(e.or_dispute_status, "DISPUTED");
  EXPECT_EQ(e.responsible_icb_code, "QWO");
  req.set_or_dispute_status("ARGUING");
  ExpectField(SetResponsibleBodies(e, req, Ref(), Role::kS117Officer, Today()),
              absl::StatusCode::kInvalidArgument, "or_dispute_status");
  ExpectField(SetResponsibleBodies(e, {}, Ref(), Role::kS117Officer, Today()),
              absl::StatusCode::kInvalidArgument, "council");
  req.set_or_dispute_status("");
  ASSERT_TRUE(MarkVoid(e, "error").ok());
  EXPECT_EQ(SetResponsibleBodies(e, req, Ref(), Role::kS117Officer, Today()).code(),
            absl::StatusCode::kFailedPrecondition);
}

icr::v1::AftercareService Line() {
  icr::v1::AftercareService l;
  l.set_service_type("HOME_CARE");
  l.set_provider_name("Leeds Home Support");
  l.set_need_ref("need-1");
  l.set_need_arises_from_mental_disorder(true);
  l.set_is_s117(true);
  l.set_start_date("2025-03-01");
  l.set_funder("JOINT");
  l.set_council_pct(50);
  l.set_icb_pct(50);
  l.set_weekly_cost_pence(42000);
  l.set_delivery_mode("COMMISSIONED");
  return l;
}

absl::Status Validate(icr::v1::AftercareService l, const std::optional<Split>& agreement = {}) {
  return ValidateServiceLine(l, TestPolicy(), agreement, Active(), Role::kAdmin, Today(),
                             "service");
}

TEST(Entitlement, ServiceLinesAreFreeSplitToOneHundredAndMeetAMentalHealthNeed) {
  EXPECT_TRUE(Validate(Line()).ok());
  // 2.12: "is_s117 = true, client_contribution = 12.50".
  auto charged = Line();
  charged.set_client_contribution_pence(1250);
  ExpectField(Validate(charged), absl::StatusCode::kInvalidArgument,
              "service.client_contribution_pence");
  charged.set_is_s117(false);  // a Care Act line may be charged for
  EXPECT_TRUE(Validate(charged).ok());
  // 2.12: "funder = JOINT, council_pct = 60, icb_pct = 50".
  auto split = Line();
  split.set_council_pct(60);
  ExpectField(Validate(split), absl::StatusCode::kInvalidArgument, "service.icb_pct");
  split.set_council_pct(33.33);
  split.set_icb_pct(66.67);
  EXPECT_TRUE(Validate(split).ok());
  // 2.12: a need with arises_from_mental_disorder = false on a s117 line.
  auto need = Line();
  need.set_need_arises_from_mental_disorder(false);
  ExpectField(Validate(need), absl::StatusCode::kInvalidArgument,
              "service.need_arises_from_mental_disorder");
  // 2.12: "top_up_amount on a non-accommodation service line".
  auto top_up = Line();
  top_up.set_top_up_payer("the person's sister");
  top_up.set_top_up_weekly_pence(5000);
  ExpectField(Validate(top_up), absl::StatusCode::kInvalidArgument, "service.top_up_weekly_pence");
  top_up.set_service_type("SUPPORTED_ACCOMMODATION");
  EXPECT_TRUE(Validate(top_up).ok());
  auto unknown = Line();
  unknown.set_service_type("HOLIDAY");
  ExpectField(Validate(unknown), absl::StatusCode::kInvalidArgument, "service.service_type");
}

TEST(Entitlement, TheSplitComesFromTheFundingAgreementUnlessOverriddenWithAReason) {
  const Policy p = TestPolicy();
  const Episode e = Active();
  auto unset = Line();
  unset.set_council_pct(0);
  unset.set_icb_pct(0);
  ExpectField(ValidateServiceLine(unset, p, std::nullopt, e, Role::kAdmin, Today(), "service"),
              absl::StatusCode::kInvalidArgument, "service.council_pct");
  ASSERT_TRUE(
      ValidateServiceLine(unset, p, Split{40, 60}, e, Role::kAdmin, Today(), "service").ok());
  EXPECT_EQ(unset.council_pct(), 40);
  EXPECT_EQ(unset.icb_pct(), 60);
  auto differs = Line();
  ExpectField(ValidateServiceLine(differs, p, Split{40, 60}, e, Role::kAdmin, Today(), "service"),
              absl::StatusCode::kInvalidArgument, "service.split_override_reason");
  differs.set_split_override_reason("agreed at panel: nursing needs");
  EXPECT_TRUE(
      ValidateServiceLine(differs, p, Split{40, 60}, e, Role::kAdmin, Today(), "service").ok());
  auto council = Line();
  council.set_funder("COUNCIL");
  council.set_council_pct(0);
  council.set_icb_pct(0);
  ASSERT_TRUE(
      ValidateServiceLine(council, p, std::nullopt, e, Role::kAdmin, Today(), "service").ok());
  EXPECT_EQ(council.council_pct(), 100);
  council.set_icb_pct(20);
  ExpectField(ValidateServiceLine(council, p, std::nullopt, e, Role::kAdmin, Today(), "service"),
              absl::StatusCode::kInvalidArgument, "service.council_pct");
}

TEST(Entitlement, ReviewsSetTheNextReviewWithinTheInterval) {
  const Episode e = Active();
  icr::v1::S117Review r;
  r.set_review_date("2025-09-01");
  r.mutable_council_rep()->set_name("Sam Patel");
  r.mutable_council_rep()->set_role("Social worker");
  r.mutable_health_rep()->set_name("Dr Jo Wu");
  r.mutable_health_rep()->set_role("Consultant psychiatrist");
  r.set_person_involvement("ATTENDED");
  r.set_outcome("CONTINUE");
  auto defaulted = r;
  ASSERT_TRUE(ValidateReview(defaulted, e, Role::kAdmin, D("2025-10-01"), 6, "review").ok());
  EXPECT_EQ(defaulted.next_review_due(), "2026-03-01");
  EXPECT_EQ(defaulted.council_rep().organisation_code(), "E08000035");
  auto late = r;
  late.set_next_review_due("2026-06-01");
  ExpectField(ValidateReview(late, e, Role::kAdmin, D("2025-10-01"), 6, "review"),
              absl::StatusCode::kInvalidArgument, "review.next_review_due");
  EXPECT_EQ(defaulted.council_attendance(), "ATTENDED");
  EXPECT_EQ(defaulted.health_attendance(), "ATTENDED");
  EXPECT_TRUE(defaulted.joint());
  // A single-agency review: no health representative, so health was not invited.
  auto no_health = r;
  no_health.clear_health_rep();
  ASSERT_TRUE(ValidateReview(no_health, e, Role::kAdmin, D("2025-10-01"), 12, "review").ok());
  EXPECT_EQ(no_health.health_attendance(), "NOT_INVITED");
  EXPECT_FALSE(no_health.joint());
  EXPECT_EQ(no_health.health_rep().organisation_code(), "");
  auto absent = r;
  absent.clear_health_rep();
  absent.set_health_attendance("INVITED_ABSENT");
  ASSERT_TRUE(ValidateReview(absent, e, Role::kAdmin, D("2025-10-01"), 12, "review").ok());
  EXPECT_FALSE(absent.joint());
  // An attending body's representative is named; at least one body attended.
  auto unnamed = r;
  unnamed.clear_health_rep();
  unnamed.set_health_attendance("ATTENDED");
  ExpectField(ValidateReview(unnamed, e, Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.health_rep.name");
  auto nobody = r;
  nobody.clear_health_rep();
  nobody.clear_council_rep();
  ExpectField(ValidateReview(nobody, e, Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.council_attendance");
  auto odd = r;
  odd.set_council_attendance("PHONED_IN");
  ExpectField(ValidateReview(odd, e, Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.council_attendance");
  // NOT_RECORDED only for an imported review.
  auto imported = r;
  imported.clear_health_rep();
  imported.clear_council_rep();
  imported.set_council_attendance("NOT_RECORDED");
  imported.set_health_attendance("NOT_RECORDED");
  auto live = imported;
  ExpectField(ValidateReview(live, e, Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.council_attendance");
  ASSERT_TRUE(ValidateReview(imported, e, Role::kAdmin, D("2025-10-01"), 12, "review", true).ok());
  EXPECT_FALSE(imported.joint());
  // Dates of the past: a social worker records at most 92 days back, nobody in the future.
  auto old = r;
  ExpectField(ValidateReview(old, e, Role::kSocialWorker, D("2026-01-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.review_date");
  auto future = r;
  ExpectField(ValidateReview(future, e, Role::kAdmin, D("2025-08-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.review_date");
  auto outcome = r;
  outcome.set_outcome("CLOSE");
  ExpectField(ValidateReview(outcome, e, Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.outcome");
  auto planned = r;
  EXPECT_EQ(ValidateReview(planned, Planned(), Role::kAdmin, D("2025-10-01"), 12, "review").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Entitlement, EndDecisionsNameTheDeciderTheReasonAndThePersonsInvolvement) {
  const Policy p = TestPolicy();
  const Date today = D("2026-02-01");
  EXPECT_TRUE(
      ValidateEndDecision(Decision("COUNCIL", "2026-01-10"), p, Role::kAdmin, today, "decision")
          .ok());
  auto no_text = Decision("COUNCIL", "2026-01-10");
  no_text.clear_reason_text();
  ExpectField(ValidateEndDecision(no_text, p, Role::kAdmin, today, "decision"),
              absl::StatusCode::kInvalidArgument, "decision.reason_text");
  auto capacity = Decision("COUNCIL", "2026-01-10");
  capacity.set_person_involvement("LACKS_CAPACITY_CONSULTED_OTHERS");
  ExpectField(ValidateEndDecision(capacity, p, Role::kAdmin, today, "decision"),
              absl::StatusCode::kInvalidArgument, "decision.consulted");
  capacity.set_consulted("Mother (lasting power of attorney), IMHA");
  EXPECT_TRUE(ValidateEndDecision(capacity, p, Role::kAdmin, today, "decision").ok());
  ExpectField(ValidateEndDecision(Decision("COUNCIL", "2026-01-10", "BORED"), p, Role::kAdmin,
                                  today, "decision"),
              absl::StatusCode::kInvalidArgument, "decision.primary_reason");
  ExpectField(
      ValidateEndDecision(Decision("TRUST", "2026-01-10"), p, Role::kAdmin, today, "decision"),
      absl::StatusCode::kInvalidArgument, "decision.body");
  ExpectField(
      ValidateEndDecision(Decision("ICB", "2026-03-01"), p, Role::kAdmin, today, "decision"),
      absl::StatusCode::kInvalidArgument, "decision.decision_date");
}

icr::v1::OpenEntitlementRequest OpenRequest() {
  icr::v1::OpenEntitlementRequest r;
  r.set_nhs_number("9434765919");
  r.set_legal_status_code("03");
  r.set_detention_start_date("2024-05-01");
  r.set_detaining_provider_code("RGD");
  r.set_state("ACTIVE");
  r.set_ceased_detained_date("2024-08-01");
  r.set_left_hospital_date("2024-08-01");
  r.mutable_council()->set_code("E08000035");
  r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
  r.mutable_icb()->set_code("QWO");
  r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
  r.set_reason("carried over from the council's register");
  return r;
}

absl::StatusOr<Episode> FromRequest(const icr::v1::OpenEntitlementRequest& r) {
  return EpisodeFromOpenRequest(r, "p-1", Ref(), TestPolicy(), Role::kAdmin, D("2026-01-01"), 12);
}

TEST(Entitlement, OpeningByHandAppliesT1AndT3) {
  auto e = FromRequest(OpenRequest());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->state, State::kActive);
  EXPECT_EQ(e->effective_from, D("2024-08-01"));
  EXPECT_EQ(e->next_review_due, D("2025-08-01"));
  EXPECT_EQ(e->registered_on, D("2026-01-01"));  // empty: today
  // Dates of the past: registered_on and effective_from from the request, bounded.
  auto dated = OpenRequest();
  dated.set_registered_on("2024-08-11");
  dated.set_effective_from("2024-09-01");
  auto back = FromRequest(dated);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->registered_on, D("2024-08-11"));
  EXPECT_EQ(back->effective_from, D("2024-09-01"));
  EXPECT_EQ(back->next_review_due, D("2025-09-01"));
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"registered_on", "2026-01-02"},      // in the future
           {"registered_on", "2024-01-01"},      // before the detention started
           {"effective_from", "2024-07-31"},     // before leaving hospital
           {"effective_from", "2024-01-01"}}) {  // before the detention
    auto bad = OpenRequest();
    if (field == "registered_on") bad.set_registered_on(value);
    if (field == "effective_from") bad.set_effective_from(value);
    ExpectField(FromRequest(bad).status(), absl::StatusCode::kInvalidArgument, field);
  }
  // A social worker may date a registration at most 92 days back.
  ExpectField(EpisodeFromOpenRequest(dated, "p-1", Ref(), TestPolicy(), Role::kSocialWorker,
                                     D("2026-01-01"), 12)
                  .status(),
              absl::StatusCode::kInvalidArgument, "registered_on");
  // 2.12: "Create episode with section S2".
  auto s2 = OpenRequest();
  s2.set_legal_status_code("02");
  ExpectField(FromRequest(s2).status(), absl::StatusCode::kInvalidArgument, "legal_status_code");
  // 2.12: "left_hospital_date earlier than ceased_detained_date".
  auto early = OpenRequest();
  early.set_left_hospital_date("2024-07-01");
  ExpectField(FromRequest(early).status(), absl::StatusCode::kInvalidArgument, "left_hospital_date");
  // 2.12: "ACTIVE episode with no left_hospital_date and no CTO/conditional-discharge/s17".
  auto no_trigger = OpenRequest();
  no_trigger.clear_left_hospital_date();
  ExpectField(FromRequest(no_trigger).status(), absl::StatusCode::kInvalidArgument,
              "left_hospital_date");
  no_trigger.set_cto_start_date("2024-08-01");
  EXPECT_EQ(FromRequest(no_trigger)->effective_from, D("2024-08-01"));
  // A case_decision section needs its decision recorded.
  auto cpia = OpenRequest();
  cpia.set_legal_status_code("31");
  ExpectField(FromRequest(cpia).status(), absl::StatusCode::kInvalidArgument, "case_decision");
  auto* decision = cpia.mutable_case_decision();
  decision->set_by("Legal services");
  decision->set_role("Solicitor");
  decision->set_date("2024-07-01");
  decision->set_rationale("A notional s37 hospital order");
  EXPECT_EQ(FromRequest(cpia)->qualifying_section, "OTHER_CASE_DECISION");
  auto planned = OpenRequest();
  planned.set_state("PLANNED");
  ExpectField(FromRequest(planned).status(), absl::StatusCode::kInvalidArgument, "state");
  auto district = OpenRequest();
  district.mutable_council()->set_code("E07000008");
  ExpectField(FromRequest(district).status(), absl::StatusCode::kInvalidArgument, "council.code");
}

icr::v1::RecordLegalEventRequest Event(const std::string& kind, const char* date) {
  icr::v1::RecordLegalEventRequest r;
  r.set_kind(kind);
  r.set_date(date);
  return r;
}

TEST(Entitlement, LegalDatesSetTheFlagsAndStartAPlannedDuty) {
  Episode e = Planned();
  ASSERT_TRUE(ApplyLegalDateEvent(e, Event("CTO_STARTED", "2025-03-01"), 12).ok());
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_TRUE(e.OnCtoAt(D("2025-04-01")));
  EXPECT_EQ(ApplyLegalDateEvent(e, Event("CTO_STARTED", "2025-04-01"), 12).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ApplyLegalDateEvent(e, Event("CTO_ENDED", "2025-06-01"), 12).ok());
  EXPECT_FALSE(e.OnCtoAt(D("2025-06-01")));
  EXPECT_EQ(ApplyLegalDateEvent(e, Event("CONDITIONALLY_DISCHARGED", "2025-07-01"), 12).code(),
            absl::StatusCode::kFailedPrecondition);  // s3 is not a restricted section
  Episode restricted = Planned();
  restricted.legal_status_code = "09";
  EXPECT_EQ(ApplyLegalDateEvent(restricted, Event("CTO_STARTED", "2025-03-01"), 12).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ApplyLegalDateEvent(restricted, Event("CONDITIONALLY_DISCHARGED", "2025-03-01"), 12).ok());
  EXPECT_EQ(restricted.state, State::kActive);
  EXPECT_TRUE(restricted.ConditionallyDischargedNow());
  ASSERT_TRUE(ApplyLegalDateEvent(restricted, Event("ABSOLUTELY_DISCHARGED", "2025-09-01"), 12).ok());
  EXPECT_FALSE(restricted.ConditionallyDischargedNow());
  Episode leave = Planned();
  auto s17 = Event("S17_LEAVE_TRIGGER", "2025-02-01");
  s17.mutable_decided_by()->set_name("Dr Jo Wu");
  s17.mutable_decided_by()->set_role("Responsible clinician");
  s17.set_rationale("Trial leave to live in a care home (Watson)");
  ASSERT_TRUE(ValidateLegalEvent(s17, D("2025-03-01")).ok());
  ASSERT_TRUE(ApplyLegalDateEvent(leave, s17, 12).ok());
  EXPECT_EQ(leave.state, State::kActive);
  EXPECT_EQ(leave.s17_trigger_date, D("2025-02-01"));
  auto undecided = Event("LEGAL_DETERMINATION_CONTINUE", "2025-03-01");
  ExpectField(ValidateLegalEvent(undecided, D("2025-04-01")), absl::StatusCode::kInvalidArgument,
              "decided_by.name");
  ExpectField(ValidateLegalEvent(Event("RECALLED", "2025-03-01"), D("2025-04-01")),
              absl::StatusCode::kInvalidArgument, "kind");
}

// architecture.md, Errors: a date refused against what is stored (the detention's, the
// entitlement's, the CTO's or the discharge's date) is FAILED_PRECONDITION naming the field; the
// same field wrong in the request alone stays INVALID_ARGUMENT. A refusal changes nothing.
TEST(Entitlement, DatesRefusedAgainstTheStoredEntitlementAreFailedPreconditionNamingTheField) {
  const auto refused = [](const std::string& field, Episode e, const auto& change) {
    const Episode before = e;
    ExpectField(change(e), absl::StatusCode::kFailedPrecondition, field);
    EXPECT_EQ(e, before) << field;
  };
  // Detention started 2025-01-10; ACTIVE from 2025-03-01.
  refused("ceased_detained_date", Planned(), [](Episode& e) {
    return ActivateOnLeavingHospital(e, D("2025-01-01"), D("2025-03-01"), 12);
  });
  refused("detention_start_date", Active(),
          [](Episode& e) { return Supersede(e, D("2025-02-01")); });
  refused("date_of_death", Active(), [](Episode& e) { return EndOnDeath(e, D("2025-01-01")); });
  refused("decision.decision_date", Active(), [](Episode& e) {
    return CheckEndDecision(e, Decision("COUNCIL", "2025-02-01"), TestPolicy());
  });
  Episode discharged = Active();
  EndDischarged(discharged, D("2026-01-20"), std::nullopt);
  refused("date", discharged,
          [](Episode& e) { return RescindDischarge(e, D("2026-01-01"), false, TestPolicy(), 12); });
  refused("date", Active(), [](Episode& e) {
    return ApplyLegalDateEvent(e, Event("CTO_STARTED", "2025-01-01"), 12);
  });
  Episode on_cto = Active();
  on_cto.cto_start_date = D("2025-04-01");
  refused("date", on_cto,
          [](Episode& e) { return ApplyLegalDateEvent(e, Event("CTO_ENDED", "2025-03-15"), 12); });
  Episode conditional = Active();
  conditional.legal_status_code = "09";
  conditional.conditional_discharge_date = D("2025-04-01");
  refused("date", conditional, [](Episode& e) {
    return ApplyLegalDateEvent(e, Event("ABSOLUTELY_DISCHARGED", "2025-03-15"), 12);
  });

  auto early = Line();
  early.set_start_date("2025-01-01");
  ExpectField(Validate(early), absl::StatusCode::kFailedPrecondition, "service.start_date");
  early.set_client_contribution_pence(1250);  // the request's own fault comes first
  ExpectField(Validate(early), absl::StatusCode::kInvalidArgument,
              "service.client_contribution_pence");

  icr::v1::S117Review review;
  review.set_review_date("2025-02-01");
  review.mutable_council_rep()->set_name("Sam Patel");
  review.mutable_council_rep()->set_role("Social worker");
  review.mutable_health_rep()->set_name("Dr Jo Wu");
  review.mutable_health_rep()->set_role("Consultant psychiatrist");
  review.set_person_involvement("ATTENDED");
  review.set_outcome("CONTINUE");
  ExpectField(ValidateReview(review, Active(), Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kFailedPrecondition, "review.review_date");
  review.set_outcome("CLOSE");
  ExpectField(ValidateReview(review, Active(), Role::kAdmin, D("2025-10-01"), 12, "review"),
              absl::StatusCode::kInvalidArgument, "review.outcome");
}

TEST(Entitlement, PolicySettingsAreCheckedWhenLoaded) {
  Policy p;
  EXPECT_TRUE(ApplyPolicySetting(p, "review_interval_months", "6").ok());
  EXPECT_EQ(p.review_interval_months, 6);
  EXPECT_FALSE(ApplyPolicySetting(p, "review_interval_months", "18").ok());
  EXPECT_FALSE(ApplyPolicySetting(p, "discharge_review_window_days", "ninety").ok());
  EXPECT_FALSE(ApplyPolicySetting(p, "allow_discharge_rescission", "yes").ok());
  EXPECT_FALSE(ApplyPolicySetting(p, "on_cto_revocation", "IGNORE").ok());
  EXPECT_TRUE(ApplyPolicySetting(p, "icb_regs_2022_from", "2022-07-01").ok());
  EXPECT_FALSE(ApplyPolicySetting(p, "icb_regs_2022_from", "July 2022").ok());
  EXPECT_TRUE(ApplyPolicySetting(p, "a_future_setting", "anything").ok());
}

TEST(Entitlement, AddMonthsKeepsToTheEndOfShortMonths) {
  EXPECT_EQ(AddMonths(D("2025-01-31"), 1), D("2025-02-28"));
  EXPECT_EQ(AddMonths(D("2024-01-31"), 1), D("2024-02-29"));
  EXPECT_EQ(AddMonths(D("2025-03-15"), 12), D("2026-03-15"));
}

}  // namespace
}  // namespace icr::s117

namespace icr::s117 {
namespace {

TEST(Entitlement, ALegalDateRecordedByHandIsKnownSoTheFeedLeavesIt) {
  Episode e = Planned();
  EXPECT_FALSE(LegalDateRecorded(e, "CTO_STARTED", D("2025-03-01")));
  icr::v1::RecordLegalEventRequest start;
  start.set_kind("CTO_STARTED");
  start.set_date("2025-03-01");
  ASSERT_TRUE(ApplyLegalDateEvent(e, start, 12).ok());
  EXPECT_EQ(e.state, State::kActive);
  EXPECT_TRUE(LegalDateRecorded(e, "CTO_STARTED", D("2025-03-01")));
  EXPECT_FALSE(LegalDateRecorded(e, "CTO_STARTED", D("2025-03-02")));
  EXPECT_FALSE(LegalDateRecorded(e, "CTO_ENDED", D("2025-06-01")));
  icr::v1::RecordLegalEventRequest end = start;
  end.set_kind("CTO_ENDED");
  end.set_date("2025-06-01");
  ASSERT_TRUE(ApplyLegalDateEvent(e, end, 12).ok());
  EXPECT_TRUE(LegalDateRecorded(e, "CTO_ENDED", D("2025-06-01")));
  EXPECT_FALSE(LegalDateRecorded(e, "CTO_STARTED", D("2025-03-01")));  // no longer in force
  EXPECT_FALSE(LegalDateRecorded(e, "S17_LEAVE_TRIGGER", D("2025-03-01")));
}

}  // namespace
}  // namespace icr::s117
