// Organisation-scoped visibility: who may see a person, NOT_FOUND for everyone else, and
// break-glass access that is allowed, flagged and audited.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr char kLeedsTrust[] = "RGD";
constexpr char kOtherTrust[] = "RX4";       // Cumbria, Northumberland, Tyne and Wear
constexpr char kLeedsCouncil[] = "E08000035";
constexpr char kOtherCouncil[] = "E08000021";  // Newcastle upon Tyne

class VisibilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nhs = NextNhsNumber();
    person = SeedPerson(kLeedsTrust, nhs);  // recorded by the Leeds trust; lives in Leeds
  }
  grpc::Status Get(const std::string& token, const std::map<std::string, std::string>& md = {},
                   icr::v1::IntegratedRecord* out = nullptr) {
    icr::v1::GetIntegratedRecordRequest req;
    req.set_nhs_number(nhs);
    icr::v1::IntegratedRecord local;
    return stack.record()->GetIntegratedRecord(Ctx(token, md).get(), req, out ? out : &local);
  }
  std::string Audit(const std::string& org, const std::string& outcome) {
    return stack.Scalar("SELECT count(*) FROM core.audit WHERE person_id = '" +
                        person.person_id() + "' AND org_code = '" + org + "' AND outcome = '" +
                        outcome + "'");
  }
  Stack& stack = Stack::Get();
  std::string nhs;
  icr::v1::Person person;
};

TEST_F(VisibilityTest, LegitimateRelationshipsSeeThePerson) {
  EXPECT_TRUE(Get(stack.Token(kLeedsTrust, "clinician")).ok());       // recorded them
  EXPECT_TRUE(Get(stack.Token(kLeedsCouncil, "social_worker")).ok());  // their council
  EXPECT_TRUE(Get(stack.Token("QWO", "s117_officer")).ok());           // their ICB
}

TEST_F(VisibilityTest, AnotherOrganisationGetsNotFoundAndTheAttemptIsAudited) {
  for (const auto& [org, role] : std::vector<std::pair<std::string, std::string>>{
           {kOtherTrust, "clinician"}, {kOtherCouncil, "social_worker"}}) {
    auto token = stack.Token(org, role);
    auto s = Get(token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << org;
    // Indistinguishable from a person who does not exist.
    icr::v1::GetIntegratedRecordRequest nobody;
    nobody.set_nhs_number(NextNhsNumber());
    icr::v1::IntegratedRecord r;
    auto missing = stack.record()->GetIntegratedRecord(Ctx(token).get(), nobody, &r);
    EXPECT_EQ(missing.error_code(), s.error_code());
    EXPECT_EQ(missing.error_message(), s.error_message());
    EXPECT_EQ(Audit(org, "denied"), "1") << org;
    EXPECT_EQ(Audit(org, "ok"), "0") << org;
  }
  // Searches do not reveal them either.
  icr::v1::FindPeopleRequest find;
  find.mutable_name_and_birth()->set_family_name("Testperson");
  find.mutable_name_and_birth()->set_date_of_birth("1980-05-17");
  icr::v1::FindPeopleResponse found;
  ASSERT_TRUE(stack.record()
                  ->FindPeople(Ctx(stack.Token(kOtherTrust, "clinician")).get(), find, &found)
                  .ok());
  for (const auto& p : found.people()) EXPECT_NE(p.nhs_number(), nhs);
}

TEST_F(VisibilityTest, AnOpenReferralGivesTheTrustARelationship) {
  const auto other = stack.Token(kOtherTrust, "system");
  ASSERT_EQ(Get(other).error_code(), grpc::StatusCode::NOT_FOUND);
  const auto referral =
      build::ReferralOpened(nhs, "vis-ref-" + nhs, "R1", kOtherTrust, "2026-01-05");
  ASSERT_TRUE(Send(other, {referral}).ok());
  EXPECT_TRUE(Get(other).ok());
}

TEST_F(VisibilityTest, BreakGlassIsAllowedFlaggedAndInTheTrail) {
  const auto other = stack.Token(kOtherTrust, "clinician");
  icr::v1::IntegratedRecord rec;
  auto s = Get(other, {{"x-break-glass-reason", "Unconscious in ED, no other history"},
                       {"x-purpose-of-use", "emergency_care"}},
               &rec);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(rec.break_glass());
  EXPECT_EQ(rec.person().nhs_number(), nhs);

  icr::v1::GetAuditTrailRequest trail_req;
  trail_req.set_nhs_number(nhs);
  icr::v1::AuditTrail trail;
  ASSERT_TRUE(stack.record()
                  ->GetAuditTrail(Ctx(stack.Token(kLeedsTrust, "clinician")).get(), trail_req, &trail)
                  .ok());
  bool found = false;
  for (const auto& e : trail.entries()) {
    if (e.organisation_code() == kOtherTrust && e.action() == "GetIntegratedRecord") {
      found = true;
      EXPECT_EQ(e.break_glass_reason(), "Unconscious in ED, no other history");
      EXPECT_EQ(e.purpose_of_use(), "emergency_care");
      EXPECT_EQ(e.outcome(), "ok");
    }
  }
  EXPECT_TRUE(found);
  // Breaking glass once does not grant lasting access.
  EXPECT_EQ(Get(other).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(VisibilityTest, ChangeFeedIsScopedToVisiblePeople) {
  // A later change that the other trust may see: once it has arrived, the other trust's feed
  // has passed the position of our person's changes (the feed lags behind open transactions
  // anywhere in the cluster, so each reader polls until its marker arrives).
  auto marker = SeedPerson(kOtherTrust, NextNhsNumber());
  auto collect_until = [&](const std::string& token, const std::string& until_person) {
    std::set<std::string> people;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!people.count(until_person) && std::chrono::steady_clock::now() < give_up) {
      icr::v1::WatchChangesRequest req;  // from the start, no follow
      auto ctx = Ctx(token);
      auto reader = stack.record()->WatchChanges(ctx.get(), req);
      icr::v1::Change c;
      while (reader->Read(&c)) people.insert(c.person_id());
      EXPECT_TRUE(reader->Finish().ok());
      if (!people.count(until_person)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return people;
  };
  EXPECT_TRUE(collect_until(stack.Token(kLeedsTrust, "system"), person.person_id())
                  .count(person.person_id()));
  auto others = collect_until(stack.Token(kOtherTrust, "system"), marker.person_id());
  EXPECT_TRUE(others.count(marker.person_id()));
  EXPECT_FALSE(others.count(person.person_id()));
  // admin is the organisation's administrator, not a platform superuser: the same rule.
  auto admin = collect_until(stack.Token(kOtherTrust, "admin"), marker.person_id());
  EXPECT_TRUE(admin.count(marker.person_id()));
  EXPECT_FALSE(admin.count(person.person_id()));
  // Every batch delivered is audited, naming the people in it.
  EXPECT_NE(stack.Scalar("SELECT count(*) FROM core.audit WHERE action = 'WatchChanges' AND "
                         "org_code = '" + std::string(kOtherTrust) + "' AND person_id = '" +
                         marker.person_id() + "'"),
            "0");
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.audit WHERE action = 'WatchChanges' AND "
                         "person_id = '" + person.person_id() + "' AND org_code = '" +
                         std::string(kOtherTrust) + "'"),
            "0");
}

}  // namespace
}  // namespace icr::test
