// admin token create: issues a bearer token for an organisation and role, straight into the
// database (only its SHA-256 is stored). Prints the token alone, so scripts can capture it.
#include <iostream>

#include "clients/icrctl/commands.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icrctl {
namespace {

int CreateToken(const Invocation& inv) {
  if (!inv.Has("org")) FailUsage(inv.name + ": --org is required");
  if (!inv.Has("role")) FailUsage(inv.name + ": --role is required");
  const std::string role_name = inv.Str("role");
  auto role = icr::ParseRole(role_name);
  if (!role) {
    FailUsage(inv.name + ": --role: unknown role '" + role_name +
              "' (clinician, social_worker, s117_officer, performance_analyst, system, admin)");
  }
  icr::Database db(DatabaseUrl(inv), 1);
  auto token = icr::Authenticator::CreateToken(db, inv.Str("org"), *role, inv.Str("label"));
  Check(token.status());
  std::cout << *token << "\n";
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
       },
       CreateToken});
}

}  // namespace icrctl
