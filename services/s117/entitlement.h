// The S117 entitlement state machine and its rules (domain-rules 2.2 to 2.12): transitions
// T1..T10 with their guards, validation of what people record (responsible bodies, service lines
// and their funding, reviews, end decisions, legal events), all configurable parts taken from a
// Policy loaded from the database. Pure: no SQL, no gRPC; every refusal is an absl::Status.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "icr/v1/s117.pb.h"
#include "services/common/principal.h"
#include "services/common/reference.h"
#include "services/common/validation.h"
#include "services/s117/responsible_council.h"

namespace icr::s117 {

enum class State { kPlanned, kActive, kEndedDischarged, kEndedSuperseded, kEndedDeceased, kVoid };

std::string StateName(State state);
std::optional<State> ParseState(const std::string& name);
bool IsOpen(State state);  // PLANNED or ACTIVE

// What to do when a qualifying detention starts while on a CTO or conditionally discharged
// (2.7 [U]): raise a legal determination (T8), supersede (T5) or carry on (T4).
enum class RecallRule { kLegalDetermination, kSupersede, kContinue };

// The configurable rules (s117.policy and the s117 code tables).
struct Policy {
  int review_interval_months = 12;
  int review_overdue_tolerance_days = 0;
  int discharge_review_window_days = 90;
  int stale_after_months = 12;
  RecallRule on_cto_revocation = RecallRule::kLegalDetermination;
  RecallRule on_conditional_discharge_recall = RecallRule::kLegalDetermination;
  bool section_change_redetermines_council = false;
  bool allow_discharge_rescission = true;
  bool require_notification_before_end = false;
  Date who_pays_2020_from = Date{std::chrono::year{2020} / 9 / 1};
  Date icb_regs_2022_from = Date{std::chrono::year{2022} / 7 / 1};
  // Commencement of the Mental Health Act 2025 s46 (s117(3A) deeming); none = not in force.
  std::optional<Date> mha2025_s46_from;
  std::map<std::string, bool> end_reasons;          // code -> allowed as the primary reason
  std::map<std::string, std::string> sections;      // legal status code -> qualifying_section
  std::map<std::string, bool> service_types;        // code -> is accommodation
};

// Sets one s117.policy value; INVALID_ARGUMENT names a bad one. Unknown keys are ignored.
absl::Status ApplyPolicySetting(Policy& policy, const std::string& key, const std::string& value);

// One S117 episode: the columns of s117.episode the rules read and change.
struct Episode {
  std::string episode_id;
  std::string person_id;
  State state = State::kPlanned;
  std::string predecessor_episode_id;
  std::string qualifying_section;
  std::string legal_status_code;
  std::string detention_source_org;
  std::string detention_id;
  std::optional<Date> detention_start_date;
  std::string detaining_provider_code;
  std::string case_decision_by, case_decision_role, case_decision_rationale;
  std::optional<Date> case_decision_date;
  std::string s17_trigger_by, s17_trigger_role, s17_trigger_rationale;
  std::optional<Date> s17_trigger_date;
  std::optional<Date> ceased_detained_date;
  std::optional<Date> left_hospital_date;
  std::optional<Date> effective_from;
  std::optional<Date> cto_start_date, cto_end_date;
  std::optional<Date> conditional_discharge_date, absolute_discharge_date;
  std::string responsible_council_code;
  std::string council_basis;
  bool council_provisional = true;
  std::string ordinary_residence_evidence;
  std::string council_reason;  // why this council: the rule's derivation, or who set it
  std::string or_dispute_status = "NONE";
  std::optional<Date> or_dispute_opened_on;  // the open (or last) dispute's dates
  std::optional<Date> or_dispute_closed_on;
  std::string responsible_icb_code;
  std::string icb_basis;
  std::string gp_practice_at_application;
  std::string responsibility_rule_version = "ICB_REGS_2022";
  bool in_hospital = true;
  bool legal_determination_required = false;
  std::string pending_detention_source_org;
  std::string pending_detention_id;
  std::optional<Date> pending_detention_start_date;
  std::string pending_legal_status_code;
  std::optional<Date> last_review_date;
  std::optional<Date> next_review_due;
  std::optional<Date> ended_on;
  std::optional<Date> notification_sent_date;
  std::string void_reason;
  std::optional<Date> registered_on;  // the day it was registered (real world)
  std::string source_ref;             // the previous register's reference (import)
  bool end_migrated = false;          // ended by a joint decision carried over (migrated)
  std::string import_digest;          // the digest of the imported register row
  int64_t version = 0;

  bool operator==(const Episode&) const = default;
  bool OnCtoAt(Date d) const;
  bool ConditionallyDischargedNow() const;
};

// ---- Facts from the record (core.*) ----

enum class Qualifying { kYes, kNo, kCaseDecision, kInvalid };
// From reference data (core.mha_legal_status.s117_qualifying); unknown codes are invalid.
Qualifying QualifyingOf(const LegalStatus* status);

struct DetentionFacts {
  std::string source_org;
  std::string detention_id;
  std::string legal_status_code;
  Qualifying qualifying = Qualifying::kNo;
  Date start;
  std::string provider_code;
};

struct PersonFacts {
  std::string person_id;
  std::string council_code;  // core.person.council_code: the current council of residence
  std::string icb_code;
  std::optional<Date> date_of_birth;
  std::vector<ResidencePeriod> residences;  // core.residence, oldest first
  std::vector<PlacementFacts> placements;   // s117.placement
};

// ---- Transitions (domain-rules 2.10) ----

// What the change-feed follower does when a detention starts for a person.
enum class DetentionAction {
  kNone,
  kOpen,                // T1
  kSectionChange,       // T2
  kSupersede,           // T5 then T1
  kLegalDetermination,  // T8
  kInHospital,          // T4
};
DetentionAction OnDetentionStarted(const Episode* open, const DetentionFacts& detention,
                                   const Policy& policy);

// T1: a PLANNED episode for a qualifying detention. The council is provisional, derived from
// the residence and placement history immediately before the detention
// (DeriveResponsibleCouncil, by the rule in force on its start), with the reason in
// council_reason; the ICB is carried over from a superseded predecessor.
absl::StatusOr<Episode> OpenPlanned(const DetentionFacts& detention, const PersonFacts& person,
                                    const Episode* predecessor, const Policy& policy);
// T2: another qualifying section with no break in detention.
absl::Status ChangeSection(Episode& e, const DetentionFacts& detention, const PersonFacts& person,
                           const Policy& policy);
// T3 on leaving hospital: ceased to be detained, then left hospital on or after that day.
absl::Status ActivateOnLeavingHospital(Episode& e, Date ceased, Date left,
                                       int review_interval_months);
// T3 on another trigger (CTO start, conditional discharge, s17-leave decision) already set on e.
absl::Status ActivateOnTrigger(Episode& e, Date effective, int review_interval_months);
// T4 (and the PLANNED stay): whether the person is in hospital now. True when it changed.
bool SetInHospital(Episode& e, bool in_hospital);
// T5: closes the episode for a new qualifying detention starting on new_start.
absl::Status Supersede(Episode& e, Date new_start);
// T7.
absl::Status EndOnDeath(Episode& e, Date date_of_death);
// T8: keeps the episode ACTIVE, flags it and remembers the detention for the determination.
absl::Status RequireLegalDetermination(Episode& e, const DetentionFacts& detention);
// Resolution of T8 "continue": the original duty goes on.
absl::Status ContinueAfterDetermination(Episode& e);
// T9: a discharge found invalid; both bodies rescinded it. other_open: the person has another
// open episode.
absl::Status RescindDischarge(Episode& e, Date date, bool other_open, const Policy& policy,
                              int review_interval_months);
// T10.
absl::Status MarkVoid(Episode& e, const std::string& reason);

// ---- T6: the joint end decision ----

struct EndDecisionFacts {
  std::string body;  // COUNCIL | ICB
  Date decision_date;
  bool migrated = false;  // carried over from a previous register
};
struct ReviewFacts {
  Date review_date;
  std::string outcome;
  bool joint = false;  // both bodies attended
};
struct ServiceLineFacts {
  std::string service_line_id;
  bool is_s117 = false;
  std::optional<Date> end_date;
  std::string moved_to_legal_basis;
};

// Guards one body's decision must meet on its own: FAILED_PRECONDITION naming what is wrong
// (not ACTIVE, on a CTO on the decision date, a forbidden sole reason, a pending legal
// determination). The decision must have passed ValidateEndDecision.
absl::Status CheckEndDecision(const Episode& e, const icr::v1::S117EndDecision& decision,
                              const Policy& policy);
// Every guard of T6 over all current decisions; the effective end date when they hold, else
// FAILED_PRECONDITION listing everything missing. The review must be joint (both bodies
// attended: domain-rules 2.6 "made at a joint review", 5 "joint"). A joint end of two migrated
// decisions needs no review and no ended services (its open S117 lines end with it); every other
// guard still applies.
absl::StatusOr<Date> CheckJointEnd(const Episode& e, const std::vector<EndDecisionFacts>& decisions,
                                   const std::vector<ReviewFacts>& reviews,
                                   const std::vector<ServiceLineFacts>& services,
                                   const std::optional<Date>& notification_sent_date,
                                   const Policy& policy);
// Whether the decisions end the entitlement as a migrated joint end (both present, both migrated).
bool MigratedJointEnd(const std::vector<EndDecisionFacts>& decisions);
// T6 effects: ENDED_DISCHARGED on `effective`, review schedule stopped; end_migrated for a
// migrated joint end.
void EndDischarged(Episode& e, Date effective, const std::optional<Date>& notification_sent_date,
                   bool migrated = false);
// The caller is the s117_officer of the episode's responsible council or ICB.
bool ResponsibleOfficer(const Caller& caller, const Episode& e);
// Who may record a decision carried over from a previous register: system, admin, or the
// s117_officer of a responsible body; PERMISSION_DENIED naming decision.migrated otherwise.
absl::Status CheckMayMigrate(const Caller& caller, const Episode& e, const std::string& field);

// ---- Validation of what people record (INVALID_ARGUMENT naming the field) ----

// A council with social services duties in reference data, open on `on` (the day it becomes
// responsible), never E07 or E12.
absl::Status CheckResponsibleCouncil(const icr::v1::ResponsibleCouncil& council,
                                     const ReferenceData& ref, const std::string& field,
                                     Date on = Today());
// An ICB in reference data open on `on` (never Q99 or X98) with an ICB basis.
absl::Status CheckResponsibleIcb(const icr::v1::ResponsibleIcb& icb, const ReferenceData& ref,
                                 const std::string& field, Date on = Today());
absl::Status CheckDisputeStatus(const std::string& status, const std::string& field,
                                bool required);
// Applies a SetResponsibleBodies request to an open episode. or_dispute_opened_on is a fact
// date for `role` (empty: today).
absl::Status SetResponsibleBodies(Episode& e, const icr::v1::SetResponsibleBodiesRequest& req,
                                  const ReferenceData& ref, Role role, Date today);
// Sets or_dispute_status: a dispute opened (DISPUTED or REFERRED_TO_SOS after none) is dated
// `on`, one closed (NONE or DETERMINED after an open one) is dated today; going from one open
// status to the other keeps its age.
void SetDisputeStatus(Episode& e, const std::string& status, Date on, Date today);

// A placement to record (RecordPlacement): the placing and placed-in councils are social services
// authorities open on the start date, a known accommodation type and legal basis, the start a
// required fact date for `role`, the end (if any) no earlier than the start and not after today.
absl::Status ValidatePlacement(const icr::v1::Placement& placement, const ReferenceData& ref,
                               Role role, Date today);
// The end date of a placement that started on `start` (EndPlacement): a fact date for `role`
// (empty: today; INVALID_ARGUMENT), no earlier than the stored start (FAILED_PRECONDITION).
absl::StatusOr<Date> PlacementEnd(const std::string& end_date, Date start, Role role, Date today);

// The default JOINT split of a funding agreement.
struct Split {
  double council_pct = 0;
  double icb_pct = 0;
};
// Validates and normalises a new service line (charging, split, top-up, need): fills the split
// for COUNCIL and ICB funders and the agreement default for an unset JOINT split.
// Dates of real-world facts (start, review, decision, registration) go through FactDate: not in
// the future, and for a clinician or social worker at most kLiveBackdateDays back.
absl::Status ValidateServiceLine(icr::v1::AftercareService& line, const Policy& policy,
                                 const std::optional<Split>& agreement, const Episode& e, Role role,
                                 Date today, const std::string& field);
// Attendance per body (S117Review.council_attendance): empty gives ATTENDED when the body's
// representative is named, else NOT_INVITED; NOT_RECORDED only when `migrated` (an imported
// review); at least one body attended (or NOT_RECORDED); an attending body's representative is
// named. Sets joint.
absl::Status ValidateReview(icr::v1::S117Review& review, const Episode& e, Role role, Date today,
                            int review_interval_months, const std::string& field,
                            bool migrated = false);
absl::Status ValidateEndDecision(const icr::v1::S117EndDecision& decision, const Policy& policy,
                                 Role role, Date today, const std::string& field);
// Builds the episode an OpenEntitlement request describes (T1, and T3 for an ACTIVE duty).
// registered_on (empty: today) and effective_from (empty: the trigger's date) are fact dates for
// `role`, never before the detention started; effective_from never before the trigger (leaving
// hospital, the CTO, the conditional discharge or the s17 decision: domain-rules 2.3).
absl::StatusOr<Episode> EpisodeFromOpenRequest(const icr::v1::OpenEntitlementRequest& req,
                                               const std::string& person_id,
                                               const ReferenceData& ref, const Policy& policy,
                                               Role role, Date today, int review_interval_months);
// Checks the fields every kind of legal event needs (known kind, date, who decided and why).
absl::Status ValidateLegalEvent(const icr::v1::RecordLegalEventRequest& req, Date today);
bool IsLegalDateEvent(const std::string& kind);  // CTO, conditional discharge or s17 leave
// The history action of a legal event: "s117_" and its kind in lower case ("s117_cto_started").
std::string LegalEventAction(const std::string& kind);
// Applies a CTO, conditional-discharge or s17-leave event (T3 when the episode is PLANNED).
absl::Status ApplyLegalDateEvent(Episode& e, const icr::v1::RecordLegalEventRequest& req,
                                 int review_interval_months);
// Whether the episode holds the CTO or conditional-discharge event `kind` on `date` already (an
// S117 officer recorded it by hand before the record sent it).
bool LegalDateRecorded(const Episode& e, const std::string& kind, Date date);

// next_review_due for a review or start of aftercare on `from`.
Date AddMonths(Date from, int months);

}  // namespace icr::s117
