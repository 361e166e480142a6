#include "services/common/migrations.h"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "services/common/db.h"
#include "services/common/sql/statements.h"

namespace icr {
namespace {
// Any fixed number; it only has to be the same for every instance of this service.
constexpr long long kMigrationLock = 0x1C5117;

// The function definitions in one transaction, so a store never holds half of a change to them.
std::vector<std::string> ApplyFunctions(pqxx::connection& conn) {
  std::vector<std::string> applied;
  pqxx::work tx(conn);
  Exec(tx, common::sql::kFunctionBodiesUnchecked);
  for (const auto& f : EmbeddedFunctions()) {
    const std::string name = f.name, text = f.sql;
    if (!Exec(tx, common::sql::kFunctionCurrent, name, text).empty()) continue;
    tx.exec(text);
    Exec(tx, common::sql::kFunctionRecord, name, text);
    applied.push_back("functions/" + name);
  }
  tx.commit();
  for (const auto& name : applied) spdlog::info("applied {}", name);
  return applied;
}
}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyMigrations(const std::string& database_url) {
  std::vector<std::string> applied;
  try {
    pqxx::connection conn(HardenConnectionString(database_url));
    {
      pqxx::nontransaction tx(conn);
      Exec(tx, common::sql::kMigrationLock, kMigrationLock);
    }
    struct Unlock {
      pqxx::connection& c;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(c);
          Exec(tx, common::sql::kMigrationUnlock, kMigrationLock);
        } catch (...) {
        }
      }
    } unlock{conn};
    {
      pqxx::work tx(conn);
      Exec(tx, common::sql::kMigrationSchema);
      Exec(tx, common::sql::kMigrationTable);
      Exec(tx, common::sql::kFunctionTable);
      tx.commit();
    }
    for (const auto& m : EmbeddedMigrations()) {
      pqxx::work tx(conn);
      if (!Exec(tx, common::sql::kMigrationApplied, std::string(m.name)).empty()) continue;
      tx.exec(m.sql);
      Exec(tx, common::sql::kMigrationRecord, std::string(m.name));
      tx.commit();
      spdlog::info("applied migration {}", m.name);
      applied.emplace_back(m.name);
    }
    for (auto& name : ApplyFunctions(conn)) applied.push_back(std::move(name));
  } catch (const pqxx::sql_error& e) {
    return absl::FailedPreconditionError(std::string("migration failed: ") + e.what());
  } catch (const std::exception& e) {
    return StatusFromDbException(e);
  }
  return applied;
}

}  // namespace icr
