// Logging: spdlog set-up (text, or one JSON object a line) and the access log, one line per RPC
// with method, status, latency, caller organisation and request id, which also counts the RPC
// metrics (metrics.h). Never NHS numbers, names or dates of birth.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "services/common/auth.h"

namespace icr {

// level: trace, debug, info, warn, error. format: "text" (the default) or "json": one object a
// line with ts, level and msg, and for the access log the OpenTelemetry names rpc.system,
// rpc.service, rpc.method, rpc.grpc.status_code, duration_ms, and request_id.
// INVALID_ARGUMENT naming --log-format for another format.
absl::Status InitLogging(const std::string& level, const std::string& format = "text");

// Server interceptor factory writing the access log and counting the RPC metrics; org comes from
// the token cache. Each call has a request id: the caller's x-request-id, or one made up when it
// sent none (then the handlers, and the audit rows they write, see that one); it is sent back in
// the response's initial metadata.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessLogFactory(
    Authenticator* auth);

}  // namespace icr
