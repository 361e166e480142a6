// The access rule (architecture.md, Security: who may see, who may write), decided in one place
// and pure: facts in (the caller, what the call does, what the caller's organisation is to the
// person), a decision out (allow or the refusal, and the audit outcome). No gRPC, no SQL: the
// facts come from core.relationship (Access, services/common/access.h) and the handlers act on
// the decision.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "services/common/principal.h"

namespace icr::access {

// What an RPC does, for the policy table.
enum class Kind {
  kPersonRead,   // reads one person's data (audited; break glass may apply)
  kPersonWrite,  // changes one person's data (audited; never break glass)
  kList,         // lists people in the caller's scope (each person returned audited)
  kFeed,         // the change feed (filtered by the rule; each batch audited)
  kAggregate,    // figures about populations, no person-level data
};

// One entry per RPC of every service: its action kind, the roles it admits and whether break
// glass applies. An RPC without an entry admits nobody (tests/unit/access_rule_test.cpp checks
// that every RPC of every service has one).
struct RpcPolicy {
  std::string_view method;  // full name, e.g. "icr.v1.RecordService.UpsertPerson"
  Kind kind;
  std::vector<Role> roles;
  bool break_glass;
};
const std::vector<RpcPolicy>& Policies();
// Entries for operations that are not RPCs of a gRPC service (the FHIR face's own: bulk
// export), so Policies() stays exactly the RPCs. Admit and PolicyOf read both tables.
inline constexpr std::string_view kFhirBulkExport = "icr.fhir.BulkExport";
const std::vector<RpcPolicy>& OperationPolicies();
const RpcPolicy* PolicyOf(std::string_view method);

// The role check of a call, after authentication and before anything else: PERMISSION_DENIED
// when the RPC admits no such role, or has no policy entry (fail closed).
absl::Status Admit(const Caller& caller, std::string_view method);

// What the caller's organisation is to one person (core.relationship_facts).
struct Facts {
  bool exists = false;            // the person is in the store
  bool sees = false;              // a current relationship of any kind
  bool care = false;              // a current care relationship (or the person's council, ICB)
  bool responsible_body = false;  // a current S117 responsible body of the entitlement written
  bool plan_role = false;         // named in the care plan written, or responsible for the person
  bool placing_council = false;   // the placing council of the placement written
};

// What a write does to the person (architecture.md, Who may write).
enum class Write {
  kCreatePerson,       // a person whose NHS number is not in the store
  kOpenRelationship,   // an event that opens a relationship for the caller itself
  kEvent,              // any other event, or a change that needs sight only
  kDemographics,       // changes a person's demographics
  kDeath,              // records a death
  kResponsibleBodies,  // changes the S117 responsible bodies
  kCarePlan,           // changes a care plan
  kPlacement,          // records or ends a placement (s117.placement)
};

inline constexpr std::string_view kAuditOk = "ok";
inline constexpr std::string_view kAuditDenied = "denied";
inline constexpr std::string_view kAuditNotFound = "not_found";
// A write allowed because its event opened a relationship for the caller (it saw nothing before).
inline constexpr std::string_view kAuditRelationshipOpened = "relationship_opened";

struct Decision {
  absl::Status status;       // OK, or the refusal to return
  std::string_view audit;    // the audit row's outcome
  bool break_glass = false;  // allowed only because the caller broke glass (reads)
  bool ok() const { return status.ok(); }
};

// The organisation whose people a list of `method` shows: the caller's, or "" (everyone's)
// when the caller breaks glass and the RPC admits it; each person listed is audited either way.
std::string ListScope(const Caller& caller, std::string_view method);

// Whose S117 entitlements an organisation sees, in the register (ListRegister, ExportRegister)
// and one at a time: a council or an ICB those it is a responsible body of; any other
// organisation those of the people it has a relationship with (core.relationship).
struct RegisterScope {
  enum class By { kCouncil, kIcb, kRelationship };
  By by = By::kRelationship;
  std::string org_code;
  // How the register statement names `by` (services/s117/sql/register.sql):
  // "council", "icb" or "relationship".
  std::string_view mode() const;
};

// The register scope of the caller, whose organisation is of kind `org_kind` (reference data:
// "council", "icb", "trust", ...; empty when the organisation is unknown).
RegisterScope RegisterScopeOf(const Caller& caller, std::string_view org_kind);

// The facts of the rule for an organisation in `scope` and one entitlement, whose responsible
// council and ICB are `council` and `icb`: it sees the entitlement by its scope (`related`: it has
// a relationship with the person, used only for a scope by relationship), and is a responsible
// body when it is either of them.
Facts EntitlementFacts(const RegisterScope& scope, std::string_view council, std::string_view icb,
                       bool related);

// A split's work item (core.succession_work, issue 22): an organisation sees and resolves it
// when it is the old body or one of its successors (the roles: the policy table's).
bool WorksOnSuccession(std::string_view org_code, std::string_view predecessor,
                       const std::vector<std::string>& successors);

// The refusal for a person who does not exist or whom the caller may not see: the same code and
// message for both ("<field>: no such person visible to you").
absl::Status NotVisible(std::string_view field);

// A read of one person: allowed when the caller's organisation sees them, or breaks glass where
// the RPC admits it. `field` names the key in the refusal.
Decision DecideRead(const Caller& caller, const Facts& facts, bool break_glass_applies,
                    std::string_view field);

// A write about one person. Break glass never opens a write.
Decision DecideWrite(const Caller& caller, Write write, const Facts& facts, std::string_view field);

}  // namespace icr::access
