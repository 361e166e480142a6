// Authentication and the caller of an RPC: bearer tokens per client system (only their
// SHA-256 is stored), the principal's organisation and role, and the purpose-of-use headers.
#pragma once

#include <grpcpp/server_context.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/db.h"
#include "services/common/principal.h"

namespace icr {

std::string Sha256(std::string_view data);  // raw 32 bytes
std::string NewToken();                     // "icr_" + 43 url-safe random characters

class Authenticator {
 public:
  explicit Authenticator(Database& db);

  // UNAUTHENTICATED when the token is missing, unknown or revoked; INVALID_ARGUMENT when a
  // purpose header is malformed.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx);

  // The principal of a raw bearer token (e.g. from the dashboard's session cookie), with no
  // purpose headers; UNAUTHENTICATED when it is empty, unknown or revoked.
  absl::StatusOr<Caller> AuthenticateToken(const std::string& token);

  // The organisation of a token seen recently, for the access log (no database call).
  std::string CachedOrg(std::string_view authorization_header);

  // Creates a token for org and role; returns the token (shown once, never stored).
  static absl::StatusOr<std::string> CreateToken(Database& db, const std::string& org_code,
                                                 Role role, const std::string& label);
  // Revokes tokens, in one transaction; a server that has seen one may accept it for up to
  // 30 s more (its cache).
  static absl::Status RevokeTokens(Database& db, const std::vector<std::string>& tokens);

  static const std::vector<Statement>& Statements();

 private:
  struct Entry {
    std::string org_code;
    Role role;
    std::chrono::steady_clock::time_point expires;
  };
  Database& db_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // by token hash
};

}  // namespace icr
