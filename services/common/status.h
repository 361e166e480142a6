// The error vocabulary: domain and store code return absl::Status; only handlers turn it into
// grpc::Status (grpc_status.h). Messages for bad input are "field.path: reason"
// (architecture.md, Errors). Abseil only, so the rules libraries can use it.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace icr {

// INVALID_ARGUMENT "field: reason": the request alone is wrong (format, range, required, an
// unknown code, a date before another date of the same request).
absl::Status InvalidField(std::string_view field, std::string_view reason);
// FAILED_PRECONDITION "field: reason": the field is well formed but a rule of the domain refuses
// it against what is stored (a date before the entitlement's start, the service's start, ...).
absl::Status RefusedField(std::string_view field, std::string_view reason);

}  // namespace icr

// Returns from the enclosing function when expr is not OK.
#define RETURN_IF_ERROR(expr)  \
  do {                         \
    absl::Status _st = (expr); \
    if (!_st.ok()) return _st; \
  } while (0)

// Evaluates expr (an absl::StatusOr<T>); returns its status from the enclosing function when not
// OK, else moves its value into lhs (a declaration such as `auto x` or an existing variable).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ICR_ASSIGN_OR_RETURN_IMPL(ICR_STATUS_CONCAT(_status_or_, __LINE__), lhs, expr)
#define ICR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(*tmp)
#define ICR_STATUS_CONCAT(a, b) ICR_STATUS_CONCAT_INNER(a, b)
#define ICR_STATUS_CONCAT_INNER(a, b) a##b
