#include "services/common/migrations.h"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "services/common/db.h"

namespace icr {
namespace {
// Any fixed number; it only has to be the same for every instance of this service.
constexpr long long kMigrationLock = 0x1C5117;

// The runner's own statements (the migrations themselves are scripts, run as they are); the
// last two are prepared once core.schema_migrations exists.
const Statement kLock{"migration_lock", "SELECT pg_advisory_lock($1)"};
const Statement kUnlock{"migration_unlock", "SELECT pg_advisory_unlock($1)"};
const Statement kApplied{"migration_applied",
                         "SELECT 1 FROM core.schema_migrations WHERE name = $1"};
const Statement kRecord{"migration_record",
                        "INSERT INTO core.schema_migrations (name) VALUES ($1)"};
}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyMigrations(const std::string& database_url) {
  std::vector<std::string> applied;
  try {
    pqxx::connection conn(HardenConnectionString(database_url));
    conn.prepare(kLock.name, kLock.sql);
    conn.prepare(kUnlock.name, kUnlock.sql);
    {
      pqxx::nontransaction tx(conn);
      tx.exec_prepared(kLock.name, kMigrationLock);
    }
    struct Unlock {
      pqxx::connection& c;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(c);
          tx.exec_prepared(kUnlock.name, kMigrationLock);
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
    conn.prepare(kApplied.name, kApplied.sql);
    conn.prepare(kRecord.name, kRecord.sql);
    for (const auto& m : EmbeddedMigrations()) {
      pqxx::work tx(conn);
      if (!tx.exec_prepared(kApplied.name, std::string(m.name)).empty()) continue;
      tx.exec(m.sql);
      tx.exec_prepared(kRecord.name, std::string(m.name));
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
