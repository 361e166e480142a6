// db migrate: applies the schema migrations compiled into the binary.
#include <iostream>
#include <nlohmann/json.hpp>

#include "clients/icrctl/commands.h"
#include "services/common/config.h"
#include "services/common/migrations.h"

namespace icrctl {
namespace {

int Migrate(const Invocation& inv) {
  auto applied = icr::ApplyMigrations(DatabaseUrl(inv));
  Check(applied.status());
  if (inv.globals.json) {
    std::cout << nlohmann::json{{"applied", *applied}}.dump(2) << "\n";
    return 0;
  }
  if (applied->empty()) {
    std::cout << "schema is up to date (" << icr::EmbeddedMigrations().size()
              << " migrations already applied)\n";
  }
  for (const auto& name : *applied) std::cout << "applied " << name << "\n";
  return 0;
}

}  // namespace

void AddDatabaseUrlOption(cxxopts::Options& options) {
  options.add_options()("database-url", "PostgreSQL connection URL (env ICR_DATABASE_URL)",
                        cxxopts::value<std::string>());
}

std::string DatabaseUrl(const Invocation& inv) {
  std::string url = inv.Has("database-url") ? inv.Str("database-url")
                                            : icr::EnvOr("ICR_DATABASE_URL", "");
  if (url.empty()) FailUsage(inv.name + ": --database-url (or ICR_DATABASE_URL) is required");
  return url;
}

void AddDbCommands(std::vector<Command>& commands) {
  commands.push_back({{"db", "migrate"},
                      "apply the database migrations not yet applied",
                      "",
                      AddDatabaseUrlOption,
                      Migrate});
}

}  // namespace icrctl
