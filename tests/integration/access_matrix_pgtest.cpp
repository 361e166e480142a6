// The access rule, proven by a matrix: every RPC of every service (from the gRPC service
// descriptors, so an RPC added later is in it) called through a real channel by every kind of
// caller, and the attacks found by trying the service as an unrelated organisation would. A
// refusal writes nothing (row counts) and is audited.
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/record.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/access_rule.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using Code = grpc::StatusCode;
using Headers = std::map<std::string, std::string>;
constexpr char kTrust[] = "RGD";               // sees the person: registered them, open referral
constexpr char kCouncil[] = "E08000035";       // the person's council (Leeds)
constexpr char kStranger[] = "RXV";            // an unrelated trust
constexpr char kOtherCouncil[] = "E08000003";  // an unrelated council (Manchester)
constexpr char kOtherIcb[] = "QHM";            // an unrelated ICB

// One call of any RPC by its full method name, with `request` as its one message (streaming
// RPCs too), through grpc's generic stub.
grpc::Status Call(const std::string& method, const google::protobuf::Message& request,
                  const std::string& token, const Headers& headers = {}) {
  auto& stack = Stack::Get();
  grpc::GenericStub stub(stack.channel());
  auto ctx = Ctx(token, headers);
  grpc::CompletionQueue cq;
  void* tag;
  bool ok;
  auto call = stub.PrepareCall(ctx.get(), method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  const std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  for (;;) {
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    if (!cq.Next(&tag, &ok) || !ok) break;
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

struct Rpc {
  std::string path;       // "/icr.v1.RecordService/GetPerson"
  std::string full_name;  // "icr.v1.RecordService.GetPerson"
  const google::protobuf::Descriptor* input;
};

std::vector<Rpc> EveryRpc() {
  std::vector<Rpc> out;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : {"icr.v1.RecordService", "icr.v1.CarePlanService",
                           "icr.v1.S117RegisterService", "icr.v1.PerformanceService"}) {
    const auto* service = pool->FindServiceByName(name);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* m = service->method(i);
      out.push_back(
          {"/" + service->full_name() + "/" + m->name(), m->full_name(), m->input_type()});
    }
  }
  return out;
}

// An empty request of the RPC's input type (invalid for nearly every RPC).
std::unique_ptr<google::protobuf::Message> Empty(const Rpc& rpc) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(rpc.input)->New());
}

// Rows a refused call must not change.
std::string Written() {
  return Stack::Get().Scalar(
      "SELECT (SELECT count(*) FROM core.person) || '/' || (SELECT count(*) FROM core.event) || "
      "'/' || (SELECT count(*) FROM core.changes) || '/' || (SELECT count(*) FROM "
      "core.relationship) || '/' || (SELECT count(*) FROM s117.episode) || '/' || "
      "(SELECT count(*) FROM careplan.plan) || '/' || (SELECT max(version) FROM core.person)");
}

class AccessMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nhs = NextNhsNumber();
    since = stack.Scalar("SELECT coalesce(max(audit_pk), 0) FROM core.audit");
    person = SeedPerson(kTrust, nhs);
    ASSERT_TRUE(Send(trust, {Referral("ref-1", kTrust)}).ok());
  }

  // The test's events (tests/support/builders.h): ids prefixed with the NHS number.
  icr::v1::Event Referral(const std::string& id, const std::string& provider) {
    return build::ReferralOpened(nhs, nhs + "/" + id, nhs + "/" + id, provider, "2026-01-05");
  }
  icr::v1::Event Contact(const std::string& id) {
    auto e = build::CareContact(nhs, nhs + "/" + id, nhs + "/" + id, "2026-02-01");
    e.mutable_care_contact()->set_team_type("C02");
    return e;
  }
  icr::v1::Event Death(const std::string& id) {
    return build::Death(nhs, nhs + "/" + id, "2026-03-01");
  }
  std::string Audited(const std::string& org, const std::string& action,
                      const std::string& outcome) {
    return stack.Scalar("SELECT count(*) FROM core.audit WHERE audit_pk > " + since +
                        " AND org_code = '" + org + "' AND action = '" + action +
                        "' AND outcome = '" + outcome + "'");
  }

  Stack& stack = Stack::Get();
  std::string nhs, since;  // audit rows of this test: audit_pk > since
  icr::v1::Person person;
  std::string trust = stack.Token(kTrust, "system");
};

// Every RPC: no token and a bad token are UNAUTHENTICATED before anything else (the requests
// are invalid); a role the policy does not admit is PERMISSION_DENIED; nothing is written.
TEST_F(AccessMatrixTest, EveryRpcAuthenticatesAndAdmitsByThePolicyTableFirst) {
  const std::vector<std::pair<std::string, icr::Role>> roles = {
      {"clinician", icr::Role::kClinician},
      {"social_worker", icr::Role::kSocialWorker},
      {"s117_officer", icr::Role::kS117Officer},
      {"performance_analyst", icr::Role::kPerformanceAnalyst},
      {"system", icr::Role::kSystem},
      {"admin", icr::Role::kAdmin}};
  const std::string before = Written();
  int rpcs = 0;
  for (const auto& rpc : EveryRpc()) {
    ++rpcs;
    const auto* policy = access::PolicyOf(rpc.full_name);
    ASSERT_NE(policy, nullptr) << rpc.full_name << " has no access policy";
    auto request = Empty(rpc);
    EXPECT_EQ(Call(rpc.path, *request, "").error_code(), Code::UNAUTHENTICATED) << rpc.path;
    EXPECT_EQ(Call(rpc.path, *request, "icr_not-a-token").error_code(), Code::UNAUTHENTICATED)
        << rpc.path;
    for (const auto& [name, role] : roles) {
      const bool admitted =
          std::find(policy->roles.begin(), policy->roles.end(), role) != policy->roles.end();
      const auto status = Call(rpc.path, *request, stack.Token(kStranger, name));
      if (admitted) {
        EXPECT_NE(status.error_code(), Code::PERMISSION_DENIED) << rpc.path << " " << name;
        EXPECT_NE(status.error_code(), Code::UNAUTHENTICATED) << rpc.path << " " << name;
        EXPECT_NE(status.error_code(), Code::INTERNAL) << rpc.path << " " << name;
      } else {
        EXPECT_EQ(status.error_code(), Code::PERMISSION_DENIED) << rpc.path << " " << name;
      }
    }
  }
  EXPECT_EQ(rpcs, static_cast<int>(access::Policies().size()));
  EXPECT_EQ(Written(), before);
}

// The person-level RPCs keyed by NHS number, for the seeded person: the related trust and the
// person's council read; an unrelated trust, council and ICB of every role get NOT_FOUND, the
// same as for an NHS number of no one, and each attempt is audited; break glass opens the reads
// and no write.
TEST_F(AccessMatrixTest, PersonLevelRpcsFollowTheRuleForEveryKindOfCaller) {
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(nhs);
  icr::v1::GetIntegratedRecordRequest record;
  record.set_nhs_number(nhs);
  icr::v1::GetAuditTrailRequest trail;
  trail.set_nhs_number(nhs);
  icr::v1::GetCarePlanRequest plan;
  plan.set_nhs_number(nhs);
  icr::v1::ListCarePlansRequest plans;
  plans.set_nhs_number(nhs);
  struct Read {
    std::string path;
    const google::protobuf::Message* request;
    Code related;  // what a related organisation gets (no plan yet: NOT_FOUND)
  };
  const std::vector<Read> reads = {
      {"/icr.v1.RecordService/GetPerson", &get, Code::OK},
      {"/icr.v1.RecordService/GetIntegratedRecord", &record, Code::OK},
      {"/icr.v1.RecordService/GetAuditTrail", &trail, Code::OK},
      {"/icr.v1.CarePlanService/ListCarePlans", &plans, Code::OK},
  };
  const std::vector<std::pair<std::string, std::string>> strangers = {
      {kStranger, "system"},
      {kStranger, "clinician"},
      {kStranger, "admin"},
      {kOtherCouncil, "social_worker"},
      {kOtherCouncil, "s117_officer"},
      {kOtherIcb, "s117_officer"}};
  for (const auto& r : reads) {
    EXPECT_EQ(Call(r.path, *r.request, trust).error_code(), r.related) << r.path;
    EXPECT_EQ(Call(r.path, *r.request, stack.Token(kCouncil, "social_worker")).error_code(),
              r.related)
        << r.path;
    for (const auto& [org, role] : strangers) {
      const std::string denied_before = stack.Scalar(
          "SELECT count(*) FROM core.audit WHERE outcome = 'denied' AND person_id = '" +
          person.person_id() + "'");
      const auto refused = Call(r.path, *r.request, stack.Token(org, role));
      EXPECT_EQ(refused.error_code(), Code::NOT_FOUND) << r.path << " " << org << " " << role;
      EXPECT_NE(stack.Scalar("SELECT count(*) FROM core.audit WHERE outcome = 'denied' AND "
                             "person_id = '" +
                             person.person_id() + "'"),
                denied_before)
          << r.path << " " << org << " " << role << ": the refusal is audited";
      // Breaking glass opens the read, audited.
      EXPECT_EQ(Call(r.path, *r.request, stack.Token(org, role),
                     {{"x-break-glass-reason", "unconscious in ED"}})
                    .error_code(),
                r.related)
          << r.path << " " << org << " " << role;
    }
  }
}

// The attacks of the issue, as an unrelated trust (RXV) against a person seen by RGD.
TEST_F(AccessMatrixTest, AnUnrelatedTrustCannotWriteAboutThePerson) {
  const std::string stranger = stack.Token(kStranger, "system");
  const std::string before = Written();
  // A care contact; a death; both with break glass too.
  for (const auto& e : {Contact("c-1"), Death("death-1")}) {
    EXPECT_EQ(Send(stranger, {e}).error_code(), Code::NOT_FOUND);
    EXPECT_EQ(Send(stack.Token(kStranger, "clinician"), {e}).error_code(), Code::NOT_FOUND);
  }
  auto glass = Ctx(stack.Token(kStranger, "clinician"), {{"x-break-glass-reason", "ED"}});
  icr::v1::RecordEventsRequest events;
  *events.add_events() = Contact("c-2");
  icr::v1::RecordEventsResponse events_out;
  EXPECT_EQ(stack.record()->RecordEvents(glass.get(), events, &events_out).error_code(),
            Code::NOT_FOUND);
  // Upsert over the record: family name and council changed.
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(nhs);
  upsert.mutable_person()->set_family_name("Hijacked");
  upsert.mutable_person()->set_council_code("E08000003");
  icr::v1::Person out;
  auto up = stack.record()->UpsertPerson(Ctx(stranger).get(), upsert, &out);
  EXPECT_EQ(up.error_code(), Code::NOT_FOUND);
  EXPECT_TRUE(out.local_identifiers().empty());  // nothing of the person leaked
  // The same through ImportEvents: every item refused alone, NOT_FOUND.
  grpc::ClientContext import_ctx;
  import_ctx.AddMetadata("authorization", "Bearer " + stranger);
  icr::v1::ImportSummary summary;
  auto writer = stack.record()->ImportEvents(&import_ctx, &summary);
  icr::v1::ImportItem item;
  *item.mutable_person() = upsert.person();
  writer->Write(item);
  *item.mutable_event() = Contact("c-3");
  writer->Write(item);
  *item.mutable_event() = Death("death-2");
  writer->Write(item);
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.stored(), 0);
  EXPECT_EQ(summary.rejected(), 3);
  for (const auto& r : summary.rejections()) {
    EXPECT_EQ(r.code(), static_cast<int>(Code::NOT_FOUND)) << r.message();
  }
  // A council's Care Act assessment by an unrelated council.
  const auto assess =
      build::CareAct(nhs, nhs + "/ca-1", nhs + "/CA1", icr::v1::CareActEvent::ASSESSMENT,
                     kOtherCouncil, "2026-02-01");
  EXPECT_EQ(Send(stack.Token(kOtherCouncil, "social_worker"), {assess}).error_code(),
            Code::NOT_FOUND);
  // Nothing was written, the person is as they were, and the stranger still sees nothing.
  EXPECT_EQ(Written(), before);
  EXPECT_EQ(stack.Scalar("SELECT family_name || '/' || council_code || '/' || "
                         "coalesce(date_of_death::text, 'alive') FROM core.person WHERE "
                         "person_id = '" +
                         person.person_id() + "'"),
            "Testperson/E08000035/alive");
  icr::v1::GetIntegratedRecordRequest read;
  read.set_nhs_number(nhs);
  icr::v1::IntegratedRecord rec;
  EXPECT_EQ(stack.record()->GetIntegratedRecord(Ctx(stranger).get(), read, &rec).error_code(),
            Code::NOT_FOUND);
  // Every attempt audited as denied.
  EXPECT_EQ(Audited(kStranger, "RecordEvents", "denied"), "5");
  EXPECT_EQ(Audited(kStranger, "UpsertPerson", "denied"), "1");
  EXPECT_EQ(Audited(kStranger, "ImportEvents", "denied"), "3");
  EXPECT_EQ(Audited(kOtherCouncil, "RecordEvents", "denied"), "1");
}

// A trust that sees the person may not name another organisation as provider, and needs a care
// relationship for demographics and a death; an opening event by an unrelated trust naming
// itself opens its relationship.
TEST_F(AccessMatrixTest, WritesByOrganisationsThatSeeThePerson) {
  const std::string council = stack.Token(kCouncil, "social_worker");
  auto other = Send(trust, {Referral("ref-x", kStranger)});
  EXPECT_EQ(other.error_code(), Code::PERMISSION_DENIED);
  EXPECT_EQ(other.error_message().rfind("events[0].referral_opened.provider_code:", 0), 0u)
      << other.error_message();
  // The council (person's council) may change demographics and record a death.
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(nhs);
  upsert.mutable_person()->set_postcode("LS2 9JT");
  icr::v1::Person out;
  EXPECT_TRUE(stack.record()->UpsertPerson(Ctx(council).get(), upsert, &out).ok());
  // A referral to an unrelated trust, sent by that trust, opens its relationship (audited as
  // such), and then it may record the rest.
  EXPECT_TRUE(Send(stack.Token(kStranger, "system"), {Referral("ref-rxv", kStranger)}).ok());
  EXPECT_EQ(Audited(kStranger, "RecordEvents", "relationship_opened"), "1");
  EXPECT_TRUE(Send(stack.Token(kStranger, "system"), {Contact("c-rxv")}).ok());
  EXPECT_EQ(Audited(kStranger, "RecordEvents", "ok"), "1");
}

// Refusals look like absence: an invisible person and one who does not exist give the same code
// and message, and both are audited (denied, not found).
TEST_F(AccessMatrixTest, AnInvisiblePersonAndNoOneAreRefusedAlike) {
  const std::string stranger = stack.Token(kStranger, "system");
  const std::string nobody = NextNhsNumber();
  icr::v1::UpsertPersonRequest invisible, absent;
  *invisible.mutable_person() = MakePerson(nhs);
  invisible.set_expected_version(1);
  *absent.mutable_person() = MakePerson(nobody);
  absent.set_expected_version(1);
  icr::v1::Person out;
  auto a = stack.record()->UpsertPerson(Ctx(stranger).get(), invisible, &out);
  auto b = stack.record()->UpsertPerson(Ctx(stranger).get(), absent, &out);
  EXPECT_EQ(a.error_code(), Code::NOT_FOUND);
  EXPECT_EQ(b.error_code(), a.error_code());
  EXPECT_EQ(b.error_message(), a.error_message());
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person WHERE nhs_number = '" + nobody + "'"),
            "0");
  auto c = Send(stranger, {Contact("c-inv")});
  auto nobody_contact = Contact("c-nobody");
  nobody_contact.set_nhs_number(nobody);
  auto d = Send(stranger, {nobody_contact});
  EXPECT_EQ(c.error_code(), Code::NOT_FOUND);
  EXPECT_EQ(d.error_code(), c.error_code());
  EXPECT_EQ(d.error_message(), c.error_message());
  EXPECT_EQ(Audited(kStranger, "UpsertPerson", "denied"), "1");
  EXPECT_EQ(Audited(kStranger, "UpsertPerson", "not_found"), "1");
  EXPECT_EQ(Audited(kStranger, "RecordEvents", "denied"), "1");
  EXPECT_EQ(Audited(kStranger, "RecordEvents", "not_found"), "1");
  // Reads alike.
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(nobody);
  auto e = stack.record()->GetPerson(Ctx(stranger).get(), get, &out);
  get.set_nhs_number(nhs);
  auto f = stack.record()->GetPerson(Ctx(stranger).get(), get, &out);
  EXPECT_EQ(e.error_code(), Code::NOT_FOUND);
  EXPECT_EQ(e.error_message(), f.error_message());
  EXPECT_EQ(Audited(kStranger, "GetPerson", "not_found"), "1");
  // The integrated record's batched look-up audits alike (migration 0016).
  icr::v1::GetIntegratedRecordRequest rec_req;
  rec_req.set_nhs_number(nobody);
  icr::v1::IntegratedRecord rec;
  auto g = stack.record()->GetIntegratedRecord(Ctx(stranger).get(), rec_req, &rec);
  rec_req.set_nhs_number(nhs);
  auto h = stack.record()->GetIntegratedRecord(Ctx(stranger).get(), rec_req, &rec);
  EXPECT_EQ(g.error_code(), Code::NOT_FOUND);
  EXPECT_EQ(g.error_message(), h.error_message());
  EXPECT_EQ(Audited(kStranger, "GetIntegratedRecord", "not_found"), "1");
  EXPECT_EQ(Audited(kStranger, "GetIntegratedRecord", "denied"), "1");
}

}  // namespace
}  // namespace icr::test
