// Database's pool and its registered statements: every connection has every registered
// statement prepared. Registering a statement again (services sharing one pool register the
// common ones each, and CreateToken registers its own on every call) keeps the open connections;
// a new statement replaces them, so it is prepared on the next one.
#include <gtest/gtest.h>

#include "services/common/db.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

const Statement kOne{"db_test_one", "SELECT 1"};
const Statement kTwo{"db_test_two", "SELECT 2"};

// The backend serving the pool's (only) connection, after running `statement` on it.
int BackendAfter(Database& db, const Statement& statement) {
  int pid = 0;
  const absl::Status s = db.Read([&](pqxx::nontransaction& tx) {
    tx.exec_prepared1(statement.name);
    pid = tx.conn().backendpid();
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return pid;
}

TEST(DatabasePool, RegisteringAStatementAgainKeepsTheConnection) {
  Database db(Stack::NewDatabase("db_pool"), 1);
  db.Register({kOne});
  const int first = BackendAfter(db, kOne);
  ASSERT_NE(first, 0);
  db.Register({kOne});
  db.Register({Statement{"db_test_one", "SELECT 1"}});  // an equal copy
  EXPECT_EQ(BackendAfter(db, kOne), first);
}

TEST(DatabasePool, ANewStatementIsPreparedOnANewConnection) {
  Database db(Stack::NewDatabase("db_pool"), 1);
  db.Register({kOne});
  const int first = BackendAfter(db, kOne);
  ASSERT_NE(first, 0);
  db.Register({kOne, kTwo});
  const int second = BackendAfter(db, kTwo);  // fails unless the new statement is prepared
  EXPECT_NE(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(BackendAfter(db, kOne), second);
}

}  // namespace
}  // namespace icr::test
