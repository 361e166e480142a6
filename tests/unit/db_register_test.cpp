// Database::Register: a name stands for one statement only (registering opens no connection).
// Registering a statement again is in tests/integration/db_pgtest.cpp.
#include <gtest/gtest.h>

#include <stdexcept>

#include "services/common/db.h"

namespace icr {
namespace {

TEST(DatabaseRegister, AnotherStatementUnderATakenNameIsRefused) {
  Database db("postgresql://127.0.0.1:1/none", 1);
  db.Register({{"unit_taken", "SELECT 1"}});
  EXPECT_THROW(db.Register({{"unit_taken", "SELECT 2"}}), std::logic_error);
}

}  // namespace
}  // namespace icr
