// The care plan's store: the statements of services/careplan/sql/ over careplan.* (and reads of
// core.person and s117.episode), composed by the handlers into one transaction per call.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/careplan.pb.h"
#include "services/careplan/care_plan.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr::careplan {

// A plan's current state, and whether the asking organisation may see its person.
struct PlanRow {
  std::string plan_id;
  std::string person_id;
  std::string nhs_number;
  int64_t current_version = 0;
  PlanStatus status = icr::v1::CarePlan::DRAFT;
  bool is_s117 = false;        // the current version is flagged as the S117 aftercare plan
  bool agreed_s117 = false;    // the agreed version in force is
  int64_t agreed_version = 0;  // 0: never agreed
  std::optional<int64_t> signed_version;  // the draft whose sign-offs agreed the plan in force
  bool visible = false;
  // The caller's organisation is named in the plan (its author, key worker, MDT, signatories)
  // or is a body responsible for the person: it may change the plan (architecture.md).
  bool plan_role = false;
  std::string started_on;  // the day the plan was started (YYYY-MM-DD)
};

// A version to append: its status and content, and why it was made.
struct NewVersion {
  PlanStatus status;
  const icr::v1::CarePlan* content;
  std::string change;  // created, updated, agreed, review_started, reviewed, closed
  std::string reason;
  std::optional<int64_t> signed_version;
  std::optional<std::string> agreed_on;  // an agreement: the day it was agreed
};

// Where a new plan comes from: the day it was started and, for an imported plan, its reference
// in the source system and the import row (JSON) it was stored from.
struct PlanOrigin {
  std::string started_on;
  std::optional<std::string> source_ref;
  std::optional<std::string> source_row;
};

struct PlanFilter {
  std::optional<std::string> person_id;
  std::optional<std::string> key_worker_org;
  std::optional<std::string> review_due_before;
  bool include_closed = false;
  std::string after_date = "-infinity";  // keyset: (next review date or infinity, plan id)
  std::string after_plan = "00000000-0000-0000-0000-000000000000";
};

class CarePlanStore {
 public:
  // The plan, locked against concurrent writers when `lock`; nullopt when there is none.
  static std::optional<PlanRow> FindPlan(pqxx::transaction_base& tx, const std::string& plan_id,
                                         const std::string& org_code, bool lock);
  // The person's plan that is not CLOSED, if any.
  static std::optional<std::string> OpenPlanOf(pqxx::transaction_base& tx,
                                               const std::string& person_id);
  // The configuration row for a plan type (careplan.plan_type_rule).
  static absl::StatusOr<PlanTypeRule> LoadRule(pqxx::transaction_base& tx,
                                               const std::string& plan_type);
  // The person has an S117 episode that is PLANNED or ACTIVE (s117.episode).
  static bool S117EntitlementOpen(pqxx::transaction_base& tx, const std::string& person_id);

  // A new plan with version 1 (DRAFT); returns its id.
  static std::string Create(pqxx::transaction_base& tx, const std::string& person_id,
                            const icr::v1::CarePlan& content, const Caller& caller,
                            const PlanOrigin& origin);
  // An import row as stored with its plan (JSON; without the row number and dry-run flag).
  static std::string SourceRow(const icr::v1::CarePlanImportRow& row);
  // The plan organisation org_code imported under source_ref: its id and whether it was
  // imported from source_row (the same content).
  static std::optional<std::pair<std::string, bool>> FindBySource(pqxx::transaction_base& tx,
                                                                  const std::string& org_code,
                                                                  const std::string& source_ref,
                                                                  const std::string& source_row);
  // The person's date of birth (YYYY-MM-DD).
  static std::string BirthDate(pqxx::transaction_base& tx, const std::string& person_id);
  // Appends version expected + 1, only if the plan is still at `expected` (ABORTED otherwise,
  // so two writers who read the same version cannot both succeed).
  static absl::StatusOr<int64_t> AppendVersion(pqxx::transaction_base& tx, const PlanRow& row,
                                               int64_t expected, const NewVersion& version,
                                               const Caller& caller);
  // A version (0: the current one) with its header, sign-offs and the last review before it.
  static std::optional<icr::v1::CarePlan> LoadVersion(pqxx::transaction_base& tx,
                                                      const std::string& plan_id, int64_t version);

  // Records an agency's sign-off, given on signed_on, of `version` (the current draft, or the
  // draft that agreed the version in force); the signatory's organisation then has a role on the
  // plan. False when that agency has signed it already.
  static bool AddSignoff(pqxx::transaction_base& tx, const PlanRow& row, int64_t version,
                         Agency agency, const std::string& org_code, const std::string& signed_by,
                         const std::string& role, const std::string& signed_on);
  static std::vector<DatedSignoff> Signoffs(pqxx::transaction_base& tx, const std::string& plan_id,
                                            int64_t version);
  static std::set<Agency> SignedAgencies(pqxx::transaction_base& tx, const std::string& plan_id,
                                         int64_t version);
  // The current version becomes the agreed version in force, agreed on agreed_on from
  // `signed_version`.
  static void MarkAgreed(pqxx::transaction_base& tx, const std::string& plan_id,
                         int64_t signed_version, const std::string& agreed_on);
  static std::string InsertReview(pqxx::transaction_base& tx, const PlanRow& row,
                                  const icr::v1::CarePlanReview& review, bool health,
                                  bool social_care, const std::string& org_code);
  static void MarkClosed(pqxx::transaction_base& tx, const std::string& plan_id,
                         const std::string& reason);

  // Versions after `after_version`, oldest first.
  static std::vector<icr::v1::CarePlanVersion> ListVersions(pqxx::transaction_base& tx,
                                                            const std::string& plan_id,
                                                            int64_t after_version, int limit);
  // Plans matching the filter after its keyset position; visible_to_org empty = no visibility
  // filter. Each header comes with its keyset position ("date/plan_id") for the next page.
  static std::vector<std::pair<icr::v1::CarePlanHeader, std::string>> ListPlans(
      pqxx::transaction_base& tx, const PlanFilter& filter, const std::string& visible_to_org,
      int limit);
};

}  // namespace icr::careplan
