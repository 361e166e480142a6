// Organisation successions applied, the pure rules (services/s117/succession.h): which
// successions are due by a date and whether they split, what an entitlement's move changes (an
// ended one keeps its body), the postcode district a proposal is made from, the proposal, and
// the successor a resolution names.
#include "services/s117/succession.h"

#include <gtest/gtest.h>

#include "services/common/access_rule.h"

namespace icr::s117 {
namespace {

Date D(const char* iso) { return *ParseDate(iso); }

const std::vector<SuccessionLink> kLinks = {
    {"QMJ", "Z9B2Z", D("2026-04-01")},          {"QRV", "Z9B2Z", D("2026-04-01")},
    {"QNQ", "S9B9J", D("2026-04-01")},          {"QNQ", "S0E4D", D("2026-04-01")},
    {"Z9B2Z", "X1X1X", D("2027-04-01")},        {"E10000030", "E06000991", D("2027-04-01")},
    {"E10000030", "E06000992", D("2027-04-01")}};

TEST(Succession, NothingIsDueBeforeItsDateAndOnItTheyAreOldestFirst) {
  EXPECT_TRUE(DueSuccessions(kLinks, D("2026-03-31")).empty());
  const auto due = DueSuccessions(kLinks, D("2026-04-01"));
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].predecessor, "QMJ");
  EXPECT_EQ(due[0].kind(), "one_to_one");
  EXPECT_EQ(due[1].predecessor, "QNQ");
  EXPECT_EQ(due[1].kind(), "split");
  EXPECT_EQ(due[1].successors, (std::vector<std::string>{"S0E4D", "S9B9J"}));
  // A chain is applied in date order in one run.
  const auto later = DueSuccessions(kLinks, D("2027-04-01"));
  ASSERT_EQ(later.size(), 5u);
  EXPECT_EQ(later[3].predecessor, "E10000030");
  EXPECT_TRUE(later[3].split());
  EXPECT_EQ(later[4].predecessor, "Z9B2Z");
}

Episode Open(State state) {
  Episode e;
  e.state = state;
  e.responsible_council_code = "E09000007";
  e.responsible_icb_code = "QMJ";
  return e;
}

TEST(Succession, AnOpenEntitlementMovesAndAnEndedOneKeepsItsBody) {
  for (State s : {State::kPlanned, State::kActive}) {
    Episode e = Open(s);
    EXPECT_TRUE(MoveEntitlement(e, "icb", "QMJ", "Z9B2Z"));
    EXPECT_EQ(e.responsible_icb_code, "Z9B2Z");
    EXPECT_EQ(e.responsible_council_code, "E09000007");
  }
  for (State s :
       {State::kEndedDischarged, State::kEndedSuperseded, State::kEndedDeceased, State::kVoid}) {
    Episode e = Open(s);
    EXPECT_FALSE(MoveEntitlement(e, "icb", "QMJ", "Z9B2Z")) << StateName(s);
    EXPECT_EQ(e.responsible_icb_code, "QMJ");
  }
  Episode e = Open(State::kActive);
  EXPECT_FALSE(MoveEntitlement(e, "council", "QMJ", "Z9B2Z"));  // not its council
  EXPECT_FALSE(MoveEntitlement(e, "icb", "QRV", "Z9B2Z"));      // another ICB
  EXPECT_FALSE(MoveEntitlement(e, "", "QMJ", "Z9B2Z"));         // a trust's succession
  EXPECT_TRUE(MoveEntitlement(e, "council", "E09000007", "E09000033"));
  EXPECT_EQ(e.responsible_council_code, "E09000033");
  EXPECT_EQ(RoleOfKind("icb"), "icb");
  EXPECT_EQ(RoleOfKind("council"), "council");
  EXPECT_EQ(RoleOfKind("trust"), "");
  EXPECT_EQ(RoleOfKind("district"), "");
}

TEST(Succession, PostcodeDistrictIsTheOutwardCode) {
  EXPECT_EQ(PostcodeDistrict("KT10 9AA"), "KT10");
  EXPECT_EQ(PostcodeDistrict("kt109aa"), "KT10");
  EXPECT_EQ(PostcodeDistrict("GU1 1AA"), "GU1");
  EXPECT_EQ(PostcodeDistrict("W1A 1AA"), "W1A");
  EXPECT_EQ(PostcodeDistrict("M1 1AE"), "M1");
  EXPECT_EQ(PostcodeDistrict(""), "");
  EXPECT_EQ(PostcodeDistrict("KT10"), "");      // no inward code
  EXPECT_EQ(PostcodeDistrict("KT10 9A1"), "");  // not an inward code
  EXPECT_EQ(PostcodeDistrict("KT10-9AA"), "");
}

TEST(Succession, ASplitProposesFromThePostcodeDistrictOrAsksToDecide) {
  const Succession surrey{"E10000030", D("2027-04-01"), {"E06000991", "E06000992"}};
  const std::map<std::string, std::string> areas = {
      {"KT10", "E06000991"}, {"GU1", "E06000992"}, {"RH1", "E06000993"}};
  auto p = ProposeSuccessor(surrey, "KT10", areas);
  EXPECT_EQ(p.code, "E06000991");
  EXPECT_EQ(p.basis, "postcode district KT10");
  EXPECT_EQ(ProposeSuccessor(surrey, "GU1", areas).code, "E06000992");
  p = ProposeSuccessor(surrey, "TW18", areas);
  EXPECT_EQ(p.code, "");
  EXPECT_NE(p.basis.find("decide"), std::string::npos);
  p = ProposeSuccessor(surrey, "", areas);
  EXPECT_EQ(p.code, "");
  EXPECT_EQ(p.basis, "decide: no postcode recorded");
  // An area naming a body that is not one of this split's successors is not proposed.
  p = ProposeSuccessor(surrey, "RH1", areas);
  EXPECT_EQ(p.code, "");
  EXPECT_NE(p.basis.find("not a successor"), std::string::npos);
}

TEST(Succession, AResolutionNamesOneOfTheSuccessors) {
  const std::vector<std::string> successors = {"E06000991", "E06000992"};
  EXPECT_EQ(*ResolvedSuccessor(successors, "E06000991", ""), "E06000991");           // accepted
  EXPECT_EQ(*ResolvedSuccessor(successors, "E06000991", "E06000992"), "E06000992");  // changed
  EXPECT_EQ(*ResolvedSuccessor(successors, "", "E06000992"), "E06000992");           // decided
  auto none = ResolvedSuccessor(successors, "", "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("successor_code"), std::string::npos);
  auto other = ResolvedSuccessor(successors, "E06000991", "E08000035");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("E06000991, E06000992"), std::string::npos);
}

TEST(Succession, AWorkItemIsTheOldBodysAndTheSuccessors) {
  const std::vector<std::string> successors = {"E06000991", "E06000992"};
  EXPECT_TRUE(access::WorksOnSuccession("E10000030", "E10000030", successors));
  EXPECT_TRUE(access::WorksOnSuccession("E06000992", "E10000030", successors));
  EXPECT_FALSE(access::WorksOnSuccession("E09000007", "E10000030", successors));
  EXPECT_FALSE(access::WorksOnSuccession("", "E10000030", successors));
}

}  // namespace
}  // namespace icr::s117
