#include "services/common/auth.h"
#include "services/common/sql/statements.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "services/common/grpc_server.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr {
namespace {
// A revoked token stops working within this time on every replica, and so does a dashboard
// session signed in with it. Within it, further calls with a token need no database round
// trip: GetIntegratedRecord shares one round trip among a batch of calls, so a look-up of its
// own on every call would cost it much of its throughput.
constexpr auto kCacheTtl = std::chrono::seconds(1);

constexpr char kThrottled[] = "too many failed authentications from this address; retry later";

std::string_view Metadata(const grpc::ServerContextBase& ctx, std::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

std::optional<std::string> BearerToken(std::string_view header) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return std::string(header.substr(kPrefix.size()));
}

TokenInfo ReadTokenInfo(const pqxx::row& row) {
  return TokenInfo{row[0].c_str(), row[1].c_str(), row[2].c_str(),
                   row[3].c_str(), row[4].c_str(), row[5].c_str()};
}

// The pepper LoadTokenPepper set; empty: none. Written only at start, before any thread reads it.
std::string& TokenPepper() {
  static std::string pepper;
  return pepper;
}

bool IsTokenId(std::string_view id) {
  return id.size() == 12 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
}  // namespace

std::string Sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

absl::Status LoadTokenPepper(const std::string& path) {
  std::string pepper;
  if (!path.empty()) {
    if (!ReadFile(path, &pepper)) return InvalidField("--token-pepper-file", "cannot read " + path);
    while (!pepper.empty() && (pepper.back() == '\n' || pepper.back() == '\r')) pepper.pop_back();
    if (pepper.size() < kMinTokenPepperBytes) {
      return InvalidField("--token-pepper-file",
                          path + " holds " + std::to_string(pepper.size()) +
                              " bytes; a pepper needs at least " +
                              std::to_string(kMinTokenPepperBytes) +
                              " (make one: head -c 48 /dev/urandom | base64 > FILE)");
    }
  }
  TokenPepper() = std::move(pepper);
  return absl::OkStatus();
}

std::string TokenDigest(std::string_view token) {
  const std::string& pepper = TokenPepper();
  if (pepper.empty()) return Sha256(token);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
            reinterpret_cast<const unsigned char*>(token.data()), token.size(), out, &size)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string NewToken() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[43];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness");
  std::string token = "icr_";
  for (unsigned char b : bytes) token += kAlphabet[b & 63];
  return token;
}

std::string PeerAddress(std::string_view peer) {
  const size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == peer.size() ||
      peer.find_first_not_of("0123456789", colon + 1) != std::string_view::npos) {
    return std::string(peer);
  }
  const std::string_view host = peer.substr(0, colon);
  // An IPv6 address is bracketed before its port (percent-encoded by some gRPC versions).
  const bool has_port =
      (host.starts_with("ipv4:") && colon > 5) ||
      (host.starts_with("ipv6:") && (host.ends_with("]") || host.ends_with("%5D")));
  return std::string(has_port ? host : peer);
}

bool FailedAuthThrottle::Refused(const std::string& peer, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.blocked_until > now;
}

void FailedAuthThrottle::Failed(const std::string& peer, Clock::time_point now) {
  if (max_failures_ <= 0) return;
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    if (peers_.size() >= kMaxPeers) {  // forget addresses neither counting nor blocked
      std::erase_if(peers_, [&](const auto& p) {
        return now - p.second.window_start >= kWindow && p.second.blocked_until <= now;
      });
    }
    // Still full: more addresses are failing than we remember, and one with that many could
    // spread its guesses anyway; this one goes uncounted.
    if (peers_.size() >= kMaxPeers) return;
    it = peers_.emplace(peer, Peer{now, 0, {}}).first;
  }
  Peer& p = it->second;
  if (now - p.window_start >= kWindow) {
    p.window_start = now;
    p.failures = 0;
  }
  if (++p.failures >= max_failures_) p.blocked_until = now + kBlockFor;
}

Authenticator::Authenticator(Database& db, int auth_failure_limit)
    : db_(db), throttle_(auth_failure_limit) {
}

absl::StatusOr<Caller> Authenticator::Authenticate(const grpc::ServerContextBase& ctx) {
  if (auto s = CheckMetadataSize(ctx); !s.ok()) return s;
  return Authenticate([&](std::string_view key) { return std::string(Metadata(ctx, key)); },
                      [&] { return PeerAddress(ctx.peer()); });
}

absl::StatusOr<Caller> Authenticator::Authenticate(const HeaderOf& header, const PeerOf& peer) {
  auto token = BearerToken(header("authorization"));
  if (!token || token->empty()) {
    return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }
  auto found = Lookup(*token, &peer);
  if (!found.ok()) return found.status();
  Caller caller = *std::move(found);
  caller.purpose_of_use = header("x-purpose-of-use");
  caller.request_id = header("x-request-id");
  caller.break_glass_reason = header("x-break-glass-reason");
  if (auto s = CheckText(caller.purpose_of_use, "x-purpose-of-use", 200, false); !s.ok()) return s;
  if (auto s = CheckText(caller.request_id, "x-request-id", 100, false); !s.ok()) return s;
  if (auto s = CheckText(caller.break_glass_reason, "x-break-glass-reason", 500, false); !s.ok()) {
    return s;
  }
  return caller;
}

absl::StatusOr<Caller> Authenticator::AuthenticateToken(const std::string& token) {
  return Lookup(token, nullptr);
}

absl::StatusOr<Caller> Authenticator::Lookup(const std::string& token, const PeerOf* peer_of) {
  if (token.empty()) return absl::UnauthenticatedError("missing token");
  const std::string hash = TokenDigest(token);
  const auto now = std::chrono::steady_clock::now();
  Caller caller;
  bool seen = false;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) {
      caller.org_code = it->second.org_code;
      caller.role = it->second.role;
      return caller;
    }
    seen = it != cache_.end();
  }
  // The peer is only needed off the hot path: for a token not seen valid, or a failure.
  std::string peer;
  if (peer_of && !seen) {
    peer = (*peer_of)();
    if (throttle_.Refused(peer, now)) return absl::ResourceExhaustedError(kThrottled);
  }
  std::optional<std::pair<std::string, Role>> row;
  absl::Status s = db_.Read([&](pqxx::nontransaction& tx) {
    auto r = Exec(tx, common::sql::kAuthTokenLookup, pqxx::binarystring(hash));
    if (!r.empty()) {
      auto role = ParseRole(r[0][1].c_str());
      if (role) row.emplace(r[0][0].c_str(), *role);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!row) {
    if (seen) {
      std::lock_guard lock(mu_);
      cache_.erase(hash);
    }
    if (peer_of) throttle_.Failed(peer.empty() ? (*peer_of)() : peer, now);
    return absl::UnauthenticatedError("unknown or revoked token");
  }
  caller.org_code = row->first;
  caller.role = row->second;
  std::lock_guard lock(mu_);
  cache_[hash] = Entry{row->first, row->second, now + kCacheTtl};
  return caller;
}

std::string Authenticator::CachedOrg(std::string_view authorization_header) {
  auto token = BearerToken(authorization_header);
  if (!token) return "-";
  const std::string hash = TokenDigest(*token);
  std::lock_guard lock(mu_);
  auto it = cache_.find(hash);
  return it == cache_.end() ? "-" : it->second.org_code;
}

absl::StatusOr<std::string> Authenticator::CreateToken(Database& db, const std::string& org_code,
                                                       Role role, const std::string& label) {
  std::string token = NewToken();
  absl::Status s = db.Write([&](pqxx::work& tx) {
    if (Exec(tx, common::sql::kAuthOrganisationKnown, org_code).empty()) {
      return InvalidField("org", "unknown organisation code " + org_code);
    }
    Exec(tx, common::sql::kAuthTokenInsert, pqxx::binarystring(TokenDigest(token)), org_code,
         RoleName(role), label);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return token;
}

absl::Status Authenticator::RevokeTokens(Database& db, const std::vector<std::string>& tokens) {
  return db.Write([&](pqxx::work& tx) {
    for (const auto& token : tokens) {
      const std::string hash = TokenDigest(token);
      Exec(tx, common::sql::kAuthTokenRevokeSelected, pqxx::binarystring(hash), "", "");
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TokenInfo>> Authenticator::ListTokens(Database& db,
                                                                 const std::string& org_code,
                                                                 bool active_only) {
  std::vector<TokenInfo> tokens;
  absl::Status s = db.Read([&](pqxx::nontransaction& tx) {
    for (const auto& row : Exec(tx, common::sql::kAuthTokenList, org_code, active_only)) {
      tokens.push_back(ReadTokenInfo(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return tokens;
}

absl::StatusOr<std::vector<TokenInfo>> Authenticator::RevokeSelected(Database& db,
                                                                     const TokenSelector& which) {
  using Kind = TokenSelector::Kind;
  if (which.value.empty()) return absl::InvalidArgumentError("nothing selected to revoke");
  if (which.kind == Kind::kId && !IsTokenId(which.value)) {
    return InvalidField("id", "a token id is the 12 lower-case hex digits `token list` shows");
  }
  std::vector<TokenInfo> revoked;
  absl::Status s = db.Write([&](pqxx::work& tx) {
    if (which.kind == Kind::kOrg &&
        Exec(tx, common::sql::kAuthOrganisationKnown, which.value).empty()) {
      return InvalidField("org", "unknown organisation code " + which.value);
    }
    const std::string hash = which.kind == Kind::kToken ? TokenDigest(which.value) : "";
    const pqxx::result r = Exec(tx, common::sql::kAuthTokenRevokeSelected, pqxx::binarystring(hash),
                                            which.kind == Kind::kId ? which.value : "",
                                            which.kind == Kind::kOrg ? which.value : "");
    for (const auto& row : r) revoked.push_back(ReadTokenInfo(row));
    if (which.kind == Kind::kOrg) return absl::OkStatus();
    const std::string what = which.kind == Kind::kId ? "id " + which.value : "that token";
    if (revoked.empty()) {
      return absl::NotFoundError("no active token with " + what + " (unknown or already revoked)");
    }
    if (revoked.size() > 1) {  // two tokens sharing 48 bits of their hash: revoke by --token
      return absl::FailedPreconditionError(what + " matches " + std::to_string(revoked.size()) +
                                           " tokens; nothing revoked");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return revoked;
}

}  // namespace icr
