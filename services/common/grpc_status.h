// The mapping of the error vocabulary (status.h) to gRPC, for handlers and clients.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "services/common/status.h"

namespace icr {

grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace icr
