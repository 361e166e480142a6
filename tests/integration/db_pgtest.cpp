// The store's SQL: every statement file of every service (services/<name>/sql/*.sql) prepares
// against the migrated schema, a statement is prepared on a connection the first time it is run
// there, and the function definitions (db/functions) are applied when their text changes.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <span>

#include "services/careplan/sql/statements.h"
#include "services/common/db.h"
#include "services/common/migrations.h"
#include "services/common/sql/statements.h"
#include "services/performance/sql/statements.h"
#include "services/record/sql/statements.h"
#include "services/s117/sql/statements.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

// Every service's statements (each sql/ directory's generated kAll).
const std::vector<std::span<const Statement>>& AllStatements() {
  static const std::vector<std::span<const Statement>> kAll = {
      common::sql::kAll,
      performance::sql::kAll,
      careplan::sql::kAll,
      s117::sql::kAll,
      record::sql::kAll,
  };
  return kAll;
}

TEST(Statements, EveryStatementFilePreparesAgainstTheMigratedSchema) {
  pqxx::connection conn(Stack::Get().database_url());
  size_t prepared = 0;
  for (const auto& statements : AllStatements()) {
    for (const Statement& s : statements) {
      try {
        // An indicator's unit query runs inside perf.kpi_results with $1 and $2 dates, which a
        // query using only $2 does not say by itself.
        const std::string name = s.name;
        conn.prepare(s.name,
                     name.starts_with("performance.indicator_")
                         ? "SELECT * FROM (" + std::string(s.sql) + ") u WHERE $1::date <= $2::date"
                         : std::string(s.sql));
        conn.prepare_now(s.name);
        ++prepared;
      } catch (const std::exception& e) {
        ADD_FAILURE() << s.name << ": " << e.what();
      }
    }
  }
  EXPECT_GT(prepared, 20u);
}

TEST(Statements, AStatementIsPreparedOnItsFirstUseOnAConnection) {
  Database db(Stack::NewDatabase("db_exec"), 1);
  auto prepared_here = [&] {
    bool exists = false;
    const absl::Status s = db.Read([&](pqxx::nontransaction& tx) {
      exists = tx.exec_params1("SELECT count(*) FROM pg_prepared_statements WHERE name = $1",
                               std::string(common::sql::kAccessCanSee.name))[0]
                   .as<int>() == 1;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return exists;
  };
  EXPECT_FALSE(prepared_here());
  const absl::Status s = db.Read([&](pqxx::nontransaction& tx) {
    Exec(tx, common::sql::kAccessCanSee, "00000000-0000-0000-0000-000000000000", "RGD");
    Exec(tx, common::sql::kAccessCanSee, "00000000-0000-0000-0000-000000000000", "RGD");
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(prepared_here());
}

TEST(FunctionDefinitions, EachIsAppliedAndReappliedWhenItsTextChanges) {
  const std::string url = Stack::NewDatabase("db_functions");
  pqxx::connection conn(url);
  const auto count = [&](const std::string& sql) {
    pqxx::nontransaction tx(conn);
    return tx.exec(sql)[0][0].as<int>();
  };
  ASSERT_EQ(count("SELECT count(*) FROM core.schema_functions"),
            static_cast<int>(EmbeddedFunctions().size()));
  if (EmbeddedFunctions().empty()) GTEST_SKIP() << "no function definitions";
  const std::string first = EmbeddedFunctions().front().name;
  {
    // A store whose copy of a definition is out of date (as after an upgrade of the binary).
    pqxx::work tx(conn);
    tx.exec_params("UPDATE core.schema_functions SET definition = 'old' WHERE name = $1", first);
    tx.commit();
  }
  auto applied = ApplyMigrations(url);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, std::vector<std::string>{"functions/" + first});
  applied = ApplyMigrations(url);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->empty());
}

}  // namespace
}  // namespace icr::test
