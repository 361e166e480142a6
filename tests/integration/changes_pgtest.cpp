// The change feed never skips a change: six writers commit concurrently (and one holds its
// transaction open so commits land out of sequence order) while the reader is stopped and
// resumed many times; every committed change must be delivered at least once.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "services/common/changes.h"
#include "services/record/change_stream.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using google::protobuf::util::TimeUtil;

constexpr int kWriters = 6;
constexpr int kCallsPerWriter = 40;

icr::v1::Event ContactEvent(const std::string& nhs, const std::string& id) {
  return build::CareContact(nhs, id, id, "2026-01-10");
}

TEST(ChangeFeed, DeliversEveryCommittedChangeDespiteConcurrentWritersAndRestarts) {
  auto& stack = Stack::Get();
  const std::string writer_token = stack.Token("RGD", "system");
  const std::string reader_token = stack.Token("RGD", "admin");
  std::vector<std::string> people;
  for (int w = 0; w < kWriters; ++w)
    people.push_back(SeedPerson("RGD", NextNhsNumber()).nhs_number());

  std::atomic<int> writers_left{kWriters + 1};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < kCallsPerWriter; ++i) {
        std::vector<icr::v1::Event> batch;
        const int n = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < n; ++k) {
          batch.push_back(ContactEvent(people[w], "w" + std::to_string(w) + "-" +
                                                      std::to_string(i) + "-" + std::to_string(k)));
        }
        if (!Send(writer_token, batch).ok()) ++failures;
      }
      --writers_left;
    });
  }
  // A slow writer: takes its transaction id early, writes its change late and commits after
  // others, so its sequence number is committed out of order.
  threads.emplace_back([&] {
    pqxx::connection c(stack.database_url());
    for (int i = 0; i < 5; ++i) {
      pqxx::work tx(c);
      tx.exec("SELECT pg_current_xact_id()");
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      tx.exec("INSERT INTO core.changes (entity, entity_id, change_type) VALUES ('test', 'slow-" +
              std::to_string(i) + "', 'slow')");
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      tx.commit();
    }
    --writers_left;
  });

  // The reader takes small bites and starts a new stream for each, resuming from its cursor.
  std::vector<int64_t> delivered;  // seq in delivery order
  std::string cursor;
  std::mt19937 rng(42);
  // The feed may lag (an open transaction anywhere in the cluster, e.g. another test's, holds
  // back the horizon) but must never skip: once the writers are done, read until everything
  // committed has arrived, giving up after a minute (a skipped change never arrives).
  int restarts = 0;
  std::set<int64_t> committed;
  std::set<int64_t> seen;
  std::optional<std::chrono::steady_clock::time_point> give_up;
  for (;;) {
    if (!give_up && writers_left.load() == 0) {
      for (auto& t : threads) t.join();
      threads.clear();
      pqxx::connection c(stack.database_url());
      pqxx::nontransaction tx(c);
      for (const auto& r : tx.exec("SELECT seq FROM core.changes")) {
        committed.insert(r[0].as<int64_t>());
      }
      give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    }
    if (give_up && (std::includes(seen.begin(), seen.end(), committed.begin(), committed.end()) ||
                    std::chrono::steady_clock::now() > *give_up)) {
      break;
    }
    icr::v1::WatchChangesRequest req;
    req.set_cursor(cursor);
    req.set_max_changes(1 + static_cast<int>(rng() % 40));
    auto ctx = Ctx(reader_token);
    auto reader = stack.record()->WatchChanges(ctx.get(), req);
    icr::v1::Change change;
    int got = 0;
    while (reader->Read(&change)) {
      delivered.push_back(change.seq());
      seen.insert(change.seq());
      cursor = change.cursor();
      ++got;
    }
    ASSERT_TRUE(reader->Finish().ok());
    ++restarts;
    if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(failures.load(), 0);

  const std::set<int64_t> delivered_set(delivered.begin(), delivered.end());
  std::vector<int64_t> missing;
  std::set_difference(committed.begin(), committed.end(), delivered_set.begin(),
                      delivered_set.end(), std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " committed changes never delivered";
  EXPECT_GE(delivered_set.size(), committed.size());
  EXPECT_GE(committed.size(), static_cast<size_t>(kWriters * kCallsPerWriter));
  EXPECT_GT(restarts, 20);
  // The trap was really there: some change was delivered after one with a higher sequence
  // number, which a reader resuming from "seq > last seen" would have skipped.
  bool out_of_order = false;
  for (size_t i = 1; i < delivered.size(); ++i) out_of_order |= delivered[i] < delivered[i - 1];
  EXPECT_TRUE(out_of_order);
}

// A follower waits for a notification, not for its next poll: a commit that adds to the feed
// wakes the process's listener (migration 0017's trigger), well within the wait's bound here.
TEST(ChangeFeed, ACommitToTheFeedWakesTheListener) {
  auto& stack = Stack::Get();
  icr::record::ChangeNotifier notifier(stack.database_url());
  // Listening: the listener wakes once when it has connected.
  ASSERT_TRUE(notifier.Wait(0, std::chrono::seconds(10)));
  const uint64_t seen = notifier.Generation();
  stack.Scalar(
      "WITH x AS (INSERT INTO core.changes (entity, entity_id, change_type) VALUES "
      "('notify_test', 'a', 'test') RETURNING 1) SELECT count(*) FROM x");
  EXPECT_TRUE(notifier.Wait(seen, std::chrono::seconds(10)));
}

TEST(ChangeFeed, FollowWaitsForNewChangesAndReportsLag) {
  auto& stack = Stack::Get();
  const std::string token = stack.Token("RGD", "admin");
  // Find the end of the feed.
  std::string cursor;
  {
    icr::v1::WatchChangesRequest req;
    auto ctx = Ctx(token);
    auto reader = stack.record()->WatchChanges(ctx.get(), req);
    icr::v1::Change c;
    while (reader->Read(&c)) cursor = c.cursor();
    ASSERT_TRUE(reader->Finish().ok());
  }
  icr::v1::WatchChangesRequest req;
  req.set_cursor(cursor);
  req.set_follow(true);
  req.set_max_changes(1);
  auto ctx = Ctx(token);
  auto reader = stack.record()->WatchChanges(ctx.get(), req);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    SeedPerson("RGD", NextNhsNumber());
  });
  icr::v1::Change c;
  ASSERT_TRUE(reader->Read(&c));
  EXPECT_EQ(c.entity(), "person");
  EXPECT_EQ(c.change_type(), "created");
  EXPECT_GE(c.lag_ms(), 0);
  EXPECT_FALSE(reader->Read(&c));
  EXPECT_TRUE(reader->Finish().ok());
  writer.join();
}

// Transaction ids are numbers: 96 comes before 101 (as text, "101" < "96", and a reader
// resuming after 101 would skip 96 for ever). Rows with small past transaction ids are written
// directly; every real transaction of the cluster has a larger id.
TEST(ChangeFeed, OrdersTransactionIdsAsNumbers) {
  auto& stack = Stack::Get();
  stack.Scalar(
      "WITH x AS (INSERT INTO core.changes (txid, entity, entity_id, change_type) VALUES "
      "('101', 'ordering_test', 'b', 'test'), ('96', 'ordering_test', 'a', 'test') RETURNING 1) "
      "SELECT count(*) FROM x");
  icr::v1::WatchChangesRequest req;
  req.set_cursor("c1.95.0");
  req.set_max_changes(2);
  auto ctx = Ctx(stack.Token("RGD", "admin"));
  auto reader = stack.record()->WatchChanges(ctx.get(), req);
  std::vector<std::string> ids;
  icr::v1::Change c;
  while (reader->Read(&c)) ids.push_back(c.entity_id());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
}

TEST(ChangeFeed, RejectsForgedCursor) {
  auto& stack = Stack::Get();
  icr::v1::WatchChangesRequest req;
  req.set_cursor("c1.1'; DROP TABLE core.changes; --.1");
  auto ctx = Ctx(stack.Token("RGD", "admin"));
  auto reader = stack.record()->WatchChanges(ctx.get(), req);
  icr::v1::Change c;
  EXPECT_FALSE(reader->Read(&c));
  auto s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("cursor:", 0), 0u);
}

}  // namespace
}  // namespace icr::test
