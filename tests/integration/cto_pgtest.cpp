// Community treatment orders and conditional discharges through a real gRPC channel against real
// PostgreSQL: the record's events (cto_start/_end, conditional_discharge_start/_end) validated,
// stored, shown in the integrated record and sent on the change feed, and the S117 feed follower
// acting on them: a CTO start brings a PLANNED entitlement into force with on_cto set, a joint
// discharge is refused while the CTO lasts (s117(2)) and allowed once it ends; a conditional
// discharge likewise sets and clears conditionally_discharged.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>


#include "icr/v1/s117.grpc.pb.h"
#include "services/common/reference_loader.h"
#include "services/common/validation.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using google::protobuf::util::TimeUtil;
using Code = grpc::StatusCode;

constexpr char kTrust[] = "RGD";        // Leeds and York Partnership NHS FT
constexpr char kOtherTrust[] = "RX4";
constexpr char kLeeds[] = "E08000035";  // where MakePerson lives
constexpr char kLeedsIcb[] = "QWO";

Date DaysAgo(int n) { return Today() - std::chrono::days{n}; }
std::string Day(int days_ago) { return FormatDate(DaysAgo(days_ago)); }
int64_t Noon(int days_ago) {
  return std::chrono::sys_seconds{DaysAgo(days_ago)}.time_since_epoch().count() + 43200;
}

icr::v1::Event CtoStart(const std::string& nhs, const std::string& cto, int days_ago,
                        const std::string& provider = kTrust) {
  auto e = build::NewEvent(nhs, "cto-start-" + cto + "-" + nhs);
  auto* c = e.mutable_cto_start();
  c->set_cto_id(cto + "-" + nhs);
  c->set_detention_id("D1-" + nhs);
  c->set_start_date(Day(days_ago));
  c->set_expiry_date(FormatDate(DaysAgo(days_ago) + std::chrono::days{182}));
  c->set_provider_code(provider);
  return e;
}

icr::v1::Event CtoEnd(const std::string& nhs, const std::string& cto, int days_ago) {
  auto e = build::NewEvent(nhs, "cto-end-" + cto + "-" + nhs);
  auto* c = e.mutable_cto_end();
  c->set_cto_id(cto + "-" + nhs);
  c->set_end_date(Day(days_ago));
  c->set_end_reason("01");
  return e;
}

icr::v1::Event CdStart(const std::string& nhs, int days_ago) {
  auto e = build::NewEvent(nhs, "cd-start-" + nhs);
  auto* c = e.mutable_conditional_discharge_start();
  c->set_conditional_discharge_id("CD1-" + nhs);
  c->set_detention_id("D1-" + nhs);
  c->set_start_date(Day(days_ago));
  c->set_provider_code(kTrust);
  return e;
}

icr::v1::Event CdEnd(const std::string& nhs, int days_ago) {
  auto e = build::NewEvent(nhs, "cd-end-" + nhs);
  auto* c = e.mutable_conditional_discharge_end();
  c->set_conditional_discharge_id("CD1-" + nhs);
  c->set_end_date(Day(days_ago));
  c->set_end_reason("absolute discharge by tribunal");
  c->set_absolute_discharge_responsible("tribunal");
  return e;
}

icr::v1::S117EndDecision Decision(const std::string& body, int days_ago) {
  icr::v1::S117EndDecision d;
  d.set_body(body);
  d.mutable_decider()->set_name(body == "ICB" ? "Dr Ama Osei" : "Pat Lee");
  d.mutable_decider()->set_role(body == "ICB" ? "Mental health commissioner" : "Head of S117");
  d.set_decision_date(Day(days_ago));
  d.set_primary_reason("NO_LONGER_NEEDS_AFTERCARE");
  d.set_reason_text("Settled for a year with no after-care needed; plan for GP follow-up");
  d.set_person_involvement("ATTENDED");
  return d;
}

class CtoTest : public ::testing::Test {
 protected:
  std::unique_ptr<icr::v1::S117RegisterService::Stub> s117() {
    return icr::v1::S117RegisterService::NewStub(stack.channel());
  }
  void Record(const std::vector<icr::v1::Event>& events) {
    auto s = Send(trust, events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  icr::v1::Entitlement MustGet(const std::string& nhs) {
    icr::v1::GetEntitlementRequest req;
    req.set_nhs_number(nhs);
    icr::v1::Entitlement e;
    auto s = s117()->GetEntitlement(Ctx(stack.Token(kLeeds, "s117_officer")).get(), req, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }
  grpc::Status Decide(const icr::v1::Entitlement& e, const std::string& org,
                      icr::v1::S117EndDecision d, icr::v1::Entitlement* out) {
    icr::v1::RecordEndDecisionRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    *req.mutable_decision() = std::move(d);
    return s117()->RecordEndDecision(Ctx(stack.Token(org, "s117_officer")).get(), req, out);
  }
  icr::v1::IntegratedRecord Read(const std::string& nhs) {
    icr::v1::GetIntegratedRecordRequest req;
    req.set_nhs_number(nhs);
    icr::v1::IntegratedRecord rec;
    auto s = stack.record()->GetIntegratedRecord(Ctx(stack.Token(kTrust, "clinician")).get(), req,
                                                 &rec);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rec;
  }
  std::string Count(const std::string& sql) { return stack.Scalar(sql); }

  Stack& stack = Stack::Get();
  std::string trust = stack.Token(kTrust, "system");
};

TEST_F(CtoTest, ACtoStartsTheDutyAndBarsDischargeUntilItEnds) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  Record({build::Admission(nhs, "adm-" + nhs, "S1-" + nhs, kTrust, Noon(300)),
          build::DetentionStart(nhs, "det-" + nhs, "D1-" + nhs, "03", kTrust, Noon(300))});
  // Discharged from hospital onto a CTO: the s3 is suspended, not ended.
  Record({build::Discharge(nhs, "dis-" + nhs, "S1-" + nhs, Noon(200))});
  CatchUpS117Feed();
  EXPECT_EQ(MustGet(nhs).state(), "PLANNED");

  icr::v1::RecordEventsResponse resp;
  auto s = Send(trust, {CtoStart(nhs, "CTO1", 200)}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.outcomes(0).result(), icr::v1::EventOutcome::STORED);
  CatchUpS117Feed();
  auto active = MustGet(nhs);
  EXPECT_EQ(active.state(), "ACTIVE");  // T3: the CTO start is the trigger
  EXPECT_EQ(active.effective_from(), Day(200));
  EXPECT_EQ(active.cto_start_date(), Day(200));
  EXPECT_TRUE(active.on_cto());

  // In the integrated record and on the change feed.
  auto rec = Read(nhs);
  EXPECT_EQ(rec.community_treatment_order().cto_id(), "CTO1-" + nhs);
  EXPECT_EQ(rec.community_treatment_order().start_date(), Day(200));
  EXPECT_EQ(rec.community_treatment_order().provider_code(), kTrust);
  EXPECT_TRUE(rec.community_treatment_order().end_date().empty());
  EXPECT_EQ(Count("SELECT string_agg(change_type, ',' ORDER BY seq) FROM core.changes WHERE "
                  "entity = 'community_treatment_order' AND person_id = '" +
                  person.person_id() + "'"),
            "cto_started");
  EXPECT_EQ(Count("SELECT count(*) FROM core.relationship WHERE kind = 'cto' AND to_at IS NULL "
                  "AND person_id = '" + person.person_id() + "'"),
            "1");

  // s117(2): no discharge while on the CTO.
  icr::v1::Entitlement out;
  s = Decide(active, kLeeds, Decision("COUNCIL", 2), &out);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("on_cto"), std::string::npos) << s.error_message();
  EXPECT_EQ(MustGet(nhs).version(), active.version());

  // The CTO ends: the flag clears, the duty goes on, and a discharge may now be decided.
  Record({CtoEnd(nhs, "CTO1", 30)});
  CatchUpS117Feed();
  auto off = MustGet(nhs);
  EXPECT_EQ(off.state(), "ACTIVE");
  EXPECT_FALSE(off.on_cto());
  EXPECT_EQ(off.cto_end_date(), Day(30));
  EXPECT_EQ(Read(nhs).community_treatment_order().end_date(), Day(30));
  s = Decide(off, kLeeds, Decision("COUNCIL", 2), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.end_decisions_size(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM core.relationship WHERE kind = 'cto' AND to_at IS NULL "
                  "AND person_id = '" + person.person_id() + "'"),
            "0");
}

TEST_F(CtoTest, AConditionalDischargeStartsTheDutyAndItsEndClearsTheFlag) {
  const std::string nhs = NextNhsNumber();
  SeedPerson(kTrust, nhs);
  // A restricted patient (legal status 09: s37/41).
  Record({build::Admission(nhs, "adm-" + nhs, "S1-" + nhs, kTrust, Noon(400)),
          build::DetentionStart(nhs, "det-" + nhs, "D1-" + nhs, "09", kTrust, Noon(400))});
  CatchUpS117Feed();
  ASSERT_EQ(MustGet(nhs).state(), "PLANNED");
  Record({CdStart(nhs, 300)});
  CatchUpS117Feed();
  auto active = MustGet(nhs);
  EXPECT_EQ(active.state(), "ACTIVE");
  EXPECT_EQ(active.effective_from(), Day(300));
  EXPECT_TRUE(active.conditionally_discharged());
  EXPECT_EQ(Read(nhs).conditional_discharge().start_date(), Day(300));

  Record({CdEnd(nhs, 100)});
  CatchUpS117Feed();
  auto absolute = MustGet(nhs);
  EXPECT_EQ(absolute.state(), "ACTIVE");
  EXPECT_FALSE(absolute.conditionally_discharged());
  EXPECT_EQ(absolute.absolute_discharge_date(), Day(100));
  auto rec = Read(nhs);
  EXPECT_EQ(rec.conditional_discharge().end_date(), Day(100));
  EXPECT_EQ(rec.conditional_discharge().absolute_discharge_responsible(), "tribunal");
}

TEST_F(CtoTest, ACtoTheOfficerRecordedByHandIsNotAFeedError) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  Record({build::Admission(nhs, "adm-" + nhs, "S1-" + nhs, kTrust, Noon(300)),
          build::DetentionStart(nhs, "det-" + nhs, "D1-" + nhs, "03", kTrust, Noon(300))});
  CatchUpS117Feed();
  auto planned = MustGet(nhs);
  icr::v1::RecordLegalEventRequest cto;
  cto.set_entitlement_id(planned.entitlement_id());
  cto.set_expected_version(planned.version());
  cto.set_kind("CTO_STARTED");
  cto.set_date(Day(150));
  icr::v1::Entitlement by_hand;
  ASSERT_TRUE(s117()
                  ->RecordLegalEvent(Ctx(stack.Token(kLeeds, "s117_officer")).get(), cto, &by_hand)
                  .ok());
  ASSERT_TRUE(by_hand.on_cto());
  // The trust's record then sends the same CTO: nothing changes, nothing is refused.
  Record({CtoStart(nhs, "CTO1", 150)});
  CatchUpS117Feed();
  EXPECT_EQ(MustGet(nhs).version(), by_hand.version());
  EXPECT_EQ(Count("SELECT count(*) FROM s117.feed_error WHERE person_id = '" +
                  person.person_id() + "'"),
            "0");
}

TEST_F(CtoTest, TheRecordRefusesBadCtoEventsAndChangesNothing) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  const std::string before = Count(
      "SELECT count(*) FROM core.community_treatment_order WHERE person_id = '" +
      person.person_id() + "'");
  icr::v1::RecordEventsResponse resp;
  // Dated in the future: INVALID_ARGUMENT naming the field.
  auto future = CtoStart(nhs, "F", -3);
  auto s = Send(trust, {future}, &resp);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("cto_start.start_date"), std::string::npos) << s.error_message();
  // Naming another trust as its provider: refused.
  s = Send(trust, {CtoStart(nhs, "O", 10, kOtherTrust)}, &resp);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_message().find("cto_start.provider_code"), std::string::npos)
      << s.error_message();
  // Ending a CTO the record does not hold: FAILED_PRECONDITION naming the id.
  s = Send(trust, {CtoEnd(nhs, "NONE", 5)}, &resp);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("cto_end.cto_id"), std::string::npos) << s.error_message();
  EXPECT_EQ(Count("SELECT count(*) FROM core.community_treatment_order WHERE person_id = '" +
                  person.person_id() + "'"),
            before);

  // Stored once; sent again it is a duplicate; an end before its start is refused.
  ASSERT_TRUE(Send(trust, {CtoStart(nhs, "C", 50)}, &resp).ok());
  ASSERT_TRUE(Send(trust, {CtoStart(nhs, "C", 50)}, &resp).ok());
  EXPECT_EQ(resp.outcomes(0).result(), icr::v1::EventOutcome::DUPLICATE);
  s = Send(trust, {CtoEnd(nhs, "C", 60)}, &resp);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("cto_end.end_date"), std::string::npos) << s.error_message();
  // Another trust that does not see the person cannot end it: NOT_FOUND, as if absent.
  s = Send(stack.Token(kOtherTrust, "system"), {CtoEnd(nhs, "C", 5)}, &resp);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND) << s.error_message();
  EXPECT_EQ(Count("SELECT count(*) FROM core.community_treatment_order WHERE end_date IS NULL "
                  "AND person_id = '" + person.person_id() + "'"),
            "1");
}

}  // namespace
}  // namespace icr::test
