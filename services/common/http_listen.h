// Binding an HTTP server (cpp-httplib) to "host:port" ("[::1]:8080" for IPv6; port 0 picks a
// free one), for the dashboard and the FHIR server alike.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace icr {

// Binds `listen` (SO_REUSEADDR only, so a second server on the same port fails instead of
// sharing it) and returns the bound port; INVALID_ARGUMENT for a malformed address, UNAVAILABLE
// when it cannot be bound. `what` names the server in errors ("dashboard").
absl::StatusOr<int> BindHttp(httplib::Server& server, const std::string& listen,
                             std::string_view what);

// Serves a bound server on a new thread; returns once its accept loop runs (so stop() works).
std::thread ServeHttp(httplib::Server& server);

}  // namespace icr
