// The record as FHIR R4 UK Core resources (../shared/design/fhir-ukcore.md sections 5-8): pure
// mapping from the gRPC messages to JSON, used by the REST reads, $everything and bulk export
// alike, so every face of the record says the same thing. No gRPC, no SQL.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "icr/v1/careplan.pb.h"
#include "icr/v1/record.pb.h"
#include "services/common/reference.h"

namespace icr::fhir {

using Json = nlohmann::json;

// The project's canonical base (fhir-ukcore.md Q1) for its identifier systems, extensions and
// code systems: "https://icr.example.org/fhir".
extern const std::string kCanon;
inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr std::string_view kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr std::string_view kGssSystem =
    "http://statistics.data.gov.uk/id/statistical-geography";

// Resource ids. A Patient's id is the person_id; the others are derived from the owning
// organisation's (or the person's) id of the thing, made safe for FHIR ([A-Za-z0-9.-]{1,64})
// and stable: the same thing always has the same id.
std::string ReferralEpisodeId(const icr::v1::Referral& referral);
std::string S117EpisodeId(const icr::v1::S117Summary& s117);
std::string SpellEncounterId(const icr::v1::HospitalStay& stay);
std::string DetentionObservationId(const icr::v1::Detention& detention);
// kind: "employment" or "accommodation"
std::string StatusObservationId(const std::string& person_id, std::string_view kind,
                                const icr::v1::StatusObservation& status);

// One resource each (fhir-ukcore.md section 5). `person` is the subject.
Json PatientResource(const icr::v1::Person& person);
Json ReferralEpisode(const icr::v1::Person& person, const icr::v1::Referral& referral);
Json S117Episode(const icr::v1::Person& person, const icr::v1::S117Summary& s117);
// The spell, with its legal status at admission (the current detention, when it started in the
// spell) as Extension-UKCore-LegalStatus; detention may be null.
Json SpellEncounter(const icr::v1::Person& person, const icr::v1::HospitalStay& stay,
                    const icr::v1::Detention* detention);
Json DetentionObservation(const icr::v1::Person& person, const icr::v1::Detention& detention);
// kind: "employment" or "accommodation"
Json StatusObservation(const icr::v1::Person& person, std::string_view kind,
                       const icr::v1::StatusObservation& status);
Json CarePlanResource(const icr::v1::CarePlan& plan);
Json OrganizationResource(const Organisation& org);

// Every resource of an integrated record (what $everything and export return for a person):
// the Patient first, then EpisodeOfCare (referrals, S117), Encounter, Observation.
std::vector<Json> RecordResources(const icr::v1::IntegratedRecord& record);

// The value of an Observation search's `code` parameter each status observation answers to
// (project observation-code system): EMPLOYMENT_STATUS, ACCOMMODATION_STATUS, MHA_LEGAL_STATUS.
bool ObservationHasCode(const Json& observation, std::string_view code_param);

}  // namespace icr::fhir
