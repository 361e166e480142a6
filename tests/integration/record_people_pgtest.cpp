// RecordEvents with people (what a FHIR transaction Bundle becomes), conditional create
// (create_only), and the look-ups by person_id (GetPerson, GetIntegratedRecord, ListCarePlans),
// through real gRPC against real PostgreSQL.
#include <gtest/gtest.h>

#include "icr/v1/careplan.grpc.pb.h"
#include "services/fhir/transaction.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr char kTrust[] = "RGD";       // Leeds and York Partnership NHS FT
constexpr char kOtherTrust[] = "RX4";  // no relationship with the people here
constexpr int64_t kJan2026 = 1767225600;

class RecordPeopleTest : public ::testing::Test {
 protected:
  Stack& stack = Stack::Get();
  std::string token = stack.Token(kTrust, "system");

  std::string PersonCount(const std::string& nhs) {
    return stack.Scalar("SELECT count(*) FROM core.person WHERE nhs_number = '" + nhs + "'");
  }
  std::string AuditRows(const std::string& action, const std::string& outcome,
                        const std::string& person_id) {
    return stack.Scalar("SELECT count(*) FROM core.audit WHERE action = '" + action +
                        "' AND outcome = '" + outcome + "' AND person_id " +
                        (person_id.empty() ? "IS NULL" : "= '" + person_id + "'"));
  }
  icr::v1::RecordEventsRequest NewPersonWithSpell(const std::string& nhs) {
    icr::v1::RecordEventsRequest req;
    auto* p = req.add_people();
    *p->mutable_person() = MakePerson(nhs);
    p->set_create_only(true);
    *req.add_events() = build::ReferralOpened(nhs, nhs + "/ref", nhs + "/R1", kTrust, "2025-12-01");
    *req.add_events() = build::Admission(nhs, nhs + "/adm", nhs + "/S1", kTrust, kJan2026);
    return req;
  }
};

TEST_F(RecordPeopleTest, PeopleAndEventsAreStoredTogetherAndResendChangesNothing) {
  const std::string nhs = NextNhsNumber();
  const auto req = NewPersonWithSpell(nhs);
  icr::v1::RecordEventsResponse resp;
  auto s = stack.record()->RecordEvents(Ctx(token).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.people_size(), 1);
  const icr::v1::Person stored = resp.people(0);
  EXPECT_EQ(stored.nhs_number(), nhs);
  EXPECT_FALSE(stored.person_id().empty());
  EXPECT_EQ(stored.version(), 1);
  ASSERT_EQ(resp.outcomes_size(), 2);
  for (const auto& o : resp.outcomes()) EXPECT_EQ(o.result(), icr::v1::EventOutcome::STORED);
  EXPECT_FALSE(resp.change_cursor().empty());
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.hospital_spell WHERE person_id = '" +
                         stored.person_id() + "'"),
            "1");
  // One transaction: the person's creation, the events and the audit row of the call.
  EXPECT_EQ(AuditRows("RecordEvents", "ok", stored.person_id()), "1");

  // The same request again: the person as stored, the events duplicates, nothing changed.
  const std::string changes =
      "SELECT count(*) FROM core.changes WHERE person_id = '" + stored.person_id() + "'";
  const std::string before = stack.Scalar(changes);
  icr::v1::RecordEventsResponse again;
  ASSERT_TRUE(stack.record()->RecordEvents(Ctx(token).get(), req, &again).ok());
  ASSERT_EQ(again.people_size(), 1);
  EXPECT_EQ(again.people(0).person_id(), stored.person_id());
  EXPECT_EQ(again.people(0).version(), 1);
  for (const auto& o : again.outcomes()) EXPECT_EQ(o.result(), icr::v1::EventOutcome::DUPLICATE);
  EXPECT_EQ(stack.Scalar(changes), before);
}

TEST_F(RecordPeopleTest, OneBadEventRefusesThePeopleToo) {
  const std::string nhs = NextNhsNumber();
  auto req = NewPersonWithSpell(nhs);
  // Refused against stored state (a discharge of a spell never admitted): after the person.
  *req.add_events() = build::Discharge(nhs, nhs + "/dis", nhs + "/NO-SUCH-SPELL", kJan2026 + 86400);
  icr::v1::RecordEventsResponse resp;
  auto s = stack.record()->RecordEvents(Ctx(token).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(s.error_message().rfind("events[2].", 0), 0u) << s.error_message();
  EXPECT_EQ(PersonCount(nhs), "0");

  // A bad person is named by its place in the request, and nothing is written either.
  req = NewPersonWithSpell(nhs);
  req.mutable_people(0)->mutable_person()->set_date_of_birth("2999-01-01");
  s = stack.record()->RecordEvents(Ctx(token).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("people[0].person.date_of_birth", 0), 0u) << s.error_message();
  req = NewPersonWithSpell(nhs);
  req.mutable_people(0)->set_expected_version(-1);
  s = stack.record()->RecordEvents(Ctx(token).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("people[0].expected_version", 0), 0u) << s.error_message();
  EXPECT_EQ(PersonCount(nhs), "0");

  // Neither events nor people: nothing to do.
  s = stack.record()->RecordEvents(Ctx(token).get(), icr::v1::RecordEventsRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // People alone are enough.
  icr::v1::RecordEventsRequest only_people;
  *only_people.add_people()->mutable_person() = MakePerson(nhs);
  ASSERT_TRUE(stack.record()->RecordEvents(Ctx(token).get(), only_people, &resp).ok());
  EXPECT_EQ(resp.people_size(), 1);
  EXPECT_EQ(PersonCount(nhs), "1");
}

TEST_F(RecordPeopleTest, CreateOnlyLeavesAStoredPersonUnchanged) {
  const std::string nhs = NextNhsNumber();
  const auto seeded = SeedPerson(kTrust, nhs);
  icr::v1::UpsertPersonRequest req;
  *req.mutable_person() = MakePerson(nhs);
  req.mutable_person()->set_family_name("Different");
  req.set_create_only(true);
  icr::v1::Person out;
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(token).get(), req, &out).ok());
  EXPECT_EQ(out.person_id(), seeded.person_id());
  EXPECT_EQ(out.family_name(), seeded.family_name());
  EXPECT_EQ(out.version(), seeded.version());
  EXPECT_EQ(stack.Scalar("SELECT family_name FROM core.person WHERE nhs_number = '" + nhs + "'"),
            seeded.family_name());

  // The same in RecordEvents.
  icr::v1::RecordEventsRequest events;
  *events.add_people() = req;
  icr::v1::RecordEventsResponse resp;
  ASSERT_TRUE(stack.record()->RecordEvents(Ctx(token).get(), events, &resp).ok());
  EXPECT_EQ(resp.people(0).family_name(), seeded.family_name());
  EXPECT_EQ(resp.people(0).version(), seeded.version());

  // The write rule still applies: an organisation that cannot see them gets NOT_FOUND.
  const std::string other = stack.Token(kOtherTrust, "system");
  auto s = stack.record()->UpsertPerson(Ctx(other).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = stack.record()->RecordEvents(Ctx(other).get(), events, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message().rfind("people[0].person.nhs_number", 0), 0u) << s.error_message();

  // A person not stored is created.
  const std::string fresh = NextNhsNumber();
  *req.mutable_person() = MakePerson(fresh);
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(token).get(), req, &out).ok());
  EXPECT_EQ(out.version(), 1);
  EXPECT_EQ(PersonCount(fresh), "1");
}

TEST_F(RecordPeopleTest, LookUpsByPersonIdEqualThoseByNhsNumber) {
  const std::string nhs = NextNhsNumber();
  icr::v1::RecordEventsResponse resp;
  ASSERT_TRUE(stack.record()->RecordEvents(Ctx(token).get(), NewPersonWithSpell(nhs), &resp).ok());
  const std::string id = resp.people(0).person_id();

  icr::v1::GetPersonRequest by_nhs, by_id;
  by_nhs.set_nhs_number(nhs);
  by_id.set_person_id(id);
  icr::v1::Person a, b;
  ASSERT_TRUE(stack.record()->GetPerson(Ctx(token).get(), by_nhs, &a).ok());
  ASSERT_TRUE(stack.record()->GetPerson(Ctx(token).get(), by_id, &b).ok());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(AuditRows("GetPerson", "ok", id), "2");

  icr::v1::GetIntegratedRecordRequest rec_nhs, rec_id;
  rec_nhs.set_nhs_number(nhs);
  rec_id.set_person_id(id);
  icr::v1::IntegratedRecord ra, rb;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(token).get(), rec_nhs, &ra).ok());
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(token).get(), rec_id, &rb).ok());
  EXPECT_EQ(ra.SerializeAsString(), rb.SerializeAsString());
  EXPECT_EQ(rb.hospital_stay().spell_id(), nhs + "/S1");
  EXPECT_EQ(AuditRows("GetIntegratedRecord", "ok", id), "2");

  // Exactly one key, and a person_id must be one.
  by_id.set_nhs_number(nhs);
  auto s = stack.record()->GetPerson(Ctx(token).get(), by_id, &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("person_id", 0), 0u) << s.error_message();
  s = stack.record()->GetPerson(Ctx(token).get(), icr::v1::GetPersonRequest(), &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("nhs_number", 0), 0u) << s.error_message();
  rec_id.set_person_id("not-a-uuid");
  s = stack.record()->GetIntegratedRecord(Ctx(token).get(), rec_id, &rb);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("person_id", 0), 0u) << s.error_message();
}

TEST_F(RecordPeopleTest, UnknownOrInvisiblePersonIdIsNotFoundAndAudited) {
  const std::string nhs = NextNhsNumber();
  const auto seeded = SeedPerson(kTrust, nhs);
  const std::string unknown = "00000000-0000-4000-8000-0000000000ab";
  const std::string other = stack.Token(kOtherTrust, "clinician");

  for (const std::string action : {"GetPerson", "GetIntegratedRecord"}) {
    auto call = [&](const std::string& tok, const std::string& person_id) {
      if (action == "GetPerson") {
        icr::v1::GetPersonRequest req;
        req.set_person_id(person_id);
        icr::v1::Person out;
        return stack.record()->GetPerson(Ctx(tok).get(), req, &out);
      }
      icr::v1::GetIntegratedRecordRequest req;
      req.set_person_id(person_id);
      icr::v1::IntegratedRecord out;
      return stack.record()->GetIntegratedRecord(Ctx(tok).get(), req, &out);
    };
    const std::string not_found_before = AuditRows(action, "not_found", "");
    auto s = call(token, unknown);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << action;
    EXPECT_EQ(s.error_message().rfind("person_id", 0), 0u) << s.error_message();
    EXPECT_EQ(std::stoi(AuditRows(action, "not_found", "")), std::stoi(not_found_before) + 1)
        << action;

    // Invisible: the same answer, audited denied against the person.
    auto invisible = call(other, seeded.person_id());
    EXPECT_EQ(invisible.error_code(), grpc::StatusCode::NOT_FOUND) << action;
    EXPECT_EQ(invisible.error_message(), s.error_message()) << action;
    EXPECT_EQ(AuditRows(action, "denied", seeded.person_id()), "1") << action;

    // Unauthenticated: refused before any look-up.
    EXPECT_EQ(call("bad-token", unknown).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(RecordPeopleTest, ListCarePlansByPersonId) {
  const std::string nhs = NextNhsNumber();
  const auto seeded = SeedPerson(kTrust, nhs);
  auto cp = icr::v1::CarePlanService::NewStub(stack.channel());
  const std::string clinician = stack.Token(kTrust, "clinician");
  icr::v1::CreateCarePlanRequest create;
  create.set_nhs_number(nhs);
  *create.mutable_plan() = build::CarePlanContent(false, kTrust, "2027-01-01");
  icr::v1::CarePlan plan;
  auto s = cp->CreateCarePlan(Ctx(clinician).get(), create, &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();

  icr::v1::ListCarePlansRequest list;
  list.set_person_id(seeded.person_id());
  icr::v1::ListCarePlansResponse plans;
  ASSERT_TRUE(cp->ListCarePlans(Ctx(clinician).get(), list, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 1);
  EXPECT_EQ(plans.plans(0).person_id(), seeded.person_id());

  // The same as by NHS number; both keys naming the same person too.
  icr::v1::ListCarePlansRequest by_nhs;
  by_nhs.set_nhs_number(nhs);
  icr::v1::ListCarePlansResponse same;
  ASSERT_TRUE(cp->ListCarePlans(Ctx(clinician).get(), by_nhs, &same).ok());
  EXPECT_EQ(same.SerializeAsString(), plans.SerializeAsString());
  by_nhs.set_person_id(seeded.person_id());
  ASSERT_TRUE(cp->ListCarePlans(Ctx(clinician).get(), by_nhs, &same).ok());
  EXPECT_EQ(same.plans_size(), 1);

  // Unknown, or not visible to the caller: an empty list.
  list.set_person_id("00000000-0000-4000-8000-0000000000ab");
  ASSERT_TRUE(cp->ListCarePlans(Ctx(clinician).get(), list, &plans).ok());
  EXPECT_EQ(plans.plans_size(), 0);
  list.set_person_id(seeded.person_id());
  ASSERT_TRUE(
      cp->ListCarePlans(Ctx(stack.Token(kOtherTrust, "clinician")).get(), list, &plans).ok());
  EXPECT_EQ(plans.plans_size(), 0);
  list.set_person_id("nope");
  EXPECT_EQ(cp->ListCarePlans(Ctx(clinician).get(), list, &plans).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A transaction Bundle as the FHIR face sends it: mapped (ParseTransaction), stored, resent
// (nothing changes), and a Bundle the service refuses, whose refusal names the element and
// which writes nothing.
nlohmann::json TransactionBundle(const std::string& nhs, const std::string& admitted_at,
                                 const std::string& bed_type = "200") {
  const std::string nhs_ref = "https://fhir.nhs.uk/Id/nhs-number";
  const std::string ods = "https://fhir.nhs.uk/Id/ods-organization-code";
  const std::string canon = "https://icr.example.org/fhir";
  using J = nlohmann::json;
  J patient = {{"resourceType", "Patient"},
               {"identifier", {{{"system", nhs_ref}, {"value", nhs}}}},
               {"name", {{{"family", "Testperson"}, {"given", {"Alex"}}}}},
               {"gender", "female"},
               {"birthDate", "1980-05-01"},
               {"address", {{{"postalCode", "LS1 1AA"}}}}};
  J episode = {
      {"resourceType", "EpisodeOfCare"},
      {"status", "active"},
      {"type",
       {{{"coding",
          {{{"system", canon + "/CodeSystem/nhsdd-service-team-type"}, {"code", "C02"}}}}},
        {{"coding", {{{"system", canon + "/CodeSystem/service-area"}, {"code", "adult_mh"}}}}}}},
      {"patient", {{"reference", "urn:uuid:p-" + nhs}}},
      {"managingOrganization", {{"identifier", {{"system", ods}, {"value", kTrust}}}}},
      {"period", {{"start", "2025-12-01"}}}};
  J encounter = {{"resourceType", "Encounter"},
                 {"status", "in-progress"},
                 {"class", {{"code", "IMP"}}},
                 {"subject", {{"reference", "urn:uuid:p-" + nhs}}},
                 {"serviceProvider", {{"identifier", {{"system", ods}, {"value", kTrust}}}}},
                 {"period", {{"start", admitted_at}}},
                 {"episodeOfCare", {{{"reference", "urn:uuid:r-" + nhs}}}}};
  if (!bed_type.empty()) {
    encounter["location"] = {
        {{"extension",
          {{{"url", canon + "/StructureDefinition/Extension-ICR-MentalHealthBedType"},
            {"valueCodeableConcept",
             {{"coding",
               {{{"system", canon + "/CodeSystem/nhsdd-mh-bed-type"}, {"code", bed_type}}}}}}}}}}};
  }
  J request = {
      {"method", "POST"}, {"url", "Patient"}, {"ifNoneExist", "identifier=" + nhs_ref + "|" + nhs}};
  return {{"resourceType", "Bundle"},
          {"type", "transaction"},
          {"entry",
           {{{"fullUrl", "urn:uuid:p-" + nhs}, {"resource", patient}, {"request", request}},
            {{"fullUrl", "urn:uuid:r-" + nhs},
             {"resource", episode},
             {"request", {{"method", "POST"}, {"url", "EpisodeOfCare"}}}},
            {{"fullUrl", "urn:uuid:s-" + nhs},
             {"resource", encounter},
             {"request", {{"method", "POST"}, {"url", "Encounter"}}}}}}};
}

TEST_F(RecordPeopleTest, TransactionBundleIsStoredOnceAndABadOneNamesItsElement) {
  const std::string nhs = NextNhsNumber();
  fhir::BundleError error;
  auto tx = fhir::ParseTransaction(TransactionBundle(nhs, "2026-01-02T10:00:00Z"), &error);
  ASSERT_TRUE(tx.ok()) << error.expression << ": " << error.diagnostics;
  icr::v1::RecordEventsResponse resp;
  auto s = stack.record()->RecordEvents(Ctx(token).get(), tx->request, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.people_size(), 1);
  ASSERT_EQ(resp.outcomes_size(), 2);
  icr::v1::GetIntegratedRecordRequest get;
  get.set_person_id(resp.people(0).person_id());
  icr::v1::IntegratedRecord record;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(token).get(), get, &record).ok());
  EXPECT_EQ(record.hospital_stay().spell_id(), "s-" + nhs);
  ASSERT_EQ(record.open_referrals_size(), 1);
  EXPECT_EQ(record.open_referrals(0).referral_id(), "r-" + nhs);

  // Resent: the same request, nothing changes.
  auto again = fhir::ParseTransaction(TransactionBundle(nhs, "2026-01-02T10:00:00Z"), &error);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(stack.record()->RecordEvents(Ctx(token).get(), again->request, &resp).ok());
  for (const auto& o : resp.outcomes()) EXPECT_EQ(o.result(), icr::v1::EventOutcome::DUPLICATE);
  EXPECT_EQ(resp.people(0).version(), 1);

  // A new person whose admission is in the future: refused by the service, placed in the
  // Bundle, and the person is not created.
  const std::string other = NextNhsNumber();
  auto bad = fhir::ParseTransaction(TransactionBundle(other, "2999-01-01T00:00:00Z"), &error);
  ASSERT_TRUE(bad.ok());
  s = stack.record()->RecordEvents(Ctx(token).get(), bad->request, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(fhir::FhirPathOf(*bad, s.error_message()), "Bundle.entry[2].resource.period.start")
      << s.error_message();
  EXPECT_EQ(PersonCount(other), "0");
  // Without the bed type the spell must have: the element where it belongs.
  bad = fhir::ParseTransaction(TransactionBundle(other, "2026-01-02T10:00:00Z", ""), &error);
  ASSERT_TRUE(bad.ok());
  s = stack.record()->RecordEvents(Ctx(token).get(), bad->request, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(fhir::FhirPathOf(*bad, s.error_message()), "Bundle.entry[2].resource.location")
      << s.error_message();
  EXPECT_EQ(PersonCount(other), "0");
}

}  // namespace
}  // namespace icr::test
