#include <gtest/gtest.h>

#include "services/common/changes.h"

namespace icr {
namespace {

TEST(ChangeCursor, RoundTrips) {
  ChangeCursor c{"123456789", 42};
  auto back = DecodeCursor(EncodeCursor(c));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->txid, "123456789");
  EXPECT_EQ(back->seq, 42);
}

TEST(ChangeCursor, EmptyIsStart) {
  auto c = DecodeCursor("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->txid, "0");
  EXPECT_EQ(c->seq, 0);
}

TEST(ChangeCursor, RejectsTampering) {
  for (const char* bad : {"c1.", "c1.12", "c1.12.x", "c2.1.1", "c1.1;DROP.2", "c1.-1.2"}) {
    auto c = DecodeCursor(bad);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace icr
