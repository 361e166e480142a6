// The error vocabulary: domain and store code return absl::Status; only handlers turn it into
// grpc::Status. Messages for bad input are "field.path: reason" (architecture.md, Errors).
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace icr {

absl::Status InvalidField(std::string_view field, std::string_view reason);
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace icr

// Returns from the enclosing function when expr is not OK.
#define RETURN_IF_ERROR(expr)    \
  do {                           \
    absl::Status _st = (expr);   \
    if (!_st.ok()) return _st;   \
  } while (0)
