// Care plans with their real dates (issue 18), through real gRPC on a real PostgreSQL, each test
// on a database of its own: back-dated start, sign-off and review dates and their bounds, joint
// sign-off of a plan of any type and the other agency's late sign-off, the council a plan acts
// for, ImportCarePlans (stored, duplicate, refused, dry run), and the indicators that read the
// dates (PLAN12, S117_JOINT_PLAN, S117_PLAN_AT_DISCHARGE) with hand-worked answers.
#include <gtest/gtest.h>

#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/performance.grpc.pb.h"
#include "services/careplan/care_plan.h"
#include "services/common/auth.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using icr::v1::CarePlan;
using icr::v1::CarePlanSignOff;
using icr::v1::ImportRowResult;

constexpr char kTrust[] = "RGD";            // records the people
constexpr char kCouncil[] = "E08000035";    // Leeds: their council
constexpr char kActingFor[] = "E08000021";  // Newcastle: named only as the council acted for
constexpr char kUnrelated[] = "E08000012";  // Liverpool: nothing to do with them

Date Day(const std::string& iso) { return *ParseDate(iso); }
std::string Iso(Date d) { return FormatDate(d); }
std::string DaysAgo(int n) { return Iso(Today() - std::chrono::days{n}); }
std::string MonthsAfter(const std::string& iso, int months) {
  return Iso(careplan::AddMonths(Day(iso), months));
}

// A complete plan (tests/support/builders) whose next review is on next_review.
CarePlan Plan(bool s117, const std::string& next_review) {
  return build::CarePlanContent(s117, kTrust, next_review);
}

// A review of the plan on `date` with both agencies taking part, next due 6 months on.
icr::v1::CarePlanReview Review(const std::string& date) {
  icr::v1::CarePlanReview r;
  r.set_review_date(date);
  auto* a = r.add_participants();
  a->set_name("Jo Nurse");
  a->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
  a->set_organisation_code(kTrust);
  auto* b = r.add_participants();
  b->set_name("Sam Social");
  b->set_kind(icr::v1::CarePlanParticipant::PROFESSIONAL);
  b->set_organisation_code(kCouncil);
  r.set_outcome(icr::v1::CarePlanReview::CONTINUE);
  r.set_next_review_date(MonthsAfter(date, 6));
  return r;
}

CarePlanSignOff SignOff(CarePlanSignOff::Agency agency, const std::string& org,
                        const std::string& on) {
  CarePlanSignOff s;
  s.set_agency(agency);
  s.set_organisation_code(org);
  s.set_signed_by("Signatory");
  s.set_role("Team manager");
  s.set_signed_on(on);
  return s;
}

class PlanHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The expected figures are checked unrounded through the England-level view, which only a
    // national store shows unrounded (dashboard_pgtest tests a regional one).
    auto own =
        StartOwnStack("plans", {"record", "careplan", "performance"}, /*national_store=*/true);
    ASSERT_TRUE(own.ok()) << own.status();
    own_ = std::move(*own);
    record_ = icr::v1::RecordService::NewStub(own_.channel);
    cp_ = icr::v1::CarePlanService::NewStub(own_.channel);
    perf_ = icr::v1::PerformanceService::NewStub(own_.channel);
    trust_ = Token(kTrust, Role::kSystem);
    council_ = Token(kCouncil, Role::kSystem);
    // The last complete month: its indicators are worked out below.
    const auto ymd = std::chrono::year_month_day{Today()};
    const auto last = std::chrono::year_month{ymd.year(), ymd.month()} - std::chrono::months{1};
    char month[8];
    std::snprintf(month, sizeof month, "%04d-%02u", int(last.year()), unsigned(last.month()));
    month_ = month;
    period_end_ = Iso(std::chrono::sys_days{last.year() / last.month() / std::chrono::last});
    period_start_ = month_ + "-01";
  }

  std::string Token(const std::string& org, Role role) {
    auto t = Authenticator::CreateToken(*own_.db, org, role, "plan history test");
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // A person aged 40, born on 1 June, recorded by the trust; with an adult mental health
  // referral opened on `referral` when given.
  std::string Person(const std::string& referral = "") {
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs);
    const int year = int(std::chrono::year_month_day{Today()}.year());
    req.mutable_person()->set_date_of_birth(std::to_string(year - 40) + "-06-01");
    icr::v1::Person out;
    auto s = record_->UpsertPerson(Ctx(trust_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!referral.empty()) {
      const std::string id = "ref-" + nhs;
      EXPECT_TRUE(
          Send(trust_, {build::ReferralOpened(nhs, id, "R-" + id, kTrust, referral, "adult_mh")})
              .ok());
    }
    return nhs;
  }
  grpc::Status Send(const std::string& token, std::vector<icr::v1::Event> events) {
    icr::v1::RecordEventsRequest req;
    for (auto& e : events) *req.add_events() = e;
    icr::v1::RecordEventsResponse resp;
    return record_->RecordEvents(Ctx(token).get(), req, &resp);
  }

  grpc::Status Create(const std::string& token, const std::string& nhs, const CarePlan& plan,
                      const std::string& started_on, CarePlan* out) {
    icr::v1::CreateCarePlanRequest req;
    req.set_nhs_number(nhs);
    *req.mutable_plan() = plan;
    req.set_started_on(started_on);
    return cp_->CreateCarePlan(Ctx(token).get(), req, out);
  }
  CarePlan MustCreate(const std::string& nhs, const CarePlan& plan, const std::string& started) {
    CarePlan out;
    auto s = Create(trust_, nhs, plan, started, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  grpc::Status Agree(const std::string& token, const CarePlan& plan, const std::string& signed_on,
                     CarePlan* out, bool joint = false) {
    icr::v1::AgreeCarePlanRequest req;
    req.set_plan_id(plan.plan_id());
    req.set_expected_version(plan.version());
    req.set_signed_by("Signatory");
    req.set_signer_role("Team manager");
    req.set_signed_on(signed_on);
    req.set_joint(joint);
    return cp_->AgreeCarePlan(Ctx(token).get(), req, out);
  }
  // Health signs on `health_on`, then (an S117 plan, or a joint one) the council on council_on.
  CarePlan MustAgree(const CarePlan& plan, const std::string& health_on,
                     const std::string& council_on = "", bool joint = false) {
    CarePlan out;
    auto s = Agree(trust_, plan, health_on, &out, joint);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!council_on.empty()) {
      s = Agree(council_, out, council_on, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }
  grpc::Status Get(const std::string& token, const std::string& plan_id, CarePlan* out) {
    icr::v1::GetCarePlanRequest req;
    req.set_plan_id(plan_id);
    return cp_->GetCarePlan(Ctx(token).get(), req, out);
  }

  std::vector<ImportRowResult> Import(const std::string& token,
                                      const std::vector<icr::v1::CarePlanImportRow>& rows) {
    auto ctx = Ctx(token);
    auto stream = cp_->ImportCarePlans(ctx.get());
    for (const auto& r : rows) EXPECT_TRUE(stream->Write(r));
    stream->WritesDone();
    std::vector<ImportRowResult> out;
    ImportRowResult result;
    while (stream->Read(&result)) out.push_back(result);
    auto s = stream->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  // An imported S117 plan started on `started`, signed by health and the council on the days
  // given (empty: not signed), with the reviews given.
  icr::v1::CarePlanImportRow Row(int row, const std::string& ref, const std::string& nhs,
                                 const std::string& started, const std::string& health_on,
                                 const std::string& council_on,
                                 const std::vector<std::string>& reviews = {}) {
    icr::v1::CarePlanImportRow r;
    r.set_row(row);
    r.set_source_ref(ref);
    r.set_nhs_number(nhs);
    r.set_started_on(started);
    *r.mutable_plan() = Plan(true, MonthsAfter(std::max(health_on, council_on), 6));
    if (!health_on.empty()) *r.add_signoffs() = SignOff(CarePlanSignOff::HEALTH, kTrust, health_on);
    if (!council_on.empty()) {
      *r.add_signoffs() = SignOff(CarePlanSignOff::SOCIAL_CARE, kCouncil, council_on);
    }
    for (const auto& d : reviews) *r.add_reviews() = Review(d);
    return r;
  }

  void Compute() {
    icr::v1::ComputeIndicatorsRequest req;
    req.set_from_month(month_);
    icr::v1::ComputeIndicatorsResponse resp;
    auto s =
        perf_->ComputeIndicators(Ctx(Token("QWO", Role::kPerformanceAnalyst)).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The England-level total of one indicator for the month (unrounded).
  icr::v1::Figure Total(const std::string& id) {
    icr::v1::GetDashboardRequest req;
    req.set_month(month_);
    req.mutable_scope()->set_type("all");
    req.set_breakdown("none");
    icr::v1::Dashboard board;
    auto s = perf_->GetDashboard(Ctx(trust_).get(), req, &board);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const auto& f : board.figures()) {
      if (f.indicator_id() == id && f.breakdown_value().empty()) return f;
    }
    ADD_FAILURE() << "no figure for " << id;
    return {};
  }

  std::string Sql(const std::string& sql) { return ScalarAt(own_.url, sql); }
  std::string PersonId(const std::string& nhs) {
    return Sql("SELECT person_id FROM core.person WHERE nhs_number = '" + nhs + "'");
  }
  // An S117 entitlement (section 3, Leeds and QWO) ACTIVE from `from`.
  void Episode(const std::string& nhs, const std::string& from) {
    Sql("INSERT INTO s117.episode (person_id, state, qualifying_section, legal_status_code, "
        "detention_start_date, detaining_provider_code, ceased_detained_date, left_hospital_date, "
        "effective_from, responsible_council_code, responsible_icb_code, in_hospital) VALUES ('" +
        PersonId(nhs) + "', 'ACTIVE', 'S3', '03', DATE '" + from + "' - 30, 'RGD', DATE '" + from +
        "', DATE '" + from + "', DATE '" + from + "', 'E08000035', 'QWO', false)");
  }
  std::string Count(const std::string& table) { return Sql("SELECT count(*) FROM " + table); }

  OwnStack own_;
  std::unique_ptr<icr::v1::RecordService::Stub> record_;
  std::unique_ptr<icr::v1::CarePlanService::Stub> cp_;
  std::unique_ptr<icr::v1::PerformanceService::Stub> perf_;
  std::string trust_, council_;
  std::string month_, period_start_, period_end_;
};

TEST_F(PlanHistoryTest, BackDatedFactsAndTheirBounds) {
  const std::string nhs = Person();
  const std::string started = DaysAgo(400);
  CarePlan out;
  // Not in the future, not before birth; a clinician no more than 92 days back.
  auto s =
      Create(trust_, nhs, Plan(false, DaysAgo(200)), Iso(Today() + std::chrono::days{1}), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("started_on: ", 0), 0u) << s.error_message();
  s = Create(trust_, nhs, Plan(false, DaysAgo(200)), "1950-01-01", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message().rfind("started_on: before the person's birth", 0), 0u)
      << s.error_message();
  s = Create(Token(kTrust, Role::kClinician), nhs, Plan(false, DaysAgo(200)), DaysAgo(100), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("started_on: ", 0), 0u) << s.error_message();
  EXPECT_EQ(Count("careplan.plan"), "0");

  CarePlan plan = MustCreate(nhs, Plan(false, DaysAgo(200)), started);
  EXPECT_EQ(plan.started_on(), started);
  EXPECT_TRUE(plan.agreed_on().empty());
  // A sign-off cannot come before the plan's start.
  s = Agree(trust_, plan, DaysAgo(401), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message().rfind("signed_on: before the plan's start", 0), 0u)
      << s.error_message();
  // Agreed 350 days ago (the default rule: one sign-off); recorded now.
  CarePlan agreed = MustAgree(plan, DaysAgo(350));
  EXPECT_EQ(agreed.status(), CarePlan::AGREED);
  EXPECT_EQ(agreed.agreed_on(), DaysAgo(350));
  ASSERT_EQ(agreed.signoffs_size(), 1);
  EXPECT_EQ(agreed.signoffs(0).signed_on(), DaysAgo(350));
  EXPECT_FALSE(agreed.jointly_agreed());
  EXPECT_EQ(Sql("SELECT (agreed_at AT TIME ZONE 'Europe/London')::date::text FROM careplan.plan"),
            Iso(Today()));
  // The Care Act plan's first light-touch review is 6 weeks after the agreement, not today.
  EXPECT_EQ(agreed.review().light_touch_review_date(), DaysAgo(350 - 42));

  // A review: back-dated, but not before the plan's start.
  icr::v1::StartCarePlanReviewRequest start;
  start.set_plan_id(agreed.plan_id());
  start.set_expected_version(agreed.version());
  start.set_trigger(icr::v1::StartCarePlanReviewRequest::SCHEDULED);
  CarePlan reviewing;
  ASSERT_TRUE(cp_->StartReview(Ctx(trust_).get(), start, &reviewing).ok());
  icr::v1::RecordCarePlanReviewRequest review;
  review.set_plan_id(agreed.plan_id());
  review.set_expected_version(reviewing.version());
  *review.mutable_review() = Review(DaysAgo(500));
  s = cp_->RecordReview(Ctx(trust_).get(), review, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message().rfind("review.review_date: before the plan's start", 0), 0u)
      << s.error_message();
  *review.mutable_review() = Review(DaysAgo(20));
  s = cp_->RecordReview(Ctx(trust_).get(), review, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.last_review().review_date(), DaysAgo(20));
  EXPECT_EQ(out.agreed_on(), DaysAgo(350));  // a review does not move the agreement
}

TEST_F(PlanHistoryTest, JointSignOffOfADefaultPlanAndTheOtherAgencysLateSignOff) {
  // Joint: the default plan (one sign-off needed) waits for both agencies; agreed on the later
  // of the two days, whichever was recorded last.
  const std::string a = Person();
  CarePlan draft = MustCreate(a, Plan(false, DaysAgo(-100)), DaysAgo(60));
  CarePlan out;
  ASSERT_TRUE(Agree(trust_, draft, DaysAgo(30), &out, /*joint=*/true).ok());
  EXPECT_EQ(out.status(), CarePlan::DRAFT);
  EXPECT_EQ(out.version(), draft.version());
  ASSERT_TRUE(Agree(council_, out, DaysAgo(40), &out).ok());
  EXPECT_EQ(out.status(), CarePlan::AGREED);
  EXPECT_EQ(out.agreed_on(), DaysAgo(30));
  EXPECT_TRUE(out.jointly_agreed());
  EXPECT_EQ(out.signoffs_size(), 2);

  // Not joint: agreed on health's sign-off; the council signs the agreed plan later, joining the
  // sign-offs of the version in force without a new version; once only.
  const std::string b = Person();
  CarePlan plan = MustCreate(b, Plan(false, DaysAgo(-100)), DaysAgo(60));
  CarePlan agreed = MustAgree(plan, DaysAgo(20));
  EXPECT_EQ(agreed.status(), CarePlan::AGREED);
  EXPECT_FALSE(agreed.jointly_agreed());
  const std::string feed_before = Count("core.changes");
  const std::string audit_sql =
      "SELECT count(*) FROM core.audit WHERE action = 'AgreeCarePlan' AND outcome = 'ok'";
  const std::string audit_before = Sql(audit_sql);
  CarePlan late;
  auto s = Agree(council_, agreed, DaysAgo(10), &late);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(late.version(), agreed.version());
  EXPECT_EQ(late.status(), CarePlan::AGREED);
  EXPECT_TRUE(late.jointly_agreed());
  EXPECT_EQ(late.agreed_on(), DaysAgo(20));  // the agreement's day stays
  ASSERT_EQ(late.signoffs_size(), 2);
  EXPECT_EQ(late.signoffs(1).signed_on(), DaysAgo(10));
  EXPECT_EQ(std::stoi(Count("core.changes")), std::stoi(feed_before) + 1);
  EXPECT_EQ(std::stoi(Sql(audit_sql)), std::stoi(audit_before) + 1);
  s = Agree(council_, late, DaysAgo(5), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message().rfind("agency: social_care has already signed", 0), 0u)
      << s.error_message();
  s = Agree(trust_, late, DaysAgo(5), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // The list shows the same.
  icr::v1::ListCarePlansRequest list;
  list.set_nhs_number(b);
  icr::v1::ListCarePlansResponse plans;
  ASSERT_TRUE(cp_->ListCarePlans(Ctx(trust_).get(), list, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 1);
  EXPECT_EQ(plans.plans(0).agreed_on(), DaysAgo(20));
  EXPECT_TRUE(plans.plans(0).jointly_agreed());
}

TEST_F(PlanHistoryTest, TheCouncilAPlanActsForReadsAndChangesIt) {
  const std::string nhs = Person();
  CarePlan content = Plan(false, DaysAgo(-100));
  content.set_acting_for_council_code(kActingFor);
  CarePlan plan = MustCreate(nhs, content, "");
  CarePlan out;
  auto s = Get(Token(kActingFor, Role::kSocialWorker), plan.plan_id(), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.acting_for_council_code(), kActingFor);
  // And may change it (architecture.md, Who may write: the council it acts for).
  icr::v1::UpdateCarePlanRequest update;
  update.set_plan_id(plan.plan_id());
  update.set_expected_version(plan.version());
  *update.mutable_plan() = content;
  update.mutable_plan()->mutable_about_me()->set_strengths("Keeps an allotment.");
  s = cp_->UpdateCarePlan(Ctx(Token(kActingFor, Role::kSocialWorker)).get(), update, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.version(), 2);
  // A council with nothing to do with the person still sees nothing.
  s = Get(Token(kUnrelated, Role::kSocialWorker), plan.plan_id(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PlanHistoryTest, ImportStoresRefusesFindsDuplicatesAndDryRuns) {
  const std::string a = Person(), b = Person(), c = Person();
  // a: an S117 plan started 3 years ago, signed by health then the council (agreed on the
  // council's day, by the rule of two sign-offs), reviewed twice (given newest first).
  const std::string started = DaysAgo(1100), health = DaysAgo(1000), council = DaysAgo(990);
  auto stored = Row(1, "SYS-1", a, started, health, council, {DaysAgo(500), DaysAgo(800)});
  auto results = Import(trust_, {stored});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].row(), 1);
  ASSERT_EQ(results[0].outcome(), ImportRowResult::STORED) << results[0].message();
  CarePlan plan;
  ASSERT_TRUE(Get(trust_, results[0].id(), &plan).ok());
  EXPECT_EQ(plan.source_ref(), "SYS-1");
  EXPECT_EQ(plan.started_on(), started);
  EXPECT_EQ(plan.agreed_on(), council);
  EXPECT_TRUE(plan.jointly_agreed());
  EXPECT_EQ(plan.status(), CarePlan::AGREED);
  EXPECT_EQ(plan.last_review().review_date(), DaysAgo(500));
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit WHERE action = 'ImportCarePlans'"), "1");

  // Rerunning the row changes nothing: a DUPLICATE naming the plan.
  const std::string versions = Count("careplan.plan_version");
  const std::string feed = Count("core.changes");
  stored.set_row(7);
  results = Import(trust_, {stored});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].row(), 7);
  EXPECT_EQ(results[0].outcome(), ImportRowResult::DUPLICATE);
  EXPECT_EQ(results[0].id(), plan.plan_id());
  EXPECT_EQ(Count("careplan.plan_version"), versions);
  EXPECT_EQ(Count("core.changes"), feed);

  // Refused rows change nothing, each naming its field; a dry run stores nothing; results come
  // back in order.
  auto changed = Row(2, "SYS-1", a, started, health, DaysAgo(980));
  auto future = Row(3, "SYS-2", b, started, Iso(Today() + std::chrono::days{3}), council);
  auto before_start = Row(4, "SYS-3", b, started, DaysAgo(1200), council);
  auto no_ref = Row(5, "", b, started, health, council);
  auto nobody = Row(6, "SYS-4", NextNhsNumber(), started, health, council);
  auto dry = Row(8, "SYS-5", c, started, health, council);
  dry.set_dry_run(true);
  results = Import(trust_, {changed, future, before_start, no_ref, nobody, dry});
  ASSERT_EQ(results.size(), 6u);
  const std::vector<std::tuple<int, ImportRowResult::Outcome, int, std::string>> expected = {
      {2, ImportRowResult::REFUSED, grpc::StatusCode::FAILED_PRECONDITION, "source_ref"},
      {3, ImportRowResult::REFUSED, grpc::StatusCode::INVALID_ARGUMENT, "signoffs[0].signed_on"},
      {4, ImportRowResult::REFUSED, grpc::StatusCode::FAILED_PRECONDITION, "signoffs[0].signed_on"},
      {5, ImportRowResult::REFUSED, grpc::StatusCode::INVALID_ARGUMENT, "source_ref"},
      {6, ImportRowResult::REFUSED, grpc::StatusCode::NOT_FOUND, "nhs_number"},
      {8, ImportRowResult::VALID, 0, ""}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [row, outcome, code, field] = expected[i];
    EXPECT_EQ(results[i].row(), row);
    EXPECT_EQ(results[i].outcome(), outcome) << row << ": " << results[i].message();
    EXPECT_EQ(results[i].code(), code) << row;
    EXPECT_EQ(results[i].field(), field) << row << ": " << results[i].message();
  }
  EXPECT_EQ(results[0].id(), plan.plan_id());  // the plan imported under that reference
  EXPECT_TRUE(results[5].id().empty());        // a dry run stores no plan
  EXPECT_EQ(Count("careplan.plan"), "1");
  EXPECT_EQ(Count("careplan.plan_version"), versions);
  EXPECT_EQ(Count("core.changes"), feed);

  // A plan whose sign-offs are incomplete stays a DRAFT; a person with an open plan is refused.
  results = Import(trust_, {Row(9, "SYS-6", b, started, health, ""),
                            Row(10, "SYS-7", b, started, health, council)});
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[0].outcome(), ImportRowResult::STORED) << results[0].message();
  ASSERT_TRUE(Get(trust_, results[0].id(), &plan).ok());
  EXPECT_EQ(plan.status(), CarePlan::DRAFT);
  EXPECT_TRUE(plan.agreed_on().empty());
  EXPECT_EQ(results[1].outcome(), ImportRowResult::REFUSED);
  EXPECT_EQ(results[1].field(), "nhs_number");

  // A clinician imports only within the live back-dating limit.
  results =
      Import(Token(kTrust, Role::kClinician), {Row(11, "SYS-8", c, started, health, council)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome(), ImportRowResult::REFUSED);
  EXPECT_EQ(results[0].field(), "started_on");
}

// PLAN12 for the last complete month, period end E: people with an adult mental health referral
// open since more than 12 months before E.
//   A: plan loaded now but agreed 14 months before E (live, back-dated) -> not counted
//   B: plan imported, agreed 11 months before E                         -> counted
//   C: no plan                                                          -> not counted
// Numerator 1, denominator 3. (Before real dates neither plan counted: both were "agreed" on
// the day they were loaded, after E; and a plan loaded within 12 months of a period end would
// have counted however long ago it was agreed.)
TEST_F(PlanHistoryTest, Plan12CountsPlansByTheDayTheyWereAgreed) {
  const std::string referral = MonthsAfter(period_end_, -20);
  const std::string a = Person(referral), b = Person(referral);
  Person(referral);
  const std::string a_agreed = MonthsAfter(period_end_, -14);
  CarePlan plan = MustCreate(a, Plan(false, MonthsAfter(a_agreed, 6)), MonthsAfter(a_agreed, -1));
  EXPECT_EQ(MustAgree(plan, a_agreed).agreed_on(), a_agreed);
  const std::string b_agreed = MonthsAfter(period_end_, -11);
  auto results = Import(trust_, {Row(1, "B-1", b, MonthsAfter(b_agreed, -1), b_agreed, b_agreed)});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome(), ImportRowResult::STORED) << results[0].message();
  Compute();
  const auto p12 = Total("PLAN12");
  EXPECT_EQ(p12.numerator(), "1");
  EXPECT_EQ(p12.denominator(), "3");
}

// S117_JOINT_PLAN at period end E: entitlements in force for 28 days or more.
//   X: S117 plan agreed jointly 13 months before E, never reviewed  -> not counted
//   Y: S117 plan agreed jointly 2 months before E                   -> counted
// Numerator 1, denominator 2. (Before real dates both plans were agreed "today", after E: 0.)
// S117_PLAN_AT_DISCHARGE for the month: entitlements that came into force in it.
//   P: in force from the 10th; S117 plan agreed (both signed) on the 1st  -> counted
//   Q: in force from the 10th; S117 plan agreed on the 15th               -> not counted
// Numerator 1, denominator 2. (Before real dates neither counted: both "agreed" today.)
TEST_F(PlanHistoryTest, S117PlanIndicatorsUseTheAgreementDay) {
  const std::string x = Person(), y = Person();
  Episode(x, MonthsAfter(period_end_, -18));
  Episode(y, MonthsAfter(period_end_, -18));
  const std::string x_agreed = MonthsAfter(period_end_, -13);
  const std::string y_agreed = MonthsAfter(period_end_, -2);
  for (const auto& [nhs, on] : {std::pair{x, x_agreed}, std::pair{y, y_agreed}}) {
    CarePlan plan = MustCreate(nhs, Plan(true, MonthsAfter(on, 6)), MonthsAfter(on, -1));
    CarePlan agreed = MustAgree(plan, on, on);
    EXPECT_EQ(agreed.status(), CarePlan::AGREED);
    EXPECT_TRUE(agreed.jointly_agreed());
  }

  const std::string p = Person(), q = Person();
  const std::string in_force = month_ + "-10";
  Episode(p, in_force);
  Episode(q, in_force);
  CarePlan plan = MustCreate(p, Plan(true, MonthsAfter(in_force, 6)), month_ + "-01");
  EXPECT_EQ(MustAgree(plan, month_ + "-01", month_ + "-01").agreed_on(), month_ + "-01");
  plan = MustCreate(q, Plan(true, MonthsAfter(in_force, 6)), month_ + "-01");
  EXPECT_EQ(MustAgree(plan, month_ + "-02", month_ + "-15").agreed_on(), month_ + "-15");

  Compute();
  const auto joint = Total("S117_JOINT_PLAN");
  EXPECT_EQ(joint.numerator(), "1");
  EXPECT_EQ(joint.denominator(), "2");
  const auto discharge = Total("S117_PLAN_AT_DISCHARGE");
  EXPECT_EQ(discharge.numerator(), "1");
  EXPECT_EQ(discharge.denominator(), "2");
}

}  // namespace
}  // namespace icr::test
