// Logging: spdlog set-up and the access log, one line per RPC with method, status, latency and
// caller organisation. Never NHS numbers, names or dates of birth.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "services/common/auth.h"

namespace icr {

void InitLogging(const std::string& level);

// Server interceptor factory writing the access log; org comes from the token cache.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessLogFactory(
    Authenticator* auth);

}  // namespace icr
