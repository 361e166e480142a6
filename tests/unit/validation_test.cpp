#include "services/common/validation.h"

#include <gtest/gtest.h>

#include "icr/v1/record.pb.h"

namespace icr {
namespace {

// Vectors from domain-rules.md 8.1.
TEST(NhsNumber, ChecksumVectors) {
  EXPECT_TRUE(NhsNumberChecksumOk("9434765919"));
  EXPECT_TRUE(NhsNumberChecksumOk("9990000018"));
  EXPECT_TRUE(NhsNumberChecksumOk("9990000026"));
  EXPECT_TRUE(NhsNumberChecksumOk("9990000050"));  // check 11 -> 0
  EXPECT_FALSE(NhsNumberChecksumOk("9990000019"));
  for (int d = 0; d <= 9; ++d) {
    EXPECT_FALSE(NhsNumberChecksumOk("999000000" + std::to_string(d)));  // check computes to 10
  }
  EXPECT_FALSE(NhsNumberChecksumOk("9876544321"));
  EXPECT_FALSE(NhsNumberChecksumOk("943476591"));
  EXPECT_FALSE(NhsNumberChecksumOk("94347659190"));
  EXPECT_FALSE(NhsNumberChecksumOk("943476591X"));
}

TEST(NhsNumber, Normalisation) {
  EXPECT_EQ(*NormaliseNhsNumber("943 476 5919", "f"), "9434765919");
  EXPECT_EQ(*NormaliseNhsNumber("9434765919", "f"), "9434765919");
  auto hyphens = NormaliseNhsNumber("943-476-5919", "person.nhs_number");
  EXPECT_EQ(hyphens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(hyphens.status().message().find("person.nhs_number"), std::string::npos);
  EXPECT_FALSE(NormaliseNhsNumber("9990000019", "f").ok());
  EXPECT_FALSE(NormaliseNhsNumber("94 3476 5919", "f").ok());  // spaces only in 3-3-4 places
  EXPECT_FALSE(NormaliseNhsNumber("", "f").ok());
  // Checksum passes, but not in any issued range.
  EXPECT_FALSE(NormaliseNhsNumber("0000000000", "f").ok());
  EXPECT_FALSE(NormaliseNhsNumber("1111111111", "f").ok());
}

TEST(Dates, StrictCalendarDates) {
  EXPECT_TRUE(ParseDate("2024-02-29"));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2023-13-01"));
  EXPECT_FALSE(ParseDate("2023-1-01"));
  EXPECT_FALSE(ParseDate("yesterday"));
  EXPECT_EQ(FormatDate(*ParseDate("2026-10-31")), "2026-10-31");
  auto missing = RequireDate("", "admission.date");
  EXPECT_EQ(missing.status().message(), "admission.date: required");
}

TEST(Codes, GssAndOds) {
  EXPECT_TRUE(IsSocialServicesAuthority("E09000011"));  // Greenwich
  EXPECT_TRUE(IsSocialServicesAuthority("E06000002"));  // Middlesbrough
  EXPECT_TRUE(IsSocialServicesAuthority("E10000016"));
  EXPECT_FALSE(IsSocialServicesAuthority("E07000008"));  // Cambridge, a district
  EXPECT_FALSE(IsSocialServicesAuthority("E12000001"));  // a region
  EXPECT_FALSE(IsSocialServicesAuthority("E0900001"));
  EXPECT_TRUE(IsOdsCodeSyntax("RX4"));
  EXPECT_TRUE(IsOdsCodeSyntax("QWO"));
  EXPECT_FALSE(IsOdsCodeSyntax("rx4"));
  EXPECT_FALSE(IsOdsCodeSyntax("R"));
}

TEST(Text, Bounds) {
  EXPECT_TRUE(CheckText("ok", "f", 5, true).ok());
  EXPECT_FALSE(CheckText("", "f", 5, true).ok());
  EXPECT_FALSE(CheckText("toolong", "f", 5, false).ok());
  EXPECT_FALSE(CheckText(std::string("a\x01"), "f", 5, false).ok());
}

TEST(Dates, NoRequestDateAfter2100) {
  EXPECT_TRUE(RequireDate("2100-12-31", "f").ok());
  EXPECT_EQ(RequireDate("2101-01-01", "plan.goals[0].target_date").status().message(),
            "plan.goals[0].target_date: after 2100-12-31");
  EXPECT_FALSE(OptionalDate("9999-12-31", "f").ok());
  EXPECT_TRUE(ParseDate("9999-12-31"));  // a stored date is read whatever it is
}

TEST(Bounds, MoneyAndVersions) {
  EXPECT_TRUE(CheckPence(0, "f").ok());
  EXPECT_TRUE(CheckPence(kMaxWeeklyPence, "f").ok());
  EXPECT_EQ(CheckPence(kMaxWeeklyPence + 1, "service.weekly_cost_pence").message(),
            "service.weekly_cost_pence: more than 100000000 pence");
  EXPECT_EQ(CheckPence(-1, "f").message(), "f: must not be negative");
  EXPECT_TRUE(CheckPence(53 * kMaxWeeklyPence, "f", 53 * kMaxWeeklyPence).ok());
  EXPECT_TRUE(CheckVersion(0, "expected_version").ok());
  EXPECT_TRUE(CheckVersion(2147483647, "expected_version").ok());
  EXPECT_EQ(CheckVersion(2147483648, "expected_version").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CheckVersion(-1, "expected_version").ok());
}

// Proto3 enums are open: a number the enum does not define arrives, and is named with its path.
TEST(Bounds, UnknownEnumNumbers) {
  icr::v1::RecordEventsRequest req;
  req.add_events()->mutable_care_act()->set_kind(icr::v1::CareActEvent::SERVICE);
  EXPECT_TRUE(CheckEnums(req, "").ok());
  req.add_events()->mutable_care_act()->set_kind(static_cast<icr::v1::CareActEvent::Kind>(42));
  EXPECT_EQ(CheckEnums(req, "").message(), "events[1].care_act.kind: unknown value 42");
  EXPECT_EQ(CheckEnums(req.events(1), "event").message(), "event.care_act.kind: unknown value 42");
}

}  // namespace
}  // namespace icr

namespace icr {
namespace {

TEST(Utf8, WellFormedOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("MCKENZIE"));
  EXPECT_TRUE(IsUtf8("Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80"));  // ë € 😀
  EXPECT_FALSE(IsUtf8("\xFF"));
  EXPECT_FALSE(IsUtf8("\xC3"));              // cut short
  EXPECT_FALSE(IsUtf8("\xE2\x82"));          // cut short
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsUtf8("a\x80"));             // a continuation byte alone
}

}  // namespace
}  // namespace icr
