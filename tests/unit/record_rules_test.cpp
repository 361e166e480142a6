#include "services/record/record_rules.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

namespace icr::record {
namespace {
using google::protobuf::util::TimeUtil;

ReferenceData Ref() {
  ReferenceData ref;
  ref.AddOrganisation({"RGD", "trust", "Leeds and York Partnership", "QWO"});
  ref.AddOrganisation({"QWO", "icb", "West Yorkshire ICB", ""});
  ref.AddOrganisation({"E08000035", "council", "Leeds", "QWO"});
  ref.AddOrganisation({"E07000008", "district", "Cambridge", ""});
  for (const char* c : {"A", "B", "Z", "99"}) ref.AddCode("ethnic_category", c, {"", ""});
  for (const char* c : {"0", "1", "2", "9"}) ref.AddCode("sex", c, {"", ""});
  ref.AddCode("bed_type", "200", {"Adult acute", "adult_acute"});
  ref.AddCode("discharge_method", "1", {"", ""});
  ref.AddCode("discharge_destination", "19", {"", ""});
  ref.AddCode("team_type", "C02", {"", ""});
  ref.AddCode("service_area", "adult_mh", {"", ""});
  ref.AddCode("attend_status", "5", {"", "attended"});
  ref.AddCode("attend_status", "3", {"", "not_attended"});
  ref.AddCode("consultation_mechanism", "01", {"", "follow_up"});
  ref.AddLegalStatus({"03", "Section 3", "yes", false});
  ref.AddLegalStatus({"02", "Section 2", "no", false});
  ref.AddLegalStatus({"01", "Informal", "no", false});
  ref.AddLegalStatus({"99", "Not known", "invalid", false});
  return ref;
}

const Date kToday = *ParseDate("2026-11-23");

icr::v1::Person GoodPerson() {
  icr::v1::Person p;
  p.set_nhs_number("943 476 5919");
  p.set_family_name("Smith");
  p.set_date_of_birth("1970-01-01");
  p.set_ethnic_category("a");
  p.set_council_code("E08000035");
  p.set_icb_code("QWO");
  return p;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ValidatePerson, NormalisesAndAccepts) {
  auto p = GoodPerson();
  ASSERT_TRUE(ValidatePerson(p, Ref(), "person", kToday).ok());
  EXPECT_EQ(p.nhs_number(), "9434765919");
  EXPECT_EQ(p.ethnic_category(), "A");
  EXPECT_EQ(p.sex(), "0");
}

TEST(ValidatePerson, RefusesEachBadField) {
  struct Case {
    void (*mutate)(icr::v1::Person&);
    const char* field;
  } cases[] = {
      {[](icr::v1::Person& p) { p.set_nhs_number("9990000019"); }, "person.nhs_number"},
      {[](icr::v1::Person& p) { p.set_nhs_number("943476591"); }, "person.nhs_number"},
      {[](icr::v1::Person& p) { p.set_date_of_birth("2027-01-01"); }, "person.date_of_birth"},
      {[](icr::v1::Person& p) { p.set_date_of_birth("1970-02-30"); }, "person.date_of_birth"},
      {[](icr::v1::Person& p) { p.set_ethnic_category("Q"); }, "person.ethnic_category"},
      {[](icr::v1::Person& p) { p.set_council_code("E07000008"); }, "person.council_code"},
      {[](icr::v1::Person& p) { p.set_icb_code("RGD"); }, "person.icb_code"},
      {[](icr::v1::Person& p) { p.set_family_name(""); }, "person.family_name"},
  };
  for (const auto& c : cases) {
    auto p = GoodPerson();
    c.mutate(p);
    auto s = ValidatePerson(p, Ref(), "person", kToday);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(Message(s).rfind(c.field, 0), 0u) << Message(s);
  }
}

icr::v1::Event Admission() {
  icr::v1::Event e;
  e.set_event_id("e1");
  e.set_nhs_number("9434765919");
  auto* a = e.mutable_admission();
  a->set_spell_id("S1");
  a->set_provider_code("RGD");
  *a->mutable_admitted_at() = TimeUtil::SecondsToTimestamp(1767225600);  // 2026-01-01
  a->set_bed_type("200");
  return e;
}

TEST(ValidateEvent, AcceptsAdmission) {
  auto e = Admission();
  EXPECT_TRUE(ValidateEvent(e, Ref(), "events[0]", kToday).ok());
  EXPECT_EQ(EventKind(e), "admission");
  EXPECT_EQ(FormatDate(*EventDate(e)), "2026-01-01");
}

TEST(ValidateEvent, UnknownBedTypeNamesField) {
  auto e = Admission();
  e.mutable_admission()->set_bed_type("999");
  auto s = ValidateEvent(e, Ref(), "events[2]", kToday);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s).rfind("events[2].admission.bed_type", 0), 0u) << Message(s);
}

TEST(ValidateEvent, UnknownProviderAndFutureTime) {
  auto e = Admission();
  e.mutable_admission()->set_provider_code("QWO");  // an ICB is not a provider
  EXPECT_EQ(Message(ValidateEvent(e, Ref(), "e", kToday)).rfind("e.admission.provider_code", 0),
            0u);
  e = Admission();
  *e.mutable_admission()->mutable_admitted_at() = TimeUtil::SecondsToTimestamp(1893456000);  // 2030
  EXPECT_EQ(Message(ValidateEvent(e, Ref(), "e", kToday)).rfind("e.admission.admitted_at", 0), 0u);
}

TEST(ValidateEvent, LegalStatusCodes) {
  icr::v1::Event e;
  e.set_event_id("d1");
  e.set_nhs_number("9434765919");
  auto* d = e.mutable_detention_start();
  d->set_detention_id("D1");
  d->set_legal_status_code("3");  // one-digit form is normalised
  d->set_provider_code("RGD");
  *d->mutable_started_at() = TimeUtil::SecondsToTimestamp(1767225600);
  ASSERT_TRUE(ValidateEvent(e, Ref(), "e", kToday).ok());
  EXPECT_EQ(e.detention_start().legal_status_code(), "03");
  for (const char* bad : {"11", "99", "01"}) {
    d->set_legal_status_code(bad);
    auto s = ValidateEvent(e, Ref(), "e", kToday);
    EXPECT_EQ(Message(s).rfind("e.detention_start.legal_status_code", 0), 0u) << bad;
  }
}

TEST(ValidateEvent, ContactAttendanceMustAgree) {
  icr::v1::Event e;
  e.set_event_id("c1");
  e.set_nhs_number("9434765919");
  auto* c = e.mutable_care_contact();
  c->set_contact_id("C1");
  c->set_contact_date("2026-01-03");
  c->set_attend_status("3");
  c->set_attended(true);
  c->set_consultation_mechanism("01");
  EXPECT_EQ(Message(ValidateEvent(e, Ref(), "e", kToday)),
            "e.care_contact.attended: contradicts attend_status");
  c->set_attended(false);
  EXPECT_TRUE(ValidateEvent(e, Ref(), "e", kToday).ok());
}

TEST(ValidateEvent, NoKindIsRefused) {
  icr::v1::Event e;
  e.set_event_id("x");
  e.set_nhs_number("9434765919");
  EXPECT_EQ(ValidateEvent(e, Ref(), "e", kToday).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CanonicalJson, SameContentSameText) {
  auto a = Admission();
  auto b = Admission();
  EXPECT_EQ(CanonicalJson(a), CanonicalJson(b));
  b.mutable_admission()->set_bed_type("201");
  EXPECT_NE(CanonicalJson(a), CanonicalJson(b));
}

// The rules on what is stored refuse with FAILED_PRECONDITION (architecture.md, Errors).
TEST(CheckNotAfterDeath, RefusesOnlyWhatIsDatedAfterTheDeath) {
  const auto admission = Admission();  // 2026-01-01
  EXPECT_TRUE(CheckNotAfterDeath(admission, "", "e").ok());
  EXPECT_TRUE(CheckNotAfterDeath(admission, "2026-01-01", "e").ok());
  const absl::Status late = CheckNotAfterDeath(admission, "2025-12-31", "events[2]");
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(late), "events[2]: dated after the person's death");
}

TEST(CheckDeath, RefusesBeforeBirthAnotherDateAndBeforeActivity) {
  icr::v1::Person p;
  p.set_date_of_birth("1970-01-01");
  EXPECT_TRUE(CheckDeath("2026-02-01", p, std::nullopt, "e").ok());
  EXPECT_TRUE(CheckDeath("2026-02-01", p, "2026-02-01", "e").ok());
  struct Case {
    std::string date, recorded, latest, message;
  };
  for (const Case& c : std::vector<Case>{
           {"1969-12-31", "", "", "e.death.date_of_death: before the date of birth"},
           {"2026-02-01", "2026-01-01", "",
            "e.death.date_of_death: a different date of death is already recorded"},
           {"2026-02-01", "", "2026-02-02",
            "e.death.date_of_death: before activity already recorded"},
       }) {
    p.set_date_of_death(c.recorded);
    const auto latest = c.latest.empty() ? std::nullopt : std::optional<std::string>(c.latest);
    const absl::Status s = CheckDeath(c.date, p, latest, "e");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << c.message;
    EXPECT_EQ(Message(s), c.message);
  }
  p.set_date_of_death("2026-02-01");  // the same death again
  EXPECT_TRUE(CheckDeath("2026-02-01", p, std::nullopt, "e").ok());
}

TEST(CloseRefusal, NamesTheFieldOfEachReason) {
  struct Case {
    Closing closing;
    std::optional<ClosedRowFacts> row;
    absl::StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {Closing::kReferralClosed, std::nullopt, absl::StatusCode::kFailedPrecondition,
            "e.referral_closed.referral_id: no referral with this id for this person"},
           {Closing::kDischarge, ClosedRowFacts{true, false}, absl::StatusCode::kFailedPrecondition,
            "e.discharge.spell_id: already discharged"},
           {Closing::kDischarge, ClosedRowFacts{false, true}, absl::StatusCode::kFailedPrecondition,
            "e.discharge.discharged_at: before the admission"},
           {Closing::kDetentionEnd, ClosedRowFacts{false, true},
            absl::StatusCode::kFailedPrecondition,
            "e.detention_end.ended_at: before the detention started"},
           {Closing::kKeyWorkerEnded, ClosedRowFacts{true, true},
            absl::StatusCode::kFailedPrecondition,
            "e.key_worker_ended.assignment_id: already ended"},
           {Closing::kReferralClosed, ClosedRowFacts{false, false}, absl::StatusCode::kAborted,
            "e.referral_closed.referral_id: changed by a concurrent call; send again"},
       }) {
    const absl::Status s = CloseRefusal(c.closing, c.row, "e");
    EXPECT_EQ(s.code(), c.code) << c.message;
    EXPECT_EQ(Message(s), c.message);
  }
}

TEST(ValidateQuery, NormalisesThePostcodeAndNamesTheBadField) {
  icr::v1::FindPeopleRequest q;
  EXPECT_EQ(Message(ValidateQuery(q)),
            "query: one of name_and_birth, postcode or local_identifier");
  q.set_postcode("ls1 4ab");
  ASSERT_TRUE(ValidateQuery(q).ok());
  EXPECT_EQ(q.postcode(), "LS1 4AB");
  q.mutable_page()->set_page_token("not-a-token");
  EXPECT_EQ(Message(ValidateQuery(q)), "page.page_token: not a token returned by FindPeople");
  q.mutable_page()->set_page_token("00000000-0000-0000-0000-000000000001");
  q.mutable_name_and_birth()->set_family_name("Smith");
  q.mutable_name_and_birth()->set_date_of_birth("1970-02-30");
  EXPECT_EQ(ValidateQuery(q).code(), absl::StatusCode::kInvalidArgument);
  q.mutable_name_and_birth()->set_date_of_birth("1970-02-28");
  EXPECT_TRUE(ValidateQuery(q).ok());
}

// ---- Residence history ----

icr::v1::Person Living(const std::string& postcode, const std::string& council) {
  icr::v1::Person p;
  p.set_date_of_birth("1980-05-01");
  p.set_postcode(postcode);
  p.set_council_code(council);
  p.set_icb_code("QWO");
  return p;
}

TEST(Residence, AFirstResidenceStartsWhenSaidOrAtADateNotRecorded) {
  const Date today = *ParseDate("2026-06-01");
  auto first =
      PlanResidence(std::nullopt, Living("LS1 4AP", "E08000035"), std::nullopt, today, "f");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->kind, ResidenceChange::Kind::kOpenFirst);
  EXPECT_FALSE(first->from);
  icr::v1::Person nowhere = Living("", "");
  nowhere.clear_icb_code();
  first = PlanResidence(std::nullopt, nowhere, std::nullopt, today, "f");
  EXPECT_EQ(first->kind, ResidenceChange::Kind::kNone);
  auto dated = PlanResidence(std::nullopt, Living("LS1 4AP", "E08000035"), ParseDate("2020-01-01"),
                             today, "f");
  EXPECT_EQ(dated->from, ParseDate("2020-01-01"));
}

TEST(Residence, AMoveTakesEffectOnItsDateAfterTheCurrentResidenceBegan) {
  const Date today = *ParseDate("2026-06-01");
  const CurrentResidence leeds{"LS1 4AP", "E08000035", "QWO", ParseDate("2025-01-01")};
  EXPECT_EQ(
      PlanResidence(leeds, Living("LS1 4AP", "E08000035"), ParseDate("2026-01-01"), today, "f")
          ->kind,
      ResidenceChange::Kind::kNone);
  auto move = PlanResidence(leeds, Living("BS1 4ST", "E06000023"), std::nullopt, today, "f");
  EXPECT_EQ(move->kind, ResidenceChange::Kind::kMove);
  EXPECT_EQ(move->from, today);
  move = PlanResidence(leeds, Living("LS1 4AP", "E08000035"), std::nullopt, today, "f");
  EXPECT_EQ(move->kind, ResidenceChange::Kind::kNone);
  auto refused =
      PlanResidence(leeds, Living("BS1 4ST", "E06000023"), ParseDate("2025-01-01"), today, "f");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  const CurrentResidence unknown_start{"LS1 4AP", "E08000035", "QWO", std::nullopt};
  EXPECT_EQ(PlanResidence(unknown_start, Living("BS1 4ST", "E06000023"), ParseDate("1990-01-01"),
                          today, "f")
                ->kind,
            ResidenceChange::Kind::kMove);
}

TEST(Residence, ResidenceFromIsADateOfThePast) {
  const Date today = *ParseDate("2026-06-01");
  const auto p = Living("LS1 4AP", "E08000035");
  EXPECT_FALSE(*ResidenceFrom("", p, today, "residence_from"));
  EXPECT_EQ(*ResidenceFrom("2026-05-01", p, today, "residence_from"), ParseDate("2026-05-01"));
  for (const char* bad : {"2026-06-02", "1970-01-01", "01/05/2026"}) {
    EXPECT_EQ(ResidenceFrom(bad, p, today, "residence_from").status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace icr::record

namespace icr::record {
namespace {

icr::v1::Event CtoStartEvent() {
  icr::v1::Event e;
  e.set_event_id("cto-1");
  e.set_nhs_number("9434765919");
  auto* c = e.mutable_cto_start();
  c->set_cto_id("CTO1");
  c->set_detention_id("D1");
  c->set_start_date("2026-10-01");
  c->set_expiry_date("2027-03-31");  // the statutory expiry may lie ahead
  c->set_provider_code("RGD");
  return e;
}

TEST(ValidateEvent, CtoAndConditionalDischargeEvents) {
  auto ok = CtoStartEvent();
  EXPECT_TRUE(ValidateEvent(ok, Ref(), "events[0]", kToday).ok());
  struct Case {
    void (*mutate)(icr::v1::Event&);
    const char* field;
  } cases[] = {
      {[](icr::v1::Event& e) { e.mutable_cto_start()->set_cto_id(""); }, "events[0].cto_start.cto_id"},
      {[](icr::v1::Event& e) { e.mutable_cto_start()->set_start_date("2026-12-01"); },
       "events[0].cto_start.start_date"},
      {[](icr::v1::Event& e) { e.mutable_cto_start()->set_expiry_date("2026-09-30"); },
       "events[0].cto_start.expiry_date"},
      {[](icr::v1::Event& e) { e.mutable_cto_start()->set_provider_code("QWO"); },
       "events[0].cto_start.provider_code"},
      {[](icr::v1::Event& e) { e.mutable_cto_end()->set_cto_id("CTO1"); },
       "events[0].cto_end.end_date"},
      {[](icr::v1::Event& e) {
         e.mutable_conditional_discharge_start()->set_conditional_discharge_id("CD1");
         e.mutable_conditional_discharge_start()->set_start_date("2026-10-01");
       },
       "events[0].conditional_discharge_start.provider_code"},
      {[](icr::v1::Event& e) {
         e.mutable_conditional_discharge_end()->set_conditional_discharge_id("CD1");
       },
       "events[0].conditional_discharge_end.end_date"},
  };
  for (const auto& c : cases) {
    auto e = CtoStartEvent();
    c.mutate(e);
    auto s = ValidateEvent(e, Ref(), "events[0]", kToday);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(Message(s).rfind(c.field, 0), 0u) << Message(s);
  }
}

TEST(EventWrite, CtoAndConditionalDischargeStartsOpenARelationshipLikeADetention) {
  std::string other;
  EXPECT_EQ(EventWrite(CtoStartEvent(), "RGD", &other), access::Write::kOpenRelationship);
  EXPECT_EQ(EventWrite(CtoStartEvent(), "RX4", &other), access::Write::kEvent);
  EXPECT_EQ(other, "cto_start.provider_code");
  icr::v1::Event end;
  end.mutable_cto_end()->set_cto_id("CTO1");
  other.clear();
  EXPECT_EQ(EventWrite(end, "RGD", &other), access::Write::kEvent);
  EXPECT_TRUE(other.empty());
  icr::v1::Event cd;
  cd.mutable_conditional_discharge_start()->set_provider_code("RGD");
  EXPECT_EQ(EventWrite(cd, "RGD", &other), access::Write::kOpenRelationship);
}

TEST(CloseRefusal, NamesTheCtoFields) {
  EXPECT_EQ(Message(CloseRefusal(Closing::kCtoEnd, std::nullopt, "events[1]")),
            "events[1].cto_end.cto_id: no community treatment order with this id for this person");
  EXPECT_EQ(Message(CloseRefusal(Closing::kConditionalDischargeEnd, ClosedRowFacts{false, true},
                                 "events[1]"))
                .rfind("events[1].conditional_discharge_end.end_date", 0),
            0u);
}

}  // namespace
}  // namespace icr::record
