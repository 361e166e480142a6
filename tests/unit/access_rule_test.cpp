// The access rule alone (services/common/access_rule): every RPC of every service has a policy
// entry (an RPC added later without one fails here), and the decisions of the write rule.
#include "services/common/access_rule.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "icr/v1/careplan.pb.h"
#include "icr/v1/performance.pb.h"
#include "icr/v1/record.pb.h"
#include "icr/v1/s117.pb.h"

namespace icr::access {
namespace {

// The services as their .proto files declare them (the messages' library holds the descriptors;
// naming a message of each file links it in).
std::vector<const google::protobuf::ServiceDescriptor*> Services() {
  return {icr::v1::LocalIdentifier::descriptor()->file()->FindServiceByName("RecordService"),
          icr::v1::AdultOutcome::descriptor()->file()->FindServiceByName("CarePlanService"),
          icr::v1::S117Decision::descriptor()->file()->FindServiceByName("S117RegisterService"),
          icr::v1::Indicator::descriptor()->file()->FindServiceByName("PerformanceService")};
}

TEST(AccessPolicy, EveryRpcOfEveryServiceHasExactlyOneEntry) {
  size_t methods = 0;
  for (const auto* service : Services()) {
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      ++methods;
      EXPECT_NE(PolicyOf(service->method(i)->full_name()), nullptr)
          << service->method(i)->full_name() << " has no access policy";
    }
  }
  EXPECT_EQ(Policies().size(), methods) << "a policy entry names no RPC";
}

TEST(AccessPolicy, BreakGlassAppliesToReadsOnlyAndAnalystsSeeAggregatesOnly) {
  for (const auto& p : Policies()) {
    if (p.break_glass) {
      EXPECT_TRUE(p.kind == Kind::kPersonRead || p.kind == Kind::kList) << p.method;
    }
    const bool analyst =
        std::find(p.roles.begin(), p.roles.end(), Role::kPerformanceAnalyst) != p.roles.end();
    if (analyst) EXPECT_EQ(p.kind, Kind::kAggregate) << p.method;
  }
}

TEST(AccessPolicy, UnknownMethodsAdmitNobody) {
  Caller admin{"RGD", Role::kAdmin};
  EXPECT_EQ(Admit(admin, "icr.v1.RecordService.DeleteEverything").code(),
            absl::StatusCode::kPermissionDenied);
  Caller analyst{"RGD", Role::kPerformanceAnalyst};
  EXPECT_EQ(Admit(analyst, "icr.v1.RecordService.GetPerson").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Admit(analyst, "icr.v1.PerformanceService.GetDashboard").ok());
}

Facts Seen(bool care) { return {true, true, care, false}; }

TEST(WriteRule, AbsentAndInvisibleAreTheSameRefusal) {
  Caller trust{"RXV", Role::kSystem};
  const Facts nobody{}, invisible{true, false, false, false};
  for (Write w : {Write::kEvent, Write::kDemographics, Write::kDeath, Write::kResponsibleBodies}) {
    auto a = DecideWrite(trust, w, nobody, "events[0].nhs_number");
    auto b = DecideWrite(trust, w, invisible, "events[0].nhs_number");
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.status.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(a.audit, kAuditNotFound);
    EXPECT_EQ(b.audit, kAuditDenied);
  }
}

TEST(WriteRule, BreakGlassNeverOpensAWrite) {
  Caller glass{"RXV", Role::kClinician, "", "", "unconscious in ED"};
  const Facts invisible{true, false, false, false};
  EXPECT_EQ(DecideWrite(glass, Write::kEvent, invisible, "f").status.code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(DecideRead(glass, invisible, true, "f").break_glass);
  EXPECT_FALSE(DecideRead(glass, invisible, false, "f").ok());
}

TEST(WriteRule, DemographicsAndDeathNeedCare) {
  Caller trust{"RGD", Role::kSystem};
  EXPECT_EQ(DecideWrite(trust, Write::kDeath, Seen(false), "f").status.code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(DecideWrite(trust, Write::kDemographics, Seen(false), "f").status.code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(DecideWrite(trust, Write::kDeath, Seen(true), "f").ok());
  EXPECT_TRUE(DecideWrite(trust, Write::kEvent, Seen(false), "f").ok());
}

TEST(WriteRule, OpeningEventsAndCreationNeedNoRelationship) {
  Caller trust{"RGD", Role::kSystem};
  const Facts invisible{true, false, false, false};
  EXPECT_TRUE(DecideWrite(trust, Write::kOpenRelationship, invisible, "f").ok());
  EXPECT_TRUE(DecideWrite(trust, Write::kCreatePerson, Facts{}, "f").ok());
  Caller officer{"E08000035", Role::kS117Officer};
  EXPECT_EQ(DecideWrite(officer, Write::kCreatePerson, Facts{}, "f").status.code(),
            absl::StatusCode::kPermissionDenied);
  // An existing person is not created again: as invisible.
  EXPECT_EQ(DecideWrite(trust, Write::kCreatePerson, invisible, "f").status.code(),
            absl::StatusCode::kNotFound);
}

TEST(WriteRule, ResponsibleBodiesOnlyByACurrentOne) {
  Caller council{"E08000035", Role::kS117Officer};
  Facts seen = Seen(true);
  EXPECT_EQ(DecideWrite(council, Write::kResponsibleBodies, seen, "f").status.code(),
            absl::StatusCode::kPermissionDenied);
  seen.responsible_body = true;
  EXPECT_TRUE(DecideWrite(council, Write::kResponsibleBodies, seen, "f").ok());
}

TEST(WriteRule, PlacementsOnlyByThePlacingCouncilThatSeesThePerson) {
  Caller council{"E08000035", Role::kSocialWorker};
  Facts seen = Seen(false);
  EXPECT_EQ(DecideWrite(council, Write::kPlacement, seen, "f").status.code(),
            absl::StatusCode::kPermissionDenied);
  seen.placing_council = true;
  EXPECT_TRUE(DecideWrite(council, Write::kPlacement, seen, "f").ok());
  Facts unseen;
  unseen.exists = true;
  unseen.placing_council = true;
  EXPECT_EQ(DecideWrite(council, Write::kPlacement, unseen, "f").status.code(),
            absl::StatusCode::kNotFound);
}

TEST(RegisterScope, ByTheKindOfTheCallersOrganisation) {
  const Caller leeds{"E08000035", Role::kS117Officer};
  EXPECT_EQ(RegisterScopeOf(leeds, "council").by, RegisterScope::By::kCouncil);
  EXPECT_EQ(RegisterScopeOf(leeds, "council").mode(), "council");
  EXPECT_EQ(RegisterScopeOf(leeds, "council").org_code, "E08000035");
  const Caller icb{"15F", Role::kS117Officer};
  EXPECT_EQ(RegisterScopeOf(icb, "icb").mode(), "icb");
  const Caller trust{"RGD", Role::kClinician};
  EXPECT_EQ(RegisterScopeOf(trust, "trust").mode(), "relationship");
  EXPECT_EQ(RegisterScopeOf(trust, "").mode(), "relationship");  // unknown organisation
}

TEST(RegisterScope, ACouncilOrIcbSeesWhatItIsResponsibleForWhateverItsRelationships) {
  const RegisterScope council = RegisterScopeOf({"E08000035", Role::kS117Officer}, "council");
  Facts f = EntitlementFacts(council, "E08000035", "15F", false);
  EXPECT_TRUE(f.exists && f.sees && f.responsible_body);
  f = EntitlementFacts(council, "E08000019", "15F", true);  // related, not responsible
  EXPECT_FALSE(f.sees || f.responsible_body);
  const RegisterScope icb = RegisterScopeOf({"15F", Role::kS117Officer}, "icb");
  f = EntitlementFacts(icb, "E08000035", "15F", false);
  EXPECT_TRUE(f.sees && f.responsible_body);
  EXPECT_FALSE(EntitlementFacts(icb, "E08000035", "", true).sees);
}

TEST(RegisterScope, AnyOtherOrganisationSeesByItsRelationship) {
  const RegisterScope trust = RegisterScopeOf({"RGD", Role::kClinician}, "trust");
  EXPECT_TRUE(EntitlementFacts(trust, "E08000035", "15F", true).sees);
  const Facts f = EntitlementFacts(trust, "E08000035", "15F", false);
  EXPECT_TRUE(f.exists);
  EXPECT_FALSE(f.sees || f.responsible_body);
}

}  // namespace
}  // namespace icr::access
