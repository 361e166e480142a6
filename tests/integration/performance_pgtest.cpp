// Indicators computed over small hand-built datasets sent through RecordService, recomputed
// through PerformanceService and read back from GetDashboard. Each test has its own database,
// so the expected figures are exactly those worked out in its comments.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "icr/v1/performance.grpc.pb.h"
#include "services/common/auth.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using google::protobuf::util::TimeUtil;

constexpr char kTrust[] = "RGD";
constexpr char kCouncil[] = "E08000035";  // Leeds
constexpr char kMonth[] = "2026-10";      // period 2026-10-01 .. 2026-10-31

int64_t At(const std::string& date, int hour = 12) {
  google::protobuf::Timestamp ts;
  EXPECT_TRUE(TimeUtil::FromString(
      date + "T" + (hour < 10 ? "0" : "") + std::to_string(hour) + ":00:00Z", &ts));
  return ts.seconds();
}

class KpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The expected figures are checked unrounded through the England-level view, which only a
    // national store shows unrounded (dashboard_pgtest tests a regional one).
    // The performance service's reads on read-only sessions, as on a replica: every test here
    // also checks that dashboards, series, CSV and the recompute's reads write nothing there.
    auto own = StartOwnStack("kpi", {"record", "performance"}, /*national_store=*/true,
                             /*read_only_reads=*/true);
    ASSERT_TRUE(own.ok()) << own.status();
    url_ = own->url;
    db_ = std::move(own->db);
    read_db_ = std::move(own->read_db);
    host_ = std::move(own->host);
    channel_ = own->channel;
    record_ = icr::v1::RecordService::NewStub(channel_);
    perf_ = icr::v1::PerformanceService::NewStub(channel_);
    trust_ = Token(kTrust, Role::kSystem);
    council_ = Token(kCouncil, Role::kSocialWorker);
  }

  std::string Token(const std::string& org, Role role) {
    auto t = Authenticator::CreateToken(*db_, org, role, "kpi test");
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // A person aged `age` on 2026-10-31 (born 1 June), with the given ethnic category.
  std::string Person(int age = 40, const std::string& ethnicity = "A") {
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs);
    req.mutable_person()->set_date_of_birth(std::to_string(2026 - age) + "-06-01");
    req.mutable_person()->set_ethnic_category(ethnicity);
    icr::v1::Person out;
    auto s = record_->UpsertPerson(Ctx(trust_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return nhs;
  }

  // A new event id: "ev-1", "ev-2", ...
  std::string NextId() { return "ev-" + std::to_string(++event_seq_); }

  void Send(std::vector<icr::v1::Event> events) {
    icr::v1::RecordEventsRequest req;
    for (auto& e : events) *req.add_events() = e;
    icr::v1::RecordEventsResponse resp;
    // Each organisation records its own events: Care Act and carers' events are the council's.
    const bool council =
        !events.empty() && (events[0].has_care_act() || events[0].has_carer_assessment());
    auto s = record_->RecordEvents(Ctx(council ? council_ : trust_).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The test's events (tests/support/builders.h), each with the next event id.
  icr::v1::Event Admit(const std::string& nhs, const std::string& spell, const std::string& date,
                       const std::string& bed = "200") {
    return build::Admission(nhs, NextId(), spell, kTrust, At(date, 9), bed);
  }
  icr::v1::Event Discharge(const std::string& nhs, const std::string& spell,
                           const std::string& date, const std::string& destination = "19") {
    return build::Discharge(nhs, NextId(), spell, At(date), destination);
  }
  icr::v1::Event Contact(const std::string& nhs, const std::string& date,
                         const std::string& mechanism = "01") {
    const std::string id = NextId();
    return build::CareContact(nhs, id, id, date, mechanism);
  }
  icr::v1::Event Died(const std::string& nhs, const std::string& date) {
    return build::Death(nhs, NextId(), date);
  }
  icr::v1::Event Referral(const std::string& nhs, const std::string& opened,
                          const std::string& area = "adult_mh") {
    const std::string id = NextId();
    return build::ReferralOpened(nhs, id, "R-" + id, kTrust, opened, area);
  }
  icr::v1::Event CloseReferral(const icr::v1::Event& opened, const std::string& date) {
    return build::ReferralClosed(opened.nhs_number(), NextId(),
                                 opened.referral_opened().referral_id(), date);
  }
  icr::v1::Event Status(const std::string& nhs, bool employment, const std::string& code,
                        const std::string& date) {
    return employment ? build::EmploymentStatus(nhs, NextId(), code, date)
                      : build::AccommodationStatus(nhs, NextId(), code, date);
  }
  icr::v1::Event KeyWorker(const std::string& nhs, const std::string& start) {
    const std::string id = NextId();
    return build::KeyWorkerAssigned(nhs, id, "KW-" + id,
                                    build::Staff("Alex Morgan", "Care coordinator", kTrust), start);
  }
  icr::v1::Event EndKeyWorker(const icr::v1::Event& assigned, const std::string& date) {
    return build::KeyWorkerEnded(assigned.nhs_number(), NextId(),
                                 assigned.key_worker_assigned().assignment_id(), date);
  }
  icr::v1::Event Detention(const std::string& nhs, const std::string& code,
                           const std::string& start) {
    const std::string id = NextId();
    return build::DetentionStart(nhs, id, "D-" + id, code, kTrust, At(start, 10));
  }
  icr::v1::Event EndDetention(const icr::v1::Event& started, const std::string& date) {
    return build::DetentionEnd(started.nhs_number(), NextId(),
                               started.detention_start().detention_id(), At(date, 10));
  }
  icr::v1::Event CareAct(const std::string& nhs, icr::v1::CareActEvent::Kind kind,
                         const std::string& start, const std::string& end,
                         const std::string& delivery = "",
                         const std::string& reason = "Mental Health Support") {
    const std::string id = NextId();
    auto e = build::CareAct(nhs, id, "CA-" + id, kind, kCouncil, start);
    auto* c = e.mutable_care_act();
    c->set_end_date(end);
    if (kind == icr::v1::CareActEvent::SERVICE) {
      c->set_service_type("Long term support: Community");
      c->set_primary_support_reason(reason);
      c->set_delivery_mechanism(delivery);
    }
    return e;
  }

  void Compute(const std::string& month = kMonth) {
    icr::v1::ComputeIndicatorsRequest req;
    req.set_from_month(month);
    icr::v1::ComputeIndicatorsResponse resp;
    auto s =
        perf_->ComputeIndicators(Ctx(Token("QWO", Role::kPerformanceAnalyst)).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  icr::v1::Dashboard Board(const std::string& token, const std::string& scope_type = "all",
                           const std::string& scope_code = "",
                           const std::string& breakdown = "none") {
    icr::v1::GetDashboardRequest req;
    req.set_month(kMonth);
    req.mutable_scope()->set_type(scope_type);
    req.mutable_scope()->set_code(scope_code);
    req.set_breakdown(breakdown);
    icr::v1::Dashboard d;
    auto s = perf_->GetDashboard(Ctx(token).get(), req, &d);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return d;
  }

  // The month's ExportCsv for a scope, as one string.
  std::string Csv(const std::string& token, const std::string& scope_type,
                  const std::string& scope_code = "") {
    icr::v1::ExportCsvRequest req;
    req.set_from_month(kMonth);
    req.mutable_scope()->set_type(scope_type);
    req.mutable_scope()->set_code(scope_code);
    auto ctx = Ctx(token);
    auto reader = perf_->ExportCsv(ctx.get(), req);
    std::string csv;
    icr::v1::CsvChunk chunk;
    while (reader->Read(&chunk)) csv += chunk.text();
    auto status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return csv;
  }

  // One indicator's figures in a dashboard, breakdown value -> value, in the order given.
  static std::vector<std::pair<std::string, std::string>> Values(const icr::v1::Dashboard& board,
                                                                 const std::string& id) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : board.figures()) {
      if (f.indicator_id() == id) out.emplace_back(f.breakdown_value(), f.value());
    }
    return out;
  }

  // The England-level total of one indicator (unrounded).
  icr::v1::Figure Total(const std::string& id) {
    const auto board = Board(trust_);
    for (const auto& f : board.figures()) {
      if (f.indicator_id() == id && f.breakdown_value().empty()) return f;
    }
    ADD_FAILURE() << "no figure for " << id;
    return {};
  }

  // Runs SQL against this test's database (hand-built register and plan rows); returns the
  // first value of the first row.
  std::string Sql(const std::string& sql) {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    auto r = tx.exec(sql);
    tx.commit();
    return r.empty() || r[0].empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }
  std::string PersonId(const std::string& nhs) {
    return Sql("SELECT person_id FROM core.person WHERE nhs_number = '" + nhs + "'");
  }
  // An S117 episode for the person with the given state and dates (NULL for none), qualifying
  // section and its legal status code; in force from `from`.
  std::string Episode(const std::string& nhs, const std::string& state, const std::string& from,
                      const std::string& ended_on = "NULL", const std::string& section = "S3",
                      const std::string& legal_status = "03") {
    return Sql(
        "INSERT INTO s117.episode (person_id, state, qualifying_section, legal_status_code, "
        "detention_start_date, detaining_provider_code, ceased_detained_date, left_hospital_date, "
        "effective_from, responsible_council_code, responsible_icb_code, ended_on, in_hospital) "
        "VALUES ('" +
        PersonId(nhs) + "', '" + state + "', '" + section + "', '" + legal_status + "', DATE '" +
        from + "' - 30, 'RGD', DATE '" + from + "', DATE '" + from + "', DATE '" + from +
        "', 'E08000035', 'QWO', " + ended_on + ", false) RETURNING episode_id");
  }
  // A joint S117 review of an episode on `date` setting the next one due on `next_due`.
  void Review(const std::string& episode, const std::string& date, const std::string& next_due) {
    Sql("INSERT INTO s117.review (episode_id, review_date, council_rep_name, council_rep_role, "
        "council_rep_org, health_rep_name, health_rep_role, health_rep_org, person_involvement, "
        "outcome, next_review_due, recorded_by_org, council_attendance, health_attendance) "
        "VALUES ('" +
        episode + "', '" + date +
        "', 'A Council', 'Social worker', 'E08000035', 'B Health', 'Nurse', 'RGD', 'ATTENDED', "
        "'CONTINUE', '" +
        next_due + "', 'E08000035', 'ATTENDED', 'ATTENDED')");
  }
  // One body's decision (COUNCIL by Leeds, or ICB by QWO) that an episode's aftercare can end.
  void EndDecision(const std::string& episode, const std::string& body, const std::string& date) {
    const std::string org = body == "COUNCIL" ? kCouncil : "QWO";
    Sql("INSERT INTO s117.end_decision (episode_id, body, body_code, decider_name, decider_role, "
        "decision_date, primary_reason, reason_text, person_involvement, recorded_by_org) "
        "SELECT '" +
        episode + "', '" + body + "', '" + org + "', 'C Lead', 'S117 lead', '" + date +
        "', code, 'needs met', 'ATTENDED', '" + org +
        "' FROM s117.end_reason WHERE allowed_as_primary LIMIT 1");
  }

  std::string url_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Database> read_db_;
  std::unique_ptr<Host> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<icr::v1::RecordService::Stub> record_;
  std::unique_ptr<icr::v1::PerformanceService::Stub> perf_;
  std::string trust_, council_;
  int event_seq_ = 0;
};

// Negative control for the read-only read pool of every test here: it refuses a write, so the
// other tests' dashboards and recomputes did not write through it.
TEST_F(KpiTest, ReadPoolRefusesWrites) {
  absl::Status s = read_db_->Write([](pqxx::work& tx) {
    tx.exec("CREATE TEMP TABLE read_pool_probe (x int)");
    return absl::OkStatus();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(db_->Write([](pqxx::work& tx) {
                   tx.exec("CREATE TEMP TABLE read_pool_probe (x int)");
                   return absl::OkStatus();
                 })
                  .ok());
}

TEST_F(KpiTest, FollowUpWithin72Hours) {
  // October's window is discharges from 27 September to 27 October.
  // A: contact on day 2 -> numerator.
  auto a = Person();
  Send({Admit(a, "A", "2026-10-01"), Discharge(a, "A", "2026-10-10"), Contact(a, "2026-10-12")});
  // B: contact on the day of discharge only -> denominator, not numerator.
  auto b = Person();
  Send({Admit(b, "B", "2026-10-01"), Discharge(b, "B", "2026-10-10"), Contact(b, "2026-10-10")});
  // C: died 2 days after discharge -> removed from the denominator.
  auto c = Person();
  Send({Admit(c, "C", "2026-10-01"), Discharge(c, "C", "2026-10-10"), Died(c, "2026-10-12")});
  // D: first contact on day 4 -> denominator only.
  auto d = Person();
  Send({Admit(d, "D", "2026-10-01"), Discharge(d, "D", "2026-10-10"), Contact(d, "2026-10-14")});
  // E: not an adult acute bed (203, low secure) -> excluded.
  auto e = Person();
  Send({Admit(e, "E", "2026-10-01", "203"), Discharge(e, "E", "2026-10-10"),
        Contact(e, "2026-10-11")});
  // F: discharged to a penal establishment (40) -> excluded.
  auto f = Person();
  Send({Admit(f, "F", "2026-10-01"), Discharge(f, "F", "2026-10-10", "40"),
        Contact(f, "2026-10-11")});
  // G: discharged on 29 October, after the window -> belongs to November.
  auto g = Person();
  Send({Admit(g, "G", "2026-10-20"), Discharge(g, "G", "2026-10-29"), Contact(g, "2026-10-30")});
  // H: readmitted on day 2 -> counts as followed up.
  auto h = Person();
  Send(
      {Admit(h, "H", "2026-10-01"), Discharge(h, "H", "2026-10-10"), Admit(h, "H2", "2026-10-12")});
  // I: only an email on day 1 -> denominator only.
  auto i = Person();
  Send({Admit(i, "I", "2026-10-01"), Discharge(i, "I", "2026-10-10"),
        Contact(i, "2026-10-11", "05")});
  Compute();
  // Denominator A, B, D, H, I = 5; numerator A, H = 2; 40%.
  auto fu = Total("FU72");
  EXPECT_EQ(fu.numerator(), "2");
  EXPECT_EQ(fu.denominator(), "5");
  EXPECT_DOUBLE_EQ(fu.raw_value(), 40.0);
  EXPECT_TRUE(fu.has_target());
  EXPECT_DOUBLE_EQ(fu.target(), 80.0);
}

TEST_F(KpiTest, EmploymentAccommodationAndKeyWorker) {
  // Period end 2026-10-31; the 12-month window is 1 Nov 2025 to 31 Oct 2026.
  auto p1 = Person(40);  // employed, settled, key worker: in every numerator
  auto r1 = Referral(p1, "2025-01-10");
  Send({r1, Status(p1, true, "01", "2026-05-01"), Status(p1, false, "02", "2026-04-01"),
        KeyWorker(p1, "2025-02-01")});
  auto p2 = Person(40);  // employment recorded 13 months ago: stays in the denominator only
  auto r2 = Referral(p2, "2025-01-10");
  auto kw2 = KeyWorker(p2, "2025-02-01");
  Send({r2, Status(p2, true, "01", "2025-09-30"), Status(p2, false, "12", "2026-04-01"), kw2,
        EndKeyWorker(kw2, "2026-09-01")});
  auto p3 = Person(70);  // aged 70: outside the 18-69 measures, inside KEYWORKER
  Send({Referral(p3, "2025-01-10"), Status(p3, true, "01", "2026-05-01")});
  auto p4 = Person(40);  // referral closed before period end: in nothing
  auto r4 = Referral(p4, "2025-01-10");
  Send({r4, CloseReferral(r4, "2026-09-01"), Status(p4, true, "01", "2026-05-01")});
  auto p5 = Person(40);  // latest status 02 although an earlier one was 01
  Send({Referral(p5, "2025-01-10"), Status(p5, true, "01", "2026-03-01"),
        Status(p5, true, "02", "2026-06-01"), KeyWorker(p5, "2026-11-05")});
  auto p6 = Person(40);  // older-adult service area: not adult mental health
  Send({Referral(p6, "2025-01-10", "older_adult"), Status(p6, true, "01", "2026-05-01")});
  Compute();
  // EMPLOYMENT: denominator p1, p2, p5 = 3; numerator p1 = 1.
  auto emp = Total("EMPLOYMENT");
  EXPECT_EQ(emp.numerator(), "1");
  EXPECT_EQ(emp.denominator(), "3");
  EXPECT_NEAR(emp.raw_value(), 33.3, 0.05);
  // EMPLOYMENT_RECORDED: p1 and p5 have a status in the window = 2 of 3.
  EXPECT_EQ(Total("EMPLOYMENT_RECORDED").numerator(), "2");
  // ACCOMMODATION: p1 settled (02), p2 rough sleeping (12), p5 none = 1 of 3.
  auto acc = Total("ACCOMMODATION");
  EXPECT_EQ(acc.numerator(), "1");
  EXPECT_EQ(acc.denominator(), "3");
  // KEYWORKER (no age limit): p1, p2, p3, p5 = 4; open at period end: p1 only (p2's ended,
  // p5's starts after the period).
  auto kw = Total("KEYWORKER");
  EXPECT_EQ(kw.numerator(), "1");
  EXPECT_EQ(kw.denominator(), "4");
}

TEST_F(KpiTest, NewDetentionsByEthnicityAndDisclosureToAnotherOrganisation) {
  // Q1: s2 on 2 Oct, then s3 straight after on 5 Oct: one new detention (s3 after s2 is not).
  auto q1 = Person(30, "A");
  auto s2 = Detention(q1, "02", "2026-10-02");
  Send({s2, EndDetention(s2, "2026-10-05"), Detention(q1, "03", "2026-10-05")});
  // Q2: s136 (a short-term hold, not counted) then s2: one new detention.
  auto q2 = Person(30, "M");
  auto s136 = Detention(q2, "20", "2026-10-03");
  Send({s136, EndDetention(s136, "2026-10-04"), Detention(q2, "02", "2026-10-04")});
  // Q3: s3 in September: not October's.
  auto q3 = Person(30, "M");
  Send({Detention(q3, "03", "2026-09-15")});
  // Q4: s37 on 20 Oct: new.
  auto q4 = Person(30, "N");
  Send({Detention(q4, "10", "2026-10-20")});
  Compute();
  auto total = Total("DETENTIONS");
  EXPECT_EQ(total.value(), "3");
  // By ethnicity: White 1 (Q1), Black or Black British 2 (Q2, Q4).
  const std::vector<std::pair<std::string, std::string>> by_group = {
      {"Black or Black British", "2"}, {"White", "1"}};
  EXPECT_EQ(Values(Board(trust_, "all", "", "ethnicity"), "DETENTIONS"), by_group);
  // The trust sees its own count of 3; the council sees it as "*".
  auto own = Board(trust_, "provider", kTrust);
  auto shared = Board(Token(kCouncil, Role::kSocialWorker), "provider", kTrust);
  EXPECT_EQ(own.disclosure_policy(), "unrounded");
  EXPECT_EQ(shared.disclosure_policy(), "mhsds");
  for (const auto& f : own.figures()) {
    if (f.indicator_id() == "DETENTIONS") {
      EXPECT_EQ(f.value(), "3");
    }
  }
  bool seen = false;
  for (const auto& f : shared.figures()) {
    if (f.indicator_id() != "DETENTIONS") continue;
    seen = true;
    EXPECT_EQ(f.value(), "*");
    EXPECT_TRUE(f.suppressed());
    EXPECT_FALSE(f.has_value());
  }
  EXPECT_TRUE(seen);
}

TEST_F(KpiTest, SocialCareIndicators) {
  using K = icr::v1::CareActEvent;
  auto dp = Person(), pb = Person(), comm = Person(), other = Person(), ended = Person();
  Send({CareAct(dp, K::SERVICE, "2026-01-01", "", "direct_payment"),
        CareAct(pb, K::SERVICE, "2026-01-01", "", "cassr_managed_pb"),
        CareAct(comm, K::SERVICE, "2026-01-01", "", "cassr_commissioned"),
        CareAct(other, K::SERVICE, "2026-01-01", "", "direct_payment", "Physical Support"),
        CareAct(ended, K::SERVICE, "2026-01-01", "2026-10-15", "direct_payment")});
  // Assessments completed in October: 30 days and 10 days after their requests; one in
  // September does not count.
  auto a1 = Person(), a2 = Person(), a3 = Person();
  Send({CareAct(a1, K::REQUEST, "2026-09-01", "2026-09-01"),
        CareAct(a1, K::ASSESSMENT, "2026-09-10", "2026-10-01"),
        CareAct(a2, K::REQUEST, "2026-10-01", "2026-10-01"),
        CareAct(a2, K::ASSESSMENT, "2026-10-05", "2026-10-11"),
        CareAct(a3, K::ASSESSMENT, "2026-08-01", "2026-09-20")});
  // Carers' assessments: one completed in October, one only offered.
  auto cared = Person();
  auto done = build::CarerAssessment(cared, NextId(), "CAR1", "Jo Carer", kCouncil, "2026-09-01");
  done.mutable_carer_assessment()->set_completed_date("2026-10-07");
  const auto offered =
      build::CarerAssessment(cared, NextId(), "CAR2", "Sam Carer", kCouncil, "2026-10-02");
  Send({done, offered});
  Compute();
  // Open mental health long-term community support: dp, pb, comm = 3.
  EXPECT_EQ(Total("SELF_DIRECTED").numerator(), "2");
  EXPECT_EQ(Total("SELF_DIRECTED").denominator(), "3");
  EXPECT_EQ(Total("DIRECT_PAYMENTS").numerator(), "1");
  EXPECT_EQ(Total("CARE_ACT_ASSESSMENTS").value(), "2");
  EXPECT_DOUBLE_EQ(Total("CARE_ACT_DAYS").raw_value(), 20.0);  // median of 30 and 10
  EXPECT_EQ(Total("CARERS_ASSESSED").value(), "1");
}

TEST_F(KpiTest, Section117Register) {
  // E1: in force since June 2025, reviewed in March 2026 (next due 2027): reviewed, not overdue,
  // not stale. A joint 50:50 S117 line of 400 pounds a week by direct payment.
  auto p1 = Person();
  auto e1 = Episode(p1, "ACTIVE", "2025-06-01");
  Review(e1, "2026-03-01", "2027-03-01");
  Sql("INSERT INTO s117.service_line (episode_id, service_type, provider_name, "
      "need_arises_from_mental_disorder, is_s117, start_date, funder, council_pct, icb_pct, "
      "weekly_cost_pence, delivery_mode, recorded_by_org) SELECT '" +
      e1 +
      "', code, 'Provider', "
      "true, true, '2025-06-01', 'JOINT', 50, 50, 40000, 'DIRECT_PAYMENT', 'E08000035' "
      "FROM s117.service_type LIMIT 1");
  // E2: in force since January 2025, never reviewed (due January 2026: overdue), no open
  // referral: stale. A council-funded line of 100 pounds a week.
  auto p2 = Person();
  auto e2 = Episode(p2, "ACTIVE", "2025-01-01");
  Sql("INSERT INTO s117.service_line (episode_id, service_type, provider_name, "
      "need_arises_from_mental_disorder, is_s117, start_date, funder, council_pct, icb_pct, "
      "weekly_cost_pence, delivery_mode, recorded_by_org) SELECT '" +
      e2 +
      "', code, 'Provider', "
      "true, true, '2025-01-01', 'COUNCIL', 100, 0, 10000, 'COMMISSIONED', 'E08000035' "
      "FROM s117.service_type LIMIT 1");
  // E3: ended by discharge on 10 October with only the council's decision: legacy data the
  // database would refuse today, loaded with the joint-end trigger off. An exception.
  auto p3 = Person();
  Sql("ALTER TABLE s117.episode DISABLE TRIGGER episode_joint_end");
  auto e3 = Episode(p3, "ENDED_DISCHARGED", "2024-01-01", "DATE '2026-10-10'");
  Sql("ALTER TABLE s117.episode ENABLE TRIGGER episode_joint_end");
  EndDecision(e3, "COUNCIL", "2026-10-10");
  // E4: the person died on 20 October. E5: recorded in error (void): in nothing.
  auto p4 = Person();
  Episode(p4, "ENDED_DECEASED", "2025-03-01", "DATE '2026-10-20'");
  auto p5 = Person();
  Episode(p5, "VOID", "2025-03-01");
  Compute();
  EXPECT_EQ(Total("S117_ACTIVE").value(), "2");  // E1, E2
  auto reviewed = Total("S117_REVIEWED_12M");    // both in force >= 12 months
  EXPECT_EQ(reviewed.numerator(), "1");
  EXPECT_EQ(reviewed.denominator(), "2");
  EXPECT_EQ(Total("S117_OVERDUE").value(), "1");                    // E2
  EXPECT_EQ(Total("S117_STALE").value(), "1");                      // E2
  EXPECT_EQ(Total("S117_ENDED").value(), "2");                      // E3, E4 (not the void one)
  EXPECT_EQ(Total("S117_END_EXCEPTIONS").value(), "1");             // E3: one decision only
  EXPECT_DOUBLE_EQ(Total("S117_COST_COUNCIL").raw_value(), 300.0);  // 200 + 100
  EXPECT_DOUBLE_EQ(Total("S117_COST_ICB").raw_value(), 200.0);
  EXPECT_EQ(Total("S117_SELF_DIRECTED").value(), "1");  // E1's direct payment
  // The responsible council's own view is the same, unrounded.
  auto council = Board(Token(kCouncil, Role::kS117Officer), "council", kCouncil);
  EXPECT_EQ(council.disclosure_policy(), "unrounded");
}

TEST_F(KpiTest, S117OverdueReviewsAreBandedByHowLongOverdue) {
  // Period end 31 October 2026. A review is overdue when the next one was due before then; the
  // band edges are 31 July 2026 (3 months before), 30 April 2026 (6) and 31 October 2025 (12),
  // each band including its upper edge. Without a review the next is due 12 months after the
  // entitlement came into force.
  auto entitlement = [&](const std::string& from) { return Episode(Person(), "ACTIVE", from); };
  // 0-3 months: due 30 September 2026 (1 month overdue), and due 31 July 2026 (set at a review;
  // exactly 3 months overdue, the band's upper edge).
  entitlement("2025-09-30");
  Review(entitlement("2024-07-31"), "2025-07-31", "2026-07-31");
  // 3-6 months: due 30 July 2026 (a day over 3 months) and 30 June 2026 (4 months).
  entitlement("2025-07-30");
  entitlement("2025-06-30");
  // 6-12 months: due 28 February 2026 (8 months, set at a review), and 31 October 2025 (exactly
  // 12 months overdue, the upper edge).
  Review(entitlement("2024-01-01"), "2025-02-28", "2026-02-28");
  entitlement("2024-10-31");
  // Over 12 months: due 31 August 2025 (14 months).
  entitlement("2024-08-31");
  // Not overdue: due June 2025 but reviewed since (15 August 2026, next due 2027); due on the
  // period end itself; and a review before period end setting a date after it.
  Review(entitlement("2024-06-01"), "2026-08-15", "2027-08-15");
  entitlement("2025-10-31");
  Review(entitlement("2023-01-01"), "2026-10-30", "2026-11-30");
  Compute();

  EXPECT_EQ(Total("S117_OVERDUE").value(), "7");
  const auto england = Board(trust_, "all", "", "overdue_band");
  const std::vector<std::pair<std::string, std::string>> bands = {
      {"0-3 months", "2"}, {"3-6 months", "2"}, {"6-12 months", "2"}, {"Over 12 months", "1"}};
  EXPECT_EQ(Values(england, "S117_OVERDUE"), bands);  // in band order
  EXPECT_EQ(england.breakdown(), "overdue_band");
  // Only S117_OVERDUE has this breakdown.
  for (const auto& f : england.figures()) EXPECT_EQ(f.indicator_id(), "S117_OVERDUE");
  // The indicator says which breakdown is its own, and its definition gives the band edges.
  for (const auto& ind : england.indicators()) {
    if (ind.id() == "S117_OVERDUE") {
      EXPECT_EQ(ind.detail_breakdown(), "overdue_band");
      EXPECT_NE(ind.definition().find("0-3 months (due on or after the date 3 months before"),
                std::string::npos)
          << ind.definition();
    }
  }

  // The responsible council sees its own bands unrounded; the trust sees the council's figures
  // with disclosure control like any other breakdown (every band below 5).
  const auto own = Board(Token(kCouncil, Role::kS117Officer), "council", kCouncil, "overdue_band");
  EXPECT_EQ(Values(own, "S117_OVERDUE"), bands);
  const auto shared = Board(trust_, "council", kCouncil, "overdue_band");
  EXPECT_EQ(shared.disclosure_policy(), "mhsds");
  const std::vector<std::pair<std::string, std::string>> hidden = {
      {"0-3 months", "*"}, {"3-6 months", "*"}, {"6-12 months", "*"}, {"Over 12 months", "*"}};
  EXPECT_EQ(Values(shared, "S117_OVERDUE"), hidden);
  for (const auto& f : shared.figures()) EXPECT_TRUE(f.suppressed());

  // The CSV carries the bands in the long format.
  EXPECT_NE(Csv(trust_, "all")
                .find("2026-10-01,2026-10-31,England; overdue_band,England,England,3-6 months,"
                      "3-6 months,S117_OVERDUE,Overdue S117 reviews,2\n"),
            std::string::npos);

  // With the policy's tolerance at 31 days, as the register's overdue filter: the review due 30
  // September 2026 (31 days before period end) is no longer overdue; 31 July 2026 still is.
  Sql("UPDATE s117.policy SET value = '31' WHERE key = 'review_overdue_tolerance_days'");
  Compute();
  Sql("UPDATE s117.policy SET value = '0' WHERE key = 'review_overdue_tolerance_days'");
  EXPECT_EQ(Total("S117_OVERDUE").value(), "6");
  const auto tolerant = Values(Board(trust_, "all", "", "overdue_band"), "S117_OVERDUE");
  ASSERT_FALSE(tolerant.empty());
  EXPECT_EQ(tolerant[0], (std::pair<std::string, std::string>{"0-3 months", "1"}));
}

TEST_F(KpiTest, S117EndsByReasonAndActiveByQualifyingSection) {
  // Ended in October: one joint discharge with both decisions, one superseded by a new
  // detention, two deaths. Not counted: one voided as recorded in error, a death in September.
  auto discharged = Episode(Person(), "ACTIVE", "2024-03-01");
  EndDecision(discharged, "COUNCIL", "2026-10-08");
  EndDecision(discharged, "ICB", "2026-10-09");
  Sql("UPDATE s117.episode SET state = 'ENDED_DISCHARGED', ended_on = '2026-10-10' "
      "WHERE episode_id = '" +
      discharged + "'");
  Episode(Person(), "ENDED_SUPERSEDED", "2024-03-01", "DATE '2026-10-05'");
  Episode(Person(), "ENDED_DECEASED", "2024-03-01", "DATE '2026-10-20'");
  Episode(Person(), "ENDED_DECEASED", "2025-03-01", "DATE '2026-10-25'");
  Episode(Person(), "VOID", "2025-03-01", "DATE '2026-10-12'");
  Episode(Person(), "ENDED_DECEASED", "2025-03-01", "DATE '2026-09-30'");
  // In force at period end: two under s3, one each under s37, s37/41, s45A, s47 and s48, and
  // one under a section that qualifies only by a recorded case decision (legal status 31).
  for (const auto& [section, code] :
       std::vector<std::pair<std::string, std::string>>{{"S3", "03"},
                                                        {"S3", "03"},
                                                        {"S37", "10"},
                                                        {"S37_41", "09"},
                                                        {"S45A", "37"},
                                                        {"S47", "16"},
                                                        {"S48", "18"},
                                                        {"OTHER_CASE_DECISION", "31"}}) {
    Episode(Person(), "ACTIVE", "2026-01-15", "NULL", section, code);
  }
  Compute();

  EXPECT_EQ(Total("S117_ENDED").value(), "4");
  EXPECT_EQ(Total("S117_END_EXCEPTIONS").value(), "0");  // the discharge had both decisions
  const std::vector<std::pair<std::string, std::string>> reasons = {
      {"Died", "2"}, {"Joint discharge", "1"}, {"Superseded by re-detention", "1"}};
  EXPECT_EQ(Values(Board(trust_, "all", "", "end_reason"), "S117_ENDED"), reasons);

  EXPECT_EQ(Total("S117_ACTIVE").value(), "8");
  const auto sections = Board(trust_, "all", "", "qualifying_section");
  const std::vector<std::pair<std::string, std::string>> active = {{"Other (case decision)", "1"},
                                                                   {"s3", "2"},
                                                                   {"s37", "1"},
                                                                   {"s37/41", "1"},
                                                                   {"s45A", "1"},
                                                                   {"s47", "1"},
                                                                   {"s48", "1"}};
  EXPECT_EQ(Values(sections, "S117_ACTIVE"), active);
  // The other entitlement-based S117 indicators have it too (all 8 are stale: no referral, no
  // review); indicators that are not about entitlements do not.
  EXPECT_EQ(Values(sections, "S117_STALE"), active);
  EXPECT_TRUE(Values(sections, "S117_REGISTERED_28D").empty());
  EXPECT_TRUE(Values(sections, "S117_ENDED").empty());
  EXPECT_TRUE(Values(sections, "DETENTIONS").empty());
  EXPECT_TRUE(Values(Board(trust_, "all", "", "end_reason"), "S117_ACTIVE").empty());
}

TEST_F(KpiTest, CarePlanAgreedOrReviewedInTwelveMonths) {
  // Three people with adult referrals open for more than 12 months: one plan agreed in
  // May 2026, one reviewed in August 2026 after being agreed in 2024, one agreed in 2024 only.
  // A fourth person's referral opened in March 2026: too recent for the denominator.
  std::vector<std::string> people;
  for (int i = 0; i < 4; ++i) {
    people.push_back(Person());
    Send({Referral(people[i], i < 3 ? "2024-06-01" : "2026-03-01")});
  }
  auto plan = [&](const std::string& nhs, const std::string& agreed) {
    auto id =
        Sql("INSERT INTO careplan.plan (person_id, status, created_by_org, agreed_version, "
            "agreed_at) VALUES ('" +
            PersonId(nhs) + "', 'AGREED', 'RGD', 1, TIMESTAMPTZ '" + agreed +
            " 12:00Z') RETURNING plan_id");
    Sql("INSERT INTO careplan.plan_version (plan_id, version, status, content, change, "
        "created_by_org, created_by_role, created_at) VALUES ('" +
        id +
        "', 1, 'AGREED', '{}', "
        "'agreed', 'RGD', 'clinician', TIMESTAMPTZ '" +
        agreed + " 12:00Z')");
    return id;
  };
  plan(people[0], "2026-05-10");
  auto reviewed = plan(people[1], "2024-07-01");
  Sql("INSERT INTO careplan.review (plan_id, plan_version, person_id, review_date, participants, "
      "health_participated, social_care_participated, outcome, next_review_date, recorded_by_org) "
      "VALUES ('" +
      reviewed + "', 1, '" + PersonId(people[1]) +
      "', '2026-08-01', '[]', true, "
      "true, 'CONTINUE', '2027-08-01', 'RGD')");
  plan(people[2], "2024-07-01");
  plan(people[3], "2026-05-10");
  Compute();
  auto p12 = Total("PLAN12");
  EXPECT_EQ(p12.numerator(), "2");
  EXPECT_EQ(p12.denominator(), "3");
}

TEST_F(KpiTest, RecomputeReplacesAndCsvIsTheLongFormat) {
  auto p = Person();
  Send({Detention(p, "03", "2026-10-02")});
  Compute();
  EXPECT_EQ(Total("DETENTIONS").value(), "1");
  auto q = Person();
  Send({Detention(q, "03", "2026-10-03")});
  Compute();
  EXPECT_EQ(Total("DETENTIONS").value(), "2");

  const std::string csv = Csv(Token(kCouncil, Role::kSocialWorker), "provider", kTrust);
  EXPECT_EQ(csv.rfind("REPORTING_PERIOD_START,REPORTING_PERIOD_END,BREAKDOWN,PRIMARY_LEVEL,", 0),
            0u);
  EXPECT_NE(csv.find("2026-10-01,2026-10-31,provider,RGD,Leeds and York Partnership NHS Foundation "
                     "Trust,NONE,NONE,DETENTIONS,"),
            std::string::npos)
      << csv.substr(0, 600);
  // Shared with a council: the count of 2 is suppressed.
  EXPECT_NE(csv.find(",DETENTIONS,New detentions under the Mental Health Act,*\n"),
            std::string::npos);
}

TEST_F(KpiTest, BadRequestsAndPermissions) {
  icr::v1::GetDashboardRequest req;
  req.set_month("2026-13");
  icr::v1::Dashboard d;
  auto s = perf_->GetDashboard(Ctx(trust_).get(), req, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("month:", 0), 0u);
  req.set_month(kMonth);
  req.mutable_scope()->set_type("council");
  req.mutable_scope()->set_code("E07000008");  // a district is not a council here
  s = perf_->GetDashboard(Ctx(trust_).get(), req, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("scope.code:", 0), 0u);
  req.mutable_scope()->set_type("all");
  req.mutable_scope()->clear_code();
  req.set_breakdown("overdue");  // not a breakdown (overdue_band is)
  s = perf_->GetDashboard(Ctx(trust_).get(), req, &d);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("breakdown: one of none, ethnicity, age_band, sex, ", 0), 0u)
      << s.error_message();
  req.set_breakdown("");
  icr::v1::ComputeIndicatorsRequest compute;
  compute.set_from_month(kMonth);
  icr::v1::ComputeIndicatorsResponse resp;
  EXPECT_EQ(perf_->ComputeIndicators(Ctx(Token(kTrust, Role::kClinician)).get(), compute, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(perf_->GetDashboard(Ctx("").get(), req, &d).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace icr::test
