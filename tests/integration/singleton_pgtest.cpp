// Singleton work (services/common/singleton.h) between several holders on one database, as
// several replicas would compete: one holds each work at a time, a clean stop hands it over at
// once, a holder that vanished without releasing (its row left to expire) loses it after the
// lease, and the database's lease row names the holder. tests/reliability/singleton_takeover.sh
// does the same with icr-server processes and SIGKILL.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "services/common/singleton.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using Clock = std::chrono::steady_clock;

// Waits up to `budget` for `pred`; true when it came true.
template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds budget) {
  const auto until = Clock::now() + budget;
  while (!pred()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string HolderOf(const std::string& url, const std::string& work) {
  return ScalarAt(url, "SELECT holder FROM core.singleton_lease WHERE work = '" + work +
                           "' AND expires_at > now()");
}

TEST(Singleton, OneHolderAtATimeAndACleanStopHandsOverAtOnce) {
  const std::string url = Stack::NewDatabase("singleton");
  Singletons a(url, "a"), b(url, "b");
  for (Singletons* s : {&a, &b}) {
    s->Compete("w1");
    s->Compete("w2");
  }
  a.AttemptAll();  // a first: it takes both
  b.AttemptAll();
  EXPECT_TRUE(a.Holds("w1"));
  EXPECT_TRUE(a.Holds("w2"));
  EXPECT_FALSE(b.Holds("w1"));
  EXPECT_EQ(a.HeldWork(), (std::vector<std::string>{"w1", "w2"}));
  EXPECT_TRUE(b.HeldWork().empty());
  EXPECT_EQ(b.Competing(), (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(HolderOf(url, "w1"), "a");

  // Renewing keeps it: many rounds of both, never two holders.
  for (int i = 0; i < 5; ++i) {
    b.AttemptAll();
    a.AttemptAll();
    ASSERT_TRUE(a.Holds("w1"));
    ASSERT_FALSE(b.Holds("w1"));
  }

  b.Start();
  const auto stopped = Clock::now();
  a.Stop();  // releases
  EXPECT_FALSE(a.Holds("w1"));
  ASSERT_TRUE(WaitFor([&] { return b.Holds("w1") && b.Holds("w2"); },
                      Singletons::kAttemptEvery + std::chrono::seconds(1)));
  std::cout << "clean handover after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopped).count()
            << " ms\n";
  EXPECT_EQ(HolderOf(url, "w2"), "b");
}

TEST(Singleton, ALeaseLeftByADeadHolderIsTakenOnceItExpires) {
  const std::string url = Stack::NewDatabase("singleton");
  // A holder that died without releasing: its lease has 2 s left.
  ScalarAt(url,
           "INSERT INTO core.singleton_lease VALUES ('w', 'dead:1:0', now(), now(), "
           "now() + interval '2 seconds') RETURNING work");
  Singletons s(url, "alive");
  s.Compete("w");
  s.AttemptAll();
  EXPECT_FALSE(s.Holds("w"));  // not before it expires
  const auto started = Clock::now();
  s.Start();
  ASSERT_TRUE(WaitFor([&] { return s.Holds("w"); }, std::chrono::seconds(5)));
  const auto waited = Clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(1000));
  EXPECT_EQ(HolderOf(url, "w"), "alive");
}

// A holder that can no longer renew (its row taken by force, as after a long partition) stops
// counting the work as held; it never holds it together with another.
TEST(Singleton, AHolderWhoseLeaseWasTakenStopsHoldingIt) {
  const std::string url = Stack::NewDatabase("singleton");
  Singletons s(url, "first");
  s.Compete("w");
  s.AttemptAll();
  ASSERT_TRUE(s.Holds("w"));
  ScalarAt(url,
           "UPDATE core.singleton_lease SET holder = 'other', expires_at = now() + "
           "interval '1 minute' RETURNING work");
  s.AttemptAll();
  EXPECT_FALSE(s.Holds("w"));
  EXPECT_TRUE(s.HeldWork().empty());
}

}  // namespace
}  // namespace icr::test
