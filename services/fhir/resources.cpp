#include "services/fhir/resources.h"

#include <google/protobuf/util/time_util.h>

#include <cctype>
#include <set>

#include "services/common/url.h"
#include "services/fhir/definitions.h"

namespace icr::fhir {

const std::string kCanon = "https://icr.example.org/fhir";

namespace {

using google::protobuf::util::TimeUtil;

// Profiles claimed in meta.profile: UK Core STU2 2.0.2 for the balloted ones, the STU3 draft
// URLs for EpisodeOfCare and CarePlan (fhir-ukcore.md section 0).
constexpr std::string_view kUkCoreSd = "https://fhir.hl7.org.uk/StructureDefinition/";
constexpr std::string_view kUkCoreCs = "https://fhir.hl7.org.uk/CodeSystem/";
constexpr std::string_view kSnomed = "http://snomed.info/sct";

std::string UkCore(std::string_view kind, std::string_view id) {
  return std::string(kind) + std::string(id);
}
std::string Profile(std::string_view id) { return UkCore(kUkCoreSd, id); }
std::string ProjectExtension(std::string_view id) {
  return kCanon + "/StructureDefinition/Extension-ICR-" + std::string(id);
}
std::string ProjectCodeSystem(std::string_view id) {
  return kCanon + "/CodeSystem/" + std::string(id);
}
std::string ProjectIdSystem(std::string_view kind) { return kCanon + "/Id/" + std::string(kind); }

// The codes of the UK Core England code systems the record's lists overlap (UK Core STU2 2.0.2,
// fhir-ukcore.md 3.1). A record code outside them goes to the project's local-* code system.
const std::set<std::string, std::less<>> kUkDischargeMethod = {"1", "3", "4", "5",
                                                               "6", "7", "8", "9"};
const std::set<std::string, std::less<>> kUkDischargeDestination = {
    "19", "29", "30", "37", "38", "48", "49", "50", "51", "52", "53",
    "54", "65", "66", "79", "84", "85", "87", "88", "98", "99"};
const std::set<std::string, std::less<>> kUkLegalStatus = {
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "31", "32", "35", "36", "37", "38", "98", "99"};
const std::set<std::string, std::less<>> kUkEthnicCategory = {
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"};

// FNV-1a, 128 bits (offset basis and prime from the FNV specification): a fixed algorithm, so
// the same key gives the same digest on every run and machine. 32 lower-case hex digits.
std::string Digest(std::string_view key) {
  unsigned __int128 hash =
      (static_cast<unsigned __int128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  const unsigned __int128 prime =
      (static_cast<unsigned __int128>(0x0000000001000000ULL) << 64) | 0x000000000000013BULL;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= prime;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 31; i >= 0; --i) {
    out[i] = kHex[static_cast<unsigned>(hash & 0xF)];
    hash >>= 4;
  }
  return out;
}

bool FhirSafeId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

// An id the service assigned (a UUID) as it is; anything else (never expected) as a digest.
std::string AssignedId(std::string_view prefix, const std::string& id) {
  return FhirSafeId(id) ? id : std::string(prefix) + Digest(id);
}

std::string Time(const google::protobuf::Timestamp& t) { return TimeUtil::ToString(t); }
bool IsSet(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

// A GSS (ONS) code: a letter for the nation and eight digits (E09000011).
bool IsGss(std::string_view code) {
  if (code.size() != 9 || std::string_view("EWSN").find(code[0]) == std::string_view::npos) {
    return false;
  }
  for (size_t i = 1; i < code.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(code[i]))) return false;
  }
  return true;
}

Json Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  Json c = {{"system", system}, {"code", code}};
  if (!display.empty()) c["display"] = display;
  return c;
}

Json Concept(Json coding, std::string_view text = {}) {
  Json cc = {{"coding", Json::array({std::move(coding)})}};
  if (!text.empty()) cc["text"] = text;
  return cc;
}

// A coding in one of the project's code systems, with its published display; a code the code
// system does not have is kept as text only (never emitted in a system that lacks it).
Json ProjectConcept(std::string_view code_system_id, const std::string& code,
                    std::string_view text = {}) {
  const std::string* display = ProjectCodeDisplay(code_system_id, code);
  if (display == nullptr) return Json{{"text", text.empty() ? std::string_view(code) : text}};
  return Concept(Coding(ProjectCodeSystem(code_system_id), code, *display), text);
}

// A code that is either in a UK Core England code system or, when the record holds a code that
// system lacks, in the project's local-* code system.
Json UkCoreOrLocal(const std::set<std::string, std::less<>>& uk_codes, std::string_view uk_system,
                   std::string_view local_system_id, const std::string& code,
                   std::string_view text = {}) {
  if (uk_codes.count(code)) return Concept(Coding(UkCore(kUkCoreCs, uk_system), code), text);
  return ProjectConcept(local_system_id, code, text);
}

Json OrgIdentifier(const std::string& code) {
  return {{"system", IsGss(code) ? kGssSystem : kOdsSystem}, {"value", code}};
}

// A logical reference to an organisation the record names by code: GSS for councils, ODS for
// the rest (trusts, ICBs, GP practices).
Json OrgReference(const std::string& code, std::string_view display = {}) {
  Json r = {{"type", "Organization"}, {"identifier", OrgIdentifier(code)}};
  if (!display.empty()) r["display"] = display;
  return r;
}

Json PatientReference(const std::string& person_id) {
  return {{"reference", "Patient/" + person_id}};
}

Json Meta(std::string_view profile, int64_t version = 0) {
  Json meta;
  if (version > 0) meta["versionId"] = std::to_string(version);
  meta["profile"] = Json::array({profile});
  return meta;
}

Json Period(const std::string& start, const std::string& end) {
  Json p = Json::object();
  if (!start.empty()) p["start"] = start;
  if (!end.empty()) p["end"] = end;
  return p;
}

Json Period(const google::protobuf::Timestamp& start, const google::protobuf::Timestamp& end) {
  return Period(IsSet(start) ? Time(start) : "", IsSet(end) ? Time(end) : "");
}

void AddExtension(Json& resource, Json extension) {
  resource["extension"].push_back(std::move(extension));
}

// A system part of a URL: unreserved characters and ':' as they are, the rest percent-encoded.
std::string UrlPart(std::string_view s) { return PercentEncode(s, ":"); }

std::string Gender(const std::string& stated_gender) {
  if (stated_gender == "1") return "male";
  if (stated_gender == "2") return "female";
  if (stated_gender == "9") return "other";
  if (stated_gender == "0" || stated_gender == "X") return "unknown";
  return "";
}

std::string StaffDisplay(const icr::v1::StaffRef& staff) {
  std::string out = staff.name();
  if (!staff.role().empty()) out += out.empty() ? staff.role() : " (" + staff.role() + ")";
  return out;
}

bool IsEmployment(std::string_view kind) { return kind == "employment"; }

}  // namespace

std::string ReferralEpisodeId(const icr::v1::Referral& referral) {
  return "ref-" + Digest("referral|" + referral.provider_code() + "|" + referral.referral_id());
}

std::string S117EpisodeId(const icr::v1::S117Summary& s117) {
  return "s117-" + Digest("s117|" + s117.entitlement_id());
}

std::string SpellEncounterId(const icr::v1::HospitalStay& stay) {
  return "spell-" + Digest("spell|" + stay.provider_code() + "|" + stay.spell_id());
}

std::string DetentionObservationId(const icr::v1::Detention& detention) {
  return "mha-" + Digest("detention|" + detention.detention_id() + "|" +
                         std::to_string(detention.started_at().seconds()));
}

std::string StatusObservationId(const std::string& person_id, std::string_view kind,
                                const icr::v1::StatusObservation& status) {
  return std::string(IsEmployment(kind) ? "emp-" : "acc-") +
         Digest(std::string(kind) + "|" + person_id + "|" + status.recorded_date() + "|" +
                status.code());
}

Json PatientResource(const icr::v1::Person& person) {
  Json p = {{"resourceType", "Patient"},
            {"id", AssignedId("p-", person.person_id())},
            {"meta", Meta(Profile("UKCore-Patient"), person.version())}};
  if (kUkEthnicCategory.count(person.ethnic_category())) {
    AddExtension(p, {{"url", Profile("Extension-UKCore-EthnicCategory")},
                     {"valueCodeableConcept",
                      Concept(Coding(UkCore(kUkCoreCs, "UKCore-EthnicCategoryEngland"),
                                     person.ethnic_category()))}});
  }
  if (!person.icb_code().empty()) {
    AddExtension(p, {{"url", ProjectExtension("ResponsibleICB")},
                     {"valueReference", OrgReference(person.icb_code())}});
  }
  Json& ids = p["identifier"];
  if (!person.nhs_number().empty()) {
    ids.push_back({{"system", kNhsNumberSystem}, {"value", person.nhs_number()}});
  }
  ids.push_back({{"system", ProjectIdSystem("person")}, {"value", person.person_id()}});
  for (const auto& local : person.local_identifiers()) {
    ids.push_back({{"system", ProjectIdSystem("local/" + UrlPart(local.system()))},
                   {"value", local.value()}});
  }
  if (!person.family_name().empty() || !person.given_name().empty()) {
    Json name = {{"use", "official"}};
    if (!person.family_name().empty()) name["family"] = person.family_name();
    if (!person.given_name().empty()) name["given"] = Json::array({person.given_name()});
    p["name"] = Json::array({name});
  }
  if (std::string gender = Gender(person.sex()); !gender.empty()) p["gender"] = gender;
  if (!person.date_of_birth().empty()) p["birthDate"] = person.date_of_birth();
  if (!person.date_of_death().empty()) p["deceasedDateTime"] = person.date_of_death();
  if (!person.postcode().empty() || !person.council_code().empty()) {
    Json address = {{"use", "home"}};
    if (!person.council_code().empty()) {
      AddExtension(address, {{"url", ProjectExtension("LocalAuthorityOfResidence")},
                             {"valueCoding", Coding(kGssSystem, person.council_code())}});
    }
    if (!person.postcode().empty()) address["postalCode"] = person.postcode();
    p["address"] = Json::array({address});
  }
  if (!person.gp_practice_code().empty()) {
    p["generalPractitioner"] = Json::array({OrgReference(person.gp_practice_code())});
  }
  return p;
}

Json ReferralEpisode(const icr::v1::Person& person, const icr::v1::Referral& referral) {
  Json e = {{"resourceType", "EpisodeOfCare"},
            {"id", ReferralEpisodeId(referral)},
            {"meta", Meta(Profile("UKCore-EpisodeOfCare"))}};
  if (!referral.referral_id().empty()) {
    e["identifier"] =
        Json::array({{{"system", ProjectIdSystem("referral/" + UrlPart(referral.provider_code()))},
                      {"value", referral.referral_id()}}});
  }
  e["status"] = referral.closed_date().empty() ? "active" : "finished";
  Json types = Json::array();
  if (!referral.team_type().empty()) {
    types.push_back(ProjectConcept("nhsdd-service-team-type", referral.team_type()));
  }
  if (!referral.service_area().empty()) {
    types.push_back(ProjectConcept("service-area", referral.service_area()));
  }
  if (!types.empty()) e["type"] = types;
  e["patient"] = PatientReference(person.person_id());
  if (!referral.provider_code().empty()) {
    e["managingOrganization"] = OrgReference(referral.provider_code());
  }
  if (Json period = Period(referral.received_date(), referral.closed_date()); !period.empty()) {
    e["period"] = period;
  }
  return e;
}

Json S117Episode(const icr::v1::Person& person, const icr::v1::S117Summary& s117) {
  Json e = {
      {"resourceType", "EpisodeOfCare"},
      {"id", S117EpisodeId(s117)},
      {"meta",
       {{"profile", Json::array({Profile("UKCore-EpisodeOfCare"),
                                 kCanon + "/StructureDefinition/ICR-S117AftercareEpisode"})}}}};
  if (!s117.responsible_council_code().empty()) {
    AddExtension(e, {{"url", ProjectExtension("S117ResponsibleCouncil")},
                     {"valueReference", OrgReference(s117.responsible_council_code())}});
  }
  if (!s117.responsible_icb_code().empty()) {
    AddExtension(e, {{"url", ProjectExtension("S117ResponsibleICB")},
                     {"valueReference", OrgReference(s117.responsible_icb_code())}});
  }
  const std::string& state = s117.state();
  if (state.rfind("ENDED_", 0) == 0) {
    AddExtension(e, {{"url", ProjectExtension("S117EndReason")},
                     {"valueCodeableConcept", ProjectConcept("s117-end-reason", state)}});
  }
  if (!s117.next_review_due().empty()) {
    AddExtension(
        e, {{"url", ProjectExtension("NextReviewDate")}, {"valueDate", s117.next_review_due()}});
  }
  e["identifier"] = Json::array(
      {{{"system", ProjectIdSystem("s117-episode")}, {"value", s117.entitlement_id()}}});
  // The register's states (services/s117): PLANNED, ACTIVE, ENDED_*, VOID (created in error).
  if (state == "PLANNED") {
    e["status"] = "planned";
  } else if (state == "ACTIVE") {
    e["status"] = "active";
  } else if (state.rfind("ENDED_", 0) == 0) {
    e["status"] = "finished";
  } else {
    e["status"] = "entered-in-error";
  }
  e["type"] = Json::array({ProjectConcept("episode-type", "S117_AFTERCARE")});
  e["patient"] = PatientReference(person.person_id());
  return e;
}

Json SpellEncounter(const icr::v1::Person& person, const icr::v1::HospitalStay& stay,
                    const icr::v1::Detention* detention) {
  const bool discharged = IsSet(stay.discharged_at());
  Json enc = {{"resourceType", "Encounter"},
              {"id", SpellEncounterId(stay)},
              {"meta", Meta(Profile("UKCore-Encounter"))}};
  if (discharged && !stay.discharge_method().empty()) {
    AddExtension(enc, {{"url", Profile("Extension-UKCore-DischargeMethod")},
                       {"valueCodeableConcept",
                        UkCoreOrLocal(kUkDischargeMethod, "UKCore-DischargeMethodEngland",
                                      "local-discharge-method", stay.discharge_method())}});
  }
  if (detention != nullptr && !detention->legal_status_code().empty()) {
    AddExtension(
        enc,
        {{"url", Profile("Extension-UKCore-LegalStatus")},
         {"extension",
          Json::array({{{"url", "legalStatusContext"},
                        {"valueCodeableConcept",
                         Concept(Coding(UkCore(kUkCoreCs, "UKCore-LegalStatusContext"), "admission",
                                        "Admission"))}},
                       {{"url", "legalStatusClassification"},
                        {"valueCodeableConcept",
                         UkCoreOrLocal(kUkLegalStatus, "UKCore-LegalStatusClassificationEngland",
                                       "local-legal-status", detention->legal_status_code(),
                                       detention->legal_status_description())}}})}});
  }
  if (!stay.bed_type().empty()) {
    AddExtension(enc,
                 {{"url", ProjectExtension("MentalHealthBedType")},
                  {"valueCodeableConcept", ProjectConcept("nhsdd-mh-bed-type", stay.bed_type())}});
  }
  if (!stay.spell_id().empty()) {
    enc["identifier"] =
        Json::array({{{"system", ProjectIdSystem("spell/" + UrlPart(stay.provider_code()))},
                      {"value", stay.spell_id()}}});
  }
  enc["status"] = discharged ? "finished" : "in-progress";
  enc["class"] =
      Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter");
  enc["subject"] = PatientReference(person.person_id());
  if (Json period = Period(stay.admitted_at(), stay.discharged_at()); !period.empty()) {
    enc["period"] = period;
  }
  if (discharged && !stay.discharge_destination().empty()) {
    enc["hospitalization"]["dischargeDisposition"] =
        UkCoreOrLocal(kUkDischargeDestination, "UKCore-DischargeDestinationEngland",
                      "local-discharge-destination", stay.discharge_destination());
  }
  if (!stay.provider_code().empty()) enc["serviceProvider"] = OrgReference(stay.provider_code());
  return enc;
}

Json DetentionObservation(const icr::v1::Person& person, const icr::v1::Detention& detention) {
  Json obs = {
      {"resourceType", "Observation"},
      {"id", DetentionObservationId(detention)},
      {"meta", Meta(Profile("UKCore-Observation"))},
      {"status", "final"},
      {"category", Json::array({ProjectConcept("observation-category", "mha-legal-status")})}};
  Json code = ProjectConcept("observation-code", "MHA_LEGAL_STATUS");
  code["coding"].push_back(Coding(kSnomed, "303186005", "Legal status of patient"));
  obs["code"] = code;
  obs["subject"] = PatientReference(person.person_id());
  if (Json period = Period(detention.started_at(), detention.ended_at()); !period.empty()) {
    obs["effectivePeriod"] = period;
  }
  if (!detention.legal_status_code().empty()) {
    obs["valueCodeableConcept"] = UkCoreOrLocal(
        kUkLegalStatus, "UKCore-LegalStatusClassificationEngland", "local-legal-status",
        detention.legal_status_code(), detention.legal_status_description());
  }
  return obs;
}

Json StatusObservation(const icr::v1::Person& person, std::string_view kind,
                       const icr::v1::StatusObservation& status) {
  const bool employment = IsEmployment(kind);
  Json obs = {
      {"resourceType", "Observation"},
      {"id", StatusObservationId(person.person_id(), kind, status)},
      {"meta", Meta(Profile("UKCore-Observation"))},
      {"status", "final"},
      {"category",
       Json::array({Concept(Coding("http://terminology.hl7.org/CodeSystem/observation-category",
                                   "social-history", "Social History"))})},
      {"code", ProjectConcept("observation-code",
                              employment ? "EMPLOYMENT_STATUS" : "ACCOMMODATION_STATUS")},
      {"subject", PatientReference(person.person_id())}};
  if (!status.recorded_date().empty()) obs["effectiveDateTime"] = status.recorded_date();
  if (!status.recorded_by().empty()) {
    obs["performer"] = Json::array({OrgReference(status.recorded_by())});
  }
  if (!status.code().empty()) {
    obs["valueCodeableConcept"] =
        ProjectConcept(employment ? "nhsdd-employment-status" : "nhsdd-accommodation",
                       status.code(), status.description());
  }
  return obs;
}

Json CarePlanResource(const icr::v1::CarePlan& plan) {
  using icr::v1::CarePlan;
  using icr::v1::CarePlanIntervention;
  Json cp = {{"resourceType", "CarePlan"},
             {"id", AssignedId("cp-", plan.plan_id())},
             {"meta", Meta(Profile("UKCore-CarePlan"), plan.version())}};
  if (IsSet(plan.version_created_at())) cp["meta"]["lastUpdated"] = Time(plan.version_created_at());
  if (!plan.review().next_review_date().empty()) {
    AddExtension(cp, {{"url", ProjectExtension("NextReviewDate")},
                      {"valueDate", plan.review().next_review_date()}});
  }
  cp["identifier"] =
      Json::array({{{"system", ProjectIdSystem("care-plan")}, {"value", plan.plan_id()}},
                   {{"system", ProjectIdSystem("care-plan-version")},
                    {"value", plan.plan_id() + "-v" + std::to_string(plan.version())}}});
  std::string status = "unknown";
  std::string activity_status = "unknown";
  switch (plan.status()) {
    case CarePlan::DRAFT:
      status = "draft";
      activity_status = "not-started";
      break;
    case CarePlan::AGREED:
    case CarePlan::UNDER_REVIEW:
      status = "active";
      activity_status = "in-progress";
      break;
    case CarePlan::CLOSED:
      status = "completed";
      activity_status = "completed";
      break;
    default:
      break;
  }
  cp["status"] = status;
  cp["intent"] = "plan";
  Json categories = Json::array();
  if (plan.is_nhs_pcsp()) categories.push_back(ProjectConcept("care-plan-category", "nhs-pcsp"));
  if (plan.is_care_act_plan()) {
    categories.push_back(ProjectConcept("care-plan-category", "care-act-plan"));
  }
  if (plan.is_s117_aftercare_plan()) {
    categories.push_back(ProjectConcept("care-plan-category", "s117-aftercare-plan"));
  }
  if (!categories.empty()) cp["category"] = categories;
  Json subject = PatientReference(plan.person_id());
  if (!plan.nhs_number().empty()) {
    subject["identifier"] = {{"system", kNhsNumberSystem}, {"value", plan.nhs_number()}};
  }
  cp["subject"] = subject;
  if (!plan.started_on().empty()) cp["period"] = Period(plan.started_on(), "");
  if (IsSet(plan.version_created_at())) cp["created"] = Time(plan.version_created_at());
  if (std::string author = StaffDisplay(plan.key_worker()); !author.empty()) {
    cp["author"] = {{"display", author}};
  }
  for (const CarePlanIntervention& i : plan.interventions()) {
    Json detail = Json::object();
    AddExtension(detail,
                 {{"url", ProjectExtension("S117Aftercare")}, {"valueBoolean", i.is_s117()}});
    auto funding = [&](std::string_view funder_type, const std::string& org_code) {
      Json parts = Json::array(
          {{{"url", "funderType"},
            {"valueCoding", Coding(ProjectCodeSystem("funding-source"), funder_type,
                                   *ProjectCodeDisplay("funding-source", funder_type))}}});
      if (!org_code.empty()) {
        parts.push_back({{"url", "funder"}, {"valueReference", OrgReference(org_code)}});
      }
      AddExtension(detail, {{"url", ProjectExtension("Funding")}, {"extension", parts}});
    };
    switch (i.funder()) {
      case CarePlanIntervention::COUNCIL:
        funding("COUNCIL", plan.acting_for_council_code());
        break;
      case CarePlanIntervention::ICB:
        funding("ICB", plan.acting_for_icb_code());
        break;
      case CarePlanIntervention::JOINT:
        funding("JOINT", plan.acting_for_council_code());
        funding("JOINT", plan.acting_for_icb_code());
        break;
      case CarePlanIntervention::OTHER:
        funding("OTHER", "");
        break;
      case CarePlanIntervention::SELF:
        funding("SELF", "");
        break;
      default:
        break;
    }
    detail["kind"] = "ServiceRequest";
    detail["status"] = activity_status;
    const bool dated = !i.start_date().empty() || !i.end_date().empty();
    if (dated) {
      detail["scheduledPeriod"] = Period(i.start_date(), i.end_date());
    } else if (!i.frequency().empty()) {
      detail["scheduledString"] = i.frequency();
    }
    if (!i.responsible().organisation_code().empty()) {
      detail["performer"] = Json::array(
          {OrgReference(i.responsible().organisation_code(), StaffDisplay(i.responsible()))});
    } else if (std::string who = StaffDisplay(i.responsible()); !who.empty()) {
      detail["performer"] = Json::array({{{"display", who}}});
    }
    std::string description = i.description();
    if (dated && !i.frequency().empty()) {
      description += description.empty() ? i.frequency() : " (" + i.frequency() + ")";
    }
    if (!description.empty()) detail["description"] = description;
    cp["activity"].push_back({{"detail", detail}});
  }
  if (!plan.about_me().what_matters_to_me().empty()) {
    cp["note"] = Json::array({{{"text", plan.about_me().what_matters_to_me()}}});
  }
  return cp;
}

Json OrganizationResource(const Organisation& org) {
  Json o = {{"resourceType", "Organization"},
            {"id", FhirSafeId(org.code) ? org.code : "org-" + Digest(org.code)},
            {"meta", Meta(Profile("UKCore-Organization"))},
            {"identifier", Json::array({OrgIdentifier(org.code)})},
            {"active", true}};
  if (!org.kind.empty()) o["type"] = Json::array({ProjectConcept("organisation-kind", org.kind)});
  if (!org.name.empty()) o["name"] = org.name;
  return o;
}

std::vector<Json> RecordResources(const icr::v1::IntegratedRecord& record) {
  const icr::v1::Person& person = record.person();
  std::vector<Json> out;
  out.push_back(PatientResource(person));
  for (const auto& referral : record.open_referrals())
    out.push_back(ReferralEpisode(person, referral));
  if (!record.s117().entitlement_id().empty()) out.push_back(S117Episode(person, record.s117()));
  const bool has_detention =
      record.has_current_detention() && !record.current_detention().detention_id().empty();
  if (!record.hospital_stay().spell_id().empty()) {
    const auto& stay = record.hospital_stay();
    const auto& d = record.current_detention();
    // The current detention is the spell's legal status at admission when it started in the spell.
    const bool in_spell = has_detention &&
                          d.started_at().seconds() >= stay.admitted_at().seconds() &&
                          (!IsSet(stay.discharged_at()) ||
                           d.started_at().seconds() <= stay.discharged_at().seconds());
    out.push_back(SpellEncounter(person, stay, in_spell ? &d : nullptr));
  }
  if (has_detention) out.push_back(DetentionObservation(person, record.current_detention()));
  if (record.has_employment() && !record.employment().code().empty()) {
    out.push_back(StatusObservation(person, "employment", record.employment()));
  }
  if (record.has_accommodation() && !record.accommodation().code().empty()) {
    out.push_back(StatusObservation(person, "accommodation", record.accommodation()));
  }
  return out;
}

bool ObservationHasCode(const Json& observation, std::string_view code_param) {
  const Json* codings = nullptr;
  if (auto code = observation.find("code"); code != observation.end()) {
    if (auto c = code->find("coding"); c != code->end() && c->is_array()) codings = &*c;
  }
  if (codings == nullptr) return false;
  size_t start = 0;
  while (start <= code_param.size()) {
    size_t comma = code_param.find(',', start);
    std::string_view token = code_param.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? code_param.size() + 1 : comma + 1;
    if (token.empty()) continue;
    std::string_view system;
    std::string_view code = token;
    const size_t bar = token.find('|');
    if (bar != std::string_view::npos) {
      system = token.substr(0, bar);
      code = token.substr(bar + 1);
    }
    for (const Json& coding : *codings) {
      if (coding.value("code", "") != code) continue;
      if (bar == std::string_view::npos) return true;
      const std::string coding_system = coding.value("system", "");
      if (coding_system == system) return true;  // "|code" matches a coding without a system
    }
  }
  return false;
}

}  // namespace icr::fhir
