#include "services/common/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace icr {
namespace {

TEST(Money, PoundsToThePennyWithThousandsSeparators) {
  EXPECT_EQ(FormatPounds(0), "\u00a30.00");
  EXPECT_EQ(FormatPounds(5), "\u00a30.05");
  EXPECT_EQ(FormatPounds(99), "\u00a30.99");
  EXPECT_EQ(FormatPounds(100000), "\u00a31,000.00");
  EXPECT_EQ(FormatPounds(99999), "\u00a3999.99");
  EXPECT_EQ(FormatPounds(1625231), "\u00a316,252.31");
  EXPECT_EQ(FormatPounds(123456789), "\u00a31,234,567.89");
  EXPECT_EQ(FormatPounds(-123450), "-\u00a31,234.50");
  EXPECT_EQ(FormatPounds(-5), "-\u00a30.05");
  EXPECT_EQ(FormatPounds(std::numeric_limits<int64_t>::max()), "\u00a392,233,720,368,547,758.07");
  EXPECT_EQ(FormatPounds(std::numeric_limits<int64_t>::min()), "-\u00a392,233,720,368,547,758.08");
}

TEST(Money, PlainAmountsHaveTwoDecimalsAndNoSeparator) {
  EXPECT_EQ(PlainPounds(0), "0.00");
  EXPECT_EQ(PlainPounds(5), "0.05");
  EXPECT_EQ(PlainPounds(1625231), "16252.31");
  EXPECT_EQ(PlainPounds(-123450), "-1234.50");
  EXPECT_EQ(PlainPounds(std::numeric_limits<int64_t>::min()), "-92233720368547758.08");
}

TEST(Money, ParsesPlainAmountsExactly) {
  EXPECT_EQ(ParsePounds("16252.31"), 1625231);
  EXPECT_EQ(ParsePounds("16252.3"), 1625230);
  EXPECT_EQ(ParsePounds("16252"), 1625200);
  EXPECT_EQ(ParsePounds("-1234.50"), -123450);
  EXPECT_EQ(ParsePounds("0.05"), 5);
  EXPECT_EQ(ParsePounds("92233720368547758.07"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParsePounds("-92233720368547758.08"), std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", "*", "-", "1.", ".5", "1.234", "1,000.00", "\u00a31",
                          "92233720368547758.08", "1e3", " 1"}) {
    EXPECT_EQ(ParsePounds(bad), std::nullopt) << bad;
  }
  for (int64_t pence : {int64_t{0}, int64_t{7}, int64_t{-7}, int64_t{123456789}}) {
    EXPECT_EQ(ParsePounds(PlainPounds(pence)), pence);
  }
}

}  // namespace
}  // namespace icr
