// CarePlanService through a real gRPC channel against real PostgreSQL: versions and sign-offs,
// agree-time refusals, optimistic locking under concurrency, the S117 close guard, visibility,
// audit, the change feed, lists, and the plan in the integrated record.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <tuple>

#include "icr/v1/careplan.grpc.pb.h"
#include "services/careplan/care_plan.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using icr::v1::CarePlan;
using icr::v1::CarePlanSignOff;

constexpr char kTrust[] = "RGD";          // Leeds and York Partnership NHS FT: seeds the person
constexpr char kCouncil[] = "E08000035";  // Leeds: the person's council
constexpr char kIcb[] = "QWO";            // West Yorkshire: the person's ICB
constexpr char kOtherTrust[] = "RX4";     // no relationship with the person
constexpr char kListTrust[] = "RX3";      // key worker organisation in the list test only

std::string Date(int months_from_today) {
  return FormatDate(careplan::AddMonths(Today(), months_from_today));
}

// A complete plan as a client sends it (protobuf JSON, proto field names): PCSP and Care Act
// plan, optionally the S117 aftercare plan, with the key worker at key_worker_org.
CarePlan Plan(bool s117, const std::string& key_worker_org = kTrust, int review_months = 6) {
  return build::CarePlanContent(s117, key_worker_org, Date(review_months));
}

class CarePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nhs = NextNhsNumber();
    person = SeedPerson(kTrust, nhs);  // the trust recorded them; they live in Leeds
  }

  grpc::Status Create(const std::string& token, const CarePlan& plan, CarePlan* out,
                      const std::string& for_nhs = "") {
    icr::v1::CreateCarePlanRequest req;
    req.set_nhs_number(for_nhs.empty() ? nhs : for_nhs);
    *req.mutable_plan() = plan;
    return cp->CreateCarePlan(Ctx(token).get(), req, out);
  }
  // Creates or fails the test.
  CarePlan MustCreate(const CarePlan& plan, const std::string& for_nhs = "") {
    CarePlan out;
    auto s = Create(trust, plan, &out, for_nhs);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  grpc::Status Update(const std::string& token, const std::string& plan_id, int64_t expected,
                      const CarePlan& plan, CarePlan* out) {
    icr::v1::UpdateCarePlanRequest req;
    req.set_plan_id(plan_id);
    req.set_expected_version(expected);
    *req.mutable_plan() = plan;
    return cp->UpdateCarePlan(Ctx(token).get(), req, out);
  }
  grpc::Status Agree(const std::string& token, const std::string& plan_id, int64_t expected,
                     CarePlan* out,
                     CarePlanSignOff::Agency agency = CarePlanSignOff::AGENCY_UNSPECIFIED) {
    icr::v1::AgreeCarePlanRequest req;
    req.set_plan_id(plan_id);
    req.set_expected_version(expected);
    req.set_agency(agency);
    req.set_signed_by("Signatory");
    req.set_signer_role("Team manager");
    return cp->AgreeCarePlan(Ctx(token).get(), req, out);
  }
  // Agrees a plan that needs one sign-off (health), or both for an S117 plan.
  CarePlan MustAgree(const CarePlan& plan) {
    CarePlan out;
    auto s = Agree(trust, plan.plan_id(), plan.version(), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (out.status() == CarePlan::DRAFT) {
      s = Agree(council, plan.plan_id(), plan.version(), &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    EXPECT_EQ(out.status(), CarePlan::AGREED);
    return out;
  }
  grpc::Status Get(const std::string& token, const std::string& plan_id, int64_t version,
                   CarePlan* out, const std::map<std::string, std::string>& md = {}) {
    icr::v1::GetCarePlanRequest req;
    req.set_plan_id(plan_id);
    req.set_version(version);
    return cp->GetCarePlan(Ctx(token, md).get(), req, out);
  }
  grpc::Status Close(const std::string& token, const CarePlan& plan, CarePlan* out) {
    icr::v1::CloseCarePlanRequest req;
    req.set_plan_id(plan.plan_id());
    req.set_expected_version(plan.version());
    req.set_reason("Discharged from secondary mental health services");
    return cp->CloseCarePlan(Ctx(token).get(), req, out);
  }
  icr::v1::IntegratedRecord Record(const std::string& token) {
    icr::v1::GetIntegratedRecordRequest req;
    req.set_nhs_number(nhs);
    icr::v1::IntegratedRecord rec;
    auto s = stack.record()->GetIntegratedRecord(Ctx(token).get(), req, &rec);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rec;
  }
  std::string Sql(const std::string& sql) { return stack.Scalar(sql); }
  std::string PlanSql(const std::string& what, const std::string& plan_id) {
    return Sql("SELECT " + what + " FROM careplan.plan WHERE plan_id = '" + plan_id + "'");
  }

  // An S117 episode for the person, written straight into the register's table (the S117
  // service need not be running). Columns the register's schema has beyond the basic ones get
  // the values of a section 3 detention that ended with discharge from hospital.
  void InsertS117Episode(const std::string& person_id, const std::string& state) {
    const std::map<std::string, std::string> known = {{"person_id", person_id},
                                                      {"state", state},
                                                      {"responsible_council_code", kCouncil},
                                                      {"responsible_icb_code", kIcb},
                                                      {"qualifying_section", "S3"},
                                                      {"legal_status_code", "03"},
                                                      {"detention_start_date", "2025-01-06"},
                                                      {"detaining_provider_code", kTrust},
                                                      {"ceased_detained_date", "2025-03-01"},
                                                      {"left_hospital_date", "2025-03-01"}};
    pqxx::connection c(stack.database_url());
    pqxx::work tx(c);
    std::string columns, row;
    for (const auto& r :
         tx.exec("SELECT column_name, is_nullable = 'NO' AND column_default IS NULL "
                 "AND is_generated = 'NEVER' FROM information_schema.columns "
                 "WHERE table_schema = 's117' AND table_name = 'episode'")) {
      auto it = known.find(r[0].c_str());
      if (it == known.end()) {
        ASSERT_FALSE(r[1].as<bool>()) << "no test value for s117.episode." << r[0].c_str();
        continue;
      }
      columns += (columns.empty() ? "" : ", ") + it->first;
      row += (row.empty() ? "" : ", ") + tx.quote(it->second);
    }
    tx.exec("INSERT INTO s117.episode (" + columns + ") VALUES (" + row + ")");
    tx.commit();
  }

  Stack& stack = Stack::Get();
  std::unique_ptr<icr::v1::CarePlanService::Stub> cp =
      icr::v1::CarePlanService::NewStub(stack.channel());
  std::string trust = stack.Token(kTrust, "clinician");
  std::string council = stack.Token(kCouncil, "social_worker");
  std::string nhs;
  icr::v1::Person person;
};

TEST_F(CarePlanTest, CreateUpdateAndAgreeWithBothSignOffs) {
  CarePlan created = MustCreate(Plan(/*s117=*/true));
  EXPECT_EQ(created.version(), 1);
  EXPECT_EQ(created.status(), CarePlan::DRAFT);
  EXPECT_EQ(created.person_id(), person.person_id());
  EXPECT_EQ(created.key_worker().name(), "Alex Key");
  EXPECT_EQ(created.needs(0).determination().unable_outcomes_size(), 2);

  CarePlan edit = Plan(true);
  edit.mutable_about_me()->set_strengths("Good with people; keeps an allotment.");
  CarePlan updated;
  ASSERT_TRUE(Update(trust, created.plan_id(), 1, edit, &updated).ok());
  EXPECT_EQ(updated.version(), 2);
  EXPECT_EQ(updated.status(), CarePlan::DRAFT);

  // Health signs first: an S117 plan needs the council too, so it stays a DRAFT at version 2.
  CarePlan after_health;
  auto s = Agree(trust, created.plan_id(), 2, &after_health);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(after_health.status(), CarePlan::DRAFT);
  EXPECT_EQ(after_health.version(), 2);
  ASSERT_EQ(after_health.signoffs_size(), 1);
  EXPECT_EQ(after_health.signoffs(0).agency(), CarePlanSignOff::HEALTH);
  EXPECT_EQ(after_health.signoffs(0).organisation_code(), kTrust);

  // The same agency cannot sign twice, and a council cannot sign for health.
  CarePlan ignored;
  EXPECT_EQ(Agree(trust, created.plan_id(), 2, &ignored).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Agree(council, created.plan_id(), 2, &ignored, CarePlanSignOff::HEALTH).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The council signs the same version: now agreed, as version 3.
  CarePlan agreed;
  s = Agree(council, created.plan_id(), 2, &agreed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(agreed.status(), CarePlan::AGREED);
  EXPECT_EQ(agreed.version(), 3);
  EXPECT_EQ(agreed.agreed_version(), 3);
  EXPECT_TRUE(agreed.has_agreed_at());
  ASSERT_EQ(agreed.signoffs_size(), 2);
  EXPECT_EQ(agreed.signoffs(1).agency(), CarePlanSignOff::SOCIAL_CARE);
  EXPECT_EQ(agreed.signoffs(1).organisation_code(), kCouncil);
  EXPECT_EQ(agreed.signoffs(1).version(), 2);
  EXPECT_EQ(agreed.about_me().strengths(), "Good with people; keeps an allotment.");
  EXPECT_FALSE(agreed.review().light_touch_review_date().empty());  // a new Care Act plan
  EXPECT_EQ(
      Sql("SELECT count(*) FROM careplan.signoff WHERE plan_id = '" + created.plan_id() + "'"),
      "2");
  EXPECT_EQ(
      PlanSql("status || ' ' || agreed_version || ' ' || signed_version || ' ' || agreed_s117",
              created.plan_id()),
      "AGREED 3 2 true");
}

TEST_F(CarePlanTest, APlanThatIsNotS117NeedsOneSignOff) {
  CarePlan plan = MustCreate(Plan(false));
  CarePlan out;
  ASSERT_TRUE(Agree(council, plan.plan_id(), 1, &out).ok());
  EXPECT_EQ(out.status(), CarePlan::AGREED);
  EXPECT_EQ(out.version(), 2);
  ASSERT_EQ(out.signoffs_size(), 1);
  EXPECT_EQ(out.signoffs(0).agency(), CarePlanSignOff::SOCIAL_CARE);
}

TEST_F(CarePlanTest, AgreeIsRefusedNamingEveryMissingPartAndNothingChanges) {
  CarePlan minimal;
  minimal.set_is_nhs_pcsp(true);
  minimal.mutable_key_worker()->set_role("Care coordinator");
  minimal.mutable_key_worker()->set_organisation_code(kTrust);  // a role, but nobody named
  CarePlan plan = MustCreate(minimal);
  const std::string changes_before = Sql("SELECT count(*) FROM core.changes");
  const std::string audit_before = Sql("SELECT count(*) FROM core.audit");
  CarePlan out;
  auto s = Agree(trust, plan.plan_id(), 1, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message().rfind("cannot agree: ", 0), 0u) << s.error_message();
  for (const char* part :
       {"key_worker: required", "about_me.what_matters_to_me: required", "needs: at least one",
        "goals: at least one", "crisis_plan.warning_signs: required",
        "crisis_plan.contacts: at least one", "agreement: required",
        "review.next_review_date: required"}) {
    EXPECT_NE(s.error_message().find(part), std::string::npos)
        << part << " in " << s.error_message();
  }
  EXPECT_EQ(PlanSql("current_version || ' ' || status", plan.plan_id()), "1 DRAFT");
  EXPECT_EQ(Sql("SELECT count(*) FROM careplan.signoff WHERE plan_id = '" + plan.plan_id() + "'"),
            "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM core.changes"), changes_before);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit"), audit_before);
}

TEST_F(CarePlanTest, BadContentIsRefusedNamingTheFieldAndNothingIsWritten) {
  CarePlan one_outcome = Plan(false);
  one_outcome.mutable_needs(0)->mutable_determination()->mutable_unable_outcomes()->RemoveLast();
  CarePlan charged = Plan(true);
  charged.mutable_interventions(1)->set_client_charge_pence(1200);
  CarePlan no_wellbeing = Plan(false);
  no_wellbeing.mutable_needs(0)->mutable_determination()->set_significant_impact_on_wellbeing(
      false);
  const std::vector<std::pair<CarePlan, std::string>> cases = {
      {one_outcome, "plan.needs[0].determination.unable_outcomes:"},
      {no_wellbeing, "plan.needs[0].determination.significant_impact_on_wellbeing:"},
      {charged, "plan.interventions[1].client_charge_pence:"},
  };
  for (const auto& [plan, field] : cases) {
    CarePlan out;
    auto s = Create(trust, plan, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(s.error_message().rfind(field, 0), 0u) << s.error_message();
  }
  EXPECT_EQ(
      Sql("SELECT count(*) FROM careplan.plan WHERE person_id = '" + person.person_id() + "'"),
      "0");
}

TEST_F(CarePlanTest, OneOpenPlanPerPerson) {
  CarePlan first = MustCreate(Plan(false));
  CarePlan out;
  EXPECT_EQ(Create(trust, Plan(false), &out).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Close(trust, first, &out).ok());
  EXPECT_TRUE(Create(trust, Plan(false), &out).ok()) << "a closed plan makes room for a new one";
}

TEST_F(CarePlanTest, UpdatingAnAgreedPlanMakesANewDraftAndOldVersionsStayReadable) {
  CarePlan agreed = MustAgree(MustCreate(Plan(false)));
  ASSERT_EQ(agreed.version(), 2);
  CarePlan edit = Plan(false);
  edit.mutable_about_me()->set_what_matters_to_me("Starting a college course in September.");
  CarePlan draft;
  ASSERT_TRUE(Update(trust, agreed.plan_id(), 2, edit, &draft).ok());
  EXPECT_EQ(draft.version(), 3);
  EXPECT_EQ(draft.status(), CarePlan::DRAFT);
  EXPECT_EQ(draft.agreed_version(), 2) << "the agreed version stays in force";

  CarePlan v2, v1;
  ASSERT_TRUE(Get(council, agreed.plan_id(), 2, &v2).ok());
  EXPECT_EQ(v2.status(), CarePlan::AGREED);
  EXPECT_EQ(v2.about_me().what_matters_to_me(),
            "Getting back to my allotment and seeing my sister.");
  EXPECT_EQ(v2.current_version(), 3);
  EXPECT_EQ(v2.signoffs_size(), 1);
  ASSERT_TRUE(Get(council, agreed.plan_id(), 1, &v1).ok());
  EXPECT_EQ(v1.status(), CarePlan::DRAFT);
  CarePlan none;
  EXPECT_EQ(Get(council, agreed.plan_id(), 4, &none).error_code(), grpc::StatusCode::NOT_FOUND);

  icr::v1::ListCarePlanVersionsRequest req;
  req.set_plan_id(agreed.plan_id());
  icr::v1::ListCarePlanVersionsResponse versions;
  ASSERT_TRUE(cp->ListCarePlanVersions(Ctx(trust).get(), req, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 3);
  EXPECT_EQ(versions.versions(0).change(), "created");
  EXPECT_EQ(versions.versions(1).status(), CarePlan::AGREED);
  EXPECT_EQ(versions.versions(2).change(), "updated");
  EXPECT_EQ(versions.versions(0).signoffs_size(), 1);  // the draft that was signed
  req.mutable_page()->set_page_size(2);
  ASSERT_TRUE(cp->ListCarePlanVersions(Ctx(trust).get(), req, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 2);
  req.mutable_page()->set_page_token(versions.page().next_page_token());
  ASSERT_TRUE(cp->ListCarePlanVersions(Ctx(trust).get(), req, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 1);
  EXPECT_EQ(versions.versions(0).version(), 3);

  // Versions are immutable in the database too.
  EXPECT_THROW(Sql("UPDATE careplan.plan_version SET change = 'x' WHERE plan_id = '" +
                   agreed.plan_id() + "'"),
               pqxx::sql_error);
  EXPECT_THROW(Sql("DELETE FROM careplan.signoff WHERE plan_id = '" + agreed.plan_id() + "'"),
               pqxx::sql_error);
}

TEST_F(CarePlanTest, AStaleExpectedVersionIsAborted) {
  CarePlan plan = MustCreate(Plan(false));
  CarePlan out;
  ASSERT_TRUE(Update(trust, plan.plan_id(), 1, Plan(false), &out).ok());
  CarePlan stale = Plan(false);
  stale.mutable_about_me()->set_preferred_name("Stale");
  EXPECT_EQ(Update(council, plan.plan_id(), 1, stale, &out).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_EQ(Agree(council, plan.plan_id(), 1, &out).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(Close(trust, plan, &out).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(PlanSql("current_version", plan.plan_id()), "2");
  CarePlan current;
  ASSERT_TRUE(Get(trust, plan.plan_id(), 0, &current).ok());
  EXPECT_TRUE(current.about_me().preferred_name().empty());
}

TEST_F(CarePlanTest, OfTwoConcurrentUpdatesOfOneVersionExactlyOneSucceeds) {
  CarePlan plan = MustCreate(Plan(false));
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t expected = 1 + round;
    std::atomic<int> ok{0}, aborted{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        CarePlan edit = Plan(false);
        edit.mutable_about_me()->set_preferred_name("writer " + std::to_string(w));
        CarePlan out;
        auto s = Update(w == 0 ? trust : council, plan.plan_id(), expected, edit, &out);
        if (s.ok()) ++ok;
        if (s.error_code() == grpc::StatusCode::ABORTED) ++aborted;
      });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(aborted.load(), 1) << "round " << round;
  }
  EXPECT_EQ(PlanSql("current_version", plan.plan_id()), std::to_string(1 + kRounds));
  EXPECT_EQ(
      Sql("SELECT count(*) FROM careplan.plan_version WHERE plan_id = '" + plan.plan_id() + "'"),
      std::to_string(1 + kRounds));
}

TEST_F(CarePlanTest, AnS117PlanCannotCloseWhileTheEntitlementIsActive) {
  CarePlan agreed = MustAgree(MustCreate(Plan(true)));
  InsertS117Episode(person.person_id(), "ACTIVE");
  CarePlan out;
  auto s = Close(trust, agreed, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("S117 entitlement is active"), std::string::npos);
  EXPECT_EQ(PlanSql("status", agreed.plan_id()), "AGREED");

  // Nor by dropping the flag: the next agreed version must be the S117 plan too.
  CarePlan unflagged = Plan(false);
  ASSERT_TRUE(Update(trust, agreed.plan_id(), agreed.version(), unflagged, &out).ok());
  EXPECT_EQ(Close(trust, out, &out).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto refused = Agree(council, out.plan_id(), out.version(), &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("is_s117_aftercare_plan: required"), std::string::npos)
      << refused.error_message();

  // A PLANNED entitlement holds it open too; a plan that is not the S117 plan closes.
  const std::string other_nhs = NextNhsNumber();
  auto other = SeedPerson(kTrust, other_nhs);
  CarePlan planned = MustCreate(Plan(true), other_nhs);
  InsertS117Episode(other.person_id(), "PLANNED");
  EXPECT_EQ(Close(trust, planned, &out).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const std::string third_nhs = NextNhsNumber();
  auto third = SeedPerson(kTrust, third_nhs);
  CarePlan s117_no_episode = MustCreate(Plan(true), third_nhs);
  ASSERT_TRUE(Close(trust, s117_no_episode, &out).ok());
  EXPECT_EQ(out.status(), CarePlan::CLOSED);
}

TEST_F(CarePlanTest, CouncilTrustAndIcbWithARelationshipReadTheSamePlan) {
  CarePlan agreed = MustAgree(MustCreate(Plan(false)));
  CarePlan by_trust, by_council, by_icb;
  ASSERT_TRUE(Get(trust, agreed.plan_id(), 0, &by_trust).ok());
  ASSERT_TRUE(Get(council, agreed.plan_id(), 0, &by_council).ok());
  ASSERT_TRUE(Get(stack.Token(kIcb, "s117_officer"), agreed.plan_id(), 0, &by_icb).ok());
  EXPECT_EQ(by_trust.SerializeAsString(), by_council.SerializeAsString());
  EXPECT_EQ(by_trust.SerializeAsString(), by_icb.SerializeAsString());
  // And the council finds it by the person's NHS number.
  icr::v1::GetCarePlanRequest req;
  req.set_nhs_number(nhs);
  CarePlan by_nhs;
  ASSERT_TRUE(cp->GetCarePlan(Ctx(council).get(), req, &by_nhs).ok());
  EXPECT_EQ(by_nhs.plan_id(), agreed.plan_id());
  EXPECT_EQ(by_nhs.version(), agreed.version());
}

TEST_F(CarePlanTest, AnUnrelatedOrganisationGetsNotFoundAndTheAttemptIsAudited) {
  CarePlan plan = MustCreate(Plan(false));
  const auto other = stack.Token(kOtherTrust, "clinician");
  CarePlan out;
  auto s = Get(other, plan.plan_id(), 0, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  auto missing = Get(other, "00000000-0000-4000-8000-000000000000", 0, &out);
  EXPECT_EQ(missing.error_code(), s.error_code());
  EXPECT_EQ(missing.error_message(), s.error_message());
  EXPECT_EQ(Update(other, plan.plan_id(), 1, Plan(false), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit WHERE person_id = '" + person.person_id() +
                "' AND org_code = 'RX4' AND outcome = 'denied'"),
            "2");
  EXPECT_EQ(PlanSql("current_version", plan.plan_id()), "1");
  // Breaking glass opens a read, audited with its reason, but never a write.
  const std::map<std::string, std::string> glass = {{"x-break-glass-reason", "Crisis in ED"}};
  EXPECT_TRUE(Get(other, plan.plan_id(), 0, &out, glass).ok());
  EXPECT_EQ(Sql("SELECT break_glass_reason FROM core.audit WHERE org_code = 'RX4' AND outcome = "
                "'ok' AND action = 'GetCarePlan'"),
            "Crisis in ED");
  icr::v1::UpdateCarePlanRequest write;
  write.set_plan_id(plan.plan_id());
  write.set_expected_version(1);
  EXPECT_EQ(cp->UpdateCarePlan(Ctx(other, glass).get(), write, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Who may change a plan (architecture.md, Who may write): the organisations named in it and the
// person's responsible bodies. A trust that sees the person (an open referral) but has no role
// on the plan may read it and gets PERMISSION_DENIED for a change, audited; the person's council
// may change it.
TEST_F(CarePlanTest, OnlyOrganisationsNamedInThePlanOrResponsibleForThePersonChangeIt) {
  CarePlan plan = MustCreate(Plan(false));
  const auto other = stack.Token(kOtherTrust, "system");
  const auto referral =
      build::ReferralOpened(nhs, nhs + "/rx4-ref", nhs + "/RX4REF", kOtherTrust, "2026-01-05");
  ASSERT_TRUE(Send(other, {referral}).ok());
  CarePlan out;
  EXPECT_TRUE(Get(other, plan.plan_id(), 0, &out).ok()) << "it sees the person";
  auto changed = Update(other, plan.plan_id(), 1, Plan(false), &out);
  EXPECT_EQ(changed.error_code(), grpc::StatusCode::PERMISSION_DENIED) << changed.error_message();
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit WHERE person_id = '" + person.person_id() +
                "' AND org_code = '" + std::string(kOtherTrust) +
                "' AND action = 'UpdateCarePlan' AND outcome = 'denied'"),
            "1");
  EXPECT_EQ(PlanSql("current_version", plan.plan_id()), "1");
  // The person's council is responsible for them.
  EXPECT_TRUE(
      Update(stack.Token("E08000035", "social_worker"), plan.plan_id(), 1, Plan(false), &out).ok());
  EXPECT_EQ(PlanSql("current_version", plan.plan_id()), "2");
}

TEST_F(CarePlanTest, AnMdtRoleOnAnOpenPlanGivesVisibilityUntilThePlanCloses) {
  const auto other = stack.Token(kOtherTrust, "clinician");
  CarePlan plan = MustCreate(Plan(false));
  CarePlan out;
  ASSERT_EQ(Get(other, plan.plan_id(), 0, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  CarePlan with_mdt = Plan(false);
  auto* member = with_mdt.add_mdt_members();
  member->set_name("Dr Visiting");
  member->set_role("Consultant psychiatrist");
  member->set_organisation_code(kOtherTrust);
  ASSERT_TRUE(Update(trust, plan.plan_id(), 1, with_mdt, &out).ok());
  ASSERT_TRUE(Get(other, plan.plan_id(), 0, &out).ok());
  EXPECT_EQ(Sql("SELECT core.can_see('" + person.person_id() + "', 'RX4')"), "t");
  ASSERT_TRUE(Close(trust, out, &out).ok());
  EXPECT_EQ(Get(other, plan.plan_id(), 0, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CarePlanTest, APerformanceAnalystIsRefused) {
  CarePlan plan = MustCreate(Plan(false));
  const auto analyst = stack.Token(kTrust, "performance_analyst");
  CarePlan out;
  EXPECT_EQ(Get(analyst, plan.plan_id(), 0, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Create(analyst, Plan(false), &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  icr::v1::ListCarePlansRequest list;
  icr::v1::ListCarePlansResponse plans;
  EXPECT_EQ(cp->ListCarePlans(Ctx(analyst).get(), list, &plans).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("", plan.plan_id(), 0, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CarePlanTest, EveryCallIsAuditedAndEveryChangeIsOnTheFeed) {
  CarePlan plan = MustCreate(Plan(true));
  CarePlan out;
  ASSERT_TRUE(Update(trust, plan.plan_id(), 1, Plan(true), &out).ok());
  ASSERT_TRUE(Agree(trust, plan.plan_id(), 2, &out).ok());
  ASSERT_TRUE(Agree(council, plan.plan_id(), 2, &out).ok());
  ASSERT_TRUE(Get(council, plan.plan_id(), 0, &out).ok());
  const std::string audit =
      "SELECT string_agg(action || '/' || org_code, ',' ORDER BY audit_pk) FROM core.audit "
      "WHERE outcome = 'ok' AND action <> 'UpsertPerson' AND person_id = '" +
      person.person_id() + "'";
  EXPECT_EQ(Sql(audit),
            "CreateCarePlan/RGD,UpdateCarePlan/RGD,AgreeCarePlan/RGD,AgreeCarePlan/E08000035,"
            "GetCarePlan/E08000035");
  EXPECT_EQ(Sql("SELECT string_agg(change_type || '/' || org_code, ',' ORDER BY txid, seq) "
                "FROM core.changes WHERE entity = 'care_plan' AND entity_id = '" +
                plan.plan_id() + "'"),
            "created/RGD,updated/RGD,signed_off/RGD,agreed/E08000035");
  // Followers see it on WatchChanges like any other change about the person. The feed may lag
  // behind an open transaction elsewhere in the cluster, so read until all four arrive.
  // Delivery is at least once, so count distinct changes.
  std::set<int64_t> seen;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen.size() < 4 && std::chrono::steady_clock::now() < give_up) {
    icr::v1::WatchChangesRequest watch;
    auto ctx = Ctx(council);
    auto reader = stack.record()->WatchChanges(ctx.get(), watch);
    for (icr::v1::Change c; reader->Read(&c);) {
      if (c.entity() == "care_plan" && c.entity_id() == plan.plan_id()) seen.insert(c.seq());
    }
    EXPECT_TRUE(reader->Finish().ok());
    if (seen.size() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(CarePlanTest, ReviewsAreRecordedJointlyForAnS117Plan) {
  CarePlan agreed = MustAgree(MustCreate(Plan(true)));
  icr::v1::StartCarePlanReviewRequest start;
  start.set_plan_id(agreed.plan_id());
  start.set_expected_version(agreed.version());
  start.set_trigger(icr::v1::StartCarePlanReviewRequest::SCHEDULED);
  CarePlan under_review;
  ASSERT_TRUE(cp->StartReview(Ctx(council).get(), start, &under_review).ok());
  EXPECT_EQ(under_review.status(), CarePlan::UNDER_REVIEW);
  EXPECT_EQ(under_review.signoffs_size(), 2) << "still in force as agreed";

  icr::v1::RecordCarePlanReviewRequest record;
  record.set_plan_id(agreed.plan_id());
  record.set_expected_version(under_review.version());
  auto* r = record.mutable_review();
  r->set_review_date(FormatDate(Today()));
  auto* p1 = r->add_participants();
  p1->set_name("Alex Key");
  p1->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
  p1->set_organisation_code(kTrust);
  r->set_outcome(icr::v1::CarePlanReview::CONTINUE);
  r->set_next_review_date(Date(9));
  CarePlan out;
  auto health_only = cp->RecordReview(Ctx(trust).get(), record, &out);
  EXPECT_EQ(health_only.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << health_only.error_message();
  auto* p2 = r->add_participants();
  p2->set_name("Sam Social");
  p2->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
  p2->set_organisation_code(kCouncil);
  auto* me = r->add_participants();
  me->set_name("The person");
  me->set_kind(icr::v1::CarePlanParticipant::PERSON);
  ASSERT_TRUE(cp->RecordReview(Ctx(trust).get(), record, &out).ok());
  EXPECT_EQ(out.status(), CarePlan::AGREED);
  EXPECT_EQ(out.review().next_review_date(), Date(9));
  EXPECT_EQ(out.last_review().outcome(), icr::v1::CarePlanReview::CONTINUE);
  EXPECT_EQ(out.last_review().participants_size(), 3);
  EXPECT_EQ(out.agreed_version(), out.version());
  EXPECT_EQ(Sql("SELECT health_participated AND social_care_participated FROM careplan.review "
                "WHERE plan_id = '" +
                agreed.plan_id() + "'"),
            "t");
  EXPECT_EQ(PlanSql("next_review_date::text || ' ' || (last_review_date = current_date)",
                    agreed.plan_id()),
            Date(9) + " true");

  // A review that finds the plan must change opens a new draft; the agreed version stays.
  start.set_expected_version(out.version());
  ASSERT_TRUE(cp->StartReview(Ctx(trust).get(), start, &out).ok());
  record.set_expected_version(out.version());
  r->set_outcome(icr::v1::CarePlanReview::MODIFY);
  const int64_t agreed_version = out.agreed_version();
  ASSERT_TRUE(cp->RecordReview(Ctx(trust).get(), record, &out).ok());
  EXPECT_EQ(out.status(), CarePlan::DRAFT);
  EXPECT_EQ(out.agreed_version(), agreed_version);
  // Recording a review with none open is refused.
  record.set_expected_version(out.version());
  EXPECT_EQ(cp->RecordReview(Ctx(trust).get(), record, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CarePlanTest, ListCarePlansFiltersAndPages) {
  // Five people whose key worker is at another trust, reviews due 1 to 5 months from now.
  std::vector<std::string> ids;
  for (int m = 5; m >= 1; --m) {
    const std::string n = NextNhsNumber();
    SeedPerson(kTrust, n);
    ids.insert(ids.begin(), MustCreate(Plan(false, kListTrust, m), n).plan_id());
  }
  const auto lister = stack.Token(kListTrust, "clinician");  // sees them through the plans
  auto list = [&](icr::v1::ListCarePlansRequest req) {
    icr::v1::ListCarePlansResponse resp;
    auto s = cp->ListCarePlans(Ctx(lister).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  icr::v1::ListCarePlansRequest req;
  req.set_key_worker_organisation_code(kListTrust);
  req.mutable_page()->set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 4; ++page) {
    auto resp = list(req);
    for (const auto& h : resp.plans()) {
      seen.push_back(h.plan_id());
      EXPECT_EQ(h.key_worker().organisation_code(), kListTrust);
      EXPECT_EQ(h.key_worker().name(), "Alex Key");
      EXPECT_EQ(h.status(), CarePlan::DRAFT);
    }
    if (resp.page().next_page_token().empty()) break;
    req.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  EXPECT_EQ(seen, ids) << "all five, soonest review first, none twice";

  icr::v1::ListCarePlansRequest due;
  due.set_key_worker_organisation_code(kListTrust);
  due.set_review_due_before(FormatDate(*ParseDate(Date(3)) + std::chrono::days{1}));
  auto due_soon = list(due);
  ASSERT_EQ(due_soon.plans_size(), 3);
  EXPECT_EQ(due_soon.plans(2).plan_id(), ids[2]);

  // By person: the open plan, and with include_closed the closed ones too.
  CarePlan first = MustCreate(Plan(false));
  CarePlan out;
  ASSERT_TRUE(Close(trust, first, &out).ok());
  CarePlan second = MustCreate(Plan(false));
  icr::v1::ListCarePlansRequest by_person;
  by_person.set_nhs_number(nhs);
  icr::v1::ListCarePlansResponse resp;
  ASSERT_TRUE(cp->ListCarePlans(Ctx(council).get(), by_person, &resp).ok());
  ASSERT_EQ(resp.plans_size(), 1);
  EXPECT_EQ(resp.plans(0).plan_id(), second.plan_id());
  by_person.set_include_closed(true);
  ASSERT_TRUE(cp->ListCarePlans(Ctx(council).get(), by_person, &resp).ok());
  EXPECT_EQ(resp.plans_size(), 2);
  // Another organisation lists none of them.
  icr::v1::ListCarePlansResponse others;
  ASSERT_TRUE(
      cp->ListCarePlans(Ctx(stack.Token(kOtherTrust, "clinician")).get(), due, &others).ok());
  EXPECT_EQ(others.plans_size(), 0);
  due.mutable_page()->set_page_token("not-a-token");
  EXPECT_EQ(cp->ListCarePlans(Ctx(lister).get(), due, &others).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CarePlanTest, TheIntegratedRecordShowsTheActivePlan) {
  EXPECT_TRUE(Record(council).care_plan().plan_id().empty());
  CarePlan agreed = MustAgree(MustCreate(Plan(true)));
  auto summary = Record(council).care_plan();
  EXPECT_EQ(summary.plan_id(), agreed.plan_id());
  EXPECT_EQ(summary.version(), agreed.version());
  EXPECT_EQ(summary.status(), "AGREED");
  EXPECT_EQ(summary.key_worker().name(), "Alex Key");
  EXPECT_EQ(summary.key_worker().organisation_code(), kTrust);
  EXPECT_EQ(summary.next_review_date(), Date(6));
  EXPECT_TRUE(summary.is_s117_aftercare_plan());
  CarePlan out;
  ASSERT_TRUE(Close(trust, agreed, &out).ok());  // no S117 episode for this person
  EXPECT_TRUE(Record(council).care_plan().plan_id().empty());
}

// Out-of-range input is bad input naming its field (never another refusal, never INTERNAL) and
// writes nothing: enum numbers the proto does not define, versions beyond any stored one, dates
// after 2100 and money above £1,000,000 a week.
TEST_F(CarePlanTest, OutOfRangeInputIsInvalidArgumentNamingTheField) {
  const CarePlan agreed = MustAgree(MustCreate(Plan(false)));

  auto create = [&](std::function<void(CarePlan&)> change) {
    return [&, change] {
      CarePlan plan = Plan(false), out;
      change(plan);
      return Create(trust, plan, &out, NextNhsNumber());
    };
  };
  auto update = [&](int64_t expected_version, std::function<void(CarePlan&)> change) {
    return [&, expected_version, change] {
      CarePlan plan = Plan(false), out;
      change(plan);
      return Update(trust, agreed.plan_id(), expected_version, plan, &out);
    };
  };
  const std::vector<std::tuple<std::string, std::function<grpc::Status()>, std::string>> rows = {
      // Bad input before the plan's state (no review is open).
      {"unknown review outcome",
       [&] {
         icr::v1::RecordCarePlanReviewRequest req;
         req.set_plan_id(agreed.plan_id());
         req.set_expected_version(agreed.version());
         auto* r = req.mutable_review();
         r->set_review_date(FormatDate(Today()));
         auto* who = r->add_participants();
         who->set_name("Alex Key");
         who->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
         who->set_organisation_code(kTrust);
         r->set_outcome(static_cast<icr::v1::CarePlanReview::Outcome>(7));
         r->set_next_review_date(Date(9));
         CarePlan out;
         return cp->RecordReview(Ctx(trust).get(), req, &out);
       },
       "review.outcome"},
      {"version beyond int32", update(int64_t{1} << 31, [](CarePlan&) {}), "expected_version"},
      {"read version beyond int32",
       [&] {
         CarePlan out;
         return Get(trust, agreed.plan_id(), int64_t{1} << 33, &out);
       },
       "version"},
      {"goal after 2100",
       update(agreed.version(),
              [](CarePlan& p) { p.mutable_goals(0)->set_target_date("2101-01-01"); }),
       "plan.goals[0].target_date"},
      {"intervention ending after 2100",
       create([](CarePlan& p) { p.mutable_interventions(0)->set_end_date("2150-06-30"); }),
       "plan.interventions[0].end_date"},
      {"budget of 2^63-1 a week",
       create([](CarePlan& p) { p.mutable_personal_budget()->set_amount_pence(INT64_MAX); }),
       "plan.personal_budget.amount_pence"},
      {"budget split of 2^63-1", create([](CarePlan& p) {
         p.mutable_personal_budget()->set_council_amount_pence(INT64_MAX);
         p.mutable_personal_budget()->set_icb_amount_pence(INT64_MAX);
       }),
       "plan.personal_budget.council_amount_pence"},
      {"direct payment over £1m a week", create([](CarePlan& p) {
         p.mutable_personal_budget()->mutable_direct_payment()->set_amount_pence(100'000'001);
         p.mutable_personal_budget()->mutable_direct_payment()->set_frequency(
             icr::v1::CarePlanBudget::WEEKLY);
       }),
       "plan.personal_budget.direct_payment.amount_pence"},
      {"charge over £1m a week",
       create([](CarePlan& p) { p.mutable_interventions(0)->set_client_charge_pence(INT64_MAX); }),
       "plan.interventions[0].client_charge_pence"},
  };
  const std::string versions =
      Sql("SELECT count(*) FROM careplan.plan_version v JOIN careplan.plan p USING (plan_id) "
          "WHERE p.person_id = '" +
          person.person_id() + "'");
  const std::string plans = Sql("SELECT count(*) FROM careplan.plan");
  for (const auto& [what, call, field] : rows) {
    auto s = call();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << what << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind(field + ":", 0), 0u) << what << ": " << s.error_message();
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM careplan.plan_version v JOIN careplan.plan p USING "
                "(plan_id) WHERE p.person_id = '" +
                person.person_id() + "'"),
            versions);
  EXPECT_EQ(Sql("SELECT count(*) FROM careplan.plan"), plans);
}

}  // namespace
}  // namespace icr::test
