// Organisations with dates and successors on a real store: `icrctl refdata load` (a subprocess)
// loads the shipped April 2026 ICB files (db/reference) into a database of its own; icr-server's
// services, started after it (reference data is read at start), accept an entitlement naming a
// new ICB, refuse one naming an abolished ICB from its close date (INVALID_ARGUMENT naming the
// field and the successor) and accept it before; a rerun of the load changes nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "icr/v1/record.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr char kLeeds[] = "E08000035";  // where MakePerson lives
constexpr char kFiles[] = REFDATA_DIR "/2026-04-icb-organisations.csv " REFDATA_DIR
                          "/2026-04-icb-successors.csv";

CommandRun Icrctl(const std::string& url, const std::string& args) {
  return RunCommand(std::string(ICRCTL) + " " + args + " --database-url '" + url + "'");
}

class RefdataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(Stack::NewDatabase("refdata"));
    db_ = new Database(*url_, 4);
    first_load_ = new CommandRun(Icrctl(*url_, std::string("refdata load ") + kFiles));
    HostOptions options;
    options.services = {"record", "s117"};
    auto host = Host::Start(*db_, options);  // after the load: it reads the reference data now
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = host->release();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                       grpc::InsecureChannelCredentials());
    record_ = icr::v1::RecordService::NewStub(channel).release();
    s117_ = icr::v1::S117RegisterService::NewStub(channel).release();
  }
  static void TearDownTestSuite() {
    delete s117_;
    delete record_;
    delete host_;
    delete first_load_;
    delete db_;
    delete url_;
  }

  static std::string Token(const std::string& org, Role role) {
    auto token = Authenticator::CreateToken(*db_, org, role, "refdata test");
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }

  // A person living in Leeds, then an ACTIVE entitlement opened by Leeds' s117 officer naming
  // `icb`, in force from `effective_from` (empty: from today's registration).
  grpc::Status Open(const std::string& icb, const std::string& effective_from) {
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest up;
    *up.mutable_person() = MakePerson(nhs);
    icr::v1::Person person;
    auto s = record_->UpsertPerson(Ctx(Token("RGD", Role::kSystem)).get(), up, &person);
    EXPECT_TRUE(s.ok()) << s.error_message();
    icr::v1::OpenEntitlementRequest r;
    r.set_nhs_number(nhs);
    r.set_legal_status_code("03");
    r.set_detention_start_date("2026-01-05");
    r.set_detaining_provider_code("RGD");
    r.set_state("ACTIVE");
    r.set_ceased_detained_date("2026-02-20");
    r.set_left_hospital_date("2026-02-20");
    r.set_effective_from(effective_from);
    r.mutable_council()->set_code(kLeeds);
    r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
    r.mutable_icb()->set_code(icb);
    r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
    r.set_reason("carried over from the council's spreadsheet register");
    icr::v1::Entitlement e;
    return s117_->OpenEntitlement(Ctx(Token(kLeeds, Role::kS117Officer)).get(), r, &e);
  }

  static inline std::string* url_ = nullptr;
  static inline Database* db_ = nullptr;
  static inline CommandRun* first_load_ = nullptr;
  static inline Host* host_ = nullptr;
  static inline icr::v1::RecordService::Stub* record_ = nullptr;
  static inline icr::v1::S117RegisterService::Stub* s117_ = nullptr;
};

TEST_F(RefdataTest, TheLoadAddsTheNewIcbsAndTheSuccessions) {
  ASSERT_EQ(first_load_->exit_code, 0) << first_load_->output;
  EXPECT_NE(first_load_->output.find("organisations: 13 added, 0 updated, 0 unchanged"),
            std::string::npos) << first_load_->output;
  EXPECT_NE(first_load_->output.find("successions: 16 added, 0 updated, 0 unchanged"),
            std::string::npos) << first_load_->output;
  EXPECT_EQ(ScalarAt(*url_, "SELECT closed_on FROM core.organisation WHERE code = 'QMJ'"),
            "2026-04-01");
  EXPECT_EQ(ScalarAt(*url_, "SELECT string_agg(successor_code || ':' || kind, ',' ORDER BY "
                            "successor_code) FROM core.organisation_succession "
                            "WHERE predecessor_code = 'QNQ'"),
            "QRL:split,S0E4D:split,S9B9J:split");
}

TEST_F(RefdataTest, AnEntitlementNamingANewFiveCharacterIcbIsAccepted) {
  auto s = Open("S1Y5D", "");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(RefdataTest, AnAbolishedIcbIsRefusedFromItsCloseDateNamingTheFieldAndSuccessor) {
  auto s = Open("QMJ", "2026-05-01");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "icb.code: QMJ closed on 2026-04-01; its successor is Z9B2Z");
}

TEST_F(RefdataTest, AnAbolishedIcbIsAcceptedForADateBeforeItClosed) {
  auto s = Open("QMJ", "2026-03-01");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(RefdataTest, ARerunOfTheLoadChangesNothing) {
  const std::string before = ScalarAt(
      *url_, "SELECT md5(string_agg(o::text, ';' ORDER BY code)) FROM core.organisation o");
  const CommandRun again = Icrctl(*url_, std::string("refdata load ") + kFiles);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("organisations: 0 added, 0 updated, 13 unchanged"),
            std::string::npos) << again.output;
  EXPECT_NE(again.output.find("successions: 0 added, 0 updated, 16 unchanged"),
            std::string::npos) << again.output;
  EXPECT_EQ(ScalarAt(*url_, "SELECT md5(string_agg(o::text, ';' ORDER BY code)) FROM "
                            "core.organisation o"),
            before);
}

}  // namespace
}  // namespace icr::test
