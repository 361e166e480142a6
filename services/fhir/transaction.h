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

// Parses and maps. Fails with the first problem found.
absl::StatusOr<TransactionRequest> ParseTransaction(const nlohmann::json& bundle,
                                                    BundleError* error);

// The FHIRPath of a field the service named in its refusal ("events[3].admission.admitted_at:
// must not be in the future" -> "Bundle.entry[5].resource.period.start"), or "Bundle" when it
// cannot be placed.
std::string FhirPathOf(const TransactionRequest& tx, const std::string& grpc_field);

}  // namespace icr::fhir
