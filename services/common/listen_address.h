// A listen address "host:port" ("[::1]:8080" for IPv6; port 0 = any free one), parsed the same
// way for every HTTP server (the dashboard's, the FHIR API's).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace icr {

struct ListenAddress {
  std::string host;  // without brackets: "::1", "127.0.0.1", "localhost"
  int port = 0;
};

// INVALID_ARGUMENT naming `what` ("dashboard") for a malformed address.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& listen, std::string_view what);

}  // namespace icr
