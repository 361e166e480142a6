// Pure rules of the integrated care plan (domain-rules 4.4-4.8, 5): field validation, Care Act
// eligibility, S117 and budget rules, the agree-time checks and the state machine. No gRPC, no
// SQL; each returns absl::Status naming the field.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "icr/v1/careplan.pb.h"
#include "services/common/reference.h"
#include "services/common/validation.h"

namespace icr::careplan {

using Agency = icr::v1::CarePlanSignOff::Agency;
using PlanStatus = icr::v1::CarePlan::Status;

// Per plan type (careplan.plan_type_rule): who signs, how many must, the longest review interval.
struct PlanTypeRule {
  std::set<Agency> agencies;
  int signoffs_needed = 1;
  int max_review_months = 12;
};

// "s117_aftercare" for the S117 aftercare plan, otherwise "default".
std::string PlanType(const icr::v1::CarePlan& plan);

// Clears what the service assigns (plan id, version, status, sign-offs, ...), leaving the content
// a version stores.
void ClearAssigned(icr::v1::CarePlan& plan);

// Content checks on create and update: INVALID_ARGUMENT naming the first bad field under `field`.
// Includes eligibility, S117 and budget values; completeness is checked at agreement.
absl::Status ValidatePlan(icr::v1::CarePlan& plan, const ReferenceData& ref,
                          const std::string& field, Date today);

// A need marked ELIGIBLE carries a determination meeting reg 2 (adults: impairment, two or more
// outcomes each with a reason, wellbeing) or reg 3 (carers: necessary care, one outcome or health
// at risk, wellbeing).
absl::Status CheckEligibility(const icr::v1::CarePlanNeed& need, const std::string& field);

// An S117 intervention is in an S117 plan, meets only needs arising from the mental disorder
// (at least one), and costs the person nothing.
absl::Status CheckS117Interventions(const icr::v1::CarePlan& plan, const std::string& field);

// Personal budget and direct payment values: amounts not negative, the council/ICB breakdown
// adds up, direct payment needs exist.
absl::Status CheckBudgetValues(const icr::v1::CarePlan& plan, const std::string& field);

struct AgreeContext {
  Date agreed_on;
  PlanTypeRule rule;
  // The plan in force is the S117 aftercare plan and the entitlement is open: it may only be
  // superseded by a version that is the S117 plan too (4.8).
  bool must_stay_s117 = false;
};

// Every part that stops agreement, each "field: reason", in plan order.
std::vector<std::string> MissingForAgreement(const icr::v1::CarePlan& plan,
                                             const AgreeContext& context);

// FAILED_PRECONDITION "cannot agree: a; b; ..." listing every missing part, or OK.
absl::Status CheckAgreement(const icr::v1::CarePlan& plan, const AgreeContext& context);

// The agency an organisation of this kind signs for: trust and ICB health, council social care.
std::optional<Agency> AgencyOf(const std::string& org_kind);
// The agency a caller signs for: PERMISSION_DENIED when it asks for another one or has none.
absl::StatusOr<Agency> SigningAgency(const std::string& org_kind, Agency requested);
// Whether the sign-offs of a draft agree it: the rule's number of its agencies, or, for a joint
// plan (AgreeCarePlanRequest.joint), every agency the rule names.
bool SignoffsComplete(const PlanTypeRule& rule, const std::set<Agency>& signed_by,
                      bool joint = false);
// A sign-off of a plan AGREED already joins the sign-offs of the version in force
// (signed_in_force, of draft `version`) when the rule names the agency (FAILED_PRECONDITION
// agency otherwise) and it has not signed them (ALREADY_EXISTS).
absl::Status CheckLateSignoff(const PlanTypeRule& rule, Agency agency,
                              const std::set<Agency>& signed_in_force, int64_t version);
// Health and social care both signed (CarePlan.jointly_agreed).
bool JointlyAgreed(const std::set<Agency>& signed_by);

struct DatedSignoff {
  Agency agency;
  Date signed_on;
};
// The day a draft is agreed live: the latest day among its sign-offs (those needed, all given).
Date LatestSignedOn(const std::vector<DatedSignoff>& signoffs);
// The day a plan signed on these days was agreed by its rule (an imported plan): taken in date
// order, the day of the sign-off that completed the rule; nullopt while it is incomplete.
std::optional<Date> AgreedOnByRule(const PlanTypeRule& rule, std::vector<DatedSignoff> signoffs);
// A new Care Act plan's first light-touch review: 6 weeks after agreement (4.4 rule 2).
Date FirstLightTouchReview(Date agreed_on);

std::string AgencyName(Agency agency);  // "health", "social_care"
std::optional<Agency> ParseAgency(const std::string& name);
std::string StatusName(PlanStatus status);  // "DRAFT", ...
std::optional<PlanStatus> ParseStatus(const std::string& name);

// The state machine of 4.8 (AGREED stands for AGREED/ACTIVE; superseding is a new version).
enum class Action { kUpdate, kSignOff, kAgree, kStartReview, kRecordReview, kClose };
// The status after the action, or FAILED_PRECONDITION. For kRecordReview the outcome decides.
absl::StatusOr<PlanStatus> Transition(
    PlanStatus from, Action action,
    icr::v1::CarePlanReview::Outcome outcome = icr::v1::CarePlanReview::OUTCOME_UNSPECIFIED);

// The agencies present among participants, by the kind of each one's organisation.
std::set<Agency> ParticipantAgencies(
    const google::protobuf::RepeatedPtrField<icr::v1::CarePlanParticipant>& participants,
    const ReferenceData& ref);

// An S117 aftercare plan cannot close while the person's entitlement is open (4.8 guard).
absl::Status CheckClose(bool is_s117_plan, bool s117_entitlement_open);

// A review: date, participants with organisations, outcome, next review within the rule's
// interval (INVALID_ARGUMENT); an S117 plan's review has both a council and a health
// participant (FAILED_PRECONDITION, domain-rules 5).
absl::Status ValidateReview(icr::v1::CarePlanReview& review, const ReferenceData& ref,
                            const PlanTypeRule& rule, bool is_s117_plan, Date today);

// d plus n calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb).
Date AddMonths(Date d, int months);

}  // namespace icr::careplan
