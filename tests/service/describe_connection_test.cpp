// DescribeConnection: what icr-server logs about --database-read-url names where reads go and
// never a password, in either libpq syntax.
#include <gtest/gtest.h>

#include "services/common/db.h"

namespace icr {
namespace {

TEST(DescribeConnection, KeyValueMultiHostWithoutPassword) {
  auto d = DescribeConnection(
      "host=replica,primary port=5433,5432 dbname=icr user=icr password=s3cret "
      "target_session_attrs=prefer-standby sslmode=require");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d,
            "host=replica,primary port=5433,5432 dbname=icr target_session_attrs=prefer-standby");
}

TEST(DescribeConnection, UrlWithoutPassword) {
  auto d = DescribeConnection(
      "postgresql://icr:s3cret@replica:5433,primary:5432/icr?target_session_attrs=prefer-standby");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->find("s3cret"), std::string::npos) << *d;
  EXPECT_EQ(*d,
            "host=replica,primary port=5433,5432 dbname=icr target_session_attrs=prefer-standby");
}

TEST(DescribeConnection, UnparsableIsInvalidArgumentAndQuotesNothing) {
  auto d = DescribeConnection("host=replica password s3cret");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(d.status().message()).find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace icr
