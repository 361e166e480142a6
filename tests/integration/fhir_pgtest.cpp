// The FHIR API (issue 19) over real HTTP against the services on a real database: reads and
// searches under the access rule (one organisation sees, an unrelated one gets 404 exactly like
// for no one), $everything against GetIntegratedRecord field by field, transaction Bundles
// (stored, resent unchanged, refused whole with the element named), bulk export, and an audit
// row for each. Every resource the server emits is kept under fhir-emitted/ and checked at the
// end with the offline validator (tests/fhir/validate.sh: base R4 and UK Core).
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using Json = nlohmann::json;
using namespace icr::build;

constexpr char kTrust[] = "RGD";       // Leeds and York Partnership
constexpr char kOtherTrust[] = "RX4";  // unrelated to the people seeded here

const std::filesystem::path kEmitted = "fhir-emitted";

// Keeps a resource (or a Bundle's resources) the server emitted, for the validator.
void Keep(const Json& body) {
  static int n = 0;
  if (n == 0) std::filesystem::remove_all(kEmitted);  // a previous run's
  std::filesystem::create_directories(kEmitted);
  std::ofstream(kEmitted / (std::to_string(++n) + ".json")) << body.dump(1);
}

struct Answer {
  int status = 0;
  Json body;
  httplib::Headers headers;
};

Answer Call(const std::string& method, const std::string& path, const std::string& token,
            const std::string& body = "", httplib::Headers extra = {}) {
  httplib::Client client("127.0.0.1", Stack::Get().fhir_port());
  client.set_read_timeout(30, 0);
  httplib::Headers headers = std::move(extra);
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result r = method == "GET"    ? client.Get(path.c_str(), headers)
                      : method == "POST" ? client.Post(path.c_str(), headers, body,
                                                       "application/fhir+json")
                                         : client.Delete(path.c_str(), headers);
  Answer a;
  if (!r) {
    ADD_FAILURE() << method << " " << path << ": no answer (" << httplib::to_string(r.error())
                  << ")";
    return a;
  }
  a.status = r->status;
  a.headers = r->headers;
  a.body = Json::parse(r->body, nullptr, false);
  if (a.status < 300 && a.body.is_object() && a.body.contains("resourceType")) Keep(a.body);
  return a;
}

Answer Get(const std::string& path, const std::string& token, httplib::Headers extra = {}) {
  return Call("GET", path, token, "", std::move(extra));
}

std::string TrustToken() { return Stack::Get().Token(kTrust, "clinician"); }
std::string OtherToken() { return Stack::Get().Token(kOtherTrust, "clinician"); }

int64_t AuditRows(const std::string& person_id, const std::string& action) {
  return std::stoll(Stack::Get().Scalar(
      "SELECT count(*) FROM core.audit WHERE person_id = '" + person_id + "' AND action = '" +
      action + "'"));
}

// A person with a referral, a stay with a detention, employment and accommodation, sent by the
// trust.
icr::v1::Person SeedRecord(const std::string& nhs) {
  icr::v1::Person person = SeedPerson(kTrust, nhs);
  const int64_t day = 24 * 3600;
  const int64_t now = time(nullptr);
  const std::string p = "fhir-" + nhs + "-";
  EXPECT_TRUE(Send(Stack::Get().Token(kTrust, "system"),
                   {ReferralOpened(nhs, p + "r1", p + "ref", kTrust, "2026-06-01"),
                    Admission(nhs, p + "a1", p + "spell", kTrust, now - 40 * day),
                    DetentionStart(nhs, p + "d1", p + "det", "03", kTrust, now - 40 * day),
                    EmploymentStatus(nhs, p + "e1", "01", "2026-09-01"),
                    AccommodationStatus(nhs, p + "c1", "01", "2026-09-02")})
                  .ok());
  return person;
}

TEST(Fhir, MetadataTellsWhatIsServed) {
  Answer a = Get("/fhir/metadata", "");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["resourceType"], "CapabilityStatement");
  EXPECT_EQ(a.body["fhirVersion"], "4.0.1");
  std::set<std::string> types;
  for (const auto& r : a.body["rest"][0]["resource"]) types.insert(r["type"]);
  for (const char* t : {"Patient", "EpisodeOfCare", "Encounter", "Observation", "CarePlan",
                        "Organization"}) {
    EXPECT_TRUE(types.count(t)) << t;
  }
}

TEST(Fhir, ProjectDefinitionsArePublishedAtTheirCanonicalPaths) {
  Answer sd = Get("/fhir/StructureDefinition/Extension-ICR-S117ResponsibleCouncil", "");
  ASSERT_EQ(sd.status, 200);
  EXPECT_EQ(sd.body["resourceType"], "StructureDefinition");
  EXPECT_EQ(sd.body["url"],
            "https://icr.example.org/fhir/StructureDefinition/Extension-ICR-S117ResponsibleCouncil");
  Answer cs = Get("/fhir/CodeSystem/episode-type", "");
  ASSERT_EQ(cs.status, 200);
  EXPECT_EQ(cs.body["url"], "https://icr.example.org/fhir/CodeSystem/episode-type");
  EXPECT_EQ(Get("/fhir/StructureDefinition/Nope", "").status, 404);
}

TEST(Fhir, NoTokenIs401) {
  Answer a = Get("/fhir/Patient?identifier=9990000018", "");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body["resourceType"], "OperationOutcome");
  Answer b = Get("/fhir/Patient?identifier=9990000018", "icr_not-a-token");
  EXPECT_EQ(b.status, 401);
}

TEST(Fhir, OneOrganisationSeesTheOtherGetsNotFoundLikeNoOne) {
  const std::string nhs = NextNhsNumber();
  const icr::v1::Person person = SeedRecord(nhs);
  const std::string id = person.person_id();

  Answer seen = Get("/fhir/Patient/" + id, TrustToken());
  ASSERT_EQ(seen.status, 200) << seen.body.dump();
  EXPECT_EQ(seen.body["resourceType"], "Patient");
  EXPECT_EQ(seen.body["id"], id);
  bool nhs_found = false;
  for (const auto& i : seen.body["identifier"]) {
    if (i["system"] == "https://fhir.nhs.uk/Id/nhs-number") nhs_found = i["value"] == nhs;
  }
  EXPECT_TRUE(nhs_found);
  EXPECT_FALSE(seen.headers.find("ETag") == seen.headers.end());

  // The unrelated trust: 404, the same answer as for an id of no one.
  Answer hidden = Get("/fhir/Patient/" + id, OtherToken());
  EXPECT_EQ(hidden.status, 404);
  const std::string nobody = "00000000-0000-4000-8000-000000000000";
  Answer absent = Get("/fhir/Patient/" + nobody, OtherToken());
  EXPECT_EQ(absent.status, 404);
  auto diag = [](const Answer& a) { return a.body["issue"][0].value("code", ""); };
  EXPECT_EQ(diag(hidden), diag(absent));
  EXPECT_EQ(hidden.body, absent.body);  // the whole answer, not only its code
  EXPECT_EQ(Get("/fhir/Patient/not-a-uuid", OtherToken()).body, absent.body);

  // Searches: the trust finds them, the other trust finds nothing.
  const std::string by_nhs = "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs;
  Answer found = Get(by_nhs, TrustToken());
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.body["type"], "searchset");
  ASSERT_EQ(found.body["entry"].size(), 1u);
  EXPECT_EQ(found.body["entry"][0]["resource"]["id"], id);
  Answer none = Get(by_nhs, OtherToken());
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.body["entry"].size(), 0u);

  Answer by_name = Get("/fhir/Patient?family=" + person.family_name() +
                           "&birthdate=" + person.date_of_birth() + "&_count=500",
                       TrustToken());
  ASSERT_EQ(by_name.status, 200) << by_name.body.dump();
  bool listed = false;
  for (const auto& e : by_name.body["entry"]) listed |= e["resource"]["id"] == id;
  EXPECT_TRUE(listed);

  for (const std::string type : {"EpisodeOfCare", "Encounter", "Observation"}) {
    Answer mine = Get("/fhir/" + type + "?patient=Patient/" + id, TrustToken());
    ASSERT_EQ(mine.status, 200) << type << mine.body.dump();
    EXPECT_GE(mine.body["entry"].size(), 1u) << type;
    for (const auto& e : mine.body["entry"]) EXPECT_EQ(e["resource"]["resourceType"], type);
    Answer theirs = Get("/fhir/" + type + "?patient=Patient/" + id, OtherToken());
    ASSERT_EQ(theirs.status, 200) << type;
    EXPECT_EQ(theirs.body["entry"].size(), 0u) << type;
  }
  Answer employment =
      Get("/fhir/Observation?patient=Patient/" + id + "&code=EMPLOYMENT_STATUS", TrustToken());
  ASSERT_EQ(employment.status, 200);
  ASSERT_EQ(employment.body["entry"].size(), 1u) << employment.body.dump();

  // Unknown search parameters are refused, not ignored.
  Answer unknown = Get("/fhir/Encounter?patient=Patient/" + id + "&date=2026", TrustToken());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body["issue"][0]["expression"][0], "date");
  // Absurd input is refused, never a 500: bytes that are not UTF-8, a huge _count, junk paging.
  for (const std::string& path : std::vector<std::string>{
           "/fhir/Encounter?patient=Patient/" + id + "&%FF%FE=1",
        "/fhir/Encounter?patient=Patient/" + id + "&_count=99999999999",
        "/fhir/Patient?family=%FF&birthdate=1980-01-01",
        "/fhir/Patient?family=X&birthdate=1980-01-01&_page_token=%00%01",
        "/fhir/CarePlan/not-a-plan/_history/999999999999999999",
        "/fhir/Patient/" + std::string(64, 'a') + "/$everything"}) {
    Answer a = Get(path, TrustToken());
    EXPECT_GE(a.status, 400) << path;
    EXPECT_LT(a.status, 500) << path << " " << a.body.dump();
    EXPECT_EQ(a.body["resourceType"], "OperationOutcome") << path;
  }
  Answer header = Get("/fhir/Patient/" + id, TrustToken(), {{"x-purpose-of-use", "caf\xC3\xA9"}});
  EXPECT_EQ(header.status, 400);
  EXPECT_EQ(header.body["issue"][0]["expression"][0], "x-purpose-of-use");
}

TEST(Fhir, EverythingIsTheIntegratedRecordWithOneAuditRow) {
  const std::string nhs = NextNhsNumber();
  const icr::v1::Person person = SeedRecord(nhs);
  const int64_t audited_before = AuditRows(person.person_id(), "GetIntegratedRecord");

  Answer a = Get("/fhir/Patient/" + person.person_id() + "/$everything", TrustToken(),
                 {{"x-purpose-of-use", "direct_care"}, {"x-request-id", "fhir-everything-1"}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(AuditRows(person.person_id(), "GetIntegratedRecord"), audited_before + 1);
  EXPECT_EQ(Stack::Get().Scalar("SELECT purpose_of_use FROM core.audit WHERE request_id = "
                                "'fhir-everything-1'"),
            "direct_care");

  icr::v1::GetIntegratedRecordRequest req;
  req.set_nhs_number(nhs);
  icr::v1::IntegratedRecord record;
  auto ctx = Ctx(TrustToken());
  ASSERT_TRUE(Stack::Get().record()->GetIntegratedRecord(ctx.get(), req, &record).ok());

  std::map<std::string, std::vector<Json>> by_type;
  for (const auto& e : a.body["entry"]) by_type[e["resource"]["resourceType"]].push_back(e["resource"]);
  ASSERT_EQ(by_type["Patient"].size(), 1u);
  const Json& patient = by_type["Patient"][0];
  EXPECT_EQ(patient["id"], record.person().person_id());
  EXPECT_EQ(patient["birthDate"], record.person().date_of_birth());
  EXPECT_EQ(patient["name"][0]["family"], record.person().family_name());
  EXPECT_EQ(patient["name"][0]["given"][0], record.person().given_name());
  EXPECT_EQ(patient["address"][0]["postalCode"], record.person().postcode());
  EXPECT_EQ(patient["meta"]["versionId"], std::to_string(record.person().version()));
  // One EpisodeOfCare per open referral (plus the S117 one when there is an entitlement).
  size_t referrals = 0;
  for (const auto& e : by_type["EpisodeOfCare"]) {
    referrals += e.dump().find("S117_AFTERCARE") == std::string::npos;
  }
  EXPECT_EQ(referrals, static_cast<size_t>(record.open_referrals_size()));
  ASSERT_EQ(by_type["Encounter"].size(), 1u);
  const Json& spell = by_type["Encounter"][0];
  EXPECT_EQ(spell["class"]["code"], "IMP");
  EXPECT_EQ(spell["status"], record.hospital_stay().has_discharged_at() ? "finished" : "in-progress");
  // Detention, employment, accommodation.
  ASSERT_EQ(by_type["Observation"].size(), 3u);
  std::set<std::string> values;
  for (const auto& o : by_type["Observation"]) {
    values.insert(o["valueCodeableConcept"]["coding"][0]["code"]);
  }
  EXPECT_TRUE(values.count(record.current_detention().legal_status_code()));
  EXPECT_TRUE(values.count(record.employment().code()));
  EXPECT_TRUE(values.count(record.accommodation().code()));

  Answer hidden = Get("/fhir/Patient/" + person.person_id() + "/$everything", OtherToken());
  EXPECT_EQ(hidden.status, 404);
}

TEST(Fhir, BreakGlassThroughTheHeaderIsShownAndAudited) {
  const icr::v1::Person person = SeedRecord(NextNhsNumber());
  const std::string path = "/fhir/Patient/" + person.person_id() + "/$everything";
  ASSERT_EQ(Get(path, OtherToken()).status, 404);
  Answer a = Get(path, OtherToken(),
                 {{"x-break-glass-reason", "unconscious in A&E, no record here"},
                  {"x-request-id", "fhir-btg-1"}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["meta"]["security"][0]["code"], "BTG");
  EXPECT_EQ(Stack::Get().Scalar("SELECT break_glass_reason FROM core.audit WHERE request_id = "
                                "'fhir-btg-1'"),
            "unconscious in A&E, no record here");
}

Json TransactionBundle(const std::string& nhs, const std::string& tag,
                       const std::string& admitted_at) {
  const std::string patient_url = "urn:uuid:" + tag + "-patient";
  Json patient = {
      {"resourceType", "Patient"},
      {"identifier", {{{"system", "https://fhir.nhs.uk/Id/nhs-number"}, {"value", nhs}}}},
      {"name", {{{"use", "official"}, {"family", "FHIRSON"}, {"given", {"Alex"}}}}},
      {"gender", "female"},
      {"extension",
       {{{"url", "https://icr.example.org/fhir/StructureDefinition/Extension-ICR-ResponsibleICB"},
         {"valueReference",
          {{"identifier",
            {{"system", "https://fhir.nhs.uk/Id/ods-organization-code"}, {"value", "QWO"}}}}}}}},
      {"birthDate", "1980-02-03"},
      {"address", {{{"use", "home"}, {"postalCode", "LS1 4AP"}}}}};
  Json encounter = {
      {"resourceType", "Encounter"},
      {"status", "in-progress"},
      {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "IMP"}}},
      {"subject", {{"reference", patient_url}}},
      {"extension",
       {{{"url", "https://icr.example.org/fhir/StructureDefinition/Extension-ICR-MentalHealthBedType"},
         {"valueCodeableConcept",
          {{"coding",
            {{{"system", "https://icr.example.org/fhir/CodeSystem/nhsdd-mh-bed-type"},
              {"code", "200"}}}}}}}}},
      {"serviceProvider",
       {{"identifier", {{"system", "https://fhir.nhs.uk/Id/ods-organization-code"}, {"value", kTrust}}}}},
      {"period", {{"start", admitted_at}}}};
  return {{"resourceType", "Bundle"},
          {"type", "transaction"},
          {"entry",
           {{{"fullUrl", patient_url},
             {"resource", patient},
             {"request",
              {{"method", "POST"},
               {"url", "Patient"},
               {"ifNoneExist", "identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs}}}},
            {{"fullUrl", "urn:uuid:" + tag + "-spell"},
             {"resource", encounter},
             {"request", {{"method", "POST"}, {"url", "Encounter"}}}}}}};
}

TEST(Fhir, TransactionStoredResentUnchangedAndRefusedWhole) {
  const std::string token = Stack::Get().Token(kTrust, "system");
  const std::string nhs = NextNhsNumber();
  Json bundle = TransactionBundle(nhs, "tx1-" + nhs, "2026-11-20T10:00:00Z");
  Answer first = Call("POST", "/fhir", token, bundle.dump());
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["type"], "transaction-response");
  ASSERT_EQ(first.body["entry"].size(), 2u);
  EXPECT_EQ(first.body["entry"][1]["response"]["status"], "201 Created");
  const std::string events = Stack::Get().Scalar("SELECT count(*) FROM core.event");
  const std::string changes = Stack::Get().Scalar("SELECT count(*) FROM core.changes");

  Answer again = Call("POST", "/fhir", token, bundle.dump());
  ASSERT_EQ(again.status, 200) << again.body.dump();
  EXPECT_EQ(again.body["entry"][1]["response"]["status"], "200 OK");
  EXPECT_EQ(Stack::Get().Scalar("SELECT count(*) FROM core.event"), events);
  EXPECT_EQ(Stack::Get().Scalar("SELECT count(*) FROM core.changes"), changes);

  // The stored person reads back through FHIR.
  Answer found = Get("/fhir/Patient?identifier=" + nhs, token);
  ASSERT_EQ(found.body["entry"].size(), 1u);
  EXPECT_EQ(found.body["entry"][0]["resource"]["name"][0]["family"], "FHIRSON");
  EXPECT_EQ(Stack::Get().Scalar("SELECT icb_code FROM core.person WHERE nhs_number = '" + nhs + "'"),
            "QWO");

  // A Bundle whose encounter starts in the future: refused whole, the element named, nothing
  // written (its new person is not created).
  const std::string nhs2 = NextNhsNumber();
  Json bad = TransactionBundle(nhs2, "tx2-" + nhs2, "2099-01-01T00:00:00Z");
  Answer refused = Call("POST", "/fhir", token, bad.dump());
  EXPECT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_EQ(refused.body["resourceType"], "OperationOutcome");
  EXPECT_EQ(refused.body["issue"][0]["expression"][0], "Bundle.entry[1].resource.period.start");
  EXPECT_EQ(Stack::Get().Scalar("SELECT count(*) FROM core.person WHERE nhs_number = '" + nhs2 + "'"),
            "0");

  // Not a Bundle at all.
  Answer junk = Call("POST", "/fhir", token, "{\"resourceType\":\"Patient\"}");
  EXPECT_EQ(junk.status, 400);
  EXPECT_EQ(junk.body["issue"][0]["expression"][0], "Bundle.resourceType");
}

// The path of an absolute URL the server gave ("http://127.0.0.1:N/fhir/..." -> "/fhir/...").
std::string PathOf(const std::string& url) {
  const auto at = url.find("/fhir/");
  return at == std::string::npos ? url : url.substr(at);
}

TEST(Fhir, BulkExportHoldsOnlyTheOrganisationsPeopleEachAudited) {
  const icr::v1::Person mine = SeedRecord(NextNhsNumber());
  // Someone only the other trust knows.
  const icr::v1::Person theirs = SeedPerson(kOtherTrust, NextNhsNumber());
  const std::string token = TrustToken();

  // A performance analyst may not export person-level data.
  Answer analyst = Get("/fhir/Patient/$export", Stack::Get().Token(kTrust, "performance_analyst"),
                       {{"Prefer", "respond-async"}});
  EXPECT_EQ(analyst.status, 403) << analyst.body.dump();
  Answer bad_type = Get("/fhir/Patient/$export?_type=Medication", token, {{"Prefer", "respond-async"}});
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_EQ(bad_type.body["issue"][0]["expression"][0], "_type");

  Answer kick = Get("/fhir/Patient/$export", token,
                    {{"Prefer", "respond-async"}, {"x-request-id", "fhir-export-1"}});
  ASSERT_EQ(kick.status, 202) << kick.body.dump();
  auto location = kick.headers.find("Content-Location");
  ASSERT_NE(location, kick.headers.end());
  const std::string status_path = PathOf(location->second);

  // Another organisation cannot see the job.
  EXPECT_EQ(Get(status_path, OtherToken()).status, 404);

  Answer done;
  for (int i = 0; i < 300; ++i) {
    done = Get(status_path, token);
    if (done.status != 202) break;
    EXPECT_FALSE(done.headers.find("Retry-After") == done.headers.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(done.status, 200) << done.body.dump();
  EXPECT_EQ(done.body["requiresAccessToken"], true);
  EXPECT_FALSE(done.body["transactionTime"].get<std::string>().empty());
  std::set<std::string> patients;
  std::map<std::string, int64_t> counted;
  for (const auto& out : done.body["output"]) {
    const std::string path = PathOf(out["url"]);
    EXPECT_EQ(Get(path, OtherToken()).status, 404);  // not readable by anyone else
    httplib::Client client("127.0.0.1", Stack::Get().fhir_port());
    auto file = client.Get(path.c_str(), {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(file);
    ASSERT_EQ(file->status, 200);
    EXPECT_EQ(file->get_header_value("Content-Type"), "application/fhir+ndjson");
    std::filesystem::create_directories(kEmitted);
    std::ofstream(kEmitted / (out["type"].get<std::string>() + "-export.ndjson")) << file->body;
    std::istringstream lines(file->body);
    for (std::string line; std::getline(lines, line);) {
      Json r = Json::parse(line);
      EXPECT_EQ(r["resourceType"], out["type"]);
      ++counted[out["type"]];
      if (r["resourceType"] == "Patient") patients.insert(r["id"]);
    }
    EXPECT_EQ(counted[out["type"]], out["count"].get<int64_t>());
  }
  EXPECT_TRUE(patients.count(mine.person_id()));
  EXPECT_FALSE(patients.count(theirs.person_id()));
  // Exactly the people the trust sees, each audited once for this job.
  for (const auto& id : patients) {
    EXPECT_EQ(Stack::Get().Scalar("SELECT core.can_see('" + id + "', '" + std::string(kTrust) + "')"),
              "t");
  }
  EXPECT_EQ(Stack::Get().Scalar("SELECT count(*) FROM core.audit WHERE action = 'FhirBulkExport' "
                                "AND request_id = 'fhir-export-1'"),
            std::to_string(patients.size()));
  EXPECT_EQ(Stack::Get().Scalar("SELECT count(DISTINCT person_id) FROM core.audit WHERE action = "
                                "'FhirBulkExport' AND request_id = 'fhir-export-1'"),
            std::to_string(patients.size()));

  // DELETE: the job and its files go.
  Answer gone = Call("DELETE", status_path, token);
  EXPECT_EQ(gone.status, 202);
  EXPECT_EQ(Get(status_path, token).status, 404);
}

}  // namespace
}  // namespace icr::test
