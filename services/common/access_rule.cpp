#include "services/common/access_rule.h"

#include <algorithm>
#include <string>

namespace icr::access {
namespace {
using R = Role;
const std::vector<Role> kPersonLevel = {R::kClinician, R::kSocialWorker, R::kS117Officer,
                                        R::kSystem, R::kAdmin};
const std::vector<Role> kEveryone = {R::kClinician,          R::kSocialWorker, R::kS117Officer,
                                     R::kPerformanceAnalyst, R::kSystem,       R::kAdmin};
const std::vector<Role> kComputers = {R::kPerformanceAnalyst, R::kSystem, R::kAdmin};
// Roles that may reconcile a council's or ICB's register against the record.
const std::vector<Role> kRegisterOfficers = {R::kS117Officer, R::kAdmin};
// Roles of a council that may record the placements it made.
const std::vector<Role> kPlacers = {R::kSocialWorker, R::kS117Officer, R::kSystem};
// Roles that may create a person (architecture.md, Who may write).
const std::vector<Role> kCreators = {R::kSystem, R::kClinician, R::kSocialWorker};
// Roles that may merge and unmerge people's records and change an NHS number (issue 22): the
// trust or council system that keeps the master patient index, or an administrator.
const std::vector<Role> kRecordKeepers = {R::kSystem, R::kAdmin};
// Roles that may import care plans (history: a clinician or social worker within the live
// back-dating limit, a system or an admin any age).
const std::vector<Role> kPlanImporters = {R::kClinician, R::kSocialWorker, R::kSystem, R::kAdmin};

bool Has(const std::vector<Role>& roles, Role role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Decision Allow() { return {absl::OkStatus(), kAuditOk, false}; }
Decision Refuse(absl::Status status, std::string_view audit) {
  return {std::move(status), audit, false};
}
}  // namespace

const std::vector<RpcPolicy>& Policies() {
  static const std::vector<RpcPolicy> kPolicies = {
      {"icr.v1.RecordService.UpsertPerson", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.RecordService.GetPerson", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.RecordService.FindPeople", Kind::kList, kPersonLevel, true},
      {"icr.v1.RecordService.RecordEvents", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.RecordService.ImportEvents", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.RecordService.GetIntegratedRecord", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.RecordService.WatchChanges", Kind::kFeed, kPersonLevel, false},
      {"icr.v1.RecordService.GetAuditTrail", Kind::kPersonRead, kPersonLevel, true},
      // A trust's or council's national dataset file: its system (the people it creates need a
      // creating role); the job's report holds no demographics, for its system or admin.
      {"icr.v1.RecordService.ImportDataset", Kind::kPersonWrite, {R::kSystem}, false},
      {"icr.v1.RecordService.GetDatasetImport", Kind::kAggregate, {R::kSystem, R::kAdmin}, false},
      // Of an organisation that sees both people (one that sees the person, for a number).
      {"icr.v1.RecordService.MergePeople", Kind::kPersonWrite, kRecordKeepers, false},
      {"icr.v1.RecordService.Unmerge", Kind::kPersonWrite, kRecordKeepers, false},
      {"icr.v1.RecordService.ChangeNhsNumber", Kind::kPersonWrite, kRecordKeepers, false},
      {"icr.v1.CarePlanService.CreateCarePlan", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.GetCarePlan", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.CarePlanService.UpdateCarePlan", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.AgreeCarePlan", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.StartReview", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.RecordReview", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.CloseCarePlan", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.CarePlanService.ListCarePlanVersions", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.CarePlanService.ListCarePlans", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.CarePlanService.ImportCarePlans", Kind::kPersonWrite, kPlanImporters, false},
      {"icr.v1.S117RegisterService.GetEntitlement", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.S117RegisterService.ListRegister", Kind::kList, kPersonLevel, false},
      {"icr.v1.S117RegisterService.ExportRegister", Kind::kList, kPersonLevel, false},
      {"icr.v1.S117RegisterService.OpenEntitlement", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.SetResponsibleBodies", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.AddAftercareService", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.EndAftercareService", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.RecordReview", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.RecordEndDecision", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.RecordLegalEvent", Kind::kPersonWrite, kPersonLevel, false},
      {"icr.v1.S117RegisterService.RecordInError", Kind::kPersonWrite, kPersonLevel, false},
      // The follower's position: no person-level data.
      {"icr.v1.S117RegisterService.GetFeedPosition", Kind::kAggregate, kEveryone, false},
      {"icr.v1.S117RegisterService.RecordPlacement", Kind::kPersonWrite, kPlacers, false},
      {"icr.v1.S117RegisterService.EndPlacement", Kind::kPersonWrite, kPlacers, false},
      {"icr.v1.S117RegisterService.ListPlacements", Kind::kPersonRead, kPersonLevel, true},
      {"icr.v1.S117RegisterService.ReconcileRegister", Kind::kList, kRegisterOfficers, false},
      // A council's register carried over: its s117_officer, a system or an admin.
      {"icr.v1.S117RegisterService.ImportRegister",
       Kind::kPersonWrite,
       {R::kS117Officer, R::kSystem, R::kAdmin},
       false},
      // Organisation successions (issue 22): applying them is an admin's (icr-server applies
      // them itself each day); a split's work list is for the s117_officer or admin of the old
      // body or a successor (the list and each item are scoped to those bodies).
      {"icr.v1.S117RegisterService.ApplySuccessions", Kind::kPersonWrite, {R::kAdmin}, false},
      {"icr.v1.S117RegisterService.ListSuccessionWork", Kind::kList, kRegisterOfficers, false},
      {"icr.v1.S117RegisterService.ResolveSuccessionWork", Kind::kPersonWrite, kRegisterOfficers,
       false},
      {"icr.v1.PerformanceService.ListIndicators", Kind::kAggregate, kEveryone, false},
      {"icr.v1.PerformanceService.GetDashboard", Kind::kAggregate, kEveryone, false},
      {"icr.v1.PerformanceService.GetSeries", Kind::kAggregate, kEveryone, false},
      {"icr.v1.PerformanceService.ExportCsv", Kind::kAggregate, kEveryone, false},
      {"icr.v1.PerformanceService.ComputeIndicators", Kind::kAggregate, kComputers, false},
  };
  return kPolicies;
}

const std::vector<RpcPolicy>& OperationPolicies() {
  static const std::vector<RpcPolicy> kPolicies = {
      // FHIR bulk export ($export, Patient/$export, Group/{id}/$export): person-level data of
      // every person the organisation sees; never break glass, never a performance analyst.
      {kFhirBulkExport, Kind::kList, kPersonLevel, false},
  };
  return kPolicies;
}

const RpcPolicy* PolicyOf(std::string_view method) {
  for (const auto* table : {&Policies(), &OperationPolicies()}) {
    for (const auto& p : *table) {
      if (p.method == method) return &p;
    }
  }
  return nullptr;
}

absl::Status Admit(const Caller& caller, std::string_view method) {
  const RpcPolicy* policy = PolicyOf(method);
  if (policy == nullptr) {
    return absl::PermissionDeniedError(std::string(method) + " has no access policy");
  }
  if (Has(policy->roles, caller.role)) return absl::OkStatus();
  if (caller.role == Role::kPerformanceAnalyst) {
    return absl::PermissionDeniedError("performance_analyst sees aggregates only");
  }
  return absl::PermissionDeniedError(RoleName(caller.role) + " may not call " +
                                     std::string(method.substr(method.rfind('.') + 1)));
}

std::string ListScope(const Caller& caller, std::string_view method) {
  const RpcPolicy* policy = PolicyOf(method);
  const bool glass = policy && policy->break_glass && !caller.break_glass_reason.empty();
  return glass ? "" : caller.org_code;
}

std::string_view RegisterScope::mode() const {
  switch (by) {
    case By::kCouncil:
      return "council";
    case By::kIcb:
      return "icb";
    case By::kRelationship:
      break;
  }
  return "relationship";
}

RegisterScope RegisterScopeOf(const Caller& caller, std::string_view org_kind) {
  RegisterScope scope;
  scope.org_code = caller.org_code;
  if (org_kind == "council") scope.by = RegisterScope::By::kCouncil;
  if (org_kind == "icb") scope.by = RegisterScope::By::kIcb;
  return scope;
}

Facts EntitlementFacts(const RegisterScope& scope, std::string_view council, std::string_view icb,
                       bool related) {
  Facts f;
  f.exists = true;
  switch (scope.by) {
    case RegisterScope::By::kCouncil:
      f.sees = council == scope.org_code;
      break;
    case RegisterScope::By::kIcb:
      f.sees = icb == scope.org_code;
      break;
    case RegisterScope::By::kRelationship:
      f.sees = related;
      break;
  }
  f.responsible_body = scope.org_code == council || scope.org_code == icb;
  return f;
}

bool WorksOnSuccession(std::string_view org_code, std::string_view predecessor,
                       const std::vector<std::string>& successors) {
  return org_code == predecessor ||
         std::find(successors.begin(), successors.end(), org_code) != successors.end();
}

absl::Status NotVisible(std::string_view field) {
  return absl::NotFoundError(std::string(field) + ": no such person visible to you");
}

Decision DecideRead(const Caller& caller, const Facts& facts, bool break_glass_applies,
                    std::string_view field) {
  if (!facts.exists) return Refuse(NotVisible(field), kAuditNotFound);
  if (facts.sees) return Allow();
  if (break_glass_applies && !caller.break_glass_reason.empty()) {
    return {absl::OkStatus(), kAuditOk, true};
  }
  return Refuse(NotVisible(field), kAuditDenied);
}

Decision DecideWrite(const Caller& caller, Write write, const Facts& facts,
                     std::string_view field) {
  if (write == Write::kCreatePerson) {
    if (facts.exists) return Refuse(NotVisible(field), kAuditDenied);  // not a creation
    if (Has(kCreators, caller.role)) return Allow();
    return Refuse(absl::PermissionDeniedError(RoleName(caller.role) +
                                              " may not create a person (system, clinician or "
                                              "social_worker may)"),
                  kAuditDenied);
  }
  if (!facts.exists) return Refuse(NotVisible(field), kAuditNotFound);
  // What the write needs beyond sight, and the refusal for an organisation that sees the person
  // without it (one that does not see them is refused as if they did not exist).
  bool needed = facts.sees;
  const char* refusal = "";
  switch (write) {
    case Write::kOpenRelationship:
      return Allow();  // the event names the caller itself: its opening is the relationship
    case Write::kDemographics:
    case Write::kDeath:
      needed = facts.care;
      refusal = write == Write::kDeath ? "death" : "person";
      break;
    case Write::kResponsibleBodies:
      needed = facts.responsible_body;
      refusal =
          "entitlement_id: only a current responsible council or ICB changes the responsible "
          "bodies";
      break;
    case Write::kCarePlan:
      needed = facts.plan_role;
      refusal =
          "plan_id: only the organisations named in the plan (author, key worker, MDT, "
          "signatories) and the person's responsible bodies change it";
      break;
    case Write::kPlacement:
      needed = facts.sees && facts.placing_council;
      refusal =
          "placement.placing_council_code: only the placing council records or ends a placement";
      break;
    case Write::kEvent:
    case Write::kCreatePerson:
      break;
  }
  if (needed) return Allow();
  if (!facts.sees) return Refuse(NotVisible(field), kAuditDenied);
  std::string message = refusal;
  if (write == Write::kDemographics || write == Write::kDeath) {
    message +=
        ": needs a current care relationship with the person (open referral or stay, key "
        "worker, care plan role, S117 responsibility) or being their council or ICB";
  }
  return Refuse(absl::PermissionDeniedError(message), kAuditDenied);
}

}  // namespace icr::access
