// A FHIR transaction Bundle of Patient, Encounter, EpisodeOfCare and Observation resources, as
// the one RecordEvents request it means (fhir-ukcore.md section 5 read backwards): pure, no gRPC
// call, no SQL. Each entry's event id comes from its fullUrl or identifier, so a Bundle sent
// twice is the same request twice and changes nothing the second time.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"

namespace icr::fhir {

// Where a part of the RecordEvents request came from in the Bundle, to name the element when
// the service refuses it: "events[3]" -> "Bundle.entry[5].resource", "people[0]" -> ...
struct TransactionRequest {
  icr::v1::RecordEventsRequest request;
  std::map<std::string, std::string> origin;  // request field prefix -> FHIRPath prefix
  // Per Bundle entry (in order): what the response entry says (the resource type, and which
  // people/events index it became), so the transaction-response Bundle can be built.
  struct Entry {
    std::string resource_type;
    int person = -1;           // index into request.people, or -1
    std::vector<int> events;   // indices into request.events
  };
  std::vector<Entry> entries;
};

// A refusal of the Bundle itself: INVALID_ARGUMENT (HTTP 400) or FAILED_PRECONDITION (422 / 412)
// with the FHIRPath of the element ("Bundle.entry[2].resource.period.start") as the field.
struct BundleError {
  int http_status = 400;
  std::string issue_code;  // OperationOutcome issue.code: invalid, required, value, not-supported, ...
  std::string expression;  // FHIRPath
  std::string diagnostics;
};

// Parses and maps. Fails with the first problem found. The mapping (fhir-ukcore.md section 5
// read backwards; the systems and codes the read side emits):
// - Patient -> people[]: the NHS number identifier (required), the official name (else the
//   first), gender male/female/other/unknown -> 1/2/9/0, birthDate, Extension-UKCore-
//   EthnicCategory, the home address's postalCode and Extension-ICR-LocalAuthorityOfResidence
//   (GSS), generalPractitioner's ODS code. No element carries the ICB: a Patient written here
//   has none. POST is a conditional create (create_only; ifNoneExist may only name the same
//   NHS number); PUT (Patient/{id} or Patient?identifier=...|N) an update, If-Match W/"n" its
//   expected_version. The person is found by the NHS number, never by the id in the URL.
// - Encounter (class IMP) -> admission (+ discharge when finished / period.end); EpisodeOfCare
//   -> referral_opened (+ referral_closed); Observation EMPLOYMENT_STATUS / ACCOMMODATION_STATUS
//   -> the status event; MHA_LEGAL_STATUS -> detention_start (+ detention_end). Their event id
//   (and spell, referral or detention id) is the resource's identifier of system
//   kCanon/Id/event, else its fullUrl's last part (urn:uuid:X -> X); the closing event's is that
//   id + ":discharge", ":closed" or ":end". entered-in-error and cancelled are not supported.
// - subject / patient: a Patient entry's fullUrl, Patient?identifier=<nhs-number system>|N, or
//   an identifier of that system. Patient/{id} is refused (422): it would need a look-up.
absl::StatusOr<TransactionRequest> ParseTransaction(const nlohmann::json& bundle,
                                                    BundleError* error);

// The FHIRPath of a field the service named in its refusal ("events[3].admission.admitted_at:
// must not be in the future" -> "Bundle.entry[5].resource.period.start"), or "Bundle" when it
// cannot be placed.
std::string FhirPathOf(const TransactionRequest& tx, const std::string& grpc_field);

}  // namespace icr::fhir
