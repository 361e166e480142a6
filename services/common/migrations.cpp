#include "services/common/migrations.h"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "services/common/db.h"

namespace icr {
namespace {
// Any fixed number; it only has to be the same for every instance of this service.
constexpr long long kMigrationLock = 0x1C5117;
}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyMigrations(const std::string& database_url) {
  std::vector<std::string> applied;
  try {
    pqxx::connection conn(HardenConnectionString(database_url));
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
    }
    struct Unlock {
      pqxx::connection& c;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(c);
          tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
        } catch (...) {
        }
      }
    } unlock{conn};
    {
      pqxx::work tx(conn);
      tx.exec(
          "CREATE SCHEMA IF NOT EXISTS core;"
          "CREATE TABLE IF NOT EXISTS core.schema_migrations ("
          " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    for (const auto& m : EmbeddedMigrations()) {
      pqxx::work tx(conn);
      auto done = tx.exec_params("SELECT 1 FROM core.schema_migrations WHERE name = $1",
                                 std::string(m.name));
      if (!done.empty()) continue;
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO core.schema_migrations (name) VALUES ($1)",
                     std::string(m.name));
      tx.commit();
      spdlog::info("applied migration {}", m.name);
      applied.emplace_back(m.name);
    }
  } catch (const pqxx::sql_error& e) {
    return absl::FailedPreconditionError(std::string("migration failed: ") + e.what());
  } catch (const std::exception& e) {
    return StatusFromDbException(e);
  }
  return applied;
}

}  // namespace icr
