// The one rule on organisation dates (ReferenceData::CheckOpen through CheckOrganisation and
// CheckCouncil): an organisation cannot be named before it opened or from the day it closed,
// and the refusal names the field and the successor(s).
#include <gtest/gtest.h>

#include "services/common/reference.h"

namespace icr {
namespace {

Date D(const char* iso) { return *ParseDate(iso); }

ReferenceData Ref() {
  ReferenceData r;
  r.AddOrganisation({"QMJ", "icb", "NHS North Central London ICB", "", std::nullopt,
                     D("2026-04-01")});
  r.AddOrganisation({"Z9B2Z", "icb", "NHS West and North London ICB", "", D("2026-04-01"),
                     std::nullopt});
  r.AddOrganisation({"QNQ", "icb", "NHS Frimley ICB", "", std::nullopt, D("2026-04-01")});
  r.AddOrganisation({"S0E4D", "icb", "NHS Thames Valley ICB", "", D("2026-04-01"), std::nullopt});
  r.AddOrganisation({"S9B9J", "icb", "NHS Surrey and Sussex ICB", "", D("2026-04-01"), std::nullopt});
  r.AddOrganisation({"E10000030", "council", "Surrey County Council", "", std::nullopt,
                     D("2027-04-01")});
  r.AddOrganisation({"QWO", "icb", "NHS West Yorkshire ICB", ""});
  r.AddSuccessor("QMJ", {"Z9B2Z", D("2026-04-01")});
  r.AddSuccessor("QNQ", {"S0E4D", D("2026-04-01")});
  r.AddSuccessor("QNQ", {"S9B9J", D("2026-04-01")});
  return r;
}

TEST(OrganisationDates, AClosedOrganisationIsRefusedFromItsCloseDateNamingItsSuccessor) {
  const auto s = Ref().CheckOrganisation("QMJ", "icb.code", {"icb"}, true, D("2026-04-01"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "icb.code: QMJ closed on 2026-04-01; its successor is Z9B2Z");
}

TEST(OrganisationDates, AClosedOrganisationIsAcceptedTheDayBeforeItCloses) {
  EXPECT_TRUE(Ref().CheckOrganisation("QMJ", "icb.code", {"icb"}, true, D("2026-03-31")).ok());
}

TEST(OrganisationDates, ASplitNamesEverySuccessor) {
  const auto s = Ref().CheckOrganisation("QNQ", "icb.code", {"icb"}, true, D("2026-06-01"));
  EXPECT_EQ(s.message(),
            "icb.code: QNQ closed on 2026-04-01; its successors are S0E4D, S9B9J (split: choose "
            "by where the person lives)");
}

TEST(OrganisationDates, AClosureWithNoSuccessorYetSaysSo) {
  const auto s = Ref().CheckCouncil("E10000030", "council.code", true, D("2027-04-01"));
  EXPECT_EQ(s.message(), "council.code: E10000030 closed on 2027-04-01; no successor is recorded");
  EXPECT_TRUE(Ref().CheckCouncil("E10000030", "council.code", true, D("2027-03-31")).ok());
}

TEST(OrganisationDates, ANewOrganisationIsRefusedBeforeItOpened) {
  const auto s = Ref().CheckOrganisation("Z9B2Z", "icb.code", {"icb"}, true, D("2026-03-31"));
  EXPECT_EQ(s.message(), "icb.code: Z9B2Z opened on 2026-04-01, after 2026-03-31");
  EXPECT_TRUE(Ref().CheckOrganisation("Z9B2Z", "icb.code", {"icb"}, true, D("2026-04-01")).ok());
}

TEST(OrganisationDates, AnOrganisationWithNoDatesIsOpenAndTheDefaultDateIsToday) {
  EXPECT_TRUE(Ref().CheckOrganisation("QWO", "icb.code", {"icb"}).ok());
  // Today is after 2026-04-01 (the store's clock is real): QMJ is refused without a date.
  EXPECT_FALSE(Ref().CheckOrganisation("QMJ", "icb.code", {"icb"}).ok());
}

}  // namespace
}  // namespace icr
