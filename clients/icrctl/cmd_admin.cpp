// admin token create | list | revoke: bearer tokens, straight in the database (only their
// digest is stored: SHA-256, or HMAC-SHA256 with the servers' --token-pepper-file). create
// prints the token alone, so scripts can capture it; list and revoke name a token by its id, the
// first 12 hex digits of its digest, never by the token.
#include <iostream>
#include <nlohmann/json.hpp>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "services/common/auth.h"
#include "services/common/config.h"
#include "services/common/db.h"

namespace icrctl {
namespace {

// The token pepper, which must be the servers' (create and revoke --token digest the token).
void AddTokenPepperOption(cxxopts::Options& options) {
  options.add_options()("token-pepper-file",
                        "the servers' token pepper file, if they have one (env "
                        "ICR_TOKEN_PEPPER_FILE)",
                        cxxopts::value<std::string>());
}

void UseTokenPepper(const Invocation& inv) {
  const std::string path = inv.Has("token-pepper-file") ? inv.Str("token-pepper-file")
                                                        : icr::EnvOr("ICR_TOKEN_PEPPER_FILE", "");
  if (auto s = icr::LoadTokenPepper(path); !s.ok()) {
    FailUsage(inv.name + ": " + std::string(s.message()));
  }
}

int CreateToken(const Invocation& inv) {
  if (!inv.Has("org")) FailUsage(inv.name + ": --org is required");
  if (!inv.Has("role")) FailUsage(inv.name + ": --role is required");
  const std::string role_name = inv.Str("role");
  auto role = icr::ParseRole(role_name);
  if (!role) {
    FailUsage(inv.name + ": --role: unknown role '" + role_name +
              "' (clinician, social_worker, s117_officer, performance_analyst, system, admin)");
  }
  UseTokenPepper(inv);
  icr::Database db(DatabaseUrl(inv), 1);
  auto token = icr::Authenticator::CreateToken(db, inv.Str("org"), *role, inv.Str("label"));
  Check(token.status());
  std::cout << *token << "\n";
  return 0;
}

void PrintTokens(const Invocation& inv, const std::vector<icr::TokenInfo>& tokens) {
  if (inv.globals.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : tokens) {
      list.push_back({{"id", t.id},
                      {"org", t.org_code},
                      {"role", t.role},
                      {"label", t.label},
                      {"created_at", t.created_at},
                      {"revoked_at", t.revoked_at}});
    }
    std::cout << nlohmann::json{{"tokens", list}}.dump(2) << "\n";
    return;
  }
  out::Table table({"ID", "ORG", "ROLE", "LABEL", "CREATED", "REVOKED"});
  for (const auto& t : tokens) {
    table.Row({t.id, t.org_code, t.role, t.label, t.created_at,
               t.revoked_at.empty() ? "active" : t.revoked_at});
  }
  table.Print(std::cout);
}

int ListTokens(const Invocation& inv) {
  icr::Database db(DatabaseUrl(inv), 1);
  auto tokens = icr::Authenticator::ListTokens(db, inv.Str("org"), inv.Has("active-only"));
  Check(tokens.status());
  if (tokens->empty() && !inv.globals.json) {
    std::cout << "no tokens\n";
    return 0;
  }
  PrintTokens(inv, *tokens);
  return 0;
}

int RevokeTokens(const Invocation& inv) {
  using Kind = icr::TokenSelector::Kind;
  std::vector<icr::TokenSelector> given;
  if (inv.Has("token")) given.push_back({Kind::kToken, inv.Str("token")});
  if (inv.Has("id")) given.push_back({Kind::kId, inv.Str("id")});
  if (inv.Has("org")) given.push_back({Kind::kOrg, inv.Str("org")});
  if (given.size() != 1) FailUsage(inv.name + ": give exactly one of --token, --id and --org");
  UseTokenPepper(inv);
  icr::Database db(DatabaseUrl(inv), 1);
  auto revoked = icr::Authenticator::RevokeSelected(db, given[0]);
  Check(revoked.status());
  if (revoked->empty() && !inv.globals.json) {
    std::cout << "no active tokens of " << given[0].value << "; nothing revoked\n";
    return 0;
  }
  if (!inv.globals.json) std::cout << "revoked (refused everywhere within 1 s):\n";
  PrintTokens(inv, *revoked);
  return 0;
}

}  // namespace

void AddAdminCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"admin", "token", "create"},
       "issue a bearer token for an organisation and role (prints only the token)",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("org", "organisation code (ODS for NHS bodies, GSS for councils)", cxxopts::value<std::string>())
           ("role", "clinician, social_worker, s117_officer, performance_analyst, system or admin", cxxopts::value<std::string>())
           ("label", "what the token is for, e.g. the client system", cxxopts::value<std::string>());
         // clang-format on
         AddDatabaseUrlOption(o);
         AddTokenPepperOption(o);
       },
       CreateToken});
  commands.push_back(
      {{"admin", "token", "list"},
       "list tokens by id (first 12 hex digits of the stored digest), org, role, label, state",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("org", "only this organisation's tokens", cxxopts::value<std::string>())
           ("active-only", "only tokens not revoked");
         // clang-format on
         AddDatabaseUrlOption(o);
       },
       ListTokens});
  // --token is the global flag, here the token to revoke: only when given on the command line,
  // never from ICR_TOKEN.
  commands.push_back(
      {{"admin", "token", "revoke"},
       "revoke a token (--token TOKEN or --id ID) or all of an --org's; prints what it revoked",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("id", "the token's id as `admin token list` shows it", cxxopts::value<std::string>())
           ("org", "every active token of this organisation", cxxopts::value<std::string>());
         // clang-format on
         AddDatabaseUrlOption(o);
         AddTokenPepperOption(o);
       },
       RevokeTokens});
}

}  // namespace icrctl
