// A FHIR transaction Bundle as one RecordEvents request (services/fhir/transaction.h): each
// mapping, each refusal with the FHIRPath it names, the service's refusals placed back in the
// Bundle, and event ids that stay the same when the Bundle is sent again.
#include <gtest/gtest.h>

#include "services/fhir/resources.h"
#include "services/fhir/transaction.h"

namespace icr::fhir {
namespace {

using icr::v1::Event;

const std::string kNhs = "9000000009";
const std::string kNhsRef = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009";

Json Patient() {
  return Json::parse(R"({
    "resourceType": "Patient",
    "extension": [{
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
      "valueCodeableConcept": {"coding": [{
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland", "code": "M"}]}
    }],
    "identifier": [
      {"system": "https://icr.example.org/fhir/Id/person", "value": "x"},
      {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}],
    "name": [{"use": "usual", "family": "Mac"},
             {"use": "official", "family": "MCKENZIE", "given": ["Andre", "Lewis"]}],
    "gender": "male",
    "birthDate": "1988-04-17",
    "address": [{
      "extension": [{
        "url": "https://icr.example.org/fhir/StructureDefinition/Extension-ICR-LocalAuthorityOfResidence",
        "valueCoding": {"system": "http://statistics.data.gov.uk/id/statistical-geography",
                        "code": "E09000011"}}],
      "use": "home", "postalCode": "SE18 6HQ"}],
    "generalPractitioner": [{"type": "Organization", "identifier": {
      "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y00001"}}]
  })");
}

Json Encounter() {
  return Json::parse(R"({
    "resourceType": "Encounter",
    "extension": [{
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod",
      "valueCodeableConcept": {"coding": [{
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland", "code": "1"}]}
    }],
    "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
    "subject": {"reference": "urn:uuid:patient-1"},
    "period": {"start": "2026-01-03T16:40:00Z", "end": "2026-02-20T09:00:00+00:00"},
    "serviceProvider": {"identifier": {
      "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RZZ"}},
    "location": [{"extension": [{
      "url": "https://icr.example.org/fhir/StructureDefinition/Extension-ICR-MentalHealthBedType",
      "valueCodeableConcept": {"coding": [{
        "system": "https://icr.example.org/fhir/CodeSystem/nhsdd-mh-bed-type", "code": "200"}]}}]}],
    "hospitalization": {
      "extension": [{
        "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod",
        "valueCodeableConcept": {"coding": [{
          "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland",
          "code": "25"}]}}],
      "dischargeDisposition": {"coding": [{
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland",
        "code": "19"}]}},
    "episodeOfCare": [{"reference": "urn:uuid:referral-1"}]
  })");
}

Json Episode() {
  return Json::parse(R"({
    "resourceType": "EpisodeOfCare",
    "status": "active",
    "type": [
      {"coding": [{"system": "https://icr.example.org/fhir/CodeSystem/nhsdd-service-team-type",
                   "code": "C02"}]},
      {"coding": [{"system": "https://icr.example.org/fhir/CodeSystem/service-area",
                   "code": "adult_mh"}]}],
    "patient": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                               "value": "9000000009"}},
    "managingOrganization": {"identifier": {
      "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RZZ"}},
    "period": {"start": "2025-12-01"}
  })");
}

Json StatusObservation(const std::string& code, const std::string& system,
                       const std::string& value) {
  Json o = {{"resourceType", "Observation"},
            {"status", "final"},
            {"code",
             {{"coding",
               {{{"system", "https://icr.example.org/fhir/CodeSystem/observation-code"},
                 {"code", code}}}}}},
            {"subject", {{"reference", kNhsRef}}},
            {"effectiveDateTime", "2026-02-01"},
            {"valueCodeableConcept", {{"coding", {{{"system", system}, {"code", value}}}}}}};
  return o;
}

Json Detention() {
  return Json::parse(R"({
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "https://icr.example.org/fhir/CodeSystem/observation-code",
                         "code": "MHA_LEGAL_STATUS"}]},
    "subject": {"reference": "urn:uuid:patient-1"},
    "encounter": {"reference": "urn:uuid:spell-1"},
    "performer": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                  "value": "RZZ"}}],
    "effectivePeriod": {"start": "2026-01-03T16:40:00Z", "end": "2026-02-20T09:00:00Z"},
    "valueCodeableConcept": {"coding": [{
      "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusClassificationEngland",
      "code": "03"}]}
  })");
}

Json Entry(const std::string& full_url, Json resource, const std::string& method = "POST",
           const std::string& url = "") {
  Json e = {{"resource", std::move(resource)},
            {"request", {{"method", method}, {"url", url.empty() ? "Encounter" : url}}}};
  if (!full_url.empty()) e["fullUrl"] = full_url;
  return e;
}

Json PatientEntry() {
  Json e = Entry("urn:uuid:patient-1", Patient(), "POST", "Patient");
  e["request"]["ifNoneExist"] = "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009";
  return e;
}

Json Bundle(std::vector<Json> entries) {
  return {{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", std::move(entries)}};
}

// The Bundle's refusal: its HTTP status, issue code and FHIRPath.
BundleError Refusal(const Json& bundle) {
  BundleError error;
  auto parsed = ParseTransaction(bundle, &error);
  EXPECT_FALSE(parsed.ok());
  return error;
}

TransactionRequest Parsed(const Json& bundle) {
  BundleError error;
  auto parsed = ParseTransaction(bundle, &error);
  EXPECT_TRUE(parsed.ok()) << error.expression << ": " << error.diagnostics;
  return parsed.ok() ? *parsed : TransactionRequest{};
}

TEST(FhirTransaction, PatientIsAConditionalCreateOfItsDemographics) {
  const auto tx = Parsed(Bundle({PatientEntry()}));
  ASSERT_EQ(tx.request.people_size(), 1);
  EXPECT_EQ(tx.request.events_size(), 0);
  const auto& up = tx.request.people(0);
  EXPECT_TRUE(up.create_only());
  EXPECT_EQ(up.expected_version(), 0);
  const auto& p = up.person();
  EXPECT_EQ(p.nhs_number(), kNhs);
  EXPECT_EQ(p.family_name(), "MCKENZIE");  // the official name
  EXPECT_EQ(p.given_name(), "Andre Lewis");
  EXPECT_EQ(p.sex(), "1");
  EXPECT_EQ(p.date_of_birth(), "1988-04-17");
  EXPECT_EQ(p.ethnic_category(), "M");
  EXPECT_EQ(p.postcode(), "SE18 6HQ");
  EXPECT_EQ(p.council_code(), "E09000011");
  EXPECT_EQ(p.gp_practice_code(), "Y00001");
  ASSERT_EQ(tx.entries.size(), 1u);
  EXPECT_EQ(tx.entries[0].resource_type, "Patient");
  EXPECT_EQ(tx.entries[0].person, 0);
}

TEST(FhirTransaction, GenderCodes) {
  for (auto [gender, sex] : std::vector<std::pair<std::string, std::string>>{
           {"male", "1"}, {"female", "2"}, {"other", "9"}, {"unknown", "0"}}) {
    Json e = PatientEntry();
    e["resource"]["gender"] = gender;
    EXPECT_EQ(Parsed(Bundle({e})).request.people(0).person().sex(), sex);
  }
  Json e = PatientEntry();
  e["resource"]["gender"] = "M";
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].resource.gender");
}

TEST(FhirTransaction, PutIsAnUpdateWithIfMatchAsTheVersion) {
  Json e = Entry("urn:uuid:patient-1", Patient(), "PUT", kNhsRef);
  e["request"]["ifMatch"] = "W/\"3\"";
  auto tx = Parsed(Bundle({e}));
  EXPECT_FALSE(tx.request.people(0).create_only());
  EXPECT_EQ(tx.request.people(0).expected_version(), 3);

  e = Entry("", Patient(), "PUT", "Patient/3f9a2c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f");
  tx = Parsed(Bundle({e}));
  EXPECT_FALSE(tx.request.people(0).create_only());
  EXPECT_EQ(tx.request.people(0).expected_version(), 0);

  e["request"]["ifMatch"] = "W/\"three\"";
  auto error = Refusal(Bundle({e}));
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.expression, "Bundle.entry[0].request.ifMatch");

  e = Entry("", Patient(), "PUT",
            "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919");
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].request.url");
}

TEST(FhirTransaction, PatientRefusals) {
  Json e = PatientEntry();
  e["resource"]["identifier"] = Json::array();
  auto error = Refusal(Bundle({e}));
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.issue_code, "required");
  EXPECT_EQ(error.expression, "Bundle.entry[0].resource.identifier");

  e = PatientEntry();
  e["resource"]["birthDate"] = "1988-02-30";
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].resource.birthDate");
  e["resource"]["birthDate"] = 1988;
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].resource.birthDate");

  e = PatientEntry();
  e["resource"]["name"][1]["given"] = "Andre";
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].resource.name[1].given");

  e = PatientEntry();
  e["request"]["ifNoneExist"] = "identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919";
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].request.ifNoneExist");
  e["request"]["ifNoneExist"] = "family=MCKENZIE";
  error = Refusal(Bundle({e}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[0].request.ifNoneExist");

  e = PatientEntry();
  e["request"]["method"] = "DELETE";
  error = Refusal(Bundle({e}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[0].request.method");
}

TEST(FhirTransaction, BundleRefusals) {
  Json b = Bundle({PatientEntry()});
  b["type"] = "batch";
  auto error = Refusal(b);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.expression, "Bundle.type");

  b = Bundle({PatientEntry(), Entry("urn:uuid:c", {{"resourceType", "Condition"}})});
  error = Refusal(b);
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.issue_code, "not-supported");
  EXPECT_EQ(error.expression, "Bundle.entry[1].resource.resourceType");

  EXPECT_EQ(Refusal(Bundle({})).expression, "Bundle.entry");
  EXPECT_EQ(Refusal(Json::array()).expression, "Bundle");

  b = Bundle({PatientEntry()});
  b["entry"][0].erase("request");
  EXPECT_EQ(Refusal(b).expression, "Bundle.entry[0].request");

  std::vector<Json> many;
  for (int i = 0; i < 1001; ++i) {
    many.push_back(Entry("urn:uuid:e" + std::to_string(i),
                         StatusObservation("EMPLOYMENT_STATUS",
                                           "https://icr.example.org/fhir/CodeSystem/"
                                           "nhsdd-employment-status",
                                           "01")));
  }
  EXPECT_EQ(Refusal(Bundle(many)).expression, "Bundle.entry");
  many.pop_back();
  EXPECT_EQ(Parsed(Bundle(many)).request.events_size(), 1000);
}

TEST(FhirTransaction, EncounterIsAnAdmissionAndItsDischarge) {
  const auto tx = Parsed(Bundle({Entry("urn:uuid:spell-1", Encounter()), PatientEntry(),
                                 Entry("urn:uuid:referral-1", Episode())}));
  ASSERT_EQ(tx.request.people_size(), 1);
  ASSERT_EQ(tx.request.events_size(), 3);
  const Event& a = tx.request.events(0);
  EXPECT_EQ(a.event_id(), "spell-1");
  EXPECT_EQ(a.nhs_number(), kNhs);  // the Patient entry that comes after it
  ASSERT_TRUE(a.has_admission());
  EXPECT_EQ(a.admission().spell_id(), "spell-1");
  EXPECT_EQ(a.admission().provider_code(), "RZZ");
  EXPECT_EQ(a.admission().bed_type(), "200");
  EXPECT_EQ(a.admission().admission_method(), "25");
  EXPECT_EQ(a.admission().referral_id(), "referral-1");
  EXPECT_EQ(a.admission().admitted_at().seconds(), 1767458400);  // 2026-01-03T16:40:00Z
  const Event& d = tx.request.events(1);
  EXPECT_EQ(d.event_id(), "spell-1:discharge");
  ASSERT_TRUE(d.has_discharge());
  EXPECT_EQ(d.discharge().spell_id(), "spell-1");
  EXPECT_EQ(d.discharge().discharge_method(), "1");
  EXPECT_EQ(d.discharge().discharge_destination(), "19");
  EXPECT_EQ(d.discharge().discharged_at().seconds(), 1771578000);  // 2026-02-20T09:00:00Z
  EXPECT_EQ(tx.entries[0].events, (std::vector<int>{0, 1}));
  EXPECT_EQ(tx.entries[1].person, 0);
  EXPECT_EQ(tx.entries[2].events, (std::vector<int>{2}));
}

TEST(FhirTransaction, EncounterInProgressIsTheAdmissionOnly) {
  Json enc = Encounter();
  enc["status"] = "in-progress";
  enc["period"].erase("end");
  const auto tx = Parsed(Bundle({PatientEntry(), Entry("urn:uuid:spell-1", enc)}));
  ASSERT_EQ(tx.request.events_size(), 1);
  EXPECT_TRUE(tx.request.events(0).has_admission());

  enc["status"] = "finished";
  auto error = Refusal(Bundle({PatientEntry(), Entry("urn:uuid:spell-1", enc)}));
  EXPECT_EQ(error.expression, "Bundle.entry[1].resource.period.end");
}

TEST(FhirTransaction, EncounterRefusals) {
  Json enc = Encounter();
  enc["period"]["start"] = "2026-01-03";
  EXPECT_EQ(Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)})).expression,
            "Bundle.entry[1].resource.period.start");
  enc["period"]["start"] = "2026-13-03T10:00:00Z";
  EXPECT_EQ(Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)})).expression,
            "Bundle.entry[1].resource.period.start");
  enc = Encounter();
  enc["period"].erase("start");
  auto error = Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)}));
  EXPECT_EQ(error.issue_code, "required");
  EXPECT_EQ(error.expression, "Bundle.entry[1].resource.period.start");
  enc = Encounter();
  enc["class"]["code"] = "AMB";
  error = Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[1].resource.class");
  enc = Encounter();
  enc["period"] = "2026";
  EXPECT_EQ(Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)})).expression,
            "Bundle.entry[1].resource.period");
}

TEST(FhirTransaction, WithdrawingStatusesAreNotSupported) {
  for (const std::string status : {"entered-in-error", "cancelled"}) {
    Json enc = Encounter();
    enc["status"] = status;
    auto error = Refusal(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)}));
    EXPECT_EQ(error.http_status, 422);
    EXPECT_EQ(error.expression, "Bundle.entry[1].resource.status");
    Json ep = Episode();
    ep["status"] = status;
    EXPECT_EQ(Refusal(Bundle({Entry("urn:uuid:r", ep)})).expression,
              "Bundle.entry[0].resource.status");
    Json det = Detention();
    det["status"] = status;
    EXPECT_EQ(Refusal(Bundle({PatientEntry(), Entry("urn:uuid:d", det)})).expression,
              "Bundle.entry[1].resource.status");
  }
}

TEST(FhirTransaction, SubjectReferences) {
  // A Bundle-local Patient, a conditional reference and an identifier all name the NHS number.
  Json enc = Encounter();
  enc["status"] = "in-progress";
  enc["period"].erase("end");
  enc["subject"] = {{"reference", kNhsRef}};
  EXPECT_EQ(Parsed(Bundle({Entry("urn:uuid:s", enc)})).request.events(0).nhs_number(), kNhs);
  enc["subject"] = {
      {"identifier", {{"system", "https://fhir.nhs.uk/Id/nhs-number"}, {"value", "9434765919"}}}};
  EXPECT_EQ(Parsed(Bundle({Entry("urn:uuid:s", enc)})).request.events(0).nhs_number(),
            "9434765919");
  // A server id needs a look-up the transaction does not make: 422, use the identifier.
  enc["subject"] = {{"reference", "Patient/3f9a2c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f"}};
  auto error = Refusal(Bundle({Entry("urn:uuid:s", enc)}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[0].resource.subject.reference");
  EXPECT_NE(error.diagnostics.find("NHS number"), std::string::npos);
  enc["subject"] = {{"reference", "urn:uuid:nobody"}};
  error = Refusal(Bundle({Entry("urn:uuid:s", enc)}));
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.expression, "Bundle.entry[0].resource.subject.reference");
  enc.erase("subject");
  EXPECT_EQ(Refusal(Bundle({Entry("urn:uuid:s", enc)})).expression,
            "Bundle.entry[0].resource.subject");
}

TEST(FhirTransaction, EventIdsFromIdentifierOrFullUrlAreStable) {
  Json ep = Episode();
  const Json b1 = Bundle({Entry("https://trust.example.org/fhir/EpisodeOfCare/ref-77", ep)});
  EXPECT_EQ(Parsed(b1).request.events(0).event_id(), "ref-77");
  EXPECT_EQ(Parsed(b1).request.SerializeAsString(), Parsed(b1).request.SerializeAsString());
  ep["identifier"] = {{{"system", "https://icr.example.org/fhir/Id/event"}, {"value", "R-1"}}};
  const auto tx = Parsed(Bundle({Entry("urn:uuid:ignored", ep)}));
  EXPECT_EQ(tx.request.events(0).event_id(), "R-1");
  EXPECT_EQ(tx.request.events(0).referral_opened().referral_id(), "R-1");
  auto error = Refusal(Bundle({Entry("", Episode())}));
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.expression, "Bundle.entry[0].fullUrl");
}

TEST(FhirTransaction, EpisodeOfCareIsAReferralOpenedAndClosed) {
  Json ep = Episode();
  auto tx = Parsed(Bundle({Entry("urn:uuid:referral-1", ep)}));
  ASSERT_EQ(tx.request.events_size(), 1);
  const auto& o = tx.request.events(0).referral_opened();
  EXPECT_EQ(o.referral_id(), "referral-1");
  EXPECT_EQ(o.provider_code(), "RZZ");
  EXPECT_EQ(o.team_type(), "C02");
  EXPECT_EQ(o.service_area(), "adult_mh");
  EXPECT_EQ(o.received_date(), "2025-12-01");
  EXPECT_EQ(tx.request.events(0).nhs_number(), kNhs);

  ep["status"] = "finished";
  ep["period"]["end"] = "2026-03-01T12:00:00Z";
  tx = Parsed(Bundle({Entry("urn:uuid:referral-1", ep)}));
  ASSERT_EQ(tx.request.events_size(), 2);
  EXPECT_EQ(tx.request.events(1).event_id(), "referral-1:closed");
  EXPECT_EQ(tx.request.events(1).referral_closed().referral_id(), "referral-1");
  EXPECT_EQ(tx.request.events(1).referral_closed().closed_date(), "2026-03-01");

  ep["period"]["end"] = "01/03/2026";
  EXPECT_EQ(Refusal(Bundle({Entry("urn:uuid:referral-1", ep)})).expression,
            "Bundle.entry[0].resource.period.end");

  ep = Episode();
  ep["type"] = {{{"coding",
                  {{{"system", "https://icr.example.org/fhir/CodeSystem/episode-type"},
                    {"code", "S117_AFTERCARE"}}}}}};
  auto error = Refusal(Bundle({Entry("urn:uuid:s117", ep)}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[0].resource.type[0]");
}

TEST(FhirTransaction, StatusObservations) {
  const auto tx = Parsed(
      Bundle({Entry("urn:uuid:emp-1",
                    StatusObservation(
                        "EMPLOYMENT_STATUS",
                        "https://icr.example.org/fhir/CodeSystem/nhsdd-employment-status", "02")),
              Entry("urn:uuid:acc-1",
                    StatusObservation("ACCOMMODATION_STATUS",
                                      "https://icr.example.org/fhir/CodeSystem/nhsdd-accommodation",
                                      "OC01"))}));
  ASSERT_EQ(tx.request.events_size(), 2);
  EXPECT_EQ(tx.request.events(0).employment_status().code(), "02");
  EXPECT_EQ(tx.request.events(0).employment_status().recorded_date(), "2026-02-01");
  EXPECT_EQ(tx.request.events(1).accommodation_status().code(), "OC01");
  EXPECT_EQ(tx.request.events(1).event_id(), "acc-1");

  Json other = StatusObservation("BLOOD_PRESSURE", "x", "1");
  auto error = Refusal(Bundle({Entry("urn:uuid:o", other)}));
  EXPECT_EQ(error.http_status, 422);
  EXPECT_EQ(error.expression, "Bundle.entry[0].resource.code");
  Json bad = StatusObservation("EMPLOYMENT_STATUS", "x", "1");
  bad.erase("effectiveDateTime");
  EXPECT_EQ(Refusal(Bundle({Entry("urn:uuid:o", bad)})).expression,
            "Bundle.entry[0].resource.effectiveDateTime");
  bad = StatusObservation("EMPLOYMENT_STATUS", "x", "1");
  bad["valueCodeableConcept"]["coding"] = "02";
  EXPECT_EQ(Refusal(Bundle({Entry("urn:uuid:o", bad)})).expression,
            "Bundle.entry[0].resource.valueCodeableConcept.coding");
}

TEST(FhirTransaction, LegalStatusObservationIsADetentionStartAndEnd) {
  const auto tx = Parsed(Bundle({PatientEntry(), Entry("urn:uuid:det-1", Detention()),
                                 Entry("urn:uuid:spell-1", Encounter())}));
  ASSERT_EQ(tx.request.events_size(), 4);
  const auto& s = tx.request.events(0).detention_start();
  EXPECT_EQ(tx.request.events(0).event_id(), "det-1");
  EXPECT_EQ(s.detention_id(), "det-1");
  EXPECT_EQ(s.legal_status_code(), "03");
  EXPECT_EQ(s.spell_id(), "spell-1");  // the Encounter of this Bundle, after it
  EXPECT_EQ(s.provider_code(), "RZZ");
  EXPECT_EQ(s.started_at().seconds(), 1767458400);
  EXPECT_EQ(tx.request.events(1).event_id(), "det-1:end");
  EXPECT_EQ(tx.request.events(1).detention_end().detention_id(), "det-1");
  EXPECT_EQ(tx.request.events(1).detention_end().ended_at().seconds(), 1771578000);

  Json open = Detention();
  open["effectivePeriod"].erase("end");
  EXPECT_EQ(Parsed(Bundle({PatientEntry(), Entry("urn:uuid:det-1", open)})).request.events_size(),
            1);
  open["effectivePeriod"]["start"] = "yesterday";
  EXPECT_EQ(Refusal(Bundle({PatientEntry(), Entry("urn:uuid:det-1", open)})).expression,
            "Bundle.entry[1].resource.effectivePeriod.start");
}

TEST(FhirTransaction, ServiceRefusalsArePlacedInTheBundle) {
  const auto tx = Parsed(Bundle({Entry("urn:uuid:referral-1", Episode()), PatientEntry(),
                                 Entry("urn:uuid:spell-1", Encounter())}));
  // events: 0 referral, 1 admission, 2 discharge; people: 0 (entry 1).
  const std::vector<std::pair<std::string, std::string>> placed = {
      {"events[1].admission.admitted_at: must not be in the future",
       "Bundle.entry[2].resource.period.start"},
      {"events[2].discharge.discharged_at: before the admission",
       "Bundle.entry[2].resource.period.end"},
      {"events[1].admission.bed_type: unknown code",
       "Bundle.entry[2].resource.location[0].extension[0].valueCodeableConcept"},
      {"events[0].referral_opened.team_type: unknown", "Bundle.entry[0].resource.type"},
      {"events[0].nhs_number: no such person visible to you", "Bundle.entry[0].resource.patient"},
      {"events[1].nhs_number: no such person visible to you", "Bundle.entry[2].resource.subject"},
      {"events[0].event_id: already recorded with other content", "Bundle.entry[0].fullUrl"},
      // A sub-field the mapping did not record: the entry's resource.
      {"events[0].referral_opened.source_of_referral: too long", "Bundle.entry[0].resource"},
      {"people[0].person.date_of_birth: must not be in the future",
       "Bundle.entry[1].resource.birthDate"},
      {"people[0].person.nhs_number: no such person visible to you",
       "Bundle.entry[1].resource.identifier[1].value"},
      {"people[0].person.icb_code: unknown", "Bundle.entry[1].resource"},
      // Nothing to place: the Bundle.
      {"events: at least one event or person", "Bundle"},
      {"clinician may not create a person", "Bundle"},
      {"events[9].admission.admitted_at", "Bundle"},
  };
  for (const auto& [grpc_field, path] : placed) {
    EXPECT_EQ(FhirPathOf(tx, grpc_field), path) << grpc_field;
  }
  // A code the resource does not carry: the element it belongs in.
  Json enc = Encounter();
  enc.erase("location");
  enc.erase("hospitalization");
  const auto bare = Parsed(Bundle({PatientEntry(), Entry("urn:uuid:s", enc)}));
  EXPECT_EQ(FhirPathOf(bare, "events[0].admission.bed_type: required"),
            "Bundle.entry[1].resource.location");
  EXPECT_EQ(FhirPathOf(bare, "events[0].admission.admission_method: unknown"),
            "Bundle.entry[1].resource.hospitalization");
  Json nameless = PatientEntry();
  nameless["resource"].erase("name");
  nameless["resource"].erase("address");
  const auto anonymous = Parsed(Bundle({nameless}));
  EXPECT_EQ(FhirPathOf(anonymous, "people[0].person.family_name: required"),
            "Bundle.entry[0].resource.name");
  EXPECT_EQ(FhirPathOf(anonymous, "people[0].person.council_code: unknown"),
            "Bundle.entry[0].resource.address");

  Json e = Entry("urn:uuid:patient-1", Patient(), "PUT", kNhsRef);
  e["request"]["ifMatch"] = "W/\"7\"";
  EXPECT_EQ(FhirPathOf(Parsed(Bundle({e})), "people[0].expected_version: the person has changed"),
            "Bundle.entry[0].request.ifMatch");
}

}  // namespace
}  // namespace icr::fhir

namespace icr::fhir {
namespace {

TEST(FhirTransaction, PatientDeceasedDateTimeIsADeathEvent) {
  Json e = PatientEntry();
  e["resource"]["deceasedDateTime"] = "2026-10-02T08:00:00Z";
  const auto tx = Parsed(Bundle({e}));
  ASSERT_EQ(tx.request.people_size(), 1);
  ASSERT_EQ(tx.request.events_size(), 1);
  EXPECT_EQ(tx.request.events(0).event_id(), "patient-1:death");
  EXPECT_EQ(tx.request.events(0).nhs_number(), kNhs);
  EXPECT_EQ(tx.request.events(0).death().date_of_death(), "2026-10-02");
  EXPECT_EQ(FhirPathOf(tx, "events[0].death.date_of_death: in the future"),
            "Bundle.entry[0].resource.deceasedDateTime");

  e["resource"]["deceasedDateTime"] = "last week";
  EXPECT_EQ(Refusal(Bundle({e})).expression, "Bundle.entry[0].resource.deceasedDateTime");
  e["resource"].erase("deceasedDateTime");
  e["resource"]["deceasedBoolean"] = true;
  const BundleError flag = Refusal(Bundle({e}));
  EXPECT_EQ(flag.expression, "Bundle.entry[0].resource.deceasedBoolean");
  EXPECT_EQ(flag.http_status, 422);
}

}  // namespace
}  // namespace icr::fhir
