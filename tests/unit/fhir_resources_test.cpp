// The FHIR R4 UK Core mappers (services/fhir/resources.h, fhir-ukcore.md sections 5, 7, 8) on
// realistic record messages: UK Core identifier systems, extension URLs and value types, codes,
// stable FHIR-safe ids, statuses, absent data left out; and the project's published definitions
// (every extension and code system the mappers emit is defined, with the value type emitted).
// With ICR_FHIR_SAMPLES set, every resource built here is also written there (one JSON file
// each) for the offline validators.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "services/fhir/definitions.h"
#include "services/fhir/resources.h"

namespace icr::fhir {
namespace {

using google::protobuf::util::TimeUtil;
using icr::v1::CarePlan;
using icr::v1::CarePlanIntervention;

const std::string kUkSd = "https://fhir.hl7.org.uk/StructureDefinition/";
const std::string kUkCs = "https://fhir.hl7.org.uk/CodeSystem/";
const std::string kPersonId = "3f9a2c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f";

// Writes the resource to $ICR_FHIR_SAMPLES/<Type>-<id>.json when that is set; returns it.
const Json& Sample(const Json& resource) {
  if (const char* dir = std::getenv("ICR_FHIR_SAMPLES"); dir != nullptr && *dir != '\0') {
    std::ofstream(std::string(dir) + "/" + resource.value("resourceType", "") + "-" +
                  resource.value("id", "") + ".json")
        << resource.dump(2) << "\n";
  }
  return resource;
}

google::protobuf::Timestamp At(const std::string& rfc3339) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(TimeUtil::FromString(rfc3339, &t)) << rfc3339;
  return t;
}

icr::v1::Person Andre() {
  icr::v1::Person p;
  p.set_person_id(kPersonId);
  p.set_nhs_number("9000000009");
  p.set_family_name("MCKENZIE");
  p.set_given_name("Andre");
  p.set_date_of_birth("1988-04-17");
  p.set_sex("1");
  p.set_ethnic_category("M");
  p.set_postcode("SE18 6HQ");
  p.set_gp_practice_code("Y00001");
  p.set_council_code("E09000011");
  p.set_icb_code("QKK");
  auto* local = p.add_local_identifiers();
  local->set_system("RV5:RiO");
  local->set_value("RIO-0042");
  p.set_version(7);
  return p;
}

icr::v1::Person Minimal() {
  icr::v1::Person p;
  p.set_person_id("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
  p.set_version(1);
  return p;
}

icr::v1::Referral Referral(const std::string& id = "REF-1001", const std::string& closed = "") {
  icr::v1::Referral r;
  r.set_referral_id(id);
  r.set_provider_code("RV5");
  r.set_team_type("C02");
  r.set_service_area("adult_mh");
  r.set_received_date("2025-09-01");
  r.set_closed_date(closed);
  return r;
}

icr::v1::HospitalStay Stay(bool discharged, const std::string& method = "1",
                           const std::string& destination = "19") {
  icr::v1::HospitalStay s;
  s.set_spell_id("SP-777");
  s.set_provider_code("RV5");
  *s.mutable_admitted_at() = At("2025-11-03T16:00:00Z");
  s.set_bed_type("200");
  if (discharged) {
    *s.mutable_discharged_at() = At("2026-02-20T09:00:00Z");
    s.set_discharge_method(method);
    s.set_discharge_destination(destination);
  }
  return s;
}

icr::v1::Detention Detention(const std::string& code = "03") {
  icr::v1::Detention d;
  d.set_detention_id("DET-921");
  d.set_legal_status_code(code);
  d.set_legal_status_description(code == "03" ? "Section 3" : "Supervised discharge (legacy)");
  d.set_s117_qualifying(code == "03");
  *d.mutable_started_at() = At("2025-11-03T16:40:00Z");
  return d;
}

icr::v1::S117Summary S117(const std::string& state) {
  icr::v1::S117Summary s;
  s.set_entitlement_id("9d8c7b6a-1111-4222-8333-444455556666");
  s.set_state(state);
  s.set_responsible_council_code("E09000011");
  s.set_responsible_icb_code("QKK");
  s.set_next_review_due("2026-08-27");
  return s;
}

icr::v1::StatusObservation Status(const std::string& code, const std::string& description,
                                  const std::string& by) {
  icr::v1::StatusObservation s;
  s.set_code(code);
  s.set_description(description);
  s.set_recorded_date("2026-01-15");
  s.set_recorded_by(by);
  return s;
}

CarePlan Plan(CarePlan::Status status) {
  CarePlan plan;
  plan.set_plan_id("b7e1d2c3-0a4f-4b6e-8d9c-2f3e4a5b6c7d");
  plan.set_person_id(kPersonId);
  plan.set_nhs_number("9000000009");
  plan.set_version(3);
  plan.set_status(status);
  *plan.mutable_version_created_at() = At("2026-02-26T15:30:00Z");
  plan.set_started_on("2026-03-01");
  plan.set_is_nhs_pcsp(true);
  plan.set_is_care_act_plan(true);
  plan.set_is_s117_aftercare_plan(true);
  plan.set_acting_for_council_code("E09000011");
  plan.set_acting_for_icb_code("QKK");
  plan.mutable_key_worker()->set_name("Sam Okafor");
  plan.mutable_key_worker()->set_role("Care coordinator");
  plan.mutable_key_worker()->set_organisation_code("RV5");
  plan.mutable_about_me()->set_what_matters_to_me("I want to get back to work and keep my flat.");
  plan.mutable_review()->set_next_review_date("2026-09-01");
  CarePlanIntervention* ips = plan.add_interventions();
  ips->set_intervention_id("i1");
  ips->set_description("Individual placement and support");
  ips->set_funder(CarePlanIntervention::JOINT);
  ips->set_is_s117(true);
  ips->set_frequency("weekly");
  ips->set_start_date("2026-03-01");
  ips->mutable_responsible()->set_name("IPS service");
  ips->mutable_responsible()->set_organisation_code("RV5");
  CarePlanIntervention* gym = plan.add_interventions();
  gym->set_intervention_id("i2");
  gym->set_description("Gym membership");
  gym->set_funder(CarePlanIntervention::SELF);
  gym->set_frequency("twice a week");
  return plan;
}

// The one extension of `resource` with that url, or null.
const Json* Extension(const Json& resource, const std::string& url) {
  if (!resource.contains("extension")) return nullptr;
  for (const Json& e : resource["extension"]) {
    if (e.value("url", "") == url) return &e;
  }
  return nullptr;
}

std::string ProjectExt(const std::string& name) {
  return kCanon + "/StructureDefinition/Extension-ICR-" + name;
}

// Every object, array and string in it has content: absent data is left out, never empty.
void ExpectNoEmpty(const Json& j, const std::string& path) {
  if (j.is_object() || j.is_array()) {
    EXPECT_FALSE(j.empty()) << path << " is empty";
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) ExpectNoEmpty(v, path + "." + k);
    } else {
      for (size_t i = 0; i < j.size(); ++i)
        ExpectNoEmpty(j[i], path + "[" + std::to_string(i) + "]");
    }
  } else if (j.is_string()) {
    EXPECT_FALSE(j.get<std::string>().empty()) << path << " is an empty string";
  } else {
    EXPECT_FALSE(j.is_null()) << path << " is null";
  }
}

void ExpectWellFormed(const Json& r) {
  static const std::regex kId("[A-Za-z0-9.-]{1,64}");
  ASSERT_TRUE(r.contains("id")) << r.dump();
  EXPECT_TRUE(std::regex_match(r["id"].get<std::string>(), kId)) << r["id"];
  ASSERT_TRUE(r.contains("meta")) << r.dump();
  EXPECT_FALSE(r["meta"]["profile"].empty());
  ExpectNoEmpty(r, r.value("resourceType", "?"));
  Sample(r);
}

// The FHIR type name of an element "value<Type>" (valueDate -> date, valueCoding -> Coding).
std::string ValueType(const Json& extension) {
  for (const auto& [k, v] : extension.items()) {
    if (k.rfind("value", 0) == 0 && k.size() > 5) {
      std::string t = k.substr(5);
      static const std::set<std::string> kPrimitive = {"Boolean", "Date",   "DateTime", "Decimal",
                                                       "Integer", "String", "Code",     "Uri"};
      if (kPrimitive.count(t)) t[0] = static_cast<char>(std::tolower(t[0]));
      return t;
    }
  }
  return "";
}

// The type codes of an element of a StructureDefinition's differential.
std::set<std::string> DifferentialTypes(const Json& sd, const std::string& element_id) {
  std::set<std::string> out;
  for (const Json& e : sd["differential"]["element"]) {
    if (e.value("id", "") != element_id) continue;
    for (const Json& t : e.value("type", Json::array())) out.insert(t.value("code", ""));
  }
  return out;
}

// Walks a resource: every project extension has its StructureDefinition and the value type it
// declares (sub-extensions too); every coding in a project code system names a code it has.
void ExpectDefined(const Json& j, const std::string& path) {
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) ExpectDefined(j[i], path + "[" + std::to_string(i) + "]");
    return;
  }
  if (!j.is_object()) return;
  if (j.contains("extension")) {
    for (const Json& ext : j["extension"]) {
      const std::string url = ext.value("url", "");
      if (url.rfind(kCanon, 0) != 0) continue;
      const Json* sd = DefinitionByUrl(url);
      ASSERT_NE(sd, nullptr) << path << ": no definition of " << url;
      EXPECT_EQ((*sd)["type"], "Extension") << url;
      if (ext.contains("extension")) {
        for (const Json& sub : ext["extension"]) {
          const std::string slice = "Extension.extension:" + sub.value("url", "");
          EXPECT_TRUE(DifferentialTypes(*sd, slice + ".value[x]").count(ValueType(sub)))
              << url << " " << slice << " " << ValueType(sub);
        }
      } else {
        EXPECT_TRUE(DifferentialTypes(*sd, "Extension.value[x]").count(ValueType(ext)))
            << url << ": " << ValueType(ext);
      }
    }
  }
  if (j.contains("system") && j.contains("code") && j["system"].is_string()) {
    const std::string system = j["system"];
    if (system.rfind(kCanon + "/CodeSystem/", 0) == 0) {
      const Json* cs = DefinitionByUrl(system);
      ASSERT_NE(cs, nullptr) << path << ": no definition of " << system;
      bool found = false;
      for (const Json& c : (*cs)["concept"]) found = found || c["code"] == j["code"];
      EXPECT_TRUE(found) << path << ": " << system << " has no " << j["code"];
    }
  }
  for (const auto& [k, v] : j.items()) ExpectDefined(v, path + "." + k);
}

const Json& Checked(const Json& r) {
  ExpectWellFormed(r);
  ExpectDefined(r, r.value("resourceType", "?"));
  return r;
}

TEST(FhirPatient, MapsThePersonToUkCorePatient) {
  const Json p = Checked(PatientResource(Andre()));
  EXPECT_EQ(p["resourceType"], "Patient");
  EXPECT_EQ(p["id"], kPersonId);
  EXPECT_EQ(p["meta"]["versionId"], "7");
  EXPECT_EQ(p["meta"]["profile"][0], kUkSd + "UKCore-Patient");
  ASSERT_EQ(p["identifier"].size(), 3u);
  EXPECT_EQ(p["identifier"][0],
            (Json{{"system", "https://fhir.nhs.uk/Id/nhs-number"}, {"value", "9000000009"}}));
  EXPECT_EQ(p["identifier"][1]["system"], kCanon + "/Id/person");
  EXPECT_EQ(p["identifier"][1]["value"], kPersonId);
  EXPECT_EQ(p["identifier"][2]["system"], kCanon + "/Id/local/RV5:RiO");
  EXPECT_EQ(p["identifier"][2]["value"], "RIO-0042");
  EXPECT_EQ(p["name"],
            Json::parse(R"([{"use":"official","family":"MCKENZIE","given":["Andre"]}])"));
  EXPECT_EQ(p["gender"], "male");
  EXPECT_EQ(p["birthDate"], "1988-04-17");
  const Json* ethnic = Extension(p, kUkSd + "Extension-UKCore-EthnicCategory");
  ASSERT_NE(ethnic, nullptr);
  EXPECT_EQ((*ethnic)["valueCodeableConcept"]["coding"][0]["system"],
            kUkCs + "UKCore-EthnicCategoryEngland");
  EXPECT_EQ((*ethnic)["valueCodeableConcept"]["coding"][0]["code"], "M");
  const Json* icb = Extension(p, ProjectExt("ResponsibleICB"));
  ASSERT_NE(icb, nullptr);
  EXPECT_EQ((*icb)["valueReference"]["identifier"]["system"], kOdsSystem);
  EXPECT_EQ((*icb)["valueReference"]["identifier"]["value"], "QKK");
  const Json& address = p["address"][0];
  EXPECT_EQ(address["use"], "home");
  EXPECT_EQ(address["postalCode"], "SE18 6HQ");
  const Json* la = Extension(address, ProjectExt("LocalAuthorityOfResidence"));
  ASSERT_NE(la, nullptr);
  EXPECT_EQ((*la)["valueCoding"], (Json{{"system", kGssSystem}, {"code", "E09000011"}}));
  EXPECT_EQ(p["generalPractitioner"][0],
            (Json{{"type", "Organization"},
                  {"identifier", {{"system", kOdsSystem}, {"value", "Y00001"}}}}));
  EXPECT_FALSE(p.contains("deceasedDateTime"));

  icr::v1::Person died = Andre();
  died.set_date_of_death("2026-05-01");
  EXPECT_EQ(Checked(PatientResource(died))["deceasedDateTime"], "2026-05-01");
}

TEST(FhirPatient, GenderFromNhsStatedGender) {
  for (const auto& [sex, gender] : std::vector<std::pair<std::string, std::string>>{
           {"1", "male"}, {"2", "female"}, {"9", "other"}, {"0", "unknown"}, {"X", "unknown"}}) {
    icr::v1::Person p = Andre();
    p.set_sex(sex);
    EXPECT_EQ(PatientResource(p)["gender"], gender) << sex;
  }
  icr::v1::Person p = Andre();
  p.set_sex("");
  EXPECT_FALSE(PatientResource(p).contains("gender"));
}

TEST(FhirPatient, AbsentDataIsLeftOut) {
  const Json p = Checked(PatientResource(Minimal()));
  for (const char* key : {"extension", "name", "gender", "birthDate", "address",
                          "generalPractitioner", "deceasedDateTime"}) {
    EXPECT_FALSE(p.contains(key)) << key;
  }
  ASSERT_EQ(p["identifier"].size(), 1u);  // the person id only: no NHS number slice
  EXPECT_EQ(p["identifier"][0]["system"], kCanon + "/Id/person");
  icr::v1::Person no_council = Andre();
  no_council.set_council_code("");
  EXPECT_FALSE(PatientResource(no_council)["address"][0].contains("extension"));
}

TEST(FhirEpisodeOfCare, ReferralIsAnEpisodeWithTeamTypeAndProvider) {
  const Json open = Checked(ReferralEpisode(Andre(), Referral()));
  EXPECT_EQ(open["resourceType"], "EpisodeOfCare");
  EXPECT_EQ(open["meta"]["profile"][0], kUkSd + "UKCore-EpisodeOfCare");
  EXPECT_EQ(open["status"], "active");
  EXPECT_EQ(open["type"][0]["coding"][0]["system"], kCanon + "/CodeSystem/nhsdd-service-team-type");
  EXPECT_EQ(open["type"][0]["coding"][0]["code"], "C02");
  EXPECT_EQ(open["type"][0]["coding"][0]["display"], "Community mental health team: adult");
  EXPECT_EQ(open["type"][1]["coding"][0]["system"], kCanon + "/CodeSystem/service-area");
  EXPECT_EQ(open["patient"]["reference"], "Patient/" + kPersonId);
  EXPECT_EQ(open["managingOrganization"]["identifier"]["system"], kOdsSystem);
  EXPECT_EQ(open["managingOrganization"]["identifier"]["value"], "RV5");
  EXPECT_EQ(open["period"], (Json{{"start", "2025-09-01"}}));
  EXPECT_EQ(open["identifier"][0]["system"], kCanon + "/Id/referral/RV5");

  const Json closed = Checked(ReferralEpisode(Andre(), Referral("REF-1001", "2026-01-31")));
  EXPECT_EQ(closed["status"], "finished");
  EXPECT_EQ(closed["period"]["end"], "2026-01-31");
  // Stable: the same referral always has the same id; another referral another.
  EXPECT_EQ(open["id"], closed["id"]);
  EXPECT_EQ(ReferralEpisodeId(Referral()), ReferralEpisodeId(Referral()));
  EXPECT_NE(ReferralEpisodeId(Referral()), ReferralEpisodeId(Referral("REF-1002")));
  // A fixed algorithm (FNV-1a 128 of "referral|RV5|REF-1001"): the same on every run and machine.
  EXPECT_EQ(ReferralEpisodeId(Referral()), "ref-c0b2379381c75f79e74ea6bf26d71baf");
  EXPECT_EQ(ReferralEpisodeId(Referral()).size(), 4u + 32u);

  icr::v1::Referral unknown_team = Referral();
  unknown_team.set_team_type("Z99");
  const Json e = Checked(ReferralEpisode(Andre(), unknown_team));
  EXPECT_EQ(e["type"][0], (Json{{"text", "Z99"}}));  // never emitted in a system without it
}

TEST(FhirEpisodeOfCare, S117EntitlementWithResponsibleBodies) {
  const Json e = Checked(S117Episode(Andre(), S117("ACTIVE")));
  EXPECT_EQ(e["status"], "active");
  EXPECT_EQ(e["meta"]["profile"], (Json{kUkSd + "UKCore-EpisodeOfCare",
                                        kCanon + "/StructureDefinition/ICR-S117AftercareEpisode"}));
  EXPECT_EQ(e["type"][0]["coding"][0]["system"], kCanon + "/CodeSystem/episode-type");
  EXPECT_EQ(e["type"][0]["coding"][0]["code"], "S117_AFTERCARE");
  const Json* council = Extension(e, ProjectExt("S117ResponsibleCouncil"));
  ASSERT_NE(council, nullptr);
  EXPECT_EQ((*council)["valueReference"]["identifier"],
            (Json{{"system", kGssSystem}, {"value", "E09000011"}}));
  const Json* icb = Extension(e, ProjectExt("S117ResponsibleICB"));
  ASSERT_NE(icb, nullptr);
  EXPECT_EQ((*icb)["valueReference"]["identifier"],
            (Json{{"system", kOdsSystem}, {"value", "QKK"}}));
  EXPECT_EQ((*Extension(e, ProjectExt("NextReviewDate")))["valueDate"], "2026-08-27");
  EXPECT_EQ(Extension(e, ProjectExt("S117EndReason")), nullptr);
  EXPECT_EQ(e["identifier"][0]["value"], "9d8c7b6a-1111-4222-8333-444455556666");

  EXPECT_EQ(Checked(S117Episode(Andre(), S117("PLANNED")))["status"], "planned");
  EXPECT_EQ(Checked(S117Episode(Andre(), S117("VOID")))["status"], "entered-in-error");
  for (const char* ended : {"ENDED_DISCHARGED", "ENDED_SUPERSEDED", "ENDED_DECEASED"}) {
    const Json f = Checked(S117Episode(Andre(), S117(ended)));
    EXPECT_EQ(f["status"], "finished") << ended;
    const Json* reason = Extension(f, ProjectExt("S117EndReason"));
    ASSERT_NE(reason, nullptr) << ended;
    EXPECT_EQ((*reason)["valueCodeableConcept"]["coding"][0]["code"], ended);
    EXPECT_EQ((*reason)["valueCodeableConcept"]["coding"][0]["system"],
              kCanon + "/CodeSystem/s117-end-reason");
  }
  EXPECT_EQ(S117EpisodeId(S117("ACTIVE")), S117EpisodeId(S117("ENDED_DECEASED")));
}

TEST(FhirEncounter, SpellWithDischargeAndLegalStatus) {
  const icr::v1::Detention d = Detention();
  const Json enc = Checked(SpellEncounter(Andre(), Stay(true), &d));
  EXPECT_EQ(enc["resourceType"], "Encounter");
  EXPECT_EQ(enc["meta"]["profile"][0], kUkSd + "UKCore-Encounter");
  EXPECT_EQ(enc["status"], "finished");
  EXPECT_EQ(enc["class"]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  EXPECT_EQ(enc["class"]["code"], "IMP");
  EXPECT_EQ(enc["period"]["start"], "2025-11-03T16:00:00Z");
  EXPECT_EQ(enc["period"]["end"], "2026-02-20T09:00:00Z");
  EXPECT_EQ(enc["serviceProvider"]["identifier"]["value"], "RV5");
  const Json* method = Extension(enc, kUkSd + "Extension-UKCore-DischargeMethod");
  ASSERT_NE(method, nullptr);
  EXPECT_EQ((*method)["valueCodeableConcept"]["coding"][0],
            (Json{{"system", kUkCs + "UKCore-DischargeMethodEngland"}, {"code", "1"}}));
  EXPECT_EQ(enc["hospitalization"]["dischargeDisposition"]["coding"][0],
            (Json{{"system", kUkCs + "UKCore-DischargeDestinationEngland"}, {"code", "19"}}));
  const Json* legal = Extension(enc, kUkSd + "Extension-UKCore-LegalStatus");
  ASSERT_NE(legal, nullptr);
  ASSERT_EQ((*legal)["extension"].size(), 2u);
  EXPECT_EQ((*legal)["extension"][0]["url"], "legalStatusContext");
  EXPECT_EQ((*legal)["extension"][0]["valueCodeableConcept"]["coding"][0]["code"], "admission");
  EXPECT_EQ((*legal)["extension"][0]["valueCodeableConcept"]["coding"][0]["system"],
            kUkCs + "UKCore-LegalStatusContext");
  EXPECT_EQ((*legal)["extension"][1]["url"], "legalStatusClassification");
  EXPECT_EQ((*legal)["extension"][1]["valueCodeableConcept"]["coding"][0],
            (Json{{"system", kUkCs + "UKCore-LegalStatusClassificationEngland"}, {"code", "03"}}));
  const Json* bed = Extension(enc, ProjectExt("MentalHealthBedType"));
  ASSERT_NE(bed, nullptr);
  EXPECT_EQ((*bed)["valueCodeableConcept"]["coding"][0]["code"], "200");
  EXPECT_EQ((*bed)["valueCodeableConcept"]["coding"][0]["display"], "Adult acute");

  const Json current = Checked(SpellEncounter(Andre(), Stay(false), nullptr));
  EXPECT_EQ(current["status"], "in-progress");
  EXPECT_FALSE(current["period"].contains("end"));
  EXPECT_FALSE(current.contains("hospitalization"));
  EXPECT_EQ(Extension(current, kUkSd + "Extension-UKCore-DischargeMethod"), nullptr);
  EXPECT_EQ(Extension(current, kUkSd + "Extension-UKCore-LegalStatus"), nullptr);
  EXPECT_EQ(current["id"], enc["id"]);
}

TEST(FhirEncounter, CodesUkCoreLacksGoToProjectCodeSystems) {
  const icr::v1::Detention d = Detention("33");
  // 2 (self-discharge or by relative) and 40 (penal establishment) are record codes UK Core
  // England does not have.
  const Json enc = Checked(SpellEncounter(Andre(), Stay(true, "2", "40"), &d));
  EXPECT_EQ((*Extension(enc, kUkSd + "Extension-UKCore-DischargeMethod"))["valueCodeableConcept"]
                                                                         ["coding"][0]["system"],
            kCanon + "/CodeSystem/local-discharge-method");
  EXPECT_EQ(enc["hospitalization"]["dischargeDisposition"]["coding"][0]["system"],
            kCanon + "/CodeSystem/local-discharge-destination");
  EXPECT_EQ(
      (*Extension(enc,
                  kUkSd + "Extension-UKCore-LegalStatus"))["extension"][1]["valueCodeableConcept"]
                                                          ["coding"][0]["system"],
      kCanon + "/CodeSystem/local-legal-status");
}

TEST(FhirObservation, DetentionIsALegalStatusPeriod) {
  icr::v1::Detention d = Detention();
  const Json open = Checked(DetentionObservation(Andre(), d));
  EXPECT_EQ(open["meta"]["profile"][0], kUkSd + "UKCore-Observation");
  EXPECT_EQ(open["status"], "final");
  EXPECT_EQ(open["code"]["coding"][0]["system"], kCanon + "/CodeSystem/observation-code");
  EXPECT_EQ(open["code"]["coding"][0]["code"], "MHA_LEGAL_STATUS");
  EXPECT_EQ(open["code"]["coding"][1]["system"], "http://snomed.info/sct");
  EXPECT_EQ(open["code"]["coding"][1]["code"], "303186005");
  EXPECT_EQ(open["valueCodeableConcept"]["coding"][0],
            (Json{{"system", kUkCs + "UKCore-LegalStatusClassificationEngland"}, {"code", "03"}}));
  EXPECT_EQ(open["valueCodeableConcept"]["text"], "Section 3");
  EXPECT_EQ(open["effectivePeriod"], (Json{{"start", "2025-11-03T16:40:00Z"}}));
  EXPECT_EQ(open["subject"]["reference"], "Patient/" + kPersonId);

  *d.mutable_ended_at() = At("2026-02-20T09:00:00Z");
  const Json ended = Checked(DetentionObservation(Andre(), d));
  EXPECT_EQ(ended["effectivePeriod"]["end"], "2026-02-20T09:00:00Z");
  EXPECT_EQ(ended["id"], open["id"]);

  const Json legacy = Checked(DetentionObservation(Andre(), Detention("33")));
  EXPECT_EQ(legacy["valueCodeableConcept"]["coding"][0]["system"],
            kCanon + "/CodeSystem/local-legal-status");
}

TEST(FhirObservation, EmploymentAndAccommodationStatus) {
  const Json emp =
      Checked(StatusObservation(Andre(), "employment", Status("01", "Employed", "RV5")));
  EXPECT_EQ(emp["category"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/observation-category");
  EXPECT_EQ(emp["category"][0]["coding"][0]["code"], "social-history");
  EXPECT_EQ(emp["code"]["coding"][0]["code"], "EMPLOYMENT_STATUS");
  EXPECT_EQ(emp["valueCodeableConcept"]["coding"][0]["system"],
            kCanon + "/CodeSystem/nhsdd-employment-status");
  EXPECT_EQ(emp["valueCodeableConcept"]["coding"][0]["code"], "01");
  EXPECT_EQ(emp["effectiveDateTime"], "2026-01-15");
  EXPECT_EQ(emp["performer"][0]["identifier"]["system"], kOdsSystem);

  const Json acc = Checked(
      StatusObservation(Andre(), "accommodation", Status("04", "Living with family", "E09000011")));
  EXPECT_EQ(acc["code"]["coding"][0]["code"], "ACCOMMODATION_STATUS");
  EXPECT_EQ(acc["valueCodeableConcept"]["coding"][0]["system"],
            kCanon + "/CodeSystem/nhsdd-accommodation");
  EXPECT_EQ(acc["performer"][0]["identifier"]["system"], kGssSystem);
  EXPECT_NE(acc["id"], emp["id"]);
  EXPECT_EQ(StatusObservationId(kPersonId, "employment", Status("01", "Employed", "RV5")),
            emp["id"]);
}

TEST(FhirObservation, SearchByCode) {
  const Json emp = StatusObservation(Andre(), "employment", Status("01", "Employed", "RV5"));
  const Json mha = DetentionObservation(Andre(), Detention());
  EXPECT_TRUE(ObservationHasCode(emp, "EMPLOYMENT_STATUS"));
  EXPECT_FALSE(ObservationHasCode(emp, "ACCOMMODATION_STATUS"));
  EXPECT_TRUE(ObservationHasCode(emp, kCanon + "/CodeSystem/observation-code|EMPLOYMENT_STATUS"));
  EXPECT_FALSE(ObservationHasCode(emp, "http://other|EMPLOYMENT_STATUS"));
  EXPECT_FALSE(ObservationHasCode(emp, "|EMPLOYMENT_STATUS"));
  EXPECT_TRUE(ObservationHasCode(emp, "ACCOMMODATION_STATUS,EMPLOYMENT_STATUS"));
  EXPECT_TRUE(ObservationHasCode(mha, "303186005"));
  EXPECT_TRUE(ObservationHasCode(mha, "http://snomed.info/sct|303186005"));
  EXPECT_TRUE(ObservationHasCode(mha, "MHA_LEGAL_STATUS"));
  EXPECT_FALSE(ObservationHasCode(mha, ""));
  EXPECT_FALSE(ObservationHasCode(Json::object(), "MHA_LEGAL_STATUS"));
}

TEST(FhirCarePlan, OneResourcePerVersion) {
  const Json cp = Checked(CarePlanResource(Plan(CarePlan::AGREED)));
  EXPECT_EQ(cp["id"], "b7e1d2c3-0a4f-4b6e-8d9c-2f3e4a5b6c7d");
  EXPECT_EQ(cp["meta"]["versionId"], "3");
  EXPECT_EQ(cp["meta"]["profile"][0], kUkSd + "UKCore-CarePlan");
  EXPECT_EQ(cp["identifier"][0]["system"], kCanon + "/Id/care-plan");
  EXPECT_EQ(cp["identifier"][1]["value"], "b7e1d2c3-0a4f-4b6e-8d9c-2f3e4a5b6c7d-v3");
  EXPECT_EQ(cp["status"], "active");
  EXPECT_EQ(cp["intent"], "plan");
  ASSERT_EQ(cp["category"].size(), 3u);
  EXPECT_EQ(cp["category"][2]["coding"][0]["code"], "s117-aftercare-plan");
  EXPECT_EQ(cp["subject"]["reference"], "Patient/" + kPersonId);
  EXPECT_EQ(cp["subject"]["identifier"],
            (Json{{"system", "https://fhir.nhs.uk/Id/nhs-number"}, {"value", "9000000009"}}));
  EXPECT_EQ(cp["period"]["start"], "2026-03-01");
  EXPECT_EQ(cp["created"], "2026-02-26T15:30:00Z");
  EXPECT_EQ(cp["author"]["display"], "Sam Okafor (Care coordinator)");
  EXPECT_EQ((*Extension(cp, ProjectExt("NextReviewDate")))["valueDate"], "2026-09-01");
  EXPECT_EQ(cp["note"][0]["text"], "I want to get back to work and keep my flat.");
  ASSERT_EQ(cp["activity"].size(), 2u);
  const Json& ips = cp["activity"][0]["detail"];
  EXPECT_EQ(ips["kind"], "ServiceRequest");
  EXPECT_EQ(ips["status"], "in-progress");
  EXPECT_EQ(ips["description"], "Individual placement and support (weekly)");
  EXPECT_EQ(ips["scheduledPeriod"]["start"], "2026-03-01");
  EXPECT_EQ(ips["performer"][0]["identifier"]["value"], "RV5");
  EXPECT_EQ((*Extension(ips, ProjectExt("S117Aftercare")))["valueBoolean"], true);
  int joint = 0;
  for (const Json& e : ips["extension"]) {
    if (e["url"] != ProjectExt("Funding")) continue;
    ++joint;
    EXPECT_EQ(e["extension"][0]["valueCoding"]["code"], "JOINT");
    EXPECT_EQ(e["extension"][1]["url"], "funder");
  }
  EXPECT_EQ(joint, 2);  // the council (GSS) and the ICB (ODS)
  const Json& gym = cp["activity"][1]["detail"];
  EXPECT_EQ(gym["scheduledString"], "twice a week");
  EXPECT_EQ((*Extension(gym, ProjectExt("S117Aftercare")))["valueBoolean"], false);
  const Json* self = Extension(gym, ProjectExt("Funding"));
  ASSERT_NE(self, nullptr);
  EXPECT_EQ((*self)["extension"].size(), 1u);  // no funding organisation for a self-funder
  EXPECT_EQ((*self)["extension"][0]["valueCoding"]["code"], "SELF");

  EXPECT_EQ(Checked(CarePlanResource(Plan(CarePlan::DRAFT)))["status"], "draft");
  EXPECT_EQ(Checked(CarePlanResource(Plan(CarePlan::UNDER_REVIEW)))["status"], "active");
  EXPECT_EQ(Checked(CarePlanResource(Plan(CarePlan::CLOSED)))["status"], "completed");
}

TEST(FhirCarePlan, AbsentDataIsLeftOut) {
  CarePlan plan;
  plan.set_plan_id("0d0e0f00-1111-4222-8333-444455556666");
  plan.set_person_id(kPersonId);
  plan.set_version(1);
  plan.set_status(CarePlan::DRAFT);
  const Json cp = Checked(CarePlanResource(plan));
  for (const char* key :
       {"extension", "category", "period", "created", "author", "activity", "note"}) {
    EXPECT_FALSE(cp.contains(key)) << key;
  }
  EXPECT_FALSE(cp["subject"].contains("identifier"));
}

TEST(FhirOrganization, OdsOrGssIdentifier) {
  const Json trust =
      Checked(OrganizationResource({"RV5", "trust", "South London and Maudsley", ""}));
  EXPECT_EQ(trust["id"], "RV5");
  EXPECT_EQ(trust["meta"]["profile"][0], kUkSd + "UKCore-Organization");
  EXPECT_EQ(trust["identifier"][0], (Json{{"system", kOdsSystem}, {"value", "RV5"}}));
  EXPECT_EQ(trust["name"], "South London and Maudsley");
  EXPECT_EQ(trust["active"], true);
  EXPECT_EQ(trust["type"][0]["coding"][0]["code"], "trust");
  const Json council = Checked(OrganizationResource({"E09000011", "council", "Greenwich", "QKK"}));
  EXPECT_EQ(council["identifier"][0], (Json{{"system", kGssSystem}, {"value", "E09000011"}}));
  Checked(OrganizationResource({"QKK", "icb", "NHS South East London ICB", ""}));
  Checked(OrganizationResource({"Y00001", "gp_practice", "A practice", "QKK"}));
}

TEST(FhirRecord, EveryResourceOfTheIntegratedRecord) {
  icr::v1::IntegratedRecord record;
  *record.mutable_person() = Andre();
  *record.add_open_referrals() = Referral("REF-1");
  *record.add_open_referrals() = Referral("REF-2");
  *record.mutable_s117() = S117("ACTIVE");
  *record.mutable_hospital_stay() = Stay(false);
  *record.mutable_current_detention() = Detention();
  *record.mutable_employment() = Status("02", "Unemployed and actively seeking work", "RV5");
  *record.mutable_accommodation() = Status("04", "Living with family", "E09000011");
  const std::vector<Json> all = RecordResources(record);
  std::vector<std::string> types;
  std::set<std::string> ids;
  for (const Json& r : all) {
    Checked(r);
    types.push_back(r["resourceType"]);
    ids.insert(r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>());
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"Patient", "EpisodeOfCare", "EpisodeOfCare", "EpisodeOfCare",
                                      "Encounter", "Observation", "Observation", "Observation"}));
  EXPECT_EQ(ids.size(), all.size());
  // The detention started in the spell: the spell's legal status at admission.
  EXPECT_NE(Extension(all[4], kUkSd + "Extension-UKCore-LegalStatus"), nullptr);
  EXPECT_TRUE(ObservationHasCode(all[5], "MHA_LEGAL_STATUS"));
  EXPECT_TRUE(ObservationHasCode(all[6], "EMPLOYMENT_STATUS"));
  EXPECT_TRUE(ObservationHasCode(all[7], "ACCOMMODATION_STATUS"));

  icr::v1::IntegratedRecord bare;
  *bare.mutable_person() = Minimal();
  EXPECT_EQ(RecordResources(bare).size(), 1u);
}

TEST(FhirDefinitions, PublishedAtTheirCanonicalUrls) {
  const std::vector<const Json*> all = Definitions();
  ASSERT_FALSE(all.empty());
  std::set<std::string> urls;
  for (const Json* d : all) {
    const std::string type = (*d)["resourceType"];
    const std::string id = (*d)["id"];
    ASSERT_TRUE(type == "StructureDefinition" || type == "CodeSystem") << type;
    EXPECT_EQ((*d)["url"], kCanon + "/" + type + "/" + id);
    EXPECT_EQ((*d)["status"], "draft") << id;
    EXPECT_EQ(Definition(type, id), d);
    EXPECT_TRUE(urls.insert((*d)["url"]).second) << id;
    if (type == "StructureDefinition") {
      EXPECT_EQ((*d)["fhirVersion"], "4.0.1") << id;
      if ((*d)["type"] == "Extension") {
        EXPECT_FALSE((*d)["context"].empty()) << id;
        EXPECT_FALSE((*d)["differential"]["element"].empty()) << id;
      }
    } else {
      EXPECT_EQ((*d)["content"], "complete") << id;
      EXPECT_EQ((*d)["count"], (*d)["concept"].size()) << id;
    }
  }
  EXPECT_EQ(Definition("StructureDefinition", "Extension-ICR-Nothing"), nullptr);
  EXPECT_NE(Definition("StructureDefinition", "ICR-S117AftercareEpisode"), nullptr);
  EXPECT_NE(Definition("CodeSystem", "nhsdd-employment-status"), nullptr);
}

}  // namespace
}  // namespace icr::fhir
