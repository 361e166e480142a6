// PgTextArray: the array literal passed as a text[] / uuid[] parameter must quote every element,
// so commas, braces, quotes, backslashes, spaces and NULL-like words stay data.
#include <gtest/gtest.h>

#include "services/common/db.h"

namespace icr {
namespace {

TEST(PgTextArray, EmptyArray) { EXPECT_EQ(PgTextArray({}), "{}"); }

TEST(PgTextArray, QuotesEveryElement) {
  EXPECT_EQ(PgTextArray({"a", "", "NULL", "b c"}), R"({"a","","NULL","b c"})");
}

TEST(PgTextArray, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(PgTextArray({R"(say "hi")", R"(C:\dir)", "{x,y}"}),
            R"({"say \"hi\"","C:\\dir","{x,y}"})");
}

}  // namespace
}  // namespace icr
