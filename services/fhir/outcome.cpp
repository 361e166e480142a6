#include "services/fhir/outcome.h"

namespace icr::fhir {

int HttpStatusOf(absl::StatusCode code, bool if_match) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kAborted: return if_match ? 412 : 409;
    case absl::StatusCode::kFailedPrecondition: return 422;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return 503;
    default: return 500;
  }
}

std::string IssueCodeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return "invalid";
    case absl::StatusCode::kUnauthenticated: return "login";
    case absl::StatusCode::kPermissionDenied: return "forbidden";
    case absl::StatusCode::kNotFound: return "not-found";
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return "conflict";
    case absl::StatusCode::kFailedPrecondition: return "business-rule";
    case absl::StatusCode::kResourceExhausted: return "throttled";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return "transient";
    case absl::StatusCode::kUnimplemented: return "not-supported";
    default: return "exception";
  }
}

nlohmann::json OperationOutcome(const std::string& issue_code, const std::string& diagnostics,
                                const std::string& expression) {
  nlohmann::json issue = {{"severity", "error"}, {"code", issue_code}};
  if (!diagnostics.empty()) issue["diagnostics"] = diagnostics;
  if (!expression.empty()) issue["expression"] = nlohmann::json::array({expression});
  return {{"resourceType", "OperationOutcome"}, {"issue", nlohmann::json::array({issue})}};
}

nlohmann::json Information(const std::string& text) {
  return {{"resourceType", "OperationOutcome"},
          {"issue", nlohmann::json::array({{{"severity", "information"},
                                            {"code", "informational"},
                                            {"diagnostics", text}}})}};
}

std::string RefusedField(const std::string& message) {
  const auto colon = message.find(": ");
  if (colon == std::string::npos) return "";
  const std::string field = message.substr(0, colon);
  // A field path has no spaces ("people[0].person.date_of_birth").
  if (field.empty() || field.find(' ') != std::string::npos) return "";
  return field;
}

}  // namespace icr::fhir
