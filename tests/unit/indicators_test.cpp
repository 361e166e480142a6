#include "services/performance/indicators.h"

#include <gtest/gtest.h>

namespace icr::perf {
namespace {

RawFigure Ratio(double num, double den) { return {num, den, 100.0 * num / den, "ratio"}; }
RawFigure Count(double n) { return {n, std::nullopt, n, "count"}; }

TEST(Disclosure, UnroundedShowsEverything) {
  auto s = UnroundedPolicy()->Apply(Ratio(3, 7));
  EXPECT_EQ(s.numerator, "3");
  EXPECT_EQ(s.denominator, "7");
  EXPECT_EQ(s.value, "42.9");
  EXPECT_FALSE(s.suppressed);
}

TEST(Disclosure, MhsdsHidesSmallCountsAndRoundsOthersToFive) {
  auto p = MhsdsPolicy();
  auto three = p->Apply(Count(3));
  EXPECT_EQ(three.value, "*");
  EXPECT_TRUE(three.suppressed);
  EXPECT_EQ(p->Apply(Count(5)).value, "5");
  EXPECT_EQ(p->Apply(Count(12)).value, "10");
  EXPECT_EQ(p->Apply(Count(13)).value, "15");
  // A percentage is hidden when its numerator or denominator is below 5 ...
  EXPECT_EQ(p->Apply(Ratio(4, 50)).value, "*");
  // ... and otherwise computed from the true counts, to a whole per cent.
  auto r = p->Apply(Ratio(33, 47));
  EXPECT_EQ(r.value, "70");
  EXPECT_EQ(r.numerator, "35");
  EXPECT_EQ(r.denominator, "45");
}

TEST(Disclosure, StrictHidesOneToSevenAndUsesRoundedCounts) {
  auto p = StrictPolicy();
  EXPECT_EQ(p->Apply(Count(7)).value, "*");
  EXPECT_EQ(p->Apply(Count(0)).value, "0");
  EXPECT_EQ(p->Apply(Count(8)).value, "10");
  // 33/47 -> 35/45 = 77.8 -> 78 (from the rounded counts, unlike the MHSDS rule's 70).
  EXPECT_EQ(p->Apply(Ratio(33, 47)).value, "78");
}

// Sums of money (pounds, stored to the penny) are shown to the penny by every policy, two
// decimals and no separator; a sum over fewer than 5 (MHSDS) or 1 to 7 (strict) lines is hidden.
TEST(Disclosure, MoneyIsShownToThePenny) {
  const RawFigure cost{12, std::nullopt, 16252.31, "sum"};
  EXPECT_EQ(UnroundedPolicy()->Apply(cost).value, "16252.31");
  EXPECT_EQ(MhsdsPolicy()->Apply(cost).value, "16252.31");
  EXPECT_EQ(StrictPolicy()->Apply(cost).value, "16252.31");
  EXPECT_EQ(UnroundedPolicy()->Apply({1, std::nullopt, 0.1 + 0.2, "sum"}).value, "0.30");
  EXPECT_EQ(UnroundedPolicy()->Apply({1, std::nullopt, 400, "sum"}).value, "400.00");
  EXPECT_EQ(MhsdsPolicy()->Apply({3, std::nullopt, 400, "sum"}).value, "*");
  EXPECT_EQ(StrictPolicy()->Apply({7, std::nullopt, 400, "sum"}).value, "*");
}

TEST(Disclosure, PolicyFollowsWhoAsksAndWhoseDataItIs) {
  for (bool national : {false, true}) {
    EXPECT_EQ(SelectPolicy("RGD", "provider", "RGD", "mhsds", national)->name(), "unrounded");
    EXPECT_EQ(SelectPolicy("E08000035", "provider", "RGD", "mhsds", national)->name(), "mhsds");
    EXPECT_EQ(SelectPolicy("E08000035", "provider", "RGD", "strict", national)->name(), "strict");
  }
}

TEST(Disclosure, AllOrganisationsIsUnroundedOnlyInANationalStore) {
  EXPECT_EQ(SelectPolicy("E08000035", "all", "", "mhsds", true)->name(), "unrounded");
  EXPECT_EQ(SelectPolicy("E08000035", "all", "", "mhsds", false)->name(), "mhsds");
  EXPECT_EQ(SelectPolicy("E08000035", "all", "", "strict", false)->name(), "strict");
}

TEST(Spc, LimitsFromMeanMovingRange) {
  // Values 10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17: mean 13.5; moving ranges 2,1,2,... sum
  // to 17, so MR-bar = 17/11.
  std::vector<std::optional<double>> v = {10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17};
  auto r = ComputeSpc(v, "higher");
  EXPECT_DOUBLE_EQ(r.mean, 13.5);
  EXPECT_NEAR(r.upper, 13.5 + 2.66 * 17.0 / 11.0, 1e-9);
  EXPECT_NEAR(r.lower, 13.5 - 2.66 * 17.0 / 11.0, 1e-9);
  EXPECT_EQ(r.points, 12);
}

TEST(Spc, PointBeyondUpperLimitIsImprovementWhenHigherIsBetter) {
  std::vector<std::optional<double>> v = {50, 51, 50, 49, 50, 51, 50, 49, 50, 51, 50, 80};
  auto r = ComputeSpc(v, "higher");
  EXPECT_TRUE(r.beyond_limit.back());
  EXPECT_EQ(r.signal, "improvement");
  EXPECT_EQ(ComputeSpc(v, "lower").signal, "concern");
  EXPECT_EQ(ComputeSpc(v, "none").signal, "special_cause");
}

TEST(Spc, RunOfSevenBelowTheMean) {
  std::vector<std::optional<double>> v = {60,   61,   59, 60,   62,   61,  50,
                                          50.5, 49.5, 50, 50.2, 49.8, 50.1};
  auto r = ComputeSpc(v, "higher");
  EXPECT_TRUE(r.run.back());
  EXPECT_FALSE(r.run.front());
  EXPECT_EQ(r.signal, "concern");
}

TEST(Spc, SevenRisingIsATrend) {
  std::vector<std::optional<double>> v = {50, 49, 50, 49, 50, 49, 50, 51, 52, 53, 54, 55, 56};
  auto r = ComputeSpc(v, "lower");
  EXPECT_TRUE(r.trend.back());
  EXPECT_FALSE(r.trend[1]);
}

TEST(Spc, FewPointsAreInsufficientAndGapsAreSkipped) {
  EXPECT_EQ(ComputeSpc({50, 60}, "higher").signal, "insufficient_data");
  EXPECT_EQ(ComputeSpc({std::nullopt}, "higher").signal, "insufficient_data");
  auto r = ComputeSpc({10, std::nullopt, 10, 10}, "higher");
  EXPECT_EQ(r.points, 3);
  EXPECT_DOUBLE_EQ(r.mean, 10);
}

TEST(Months, ParseAndRange) {
  auto m = ParseMonth("2026-10", "month");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(FormatDate(m->first()), "2026-10-01");
  EXPECT_EQ(FormatDate(m->last()), "2026-10-31");
  EXPECT_EQ(FormatDate(ParseMonth("2024-02", "m")->last()), "2024-02-29");
  EXPECT_FALSE(ParseMonth("2026-13", "month").ok());
  EXPECT_FALSE(ParseMonth("2026-1", "month").ok());
  auto range = MonthRange(*ParseMonth("2025-11", "f"), *ParseMonth("2026-02", "t"), 24);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->size(), 4u);
  EXPECT_EQ(range->back().ToString(), "2026-02");
  EXPECT_FALSE(MonthRange(*ParseMonth("2026-02", "f"), *ParseMonth("2025-11", "t"), 24).ok());
}

TEST(Months, MonthsBeforeCrossesYears) {
  const Month m = *ParseMonth("2026-02", "m");
  EXPECT_EQ(MonthsBefore(m, 0).ToString(), "2026-02");
  EXPECT_EQ(MonthsBefore(m, 2).ToString(), "2025-12");
  EXPECT_EQ(MonthsBefore(m, 23).ToString(), "2024-03");
  EXPECT_EQ(MonthsBefore(m, -1).ToString(), "2026-02");
}

TEST(Csv, QuotesOnlyWhenNeeded) {
  using icr::CsvField;
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvHeader().substr(0, 22), "REPORTING_PERIOD_START");
}

}  // namespace
}  // namespace icr::perf
