// FHIR's answers to refusals: the HTTP status of a service status (the gRPC codes of
// architecture.md's table, as the issue lists them) and the OperationOutcome that explains it,
// naming the element by its FHIRPath. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace icr::fhir {

// INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS 409, ABORTED 409 (412 when the request carried If-Match), FAILED_PRECONDITION
// 422, RESOURCE_EXHAUSTED 429, UNAVAILABLE and DEADLINE_EXCEEDED 503, UNIMPLEMENTED 501, else 500.
int HttpStatusOf(absl::StatusCode code, bool if_match = false);

// OperationOutcome issue.code for a status code (invalid, security, login, not-found, conflict,
// business-rule, throttled, transient, not-supported, exception).
std::string IssueCodeOf(absl::StatusCode code);

// One error issue; expression (a FHIRPath) is left out when empty.
nlohmann::json OperationOutcome(const std::string& issue_code, const std::string& diagnostics,
                                const std::string& expression = "");

// An OperationOutcome that informs (severity information, code informational).
nlohmann::json Information(const std::string& text);

// The field a service refusal names: "events[3].admission.admitted_at: must not be ..." ->
// "events[3].admission.admitted_at"; "" when the message names none.
std::string RefusedField(const std::string& message);

}  // namespace icr::fhir
