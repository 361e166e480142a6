// The S117 responsible council from the residence and placement history (domain-rules 2.4):
// today's rule (Worcestershire [2023] UKSC 31, no deeming) and the Mental Health Act 2025 s46
// deeming rule behind its commencement date.
#include "services/s117/responsible_council.h"

#include <gtest/gtest.h>

namespace icr::s117 {
namespace {

Date D(const char* iso) { return *ParseDate(iso); }

constexpr char kLeeds[] = "E08000035";      // A: the placing council
constexpr char kWakefield[] = "E08000036";  // B: where the person was placed

// Resident in Leeds until 2025-03-31, then in Wakefield (placed there by Leeds from 2025-04-01).
std::vector<ResidencePeriod> Moved() {
  return {{"LS1 4AP", kLeeds, "QWO", std::nullopt, D("2025-03-31")},
          {"WF1 2AB", kWakefield, "QWO", D("2025-04-01"), std::nullopt}};
}
std::vector<PlacementFacts> PlacedByLeeds(const char* basis = "care_act",
                                          const char* type = "CARE_HOME") {
  return {{kLeeds, kWakefield, type, basis, D("2025-04-01"), std::nullopt}};
}

TEST(ResponsibleCouncil, TodaysRuleIsTheResidenceImmediatelyBeforeDetentionWithNoDeeming) {
  const auto c = DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds(), std::nullopt,
                                          std::nullopt);
  EXPECT_EQ(c.council_code, kWakefield);
  EXPECT_EQ(c.rule, kRuleWorcestershire);
  EXPECT_EQ(c.reason,
            "resident in E08000036 from 2025-04-01 to now; placed by E08000035 in E08000036 from "
            "2025-04-01 (care_act, CARE_HOME): ordinarily resident in E08000036 immediately "
            "before the detention of 2025-09-01 (Worcestershire [2023] UKSC 31: no deeming)");
}

TEST(ResponsibleCouncil, The2025RuleDeemsAPlacedAdultThePlacingCouncilsOnceInForce) {
  const auto c = DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds(),
                                          D("1980-01-01"), D("2025-06-01"));
  EXPECT_EQ(c.council_code, kLeeds);
  EXPECT_EQ(c.rule, kRuleMha2025);
  EXPECT_NE(c.reason.find("placed by E08000035"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("deemed ordinarily resident in E08000035"), std::string::npos);
  // An s117 after-care placement deems too (the Worcestershire facts); OTHER accommodation and
  // an "other" basis do not.
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds("s117"), std::nullopt,
                                     D("2025-06-01"))
                .council_code,
            kLeeds);
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds("other"), std::nullopt,
                                     D("2025-06-01"))
                .council_code,
            kWakefield);
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds("care_act", "OTHER"),
                                     std::nullopt, D("2025-06-01"))
                .council_code,
            kWakefield);
}

TEST(ResponsibleCouncil, The2025RuleFollowsTheDetentionDateNotTheDayOfRecording) {
  // Not in force (no commencement date), or commenced after the detention began: today's rule.
  EXPECT_EQ(CouncilRuleFor(D("2030-01-01"), std::nullopt), kRuleWorcestershire);
  EXPECT_EQ(CouncilRuleFor(D("2025-09-01"), D("2025-09-02")), kRuleWorcestershire);
  EXPECT_EQ(CouncilRuleFor(D("2025-09-02"), D("2025-09-02")), kRuleMha2025);
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds(), std::nullopt,
                                     D("2025-09-02"))
                .council_code,
            kWakefield);
}

TEST(ResponsibleCouncil, The2025DeemingIsForAdultsOnly) {
  const auto c = DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds(),
                                          D("2008-01-01"), D("2025-06-01"));
  EXPECT_EQ(c.council_code, kWakefield);
  EXPECT_NE(c.reason.find("under 18"), std::string::npos) << c.reason;
  // 18 the day before the detention: an adult.
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-09-01"), Moved(), PlacedByLeeds(), D("2007-08-31"),
                                     D("2025-06-01"))
                .council_code,
            kLeeds);
}

TEST(ResponsibleCouncil, AResidenceBeginningOnTheDetentionDayIsNotTheOneBeforeIt) {
  // The address changed on the day of detention (e.g. to the hospital's): the one before counts.
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-04-01"), Moved(), {}, std::nullopt, std::nullopt)
                .council_code,
            kLeeds);
  // A day later, the new one.
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-04-02"), Moved(), {}, std::nullopt, std::nullopt)
                .council_code,
            kWakefield);
  // A placement starting on the detention day does not deem.
  EXPECT_EQ(DeriveResponsibleCouncil(D("2025-04-01"), Moved(), PlacedByLeeds(), std::nullopt,
                                     D("2020-01-01"))
                .reason.find("placed by"),
            std::string::npos);
}

TEST(ResponsibleCouncil, NoResidenceKnownBeforeTheDetentionLeavesItToDecide) {
  auto c = DeriveResponsibleCouncil(D("2025-09-01"), {}, {}, std::nullopt, std::nullopt);
  EXPECT_EQ(c.council_code, "");
  EXPECT_EQ(c.reason,
            "no residence recorded immediately before the detention of 2025-09-01: decide the "
            "council of ordinary residence");
  // A history that starts after the detention says nothing about before it.
  c = DeriveResponsibleCouncil(D("2025-09-01"),
                               {{"WF1 2AB", kWakefield, "QWO", D("2025-10-01"), std::nullopt}}, {},
                               std::nullopt, std::nullopt);
  EXPECT_EQ(c.council_code, "");
  // A residence with no council recorded: decide, too.
  c = DeriveResponsibleCouncil(D("2025-09-01"), {{"WF1 2AB", "", "", std::nullopt, std::nullopt}},
                               {}, std::nullopt, std::nullopt);
  EXPECT_EQ(c.council_code, "");
  EXPECT_NE(c.reason.find("decide"), std::string::npos);
  // With the 2025 rule a deeming placement decides even where no residence is recorded.
  c = DeriveResponsibleCouncil(D("2025-09-01"), {}, PlacedByLeeds(), std::nullopt, D("2025-01-01"));
  EXPECT_EQ(c.council_code, kLeeds);
}

TEST(ResponsibleCouncil, AnEndedPlacementNoLongerDeems) {
  auto placements = PlacedByLeeds();
  placements[0].end = D("2025-08-01");
  EXPECT_EQ(
      DeriveResponsibleCouncil(D("2025-09-01"), Moved(), placements, std::nullopt, D("2025-01-01"))
          .council_code,
      kWakefield);
}

}  // namespace
}  // namespace icr::s117
