#include "services/common/listen_address.h"

#include <gtest/gtest.h>

namespace icr {
namespace {

TEST(ListenAddress, HostAndPort) {
  auto a = ParseListenAddress("127.0.0.1:8081", "fhir");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8081);
  a = ParseListenAddress("localhost:0", "fhir");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
}

TEST(ListenAddress, BracketedIpv6) {
  auto a = ParseListenAddress("[::1]:8081", "fhir");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 8081);
}

TEST(ListenAddress, MalformedNamesTheServer) {
  for (const char* bad : {"", "8081", "127.0.0.1", ":8081", "host:", "host:65536", "host:-1",
                          "host:80a", "[::1]8081", "[::1]:", "host:123456"}) {
    auto a = ParseListenAddress(bad, "fhir");
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(a.status().message().find("fhir"), std::string_view::npos) << bad;
  }
}

}  // namespace
}  // namespace icr
