// Residence and placement history (issue 22 item 4) through real gRPC against real PostgreSQL:
// UpsertPerson keeps an effective-dated residence history; councils record placements; the S117
// responsible council is derived from the residence immediately before the qualifying detention
// by today's rule, and by the Mental Health Act 2025 s46 deeming rule once its commencement date
// (s117.policy mha2025_s46_from) is set; disputes between councils keep their age and
// S117_DISPUTES_3M counts those open longer than 3 months.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/validation.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using Code = grpc::StatusCode;

constexpr char kTrust[] = "RGD";
constexpr char kLeeds[] = "E08000035";    // A: where the person lived, and the placing council
constexpr char kBristol[] = "E06000023";  // B: where Leeds placed them
constexpr char kLeedsIcb[] = "QWO";

std::string Day(int days_ago) { return FormatDate(Today() - std::chrono::days{days_ago}); }
int64_t Noon(int days_ago) {
  return std::chrono::sys_seconds{Today() - std::chrono::days{days_ago}}
             .time_since_epoch()
             .count() +
         43200;
}

// Services on a database of their own; mha2025_s46_from is written to s117.policy before the
// services start (the register reads its policy once).
struct ResidenceStack {
  OwnStack own;
  std::map<std::string, std::string> tokens;

  explicit ResidenceStack(const std::string& mha2025_s46_from) {
    own.url = Stack::NewDatabase("residence");
    ScalarAt(own.url, "UPDATE s117.policy SET value = '" + mha2025_s46_from +
                          "' WHERE key = 'mha2025_s46_from' RETURNING key");
    own.db = std::make_unique<Database>(own.url, 4);
    HostOptions options;
    options.services = {"record", "s117", "performance"};
    options.national_store = true;  // England-level figures, unrounded
    auto host = Host::Start(*own.db, options);
    EXPECT_TRUE(host.ok()) << host.status();
    own.host = std::move(*host);
    own.channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(own.host->port()),
                                      grpc::InsecureChannelCredentials());
  }
  std::string Token(const std::string& org, Role role) {
    const std::string key = org + "/" + RoleName(role);
    if (!tokens.count(key)) tokens[key] = *Authenticator::CreateToken(*own.db, org, role, "test");
    return tokens[key];
  }
  std::unique_ptr<icr::v1::RecordService::Stub> record() {
    return icr::v1::RecordService::NewStub(own.channel);
  }
  std::unique_ptr<icr::v1::S117RegisterService::Stub> s117() {
    return icr::v1::S117RegisterService::NewStub(own.channel);
  }

  grpc::Status Upsert(const icr::v1::Person& p, const std::string& residence_from,
                      icr::v1::Person* out) {
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = p;
    req.set_residence_from(residence_from);
    return record()->UpsertPerson(Ctx(Token(kTrust, Role::kSystem)).get(), req, out);
  }
  // A person living in Leeds, created by the trust, which opens a referral for them (a care
  // relationship: it may then change their address).
  void Create(const std::string& nhs) {
    icr::v1::RecordEventsRequest req;
    *req.add_people()->mutable_person() = MakePerson(nhs);
    *req.add_events() = build::ReferralOpened(nhs, "ref-" + nhs, "R-" + nhs, kTrust, Day(300));
    icr::v1::RecordEventsResponse resp;
    auto s = record()->RecordEvents(Ctx(Token(kTrust, Role::kSystem)).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  icr::v1::IntegratedRecord Integrated(const std::string& nhs) {
    icr::v1::GetIntegratedRecordRequest req;
    req.set_nhs_number(nhs);
    icr::v1::IntegratedRecord out;
    auto s = record()->GetIntegratedRecord(Ctx(Token(kTrust, Role::kSystem)).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  // A qualifying detention (s3) starting `days_ago`, applied by the register before returning.
  void Detain(const std::string& nhs, int days_ago) {
    icr::v1::RecordEventsRequest req;
    *req.add_events() =
        build::DetentionStart(nhs, "det-" + nhs, "D-" + nhs, "03", kTrust, Noon(days_ago));
    icr::v1::RecordEventsResponse resp;
    auto s = record()->RecordEvents(Ctx(Token(kTrust, Role::kSystem)).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    icr::v1::GetFeedPositionRequest wait;
    wait.set_cursor(resp.change_cursor());
    wait.set_wait_ms(20000);
    icr::v1::FeedPosition position;
    s = s117()->GetFeedPosition(Ctx(Token(kTrust, Role::kSystem)).get(), wait, &position);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(position.applied());
  }
  icr::v1::Entitlement Entitlement(const std::string& nhs) {
    icr::v1::GetEntitlementRequest req;
    req.set_nhs_number(nhs);
    icr::v1::Entitlement e;
    auto s = s117()->GetEntitlement(Ctx(Token(kTrust, Role::kSystem)).get(), req, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }
  grpc::Status Place(const std::string& nhs, const std::string& as_org, int start_days_ago,
                     icr::v1::Placement* out) {
    icr::v1::RecordPlacementRequest req;
    auto* p = req.mutable_placement();
    p->set_nhs_number(nhs);
    p->set_placing_council_code(kLeeds);
    p->set_placed_in_council_code(kBristol);
    p->set_accommodation_type("CARE_HOME");
    p->set_legal_basis("care_act");
    p->set_start_date(Day(start_days_ago));
    p->set_provider_name("Harbourside Care Home");
    // An s117_officer may carry a placement of any age over (a social worker: 92 days).
    return s117()->RecordPlacement(Ctx(Token(as_org, Role::kS117Officer)).get(), req, out);
  }

  // A person resident in Leeds, placed by Leeds in a Bristol care home 200 days ago (their
  // residence moving to Bristol from that day), detained under s3 100 days ago.
  std::string PlacedThenDetained() {
    const std::string nhs = NextNhsNumber();
    Create(nhs);
    icr::v1::Person p = MakePerson(nhs), stored;
    icr::v1::Placement placement;
    auto s = Place(nhs, kLeeds, 200, &placement);
    EXPECT_TRUE(s.ok()) << s.error_message();
    p.set_postcode("BS1 4ST");
    p.set_council_code(kBristol);
    s = Upsert(p, Day(200), &stored);
    EXPECT_TRUE(s.ok()) << s.error_message();
    Detain(nhs, 100);
    return nhs;
  }
};

ResidenceStack& Today2023Rule() {
  static auto* stack = new ResidenceStack("");
  return *stack;
}

TEST(Residence, UpsertPersonKeepsAnEffectiveDatedHistory) {
  auto& st = Today2023Rule();
  const std::string nhs = NextNhsNumber();
  st.Create(nhs);
  icr::v1::Person p = MakePerson(nhs), stored;
  // The first residence: since a date not recorded.
  auto history = st.Integrated(nhs).residence_history();
  ASSERT_EQ(history.size(), 1);
  EXPECT_EQ(history[0].council_code(), kLeeds);
  EXPECT_EQ(history[0].from_date(), "");
  EXPECT_EQ(history[0].to_date(), "");
  EXPECT_EQ(history[0].source(), "person_created");

  // A move 30 days ago: Leeds ends the day before, Bristol begins.
  p.set_postcode("BS1 4ST");
  p.set_council_code(kBristol);
  ASSERT_TRUE(st.Upsert(p, Day(30), &stored).ok());
  history = st.Integrated(nhs).residence_history();
  ASSERT_EQ(history.size(), 2);
  EXPECT_EQ(history[0].council_code(), kBristol);
  EXPECT_EQ(history[0].from_date(), Day(30));
  EXPECT_EQ(history[0].to_date(), "");
  EXPECT_EQ(history[0].source(), "person_updated");
  EXPECT_EQ(history[0].recorded_by(), kTrust);
  EXPECT_EQ(history[1].council_code(), kLeeds);
  EXPECT_EQ(history[1].to_date(), Day(31));

  // The same address again changes nothing, whatever residence_from says.
  ASSERT_TRUE(st.Upsert(p, Day(5), &stored).ok());
  EXPECT_EQ(stored.council_code(), kBristol);
  EXPECT_EQ(st.Integrated(nhs).residence_history_size(), 2);

  // A move dated on or before the current residence's start is refused, and nothing changes
  // (the person's own row included); a date in the future is not a date of the past.
  const int64_t version = stored.version();
  p.set_postcode("LS2 9JT");
  p.set_council_code(kLeeds);
  auto s = st.Upsert(p, Day(30), &stored);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("residence_from"), std::string::npos);
  s = st.Upsert(p, FormatDate(Today() + std::chrono::days{1}), &stored);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("residence_from"), std::string::npos);
  const auto after = st.Integrated(nhs);
  EXPECT_EQ(after.residence_history_size(), 2);
  EXPECT_EQ(after.person().version(), version);
  EXPECT_EQ(after.person().council_code(), kBristol);

  // Without residence_from a move takes effect today.
  ASSERT_TRUE(st.Upsert(p, "", &stored).ok());
  history = st.Integrated(nhs).residence_history();
  ASSERT_EQ(history.size(), 3);
  EXPECT_EQ(history[0].from_date(), Day(0));
  EXPECT_EQ(history[1].to_date(), Day(1));
}

TEST(Residence, PlacementsAreRecordedByThePlacingCouncilAndReadByThoseWhoSeeThePerson) {
  auto& st = Today2023Rule();
  const std::string nhs = NextNhsNumber();
  icr::v1::Person stored;
  ASSERT_TRUE(st.Upsert(MakePerson(nhs), "", &stored).ok());  // lives in Leeds: Leeds sees them
  icr::v1::Placement placement;
  // Bristol does not see the person: NOT_FOUND, as for a person who does not exist.
  auto s = st.Place(nhs, kBristol, 10, &placement);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND) << s.error_message();
  // Leeds may not record a placement made by another council.
  icr::v1::RecordPlacementRequest other;
  other.mutable_placement()->set_nhs_number(nhs);
  other.mutable_placement()->set_placing_council_code(kBristol);
  other.mutable_placement()->set_placed_in_council_code(kLeeds);
  other.mutable_placement()->set_accommodation_type("CARE_HOME");
  other.mutable_placement()->set_legal_basis("care_act");
  other.mutable_placement()->set_start_date(Day(10));
  s = st.s117()->RecordPlacement(Ctx(st.Token(kLeeds, Role::kSocialWorker)).get(), other,
                                 &placement);
  EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();
  other.mutable_placement()->set_legal_basis("housing");
  s = st.s117()->RecordPlacement(Ctx(st.Token(kLeeds, Role::kSocialWorker)).get(), other,
                                 &placement);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("placement.legal_basis"), std::string::npos);

  ASSERT_TRUE(st.Place(nhs, kLeeds, 10, &placement).ok());
  EXPECT_EQ(placement.placing_council_code(), kLeeds);
  EXPECT_EQ(placement.placed_in_council_code(), kBristol);
  EXPECT_EQ(placement.start_date(), Day(10));
  EXPECT_EQ(placement.recorded_by_org(), kLeeds);

  icr::v1::ListPlacementsRequest list;
  list.set_nhs_number(nhs);
  icr::v1::ListPlacementsResponse listed;
  s = st.s117()->ListPlacements(Ctx(st.Token(kTrust, Role::kClinician)).get(), list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(listed.placements_size(), 1);
  EXPECT_EQ(listed.placements(0).placement_id(), placement.placement_id());
  s = st.s117()->ListPlacements(Ctx(st.Token(kBristol, Role::kSocialWorker)).get(), list, &listed);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND);

  icr::v1::EndPlacementRequest end;
  end.set_placement_id(placement.placement_id());
  end.set_end_date(Day(11));  // before it started
  s = st.s117()->EndPlacement(Ctx(st.Token(kLeeds, Role::kSocialWorker)).get(), end, &placement);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  end.set_end_date(Day(1));
  s = st.s117()->EndPlacement(Ctx(st.Token(kLeeds, Role::kSocialWorker)).get(), end, &placement);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(placement.end_date(), Day(1));
  s = st.s117()->EndPlacement(Ctx(st.Token(kLeeds, Role::kSocialWorker)).get(), end, &placement);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_EQ(ScalarAt(st.own.url, "SELECT count(*) FROM core.changes WHERE entity = 'placement'"),
            "2");
}

// Resident in A (Leeds), placed by A into B (Bristol), detained while in B.
TEST(Residence, TodaysRuleMakesTheAreaPlacedInResponsibleAndSaysWhy) {
  auto& st = Today2023Rule();
  const std::string nhs = st.PlacedThenDetained();
  const auto e = st.Entitlement(nhs);
  EXPECT_EQ(e.council().code(), kBristol);
  EXPECT_TRUE(e.council().provisional());
  EXPECT_EQ(e.council_reason(), "[OR_WORCESTERSHIRE_2023] resident in " + std::string(kBristol) +
                                    " from " + Day(200) + " to now; placed by " + kLeeds + " in " +
                                    kBristol + " from " + Day(200) +
                                    " (care_act, CARE_HOME): ordinarily resident in " + kBristol +
                                    " immediately before the detention of " + Day(100) +
                                    " (Worcestershire [2023] UKSC 31: no deeming)");

  // The register shows why, in its rows (and so in the CSV export, which writes every field).
  icr::v1::ListRegisterRequest req;
  icr::v1::ListRegisterResponse resp;
  auto s = st.s117()->ListRegister(Ctx(st.Token(kBristol, Role::kS117Officer)).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool found = false;
  for (const auto& row : resp.rows()) {
    if (row.nhs_number() != nhs) continue;
    found = true;
    EXPECT_EQ(row.council_reason(), e.council_reason());
  }
  EXPECT_TRUE(found);
}

TEST(Residence, The2025DeemingRuleMakesThePlacingCouncilResponsibleOnceInForce) {
  ResidenceStack st(Day(1000));  // commenced before the detention
  const std::string nhs = st.PlacedThenDetained();
  const auto e = st.Entitlement(nhs);
  EXPECT_EQ(e.council().code(), kLeeds);
  EXPECT_EQ(e.council_reason().rfind("[MHA2025_S117_3A] resident in " + std::string(kBristol), 0),
            0u)
      << e.council_reason();
  EXPECT_NE(e.council_reason().find("deemed ordinarily resident in " + std::string(kLeeds)),
            std::string::npos);
}

TEST(Residence, DisputesKeepTheirAgeAndThoseOpenLongerThanThreeMonthsAreCounted) {
  auto& st = Today2023Rule();
  const std::string officer = st.Token(kBristol, Role::kS117Officer);
  auto dispute = [&](const std::string& nhs, int opened_days_ago) {
    auto e = st.Entitlement(nhs);
    icr::v1::SetResponsibleBodiesRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    req.set_or_dispute_status("DISPUTED");
    req.set_or_dispute_opened_on(Day(opened_days_ago));
    req.set_reason("Leeds placed the person");
    icr::v1::Entitlement out;
    auto s = st.s117()->SetResponsibleBodies(Ctx(officer).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  const auto old_one = dispute(st.PlacedThenDetained(), 120);
  EXPECT_EQ(old_one.or_dispute_opened_on(), Day(120));
  // Referred to the Secretary of State: still the same dispute, the same age.
  icr::v1::SetResponsibleBodiesRequest refer;
  refer.set_entitlement_id(old_one.entitlement_id());
  refer.set_expected_version(old_one.version());
  refer.set_or_dispute_status("REFERRED_TO_SOS");
  icr::v1::Entitlement referred;
  ASSERT_TRUE(st.s117()->SetResponsibleBodies(Ctx(officer).get(), refer, &referred).ok());
  EXPECT_EQ(referred.or_dispute_opened_on(), Day(120));
  dispute(st.PlacedThenDetained(), 30);  // younger than 3 months: not counted

  icr::v1::ComputeIndicatorsRequest compute;
  const std::string month = Day(0).substr(0, 7);
  compute.set_from_month(month);
  icr::v1::ComputeIndicatorsResponse computed;
  auto perf = icr::v1::PerformanceService::NewStub(st.own.channel);
  auto s = perf->ComputeIndicators(Ctx(st.Token(kLeedsIcb, Role::kPerformanceAnalyst)).get(),
                                   compute, &computed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  icr::v1::GetDashboardRequest board_req;
  board_req.set_month(month);
  board_req.mutable_scope()->set_type("all");
  board_req.set_breakdown("none");
  icr::v1::Dashboard board;
  s = perf->GetDashboard(Ctx(st.Token(kTrust, Role::kSystem)).get(), board_req, &board);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string value;
  for (const auto& f : board.figures()) {
    if (f.indicator_id() == "S117_DISPUTES_3M" && f.breakdown_value().empty()) value = f.value();
  }
  EXPECT_EQ(value, "1");
  bool listed = false;
  for (const auto& i : board.indicators()) listed |= i.id() == "S117_DISPUTES_3M";
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace icr::test
