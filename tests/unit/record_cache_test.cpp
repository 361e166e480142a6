// RecordCache: what it keeps, for which organisation, and what it lets go past its budget.
#include "services/record/record_cache.h"

#include <gtest/gtest.h>

namespace icr::record {
namespace {

std::shared_ptr<const std::string> Body(size_t bytes, char fill = 'x') {
  return std::make_shared<const std::string>(bytes, fill);
}

TEST(RecordCache, KeepsABodyWithItsVersionAndOneOrganisationsAnswer) {
  RecordCache cache(1 << 20);
  EXPECT_FALSE(cache.Get("9990000018", "RGD"));
  cache.Put("9990000018", "7/1/9832", Body(100), "RGD", true);
  auto hit = cache.Get("9990000018", "RGD");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->version, "7/1/9832");
  EXPECT_EQ(hit->body->size(), 100u);
  EXPECT_EQ(hit->visible, std::optional<bool>(true));
  // Another organisation's answer is not known until noted, and then only at that version.
  EXPECT_EQ(cache.Get("9990000018", "RX4")->visible, std::nullopt);
  cache.NoteVisible("9990000018", "6/1/9832", "RX4", false);  // an older version: ignored
  EXPECT_EQ(cache.Get("9990000018", "RX4")->visible, std::nullopt);
  cache.NoteVisible("9990000018", "7/1/9832", "RX4", false);
  EXPECT_EQ(cache.Get("9990000018", "RX4")->visible, std::optional<bool>(false));
  EXPECT_EQ(cache.Get("9990000018", "RGD")->visible, std::optional<bool>(true));
}

TEST(RecordCache, ANewVersionReplacesTheEntryAndItsAnswers) {
  RecordCache cache(1 << 20);
  cache.Put("9990000018", "7/1/9832", Body(100), "RGD", true);
  cache.NoteVisible("9990000018", "7/1/9832", "RX4", false);
  cache.Put("9990000018", "8/1/9832", Body(50), "RGD", std::nullopt);
  auto hit = cache.Get("9990000018", "RX4");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->version, "8/1/9832");
  EXPECT_EQ(hit->body->size(), 50u);
  EXPECT_EQ(hit->visible, std::nullopt);
  EXPECT_EQ(cache.Get("9990000018", "RGD")->visible, std::nullopt);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RecordCache, LetsTheLeastRecentlyUsedGoPastItsBudget) {
  RecordCache cache(3 * 1250);  // room for three 1,000-byte bodies and their overhead
  cache.Put("a", "1", Body(1000), "RGD", true);
  cache.Put("b", "1", Body(1000), "RGD", true);
  cache.Put("c", "1", Body(1000), "RGD", true);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.Get("a", "RGD"));  // a is now the most recently used
  cache.Put("d", "1", Body(1000), "RGD", true);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Get("b", "RGD"));
  EXPECT_TRUE(cache.Get("a", "RGD"));
  EXPECT_TRUE(cache.Get("c", "RGD"));
  EXPECT_TRUE(cache.Get("d", "RGD"));
  EXPECT_LE(cache.bytes(), 3u * 1250);
  // A body larger than the whole budget is not kept, and takes nothing else with it.
  cache.Put("e", "1", Body(5000), "RGD", true);
  EXPECT_FALSE(cache.Get("e", "RGD"));
  EXPECT_EQ(cache.size(), 3u);
}

TEST(RecordCache, ABudgetOfNothingKeepsNothing) {
  RecordCache cache(0);
  cache.Put("a", "1", Body(10), "RGD", true);
  EXPECT_FALSE(cache.Get("a", "RGD"));
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace icr::record
