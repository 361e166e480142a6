#include "services/record/merge_rules.h"

#include <gtest/gtest.h>

namespace icr::record {
namespace {

TEST(MergeRules, OneOpenOfAKindOnEitherSideMerges) {
  EXPECT_TRUE(CheckMergeable({}, {}).ok());
  EXPECT_TRUE(CheckMergeable({{"s117_entitlement", "e1"}}, {}).ok());
  EXPECT_TRUE(CheckMergeable({{"s117_entitlement", "e1"}}, {{"care_plan:default", "p2"}}).ok());
  EXPECT_TRUE(
      CheckMergeable({{"care_plan:default", "p1"}}, {{"care_plan:s117_aftercare", "p2"}}).ok());
}

TEST(MergeRules, TwoOpenOfOneKindAreRefusedNamingBoth) {
  const auto s = CheckMergeable({{"s117_entitlement", "e1"}, {"care_plan:default", "p1"}},
                                {{"care_plan:default", "p2"}, {"s117_entitlement", "e2"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  for (const char* id : {"e1", "e2", "p1", "p2"}) {
    EXPECT_NE(s.message().find(std::string("(survivor ") + (id[0] == 'e' ? "e1" : "p1")),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(id), std::string::npos) << s.message();
  }
  EXPECT_EQ(s.message().rfind("superseded:", 0), 0u) << s.message();
}

TEST(MergeRules, AReasonIsRequired) {
  EXPECT_EQ(RequireReason("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RequireReason(" \n").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RequireReason("duplicate registration").ok());
}

}  // namespace
}  // namespace icr::record
