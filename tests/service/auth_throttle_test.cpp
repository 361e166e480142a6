// The per-address throttle of failed authentications and the peer address it is keyed by.
#include <gtest/gtest.h>

#include "services/common/auth.h"

namespace icr {
namespace {

using Throttle = FailedAuthThrottle;

TEST(PeerAddress, DropsThePort) {
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:51234"), "ipv4:10.0.0.7");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:51234"), "ipv6:[::1]");
  EXPECT_EQ(PeerAddress("ipv6:%5B::1%5D:51234"), "ipv6:%5B::1%5D");
  EXPECT_EQ(PeerAddress("ipv6:::1"), "ipv6:::1");  // no brackets: no port to drop
  EXPECT_EQ(PeerAddress("unix:/run/icr.sock"), "unix:/run/icr.sock");
  EXPECT_EQ(PeerAddress(""), "");
}

TEST(FailedAuthThrottle, RefusesAnAddressAfterTooManyFailuresForAWhile) {
  Throttle t;
  const auto start = Throttle::Clock::now();
  for (int i = 0; i < Throttle::kMaxFailures - 1; ++i) t.Failed("ipv4:10.0.0.7", start);
  EXPECT_FALSE(t.Refused("ipv4:10.0.0.7", start));
  t.Failed("ipv4:10.0.0.7", start);
  EXPECT_TRUE(t.Refused("ipv4:10.0.0.7", start));
  EXPECT_FALSE(t.Refused("ipv4:10.0.0.8", start));  // only that address
  EXPECT_TRUE(t.Refused("ipv4:10.0.0.7", start + Throttle::kBlockFor - std::chrono::seconds(1)));
  EXPECT_FALSE(t.Refused("ipv4:10.0.0.7", start + Throttle::kBlockFor));
}

TEST(FailedAuthThrottle, FailuresCountWithinTheirWindowOnly) {
  Throttle t;
  const auto start = Throttle::Clock::now();
  for (int i = 0; i < Throttle::kMaxFailures - 1; ++i) t.Failed("a", start);
  t.Failed("a", start + Throttle::kWindow);  // a new window: one failure
  EXPECT_FALSE(t.Refused("a", start + Throttle::kWindow));
}

TEST(FailedAuthThrottle, RemembersABoundedNumberOfAddresses) {
  Throttle t;
  const auto start = Throttle::Clock::now();
  for (size_t i = 0; i < Throttle::kMaxPeers; ++i) t.Failed("p" + std::to_string(i), start);
  // Full of counting addresses: a new one goes uncounted rather than growing the map.
  for (int i = 0; i < Throttle::kMaxFailures; ++i) t.Failed("new", start);
  EXPECT_FALSE(t.Refused("new", start));
  // Once their window has passed they are forgotten and the new one is counted.
  const auto later = start + Throttle::kWindow;
  for (int i = 0; i < Throttle::kMaxFailures; ++i) t.Failed("new", later);
  EXPECT_TRUE(t.Refused("new", later));
}

}  // namespace
}  // namespace icr
