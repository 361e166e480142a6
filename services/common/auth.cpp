#include "services/common/auth.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "services/common/grpc_server.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr {
namespace {
// A revoked token stops working within this time on every replica.
constexpr auto kCacheTtl = std::chrono::seconds(30);

const Statement kTokenLookup{
    "auth_token_lookup",
    "SELECT org_code, role FROM core.api_token WHERE token_sha256 = $1 AND revoked_at IS NULL"};
const Statement kOrganisationKnown{"auth_organisation_known",
                                   "SELECT 1 FROM core.organisation WHERE code = $1"};
const Statement kTokenInsert{
    "auth_token_insert",
    "INSERT INTO core.api_token (token_sha256, org_code, role, label) VALUES ($1, $2, $3, $4)"};
const Statement kTokenRevoke{
    "auth_token_revoke",
    "UPDATE core.api_token SET revoked_at = now() WHERE token_sha256 = $1 AND revoked_at IS NULL"};

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
}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "clinician") return Role::kClinician;
  if (name == "social_worker") return Role::kSocialWorker;
  if (name == "s117_officer") return Role::kS117Officer;
  if (name == "performance_analyst") return Role::kPerformanceAnalyst;
  if (name == "system") return Role::kSystem;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string RoleName(Role role) {
  switch (role) {
    case Role::kClinician: return "clinician";
    case Role::kSocialWorker: return "social_worker";
    case Role::kS117Officer: return "s117_officer";
    case Role::kPerformanceAnalyst: return "performance_analyst";
    case Role::kSystem: return "system";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::string Sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
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

Authenticator::Authenticator(Database& db) : db_(db) { db_.Register(Statements()); }

const std::vector<Statement>& Authenticator::Statements() {
  static const std::vector<Statement> kStatements = {kTokenLookup, kOrganisationKnown,
                                                     kTokenInsert, kTokenRevoke};
  return kStatements;
}

absl::StatusOr<Caller> Authenticator::Authenticate(const grpc::ServerContextBase& ctx) {
  if (auto s = CheckMetadataSize(ctx); !s.ok()) return s;
  auto token = BearerToken(Metadata(ctx, "authorization"));
  if (!token || token->empty()) {
    return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }
  auto found = AuthenticateToken(*token);
  if (!found.ok()) return found.status();
  Caller caller = *std::move(found);
  caller.purpose_of_use = std::string(Metadata(ctx, "x-purpose-of-use"));
  caller.request_id = std::string(Metadata(ctx, "x-request-id"));
  caller.break_glass_reason = std::string(Metadata(ctx, "x-break-glass-reason"));
  if (auto s = CheckText(caller.purpose_of_use, "x-purpose-of-use", 200, false); !s.ok()) return s;
  if (auto s = CheckText(caller.request_id, "x-request-id", 100, false); !s.ok()) return s;
  if (auto s = CheckText(caller.break_glass_reason, "x-break-glass-reason", 500, false); !s.ok()) {
    return s;
  }
  return caller;
}

absl::StatusOr<Caller> Authenticator::AuthenticateToken(const std::string& token) {
  if (token.empty()) return absl::UnauthenticatedError("missing token");
  const std::string hash = Sha256(token);
  Caller caller;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > std::chrono::steady_clock::now()) {
      caller.org_code = it->second.org_code;
      caller.role = it->second.role;
      return caller;
    }
  }
  std::optional<std::pair<std::string, Role>> row;
  absl::Status s = db_.Read([&](pqxx::nontransaction& tx) {
    auto r = tx.exec_prepared(kTokenLookup.name, pqxx::binarystring(hash));
    if (!r.empty()) {
      auto role = ParseRole(r[0][1].c_str());
      if (role) row.emplace(r[0][0].c_str(), *role);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!row) return absl::UnauthenticatedError("unknown or revoked token");
  caller.org_code = row->first;
  caller.role = row->second;
  std::lock_guard lock(mu_);
  cache_[hash] = Entry{row->first, row->second, std::chrono::steady_clock::now() + kCacheTtl};
  return caller;
}

std::string Authenticator::CachedOrg(std::string_view authorization_header) {
  auto token = BearerToken(authorization_header);
  if (!token) return "-";
  const std::string hash = Sha256(*token);
  std::lock_guard lock(mu_);
  auto it = cache_.find(hash);
  return it == cache_.end() ? "-" : it->second.org_code;
}

absl::StatusOr<std::string> Authenticator::CreateToken(Database& db, const std::string& org_code,
                                                       Role role, const std::string& label) {
  db.Register(Statements());
  std::string token = NewToken();
  absl::Status s = db.Write([&](pqxx::work& tx) {
    if (tx.exec_prepared(kOrganisationKnown.name, org_code).empty()) {
      return InvalidField("org", "unknown organisation code " + org_code);
    }
    tx.exec_prepared(kTokenInsert.name, pqxx::binarystring(Sha256(token)), org_code,
                     RoleName(role), label);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return token;
}

absl::Status Authenticator::RevokeTokens(Database& db, const std::vector<std::string>& tokens) {
  db.Register(Statements());
  return db.Write([&](pqxx::work& tx) {
    for (const auto& token : tokens) {
      tx.exec_prepared(kTokenRevoke.name, pqxx::binarystring(Sha256(token)));
    }
    return absl::OkStatus();
  });
}

}  // namespace icr
