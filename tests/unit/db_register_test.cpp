// Database::Register: services sharing one pool register the common statements (audit, access,
// changes) each; a name stands for one statement only. Registering opens no connection.
#include <gtest/gtest.h>

#include <stdexcept>

#include "services/common/db.h"

namespace icr {
namespace {

TEST(DatabaseRegister, TheSameStatementTwiceIsAccepted) {
  Database db("postgresql://127.0.0.1:1/none", 1);
  const Statement s{"unit_same", "SELECT 1"};
  db.Register({s});
  EXPECT_NO_THROW(db.Register({s}));
  EXPECT_NO_THROW(db.Register({Statement{"unit_same", "SELECT 1"}}));  // equal text, other copy
}

TEST(DatabaseRegister, AnotherStatementUnderATakenNameIsRefused) {
  Database db("postgresql://127.0.0.1:1/none", 1);
  db.Register({{"unit_taken", "SELECT 1"}});
  EXPECT_THROW(db.Register({{"unit_taken", "SELECT 2"}}), std::logic_error);
}

}  // namespace
}  // namespace icr
