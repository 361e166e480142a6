// Authentication and the caller of an RPC: bearer tokens per client system (only their digest
// is stored, TokenDigest), the principal's organisation and role, and the purpose-of-use headers.
#pragma once

#include <grpcpp/server_context.h>

#include <chrono>
#include <functional>
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

// The token pepper: a secret held outside the database (a file), so that a copy of the database
// (a backup, a replica) cannot be used to test guessed tokens. Loaded once at start, before any
// token is digested (icr-server, icrctl's admin token commands); never logged.
constexpr size_t kMinTokenPepperBytes = 32;
// Reads the pepper from the file at `path` (its content without trailing newlines) and uses it
// from now on; an empty path: no pepper. INVALID_ARGUMENT naming --token-pepper-file when the
// file cannot be read or holds fewer than kMinTokenPepperBytes bytes.
absl::Status LoadTokenPepper(const std::string& path);
// What is stored of a token, 32 raw bytes: HMAC-SHA256(pepper, token), or SHA-256(token) when
// there is no pepper. Adding or changing the pepper invalidates every token issued before.
std::string TokenDigest(std::string_view token);
std::string NewToken();                     // "icr_" + 43 url-safe random characters

// The address of a gRPC peer without its port: "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7",
// "ipv6:[::1]:51234" -> "ipv6:[::1]"; anything else (a Unix socket) unchanged.
std::string PeerAddress(std::string_view peer);

// Failed authentications per peer address. An address with kMaxFailures failures within kWindow
// is refused for kBlockFor without a database look-up: at most about 20 look-ups of unknown
// tokens a minute from one address, plenty for a misconfigured client to see its error, far
// too few to matter to the database. Thread-safe; remembers at most kMaxPeers addresses.
class FailedAuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxFailures = 20;
  static constexpr std::chrono::seconds kWindow{60};
  static constexpr std::chrono::seconds kBlockFor{60};
  static constexpr size_t kMaxPeers = 10000;

  // max_failures: failures within kWindow that block an address (0: no throttle).
  explicit FailedAuthThrottle(int max_failures = kMaxFailures) : max_failures_(max_failures) {}

  bool Refused(const std::string& peer, Clock::time_point now);
  void Failed(const std::string& peer, Clock::time_point now);

 private:
  struct Peer {
    Clock::time_point window_start;
    int failures = 0;
    Clock::time_point blocked_until;
  };
  const int max_failures_;
  std::mutex mu_;
  std::unordered_map<std::string, Peer> peers_;
};

// A stored token as `icrctl admin token list` shows it; never the token itself.
struct TokenInfo {
  std::string id;  // the first 12 hex digits of its TokenDigest
  std::string org_code;
  std::string role;
  std::string label;
  std::string created_at;  // "2026-11-23 04:51:32Z"
  std::string revoked_at;  // empty while active
};

// Which tokens to revoke: a token itself, the id ListTokens shows, or all of an organisation's.
struct TokenSelector {
  enum class Kind { kToken, kId, kOrg };
  Kind kind;
  std::string value;
};

class Authenticator {
 public:
  // auth_failure_limit: FailedAuthThrottle's failures per address (0: no throttle).
  explicit Authenticator(Database& db,
                         int auth_failure_limit = FailedAuthThrottle::kMaxFailures);

  // UNAUTHENTICATED when the token is missing, unknown or revoked; INVALID_ARGUMENT when a
  // purpose header is malformed; RESOURCE_EXHAUSTED, without a database look-up, for a token
  // this server has not seen valid when the peer's address has failed too often
  // (FailedAuthThrottle): a client sharing that address keeps working with a token it used
  // before, while a new one waits until the block ends.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx);
  // The same from another protocol's headers (the FHIR HTTP server): header(name) gives a
  // header's value by lower-case name ("" when absent), peer() the client's address for the
  // throttle (called only off the hot path).
  using HeaderOf = std::function<std::string(std::string_view)>;
  using PeerOf = std::function<std::string()>;
  absl::StatusOr<Caller> Authenticate(const HeaderOf& header, const PeerOf& peer);

  // The principal of a raw bearer token (e.g. from the dashboard's session cookie), with no
  // purpose headers; UNAUTHENTICATED when it is empty, unknown or revoked.
  absl::StatusOr<Caller> AuthenticateToken(const std::string& token);

  // The organisation of a token seen recently, for the access log (no database call).
  std::string CachedOrg(std::string_view authorization_header);

  // Creates a token for org and role; returns the token (shown once, never stored).
  static absl::StatusOr<std::string> CreateToken(Database& db, const std::string& org_code,
                                                 Role role, const std::string& label);
  // Revokes tokens, in one transaction. A server that has seen one may accept it for up to
  // 1 s more (its cache), as may a dashboard session signed in with it.
  static absl::Status RevokeTokens(Database& db, const std::vector<std::string>& tokens);
  // Every stored token, optionally of one organisation and only the active ones, by
  // organisation and creation time.
  static absl::StatusOr<std::vector<TokenInfo>> ListTokens(Database& db,
                                                           const std::string& org_code,
                                                           bool active_only);
  // Revokes the active tokens `which` selects, in one transaction, and returns them (as
  // RevokeTokens, within 1 s everywhere). NOT_FOUND when a token or id matches no active token;
  // INVALID_ARGUMENT for a malformed id or an unknown organisation; an organisation without
  // active tokens returns none.
  static absl::StatusOr<std::vector<TokenInfo>> RevokeSelected(Database& db,
                                                               const TokenSelector& which);


 private:
  struct Entry {
    std::string org_code;
    Role role;
    std::chrono::steady_clock::time_point expires;
  };
  // Authenticates a token; with peer, throttled by the peer's address.
  absl::StatusOr<Caller> Lookup(const std::string& token, const PeerOf* peer);

  Database& db_;
  std::mutex mu_;
  // By token hash: tokens found valid, kept after they expire so a throttled peer can still
  // renew them; a token found unknown or revoked is dropped.
  std::unordered_map<std::string, Entry> cache_;
  FailedAuthThrottle throttle_;
};

}  // namespace icr
