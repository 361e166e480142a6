#include "services/s117/entitlement.h"

#include <algorithm>
#include <cmath>

#include "services/common/fact_dates.h"
#include "services/common/status.h"

namespace icr::s117 {
namespace {

using std::chrono::days;

const std::vector<std::pair<State, std::string>>& StateNames() {
  static const std::vector<std::pair<State, std::string>> kNames = {
      {State::kPlanned, "PLANNED"},
      {State::kActive, "ACTIVE"},
      {State::kEndedDischarged, "ENDED_DISCHARGED"},
      {State::kEndedSuperseded, "ENDED_SUPERSEDED"},
      {State::kEndedDeceased, "ENDED_DECEASED"},
      {State::kVoid, "VOID"}};
  return kNames;
}

const std::set<std::string> kCouncilBases = {"OR_ENGLAND_S117_3A", "OR_WALES_S117_3B",
                                             "NOT_OR_RESIDENT_OR_SENT_S117_3C",
                                             "PRE_2015_RESIDENCE_TEST"};
const std::set<std::string> kIcbBases = {"CORE_GP_REGISTRATION", "CORE_USUAL_RESIDENCE",
                                         "CARRIED_FROM_ORIGINATING_ICB", "NHSE_COMMISSIONED",
                                         "LEGACY_RULE"};
const std::set<std::string> kDisputeStatuses = {"NONE", "DISPUTED", "REFERRED_TO_SOS",
                                                "DETERMINED"};
const std::set<std::string> kInvolvement = {"ATTENDED", "CONSULTED", "DECLINED",
                                            "LACKS_CAPACITY_CONSULTED_OTHERS"};
const std::set<std::string> kOutcomes = {"CONTINUE", "MODIFY", "RECOMMEND_DISCHARGE"};
const std::set<std::string> kAttendance = {"ATTENDED", "INVITED_ABSENT", "NOT_INVITED",
                                           "NOT_RECORDED"};
const std::set<std::string> kDeliveryModes = {"COMMISSIONED", "DIRECT_PAYMENT", "PHB",
                                              "IN_HOUSE"};
const std::set<std::string> kLegalDateEvents = {"CTO_STARTED", "CTO_ENDED",
                                                "CONDITIONALLY_DISCHARGED",
                                                "ABSOLUTELY_DISCHARGED", "S17_LEAVE_TRIGGER"};
const std::set<std::string> kLegalDecisionEvents = {
    "LEGAL_DETERMINATION_CONTINUE", "LEGAL_DETERMINATION_NEW_DUTY", "DISCHARGE_RESCINDED"};
// A CTO can follow only s3 or an unrestricted s37 (domain-rules 2.2).
const std::set<std::string> kCtoSections = {"03", "10"};
// Conditional discharge is for restricted patients: s37/41, s47/49, s48/49, s45A.
const std::set<std::string> kRestrictedSections = {"09", "15", "17", "37", "38"};
// Placements (s117.placement): Choice of Accommodation Regulations 2014 specified types, or OTHER.
const std::set<std::string> kAccommodationTypes = {"CARE_HOME", "SHARED_LIVES", "SUPPORTED_LIVING",
                                                   "OTHER"};
const std::set<std::string> kPlacementBases = {"care_act", "s117", "other"};
// "Ordinarily resident" replaced "resident" on 1 April 2015 (Care Act 2014 s75).
constexpr Date kOrdinaryResidenceTestFrom{std::chrono::year{2015} / 4 / 1};

std::string OneOf(const std::set<std::string>& values) {
  std::string out = "one of ";
  for (const auto& v : values) out += (out.size() > 7 ? ", " : "") + v;
  return out;
}

absl::Status CheckEnum(const std::string& value, const std::set<std::string>& values,
                       const std::string& field) {
  if (value.empty()) return InvalidField(field, "required");
  if (!values.count(value)) return InvalidField(field, OneOf(values));
  return absl::OkStatus();
}

absl::StatusOr<Date> PastDate(const std::string& value, const std::string& field, Date today) {
  auto d = RequireDate(value, field);
  if (!d.ok()) return d.status();
  if (*d > today) return InvalidField(field, "is in the future");
  return *d;
}

absl::StatusOr<std::optional<Date>> OptionalPastDate(const std::string& value,
                                                     const std::string& field, Date today) {
  if (value.empty()) return std::optional<Date>{};
  auto d = PastDate(value, field, today);
  if (!d.ok()) return d.status();
  return std::optional<Date>{*d};
}

absl::Status CheckStaff(const icr::v1::StaffRef& staff, const std::string& field) {
  RETURN_IF_ERROR(CheckText(staff.name(), field + ".name", 100, true));
  RETURN_IF_ERROR(CheckText(staff.role(), field + ".role", 100, true));
  return CheckText(staff.organisation_code(), field + ".organisation_code", 9, false);
}

// The person's involvement; NOT_RECORDED only for what is carried over from an old register.
absl::Status CheckInvolvement(const std::string& value, const std::string& f, bool migrated) {
  if (migrated && value == "NOT_RECORDED") return absl::OkStatus();
  return CheckEnum(value, kInvolvement, f);
}

// One body's attendance at a review: empty gives ATTENDED when the representative is named, else
// NOT_INVITED; the representative of an attending body is named.
absl::Status CheckBodyAttendance(std::string* attendance, const icr::v1::StaffRef& rep,
                                 const std::string& f, const std::string& rep_field,
                                 bool migrated) {
  if (attendance->empty()) *attendance = rep.name().empty() ? "NOT_INVITED" : "ATTENDED";
  RETURN_IF_ERROR(CheckEnum(*attendance, kAttendance, f));
  if (*attendance == "NOT_RECORDED" && !migrated) {
    return InvalidField(f, "NOT_RECORDED is only for a review carried over by import");
  }
  if (*attendance == "ATTENDED") return CheckStaff(rep, rep_field);
  RETURN_IF_ERROR(CheckText(rep.name(), rep_field + ".name", 100, false));
  RETURN_IF_ERROR(CheckText(rep.role(), rep_field + ".role", 100, false));
  return CheckText(rep.organisation_code(), rep_field + ".organisation_code", 9, false);
}

absl::Status CheckAttendance(icr::v1::S117Review& review, const std::string& f, bool migrated) {
  RETURN_IF_ERROR(CheckBodyAttendance(review.mutable_council_attendance(), review.council_rep(),
                                      f + ".council_attendance", f + ".council_rep", migrated));
  RETURN_IF_ERROR(CheckBodyAttendance(review.mutable_health_attendance(), review.health_rep(),
                                      f + ".health_attendance", f + ".health_rep", migrated));
  auto took_part = [](const std::string& a) { return a == "ATTENDED" || a == "NOT_RECORDED"; };
  if (!took_part(review.council_attendance()) && !took_part(review.health_attendance())) {
    return InvalidField(f + ".council_attendance",
                        "at least one body attended the review (name its representative)");
  }
  review.set_joint(review.council_attendance() == "ATTENDED" &&
                   review.health_attendance() == "ATTENDED");
  return absl::OkStatus();
}

absl::Status CheckDecisionRecord(const icr::v1::S117Decision& d, const std::string& field,
                                 Date today) {
  RETURN_IF_ERROR(CheckText(d.by(), field + ".by", 100, true));
  RETURN_IF_ERROR(CheckText(d.role(), field + ".role", 100, true));
  RETURN_IF_ERROR(PastDate(d.date(), field + ".date", today).status());
  return CheckText(d.rationale(), field + ".rationale", 2000, true);
}

std::string RuleVersion(Date detention_start, const Policy& policy) {
  if (detention_start < kOrdinaryResidenceTestFrom) return "PRE_2015";
  if (detention_start < policy.who_pays_2020_from) return "CCG_2013";
  if (detention_start < policy.icb_regs_2022_from) return "WHO_PAYS_2020";
  return "ICB_REGS_2022";
}

// The council derived from the residence and placement history (responsible_council.h):
// provisional until someone sets the council with its evidence (2.4: a dispute never blocks the
// entitlement); none when nothing is known or the area has no social services authority.
void DetermineCouncil(Episode& e, const PersonFacts& person, Date detention_start,
                      const Policy& policy) {
  const CouncilDerivation derived =
      DeriveResponsibleCouncil(detention_start, person.residences, person.placements,
                               person.date_of_birth, policy.mha2025_s46_from);
  e.council_reason = "[" + derived.rule + "] " + derived.reason;
  if (!IsSocialServicesAuthority(derived.council_code)) {
    if (!derived.council_code.empty()) {
      e.council_reason +=
          " (" + derived.council_code + " is not a social services authority: decide the council)";
    }
    e.responsible_council_code.clear();
    e.council_basis.clear();
  } else {
    e.responsible_council_code = derived.council_code;
    if (detention_start < kOrdinaryResidenceTestFrom) {
      e.council_basis = "PRE_2015_RESIDENCE_TEST";
    } else {
      e.council_basis =
          derived.council_code.rfind("W06", 0) == 0 ? "OR_WALES_S117_3B" : "OR_ENGLAND_S117_3A";
    }
    e.ordinary_residence_evidence =
        "residence and placement history in the record when the detention began";
  }
  e.council_provisional = true;
}

// The parts of a new episode that come from its qualifying detention.
absl::StatusOr<Episode> NewEpisode(const std::string& person_id, const std::string& legal_status_code,
                                   Date start, const std::string& provider_code,
                                   const Policy& policy) {
  auto section = policy.sections.find(legal_status_code);
  if (section == policy.sections.end()) {
    return InvalidField("legal_status_code", "no qualifying section is configured for '" +
                                                 legal_status_code + "' (s117.qualifying_section)");
  }
  Episode e;
  e.person_id = person_id;
  e.state = State::kPlanned;
  e.qualifying_section = section->second;
  e.legal_status_code = legal_status_code;
  e.detention_start_date = start;
  e.detaining_provider_code = provider_code;
  e.responsibility_rule_version = RuleVersion(start, policy);
  e.in_hospital = true;
  return e;
}

void Activate(Episode& e, Date effective, int review_interval_months) {
  e.state = State::kActive;
  e.effective_from = effective;
  e.in_hospital = false;
  e.next_review_due = AddMonths(effective, review_interval_months);
}

// Into a terminal state on `on`: the review schedule stops, nothing is pending.
void Close(Episode& e, State to, Date on) {
  e.state = to;
  e.ended_on = on;
  e.next_review_due.reset();
  e.legal_determination_required = false;
}

absl::Status RequireState(const Episode& e, State want, const std::string& what) {
  if (e.state == want) return absl::OkStatus();
  return RefusedField("state", what + " (the entitlement is " + StateName(e.state) + ")");
}

absl::Status RequireOpen(const Episode& e, const std::string& what) {
  if (IsOpen(e.state)) return absl::OkStatus();
  return RefusedField("state", what + " (the entitlement is " + StateName(e.state) + ")");
}

int64_t Hundredths(double pct) { return std::llround(pct * 100); }

absl::Status CheckPct(double pct, const std::string& field) {
  if (!(pct >= 0 && pct <= 100)) return InvalidField(field, "must be between 0 and 100");
  if (std::fabs(pct * 100 - static_cast<double>(Hundredths(pct))) > 1e-6) {
    return InvalidField(field, "at most two decimal places");
  }
  return absl::OkStatus();
}

std::string Pct(double pct) {
  std::string s = std::to_string(Hundredths(pct) / 100);
  if (int64_t frac = Hundredths(pct) % 100; frac != 0) {
    s += "." + std::string(frac < 10 ? "0" : "") + std::to_string(frac);
  }
  return s;
}

absl::Status CheckSplit(icr::v1::AftercareService& line, const std::optional<Split>& agreement,
                        const std::string& f) {
  RETURN_IF_ERROR(CheckPct(line.council_pct(), f + ".council_pct"));
  RETURN_IF_ERROR(CheckPct(line.icb_pct(), f + ".icb_pct"));
  const bool unset = line.council_pct() == 0 && line.icb_pct() == 0;
  if (line.funder() == "COUNCIL" || line.funder() == "ICB") {
    const bool council = line.funder() == "COUNCIL";
    const double own = council ? line.council_pct() : line.icb_pct();
    const double other = council ? line.icb_pct() : line.council_pct();
    if (!unset && (own != 100 || other != 0)) {
      return InvalidField(f + (council ? ".council_pct" : ".icb_pct"),
                          "a " + line.funder() + "-funded line is 100% " + line.funder());
    }
    line.set_council_pct(council ? 100 : 0);
    line.set_icb_pct(council ? 0 : 100);
    return absl::OkStatus();
  }
  if (unset) {
    if (!agreement) {
      return InvalidField(f + ".council_pct",
                          "required for a JOINT line: no funding agreement gives a default split");
    }
    line.set_council_pct(agreement->council_pct);
    line.set_icb_pct(agreement->icb_pct);
    return absl::OkStatus();
  }
  if (Hundredths(line.council_pct()) + Hundredths(line.icb_pct()) != 10000) {
    return InvalidField(f + ".icb_pct", "council_pct + icb_pct must total 100 (they total " +
                                            Pct(line.council_pct() + line.icb_pct()) + ")");
  }
  const bool differs = agreement && Hundredths(agreement->council_pct) != Hundredths(line.council_pct());
  if (differs && line.split_override_reason().empty()) {
    return InvalidField(f + ".split_override_reason",
                        "required: the split differs from the funding agreement's " +
                            Pct(agreement->council_pct) + "/" + Pct(agreement->icb_pct));
  }
  return absl::OkStatus();
}

}  // namespace

std::string StateName(State state) {
  for (const auto& [s, name] : StateNames()) {
    if (s == state) return name;
  }
  return "";
}

std::optional<State> ParseState(const std::string& name) {
  for (const auto& [s, n] : StateNames()) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsOpen(State state) { return state == State::kPlanned || state == State::kActive; }

Date AddMonths(Date from, int months) {
  const std::chrono::year_month_day ymd{from};
  const auto ym = std::chrono::year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  const std::chrono::year_month_day_last last{ym.year(), std::chrono::month_day_last{ym.month()}};
  return Date{ym.year() / ym.month() / std::min(ymd.day(), last.day())};
}

absl::Status ApplyPolicySetting(Policy& p, const std::string& key, const std::string& value) {
  auto bad = [&](const std::string& why) { return InvalidField("s117.policy." + key, why); };
  auto number = [&](int lo, int hi, int& out) -> absl::Status {
    if (value.empty() || value.size() > 6 || value.find_first_not_of("0123456789") != std::string::npos) {
      return bad("not a whole number");
    }
    const int n = std::stoi(value);
    if (n < lo || n > hi) return bad("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = n;
    return absl::OkStatus();
  };
  auto flag = [&](bool& out) -> absl::Status {
    if (value != "true" && value != "false") return bad("true or false");
    out = value == "true";
    return absl::OkStatus();
  };
  auto recall = [&](RecallRule& out) -> absl::Status {
    if (value == "LEGAL_DETERMINATION") {
      out = RecallRule::kLegalDetermination;
    } else if (value == "SUPERSEDE") {
      out = RecallRule::kSupersede;
    } else if (value == "CONTINUE") {
      out = RecallRule::kContinue;
    } else {
      return bad("LEGAL_DETERMINATION, SUPERSEDE or CONTINUE");
    }
    return absl::OkStatus();
  };
  auto date = [&](Date& out) -> absl::Status {
    auto d = ParseDate(value);
    if (!d) return bad("not a date (YYYY-MM-DD)");
    out = *d;
    return absl::OkStatus();
  };
  if (key == "review_interval_months") return number(1, 12, p.review_interval_months);
  if (key == "review_overdue_tolerance_days") return number(0, 365, p.review_overdue_tolerance_days);
  if (key == "discharge_review_window_days") return number(1, 3650, p.discharge_review_window_days);
  if (key == "stale_after_months") return number(1, 120, p.stale_after_months);
  if (key == "on_cto_revocation") return recall(p.on_cto_revocation);
  if (key == "on_conditional_discharge_recall") return recall(p.on_conditional_discharge_recall);
  if (key == "section_change_redetermines_council") return flag(p.section_change_redetermines_council);
  if (key == "allow_discharge_rescission") return flag(p.allow_discharge_rescission);
  if (key == "require_notification_before_end") return flag(p.require_notification_before_end);
  if (key == "who_pays_2020_from") return date(p.who_pays_2020_from);
  if (key == "icb_regs_2022_from") return date(p.icb_regs_2022_from);
  if (key == "mha2025_s46_from") {
    if (value.empty()) {  // not in force
      p.mha2025_s46_from.reset();
      return absl::OkStatus();
    }
    Date from;
    RETURN_IF_ERROR(date(from));
    p.mha2025_s46_from = from;
  }
  return absl::OkStatus();
}

bool Episode::OnCtoAt(Date d) const {
  return cto_start_date && *cto_start_date <= d && (!cto_end_date || *cto_end_date > d);
}

bool Episode::ConditionallyDischargedNow() const {
  return conditional_discharge_date && !absolute_discharge_date;
}

Qualifying QualifyingOf(const LegalStatus* status) {
  if (!status) return Qualifying::kInvalid;
  if (status->s117_qualifying == "yes") return Qualifying::kYes;
  if (status->s117_qualifying == "no") return Qualifying::kNo;
  if (status->s117_qualifying == "case_decision") return Qualifying::kCaseDecision;
  return Qualifying::kInvalid;
}

DetentionAction OnDetentionStarted(const Episode* open, const DetentionFacts& d,
                                   const Policy& policy) {
  if (d.qualifying == Qualifying::kInvalid) return DetentionAction::kNone;
  if (!open || !IsOpen(open->state)) {
    // case_decision sections open an episode only by a recorded decision (OpenEntitlement).
    return d.qualifying == Qualifying::kYes ? DetentionAction::kOpen : DetentionAction::kNone;
  }
  if (open->state == State::kPlanned) {
    // Still detained: a new qualifying section continues the same detention (T2). A detention
    // older than the episode's is history arriving late.
    if (open->detention_start_date && d.start < *open->detention_start_date) {
      return DetentionAction::kNone;
    }
    return d.qualifying == Qualifying::kYes ? DetentionAction::kSectionChange
                                            : DetentionAction::kNone;
  }
  if (open->effective_from && d.start < *open->effective_from) return DetentionAction::kNone;
  if (d.qualifying == Qualifying::kNo) return DetentionAction::kInHospital;
  if (d.qualifying == Qualifying::kCaseDecision) return DetentionAction::kLegalDetermination;
  std::optional<RecallRule> rule;
  if (open->OnCtoAt(d.start)) {
    rule = policy.on_cto_revocation;
  } else if (open->conditional_discharge_date && *open->conditional_discharge_date <= d.start &&
             (!open->absolute_discharge_date || *open->absolute_discharge_date > d.start)) {
    rule = policy.on_conditional_discharge_recall;
  }
  if (!rule || *rule == RecallRule::kSupersede) return DetentionAction::kSupersede;
  return *rule == RecallRule::kLegalDetermination ? DetentionAction::kLegalDetermination
                                                  : DetentionAction::kInHospital;
}

absl::StatusOr<Episode> OpenPlanned(const DetentionFacts& d, const PersonFacts& person,
                                    const Episode* predecessor, const Policy& policy) {
  if (d.qualifying != Qualifying::kYes) {
    return RefusedField("legal_status_code",
                        "'" + d.legal_status_code + "' does not qualify for s117 aftercare");
  }
  if (predecessor && IsOpen(predecessor->state)) {
    return RefusedField(
        "state", "the person already has an open S117 entitlement " + predecessor->episode_id);
  }
  auto e = NewEpisode(person.person_id, d.legal_status_code, d.start, d.provider_code, policy);
  if (!e.ok()) return e.status();
  e->detention_source_org = d.source_org;
  e->detention_id = d.detention_id;
  DetermineCouncil(*e, person, d.start, policy);
  if (predecessor && !predecessor->responsible_icb_code.empty()) {
    // The originating ICB keeps responsibility through a further detention (2.5, 2.7).
    e->predecessor_episode_id = predecessor->episode_id;
    e->responsible_icb_code = predecessor->responsible_icb_code;
    e->icb_basis = "CARRIED_FROM_ORIGINATING_ICB";
    e->gp_practice_at_application = predecessor->gp_practice_at_application;
  } else {
    if (predecessor) e->predecessor_episode_id = predecessor->episode_id;
    e->responsible_icb_code = person.icb_code;
    e->icb_basis = person.icb_code.empty() ? "" : "CORE_USUAL_RESIDENCE";
  }
  return e;
}

absl::Status ChangeSection(Episode& e, const DetentionFacts& d, const PersonFacts& person,
                           const Policy& policy) {
  RETURN_IF_ERROR(RequireState(e, State::kPlanned, "a section changes only before leaving hospital"));
  if (d.qualifying != Qualifying::kYes) {
    return RefusedField("legal_status_code",
                        "'" + d.legal_status_code + "' does not qualify for s117 aftercare");
  }
  auto section = policy.sections.find(d.legal_status_code);
  if (section == policy.sections.end()) {
    return InvalidField("legal_status_code", "no qualifying section is configured for '" +
                                                 d.legal_status_code + "'");
  }
  e.qualifying_section = section->second;
  e.legal_status_code = d.legal_status_code;
  e.detention_source_org = d.source_org;
  e.detention_id = d.detention_id;
  e.ceased_detained_date.reset();  // detained again, under the new section
  if (policy.section_change_redetermines_council) {
    DetermineCouncil(e, person, *e.detention_start_date, policy);
  }
  return absl::OkStatus();
}

absl::Status ActivateOnLeavingHospital(Episode& e, Date ceased, Date left,
                                       int review_interval_months) {
  RETURN_IF_ERROR(RequireState(e, State::kPlanned, "only a PLANNED entitlement comes into force"));
  if (e.detention_start_date && ceased < *e.detention_start_date) {
    return RefusedField("ceased_detained_date", "before the detention started");
  }
  if (left < ceased) {
    return InvalidField("left_hospital_date",
                        "before ceased_detained_date: the duty starts only once the person has "
                        "ceased to be detained and left hospital");
  }
  e.ceased_detained_date = ceased;
  e.left_hospital_date = left;
  Activate(e, left, review_interval_months);
  return absl::OkStatus();
}

absl::Status ActivateOnTrigger(Episode& e, Date effective, int review_interval_months) {
  RETURN_IF_ERROR(RequireState(e, State::kPlanned, "only a PLANNED entitlement comes into force"));
  if (!e.cto_start_date && !e.conditional_discharge_date && !e.s17_trigger_date) {
    return InvalidField("left_hospital_date",
                        "required for an ACTIVE entitlement unless a CTO, a conditional "
                        "discharge or a s17-leave decision triggered the duty");
  }
  Activate(e, effective, review_interval_months);
  return absl::OkStatus();
}

bool SetInHospital(Episode& e, bool in_hospital) {
  if (e.in_hospital == in_hospital) return false;
  e.in_hospital = in_hospital;
  return true;
}

absl::Status Supersede(Episode& e, Date new_start) {
  RETURN_IF_ERROR(RequireState(e, State::kActive, "only an ACTIVE entitlement is superseded"));
  if (e.effective_from && new_start < *e.effective_from) {
    return RefusedField("detention_start_date", "before the entitlement came into force");
  }
  Close(e, State::kEndedSuperseded, new_start);
  e.in_hospital = true;
  return absl::OkStatus();
}

absl::Status EndOnDeath(Episode& e, Date date_of_death) {
  RETURN_IF_ERROR(RequireOpen(e, "only an open entitlement ends on death"));
  if (e.detention_start_date && date_of_death < *e.detention_start_date) {
    return RefusedField("date_of_death", "before the qualifying detention started");
  }
  Close(e, State::kEndedDeceased, date_of_death);
  return absl::OkStatus();
}

absl::Status RequireLegalDetermination(Episode& e, const DetentionFacts& d) {
  RETURN_IF_ERROR(RequireState(e, State::kActive, "a legal determination concerns an ACTIVE entitlement"));
  // A revoked CTO has ended; whether the duty continues is for a person to decide (2.7 [U]).
  if (e.OnCtoAt(d.start)) e.cto_end_date = d.start;
  e.legal_determination_required = true;
  e.pending_detention_source_org = d.source_org;
  e.pending_detention_id = d.detention_id;
  e.pending_detention_start_date = d.start;
  e.pending_legal_status_code = d.legal_status_code;
  e.in_hospital = true;
  return absl::OkStatus();
}

absl::Status ContinueAfterDetermination(Episode& e) {
  if (!e.legal_determination_required) {
    return RefusedField("legal_determination_required", "no determination is pending");
  }
  e.legal_determination_required = false;
  e.pending_detention_source_org.clear();
  e.pending_detention_id.clear();
  e.pending_detention_start_date.reset();
  e.pending_legal_status_code.clear();
  return absl::OkStatus();
}

absl::Status RescindDischarge(Episode& e, Date date, bool other_open, const Policy& policy,
                              int review_interval_months) {
  if (!policy.allow_discharge_rescission) {
    return RefusedField(
        "kind", "rescinding a discharge is not allowed by policy (allow_discharge_rescission)");
  }
  RETURN_IF_ERROR(RequireState(e, State::kEndedDischarged, "only a discharge can be rescinded"));
  if (other_open) {
    return RefusedField("state",
                        "the person has another open S117 entitlement; it cannot be reinstated");
  }
  if (e.ended_on && date < *e.ended_on) return RefusedField("date", "before the discharge");
  e.state = State::kActive;
  e.ended_on.reset();
  e.notification_sent_date.reset();
  e.end_migrated = false;
  e.next_review_due = AddMonths(date, review_interval_months);
  return absl::OkStatus();
}

absl::Status MarkVoid(Episode& e, const std::string& reason) {
  if (e.state == State::kVoid) return RefusedField("state", "already VOID");
  e.state = State::kVoid;
  e.void_reason = reason;
  e.next_review_due.reset();
  e.legal_determination_required = false;
  return absl::OkStatus();
}

absl::Status CheckEndDecision(const Episode& e, const icr::v1::S117EndDecision& decision,
                              const Policy& policy) {
  RETURN_IF_ERROR(RequireState(e, State::kActive, "only an ACTIVE entitlement can be ended"));
  const Date date = *ParseDate(decision.decision_date());
  if (e.effective_from && date < *e.effective_from) {
    return RefusedField("decision.decision_date", "before the entitlement came into force");
  }
  if (e.OnCtoAt(date)) {
    return RefusedField("on_cto", "the person is on a community treatment order on " +
                                      FormatDate(date) +
                                      "; aftercare cannot end while they are (s117(2))");
  }
  auto reason = policy.end_reasons.find(decision.primary_reason());
  if (reason == policy.end_reasons.end() || !reason->second) {
    return RefusedField(
        "decision.primary_reason",
        "'" + decision.primary_reason() +
            "' cannot be the sole reason to end aftercare (Code of Practice ch. 33); it may be "
            "given in other_reasons");
  }
  if (e.legal_determination_required) {
    return RefusedField("legal_determination_required",
                        "a legal determination is pending for this entitlement");
  }
  return absl::OkStatus();
}

absl::StatusOr<Date> CheckJointEnd(const Episode& e, const std::vector<EndDecisionFacts>& decisions,
                                   const std::vector<ReviewFacts>& reviews,
                                   const std::vector<ServiceLineFacts>& services,
                                   const std::optional<Date>& notification_sent_date,
                                   const Policy& policy) {
  RETURN_IF_ERROR(RequireState(e, State::kActive, "only an ACTIVE entitlement can be ended"));
  std::vector<std::string> missing;
  std::optional<Date> effective;
  for (const char* body : {"COUNCIL", "ICB"}) {
    auto it = std::find_if(decisions.begin(), decisions.end(),
                           [&](const EndDecisionFacts& d) { return d.body == body; });
    if (it == decisions.end()) {
      missing.push_back(std::string(body == std::string("ICB") ? "the ICB's" : "the council's") +
                        " decision");
    } else {
      effective = effective ? std::max(*effective, it->decision_date) : it->decision_date;
    }
  }
  if (effective) {
    if (e.OnCtoAt(*effective)) {
      missing.push_back("the person off a CTO on " + FormatDate(*effective));
    }
    // A migrated joint end carries the decisions as they were taken: no review, no ended
    // services are invented for it.
    const bool migrated = MigratedJointEnd(decisions);
    const Date from = *effective - days{policy.discharge_review_window_days};
    const bool reviewed = std::any_of(reviews.begin(), reviews.end(), [&](const ReviewFacts& r) {
      return r.outcome == "RECOMMEND_DISCHARGE" && r.joint && r.review_date >= from &&
             r.review_date <= *effective;
    });
    if (!reviewed && !migrated) {
      missing.push_back(
          "a joint review (both bodies attended) concluding "
          "RECOMMEND_DISCHARGE in the " +
          std::to_string(policy.discharge_review_window_days) + " days to " +
          FormatDate(*effective));
    }
    const auto open = std::count_if(services.begin(), services.end(), [&](const ServiceLineFacts& s) {
      return s.is_s117 && s.moved_to_legal_basis.empty() &&
             (!s.end_date || *s.end_date > *effective);
    });
    if (open > 0 && !migrated) {
      missing.push_back(std::to_string(open) + " s117 service line(s) ended on or before " +
                        FormatDate(*effective));
    }
  }
  if (policy.require_notification_before_end && !notification_sent_date) {
    missing.push_back("notification_sent_date");
  }
  if (!missing.empty()) {
    std::string text;
    for (const auto& m : missing) text += (text.empty() ? "" : "; ") + m;
    return RefusedField("end_decision", "the entitlement cannot end yet; missing: " + text);
  }
  return *effective;
}

bool MigratedJointEnd(const std::vector<EndDecisionFacts>& decisions) {
  int migrated = 0;
  for (const char* body : {"COUNCIL", "ICB"}) {
    migrated += std::any_of(decisions.begin(), decisions.end(), [&](const EndDecisionFacts& d) {
      return d.body == body && d.migrated;
    });
  }
  return migrated == 2;
}

void EndDischarged(Episode& e, Date effective, const std::optional<Date>& notification_sent_date,
                   bool migrated) {
  Close(e, State::kEndedDischarged, effective);
  e.notification_sent_date = notification_sent_date;
  e.end_migrated = migrated;
}

bool ResponsibleOfficer(const Caller& caller, const Episode& e) {
  return caller.role == Role::kS117Officer && (caller.org_code == e.responsible_council_code ||
                                               caller.org_code == e.responsible_icb_code);
}

absl::Status CheckMayMigrate(const Caller& caller, const Episode& e, const std::string& field) {
  if (caller.role == Role::kSystem || caller.role == Role::kAdmin) return absl::OkStatus();
  if (ResponsibleOfficer(caller, e)) return absl::OkStatus();
  return absl::PermissionDeniedError(field +
                                     ": history is carried over by a system, an admin or the "
                                     "s117_officer of a responsible body");
}

// `on`: the day the body becomes responsible (it must be open then).
absl::Status CheckResponsibleCouncil(const icr::v1::ResponsibleCouncil& council,
                                     const ReferenceData& ref, const std::string& field, Date on) {
  RETURN_IF_ERROR(ref.CheckCouncil(council.code(), field + ".code", true, on));
  RETURN_IF_ERROR(CheckEnum(council.basis(), kCouncilBases, field + ".basis"));
  return CheckText(council.evidence(), field + ".evidence", 2000, false);
}

absl::Status CheckResponsibleIcb(const icr::v1::ResponsibleIcb& icb, const ReferenceData& ref,
                                 const std::string& field, Date on) {
  if (icb.code() == "Q99" || icb.code() == "X98") {
    return InvalidField(field + ".code", "'" + icb.code() + "' is a default code, never a responsible ICB");
  }
  RETURN_IF_ERROR(ref.CheckOrganisation(icb.code(), field + ".code", {"icb"}, true, on));
  RETURN_IF_ERROR(CheckEnum(icb.basis(), kIcbBases, field + ".basis"));
  if (!icb.gp_practice_at_application().empty() && !IsOdsCodeSyntax(icb.gp_practice_at_application())) {
    return InvalidField(field + ".gp_practice_at_application", "not an ODS code");
  }
  return absl::OkStatus();
}

absl::Status CheckDisputeStatus(const std::string& status, const std::string& field,
                                bool required) {
  if (status.empty() && !required) return absl::OkStatus();
  return CheckEnum(status, kDisputeStatuses, field);
}

void SetDisputeStatus(Episode& e, const std::string& status, Date on, Date today) {
  auto open = [](const std::string& s) { return s == "DISPUTED" || s == "REFERRED_TO_SOS"; };
  if (open(status) && !open(e.or_dispute_status)) {
    e.or_dispute_opened_on = on;
    e.or_dispute_closed_on.reset();
  } else if (!open(status) && open(e.or_dispute_status)) {
    e.or_dispute_closed_on = today;
  }
  e.or_dispute_status = status;
}

absl::Status SetResponsibleBodies(Episode& e, const icr::v1::SetResponsibleBodiesRequest& req,
                                  const ReferenceData& ref, Role role, Date today) {
  if (!req.has_council() && !req.has_icb() && req.or_dispute_status().empty()) {
    return InvalidField("council", "nothing to change: give council, icb or or_dispute_status");
  }
  if (req.has_council()) {
    RETURN_IF_ERROR(CheckResponsibleCouncil(req.council(), ref, "council", today));
  }
  if (req.has_icb()) RETURN_IF_ERROR(CheckResponsibleIcb(req.icb(), ref, "icb", today));
  RETURN_IF_ERROR(CheckDisputeStatus(req.or_dispute_status(), "or_dispute_status", false));
  Date dispute_on = today;
  if (!req.or_dispute_opened_on().empty()) {
    if (req.or_dispute_status() != "DISPUTED" && req.or_dispute_status() != "REFERRED_TO_SOS") {
      return InvalidField("or_dispute_opened_on",
                          "only with or_dispute_status DISPUTED or REFERRED_TO_SOS");
    }
    auto opened = FactDate(req.or_dispute_opened_on(), "or_dispute_opened_on", role, today);
    if (!opened.ok()) return opened.status();
    dispute_on = *opened;
  }
  RETURN_IF_ERROR(CheckText(req.reason(), "reason", 1000, false));
  RETURN_IF_ERROR(RequireOpen(e, "responsible bodies change only while the entitlement is open"));
  if (req.has_council()) {
    e.responsible_council_code = req.council().code();
    e.council_basis = req.council().basis();
    e.ordinary_residence_evidence = req.council().evidence();
    e.council_provisional = req.council().provisional();
    e.council_reason =
        "set by a responsible body" + (req.reason().empty() ? std::string() : ": " + req.reason());
  }
  if (req.has_icb()) {
    e.responsible_icb_code = req.icb().code();
    e.icb_basis = req.icb().basis();
    e.gp_practice_at_application = req.icb().gp_practice_at_application();
  }
  if (!req.or_dispute_status().empty()) {
    SetDisputeStatus(e, req.or_dispute_status(), dispute_on, today);
  }
  return absl::OkStatus();
}

absl::Status ValidatePlacement(const icr::v1::Placement& p, const ReferenceData& ref, Role role,
                               Date today) {
  const std::string f = "placement.";
  if (!p.placement_id().empty())
    return InvalidField(f + "placement_id", "assigned by the register");
  RETURN_IF_ERROR(CheckEnum(p.accommodation_type(), kAccommodationTypes, f + "accommodation_type"));
  RETURN_IF_ERROR(CheckEnum(p.legal_basis(), kPlacementBases, f + "legal_basis"));
  if (p.start_date().empty()) return InvalidField(f + "start_date", "required");
  auto start = FactDate(p.start_date(), f + "start_date", role, today);
  if (!start.ok()) return start.status();
  RETURN_IF_ERROR(
      ref.CheckCouncil(p.placing_council_code(), f + "placing_council_code", true, *start));
  RETURN_IF_ERROR(
      ref.CheckCouncil(p.placed_in_council_code(), f + "placed_in_council_code", true, *start));
  if (!p.end_date().empty()) {
    auto end = FactDate(p.end_date(), f + "end_date", role, today);
    if (!end.ok()) return end.status();
    if (*end < *start) return InvalidField(f + "end_date", "before start_date");
  }
  return CheckText(p.provider_name(), f + "provider_name", 200, false);
}

absl::StatusOr<Date> PlacementEnd(const std::string& end_date, Date start, Role role, Date today) {
  auto end = FactDate(end_date, "end_date", role, today);
  if (!end.ok()) return end.status();
  if (*end < start) {
    return RefusedField("end_date", "before the placement's start_date " + FormatDate(start));
  }
  return *end;
}

absl::Status ValidateServiceLine(icr::v1::AftercareService& line, const Policy& policy,
                                 const std::optional<Split>& agreement, const Episode& e, Role role,
                                 Date today, const std::string& f) {
  if (!line.service_line_id().empty()) return InvalidField(f + ".service_line_id", "assigned by the register");
  auto type = policy.service_types.find(line.service_type());
  if (line.service_type().empty()) return InvalidField(f + ".service_type", "required");
  if (type == policy.service_types.end()) {
    return InvalidField(f + ".service_type", "unknown service type '" + line.service_type() + "'");
  }
  RETURN_IF_ERROR(CheckText(line.description(), f + ".description", 200, false));
  RETURN_IF_ERROR(CheckText(line.provider_name(), f + ".provider_name", 200, true));
  if (!line.provider_code().empty() && !IsOdsCodeSyntax(line.provider_code()) &&
      !IsGssCodeSyntax(line.provider_code())) {
    return InvalidField(f + ".provider_code", "not an ODS or GSS code");
  }
  RETURN_IF_ERROR(CheckText(line.need_ref(), f + ".need_ref", 100, line.is_s117()));
  if (line.is_s117() && !line.need_arises_from_mental_disorder()) {
    return InvalidField(f + ".need_arises_from_mental_disorder",
                        "a s117 service must meet a need arising from the mental disorder "
                        "(s117(6)); record other needs under the Care Act");
  }
  auto start = RequireDate(line.start_date(), f + ".start_date");
  if (!start.ok()) return start.status();
  RETURN_IF_ERROR(CheckFactDate(*start, f + ".start_date", role, today));
  if (!line.end_date().empty() || !line.end_reason().empty() || !line.moved_to_legal_basis().empty()) {
    return InvalidField(f + ".end_date", "a service is ended with EndAftercareService");
  }
  RETURN_IF_ERROR(CheckPence(line.weekly_cost_pence(), f + ".weekly_cost_pence"));
  RETURN_IF_ERROR(CheckPence(line.client_contribution_pence(), f + ".client_contribution_pence"));
  if (line.is_s117() && line.client_contribution_pence() != 0) {
    return InvalidField(f + ".client_contribution_pence",
                        "s117 after-care is free: the person may not be charged (Stennett)");
  }
  RETURN_IF_ERROR(CheckEnum(line.funder(), {"COUNCIL", "ICB", "JOINT"}, f + ".funder"));
  RETURN_IF_ERROR(CheckSplit(line, agreement, f));
  RETURN_IF_ERROR(CheckText(line.split_override_reason(), f + ".split_override_reason", 500, false));
  RETURN_IF_ERROR(CheckEnum(line.delivery_mode(), kDeliveryModes, f + ".delivery_mode"));
  if (line.top_up_weekly_pence() != 0 || !line.top_up_payer().empty()) {
    if (!type->second) {
      return InvalidField(f + ".top_up_weekly_pence",
                          "a top-up is allowed only for preferred accommodation (s117A)");
    }
    if (line.top_up_weekly_pence() <= 0) return InvalidField(f + ".top_up_weekly_pence", "must be positive");
    RETURN_IF_ERROR(CheckPence(line.top_up_weekly_pence(), f + ".top_up_weekly_pence"));
    RETURN_IF_ERROR(CheckText(line.top_up_payer(), f + ".top_up_payer", 100, true));
  }
  // Against what is stored: only once the request itself is well formed.
  if (e.detention_start_date && *start < *e.detention_start_date) {
    return RefusedField(f + ".start_date", "before the qualifying detention started");
  }
  return RequireOpen(e, "services are added only to an open entitlement");
}

absl::Status ValidateReview(icr::v1::S117Review& review, const Episode& e, Role role, Date today,
                            int review_interval_months, const std::string& f, bool migrated) {
  if (!review.review_id().empty()) return InvalidField(f + ".review_id", "assigned by the register");
  auto date = RequireDate(review.review_date(), f + ".review_date");
  if (!date.ok()) return date.status();
  RETURN_IF_ERROR(CheckFactDate(*date, f + ".review_date", role, today));
  RETURN_IF_ERROR(CheckAttendance(review, f, migrated));
  RETURN_IF_ERROR(
      CheckInvolvement(review.person_involvement(), f + ".person_involvement", migrated));
  RETURN_IF_ERROR(CheckText(review.others_present(), f + ".others_present", 500, false));
  RETURN_IF_ERROR(CheckEnum(review.outcome(), kOutcomes, f + ".outcome"));
  RETURN_IF_ERROR(CheckText(review.summary(), f + ".summary", 4000, false));
  const Date latest = AddMonths(*date, review_interval_months);
  if (review.next_review_due().empty()) {
    review.set_next_review_due(FormatDate(latest));
  } else {
    auto next = RequireDate(review.next_review_due(), f + ".next_review_due");
    if (!next.ok()) return next.status();
    if (*next <= *date || *next > latest) {
      return InvalidField(f + ".next_review_due", "must fall after review_date and within " +
                                                      std::to_string(review_interval_months) +
                                                      " months of it");
    }
  }
  // Against what is stored: only once the request itself is well formed.
  if (e.effective_from && *date < *e.effective_from) {
    return RefusedField(f + ".review_date", "before the entitlement came into force");
  }
  if (review.council_rep().organisation_code().empty() && !review.council_rep().name().empty()) {
    review.mutable_council_rep()->set_organisation_code(e.responsible_council_code);
  }
  if (review.health_rep().organisation_code().empty() && !review.health_rep().name().empty()) {
    review.mutable_health_rep()->set_organisation_code(e.responsible_icb_code);
  }
  return RequireState(e, State::kActive, "reviews are recorded for an ACTIVE entitlement");
}

absl::Status ValidateEndDecision(const icr::v1::S117EndDecision& d, const Policy& policy, Role role,
                                 Date today, const std::string& f) {
  if (!d.decision_id().empty()) return InvalidField(f + ".decision_id", "assigned by the register");
  RETURN_IF_ERROR(CheckEnum(d.body(), {"COUNCIL", "ICB"}, f + ".body"));
  RETURN_IF_ERROR(CheckStaff(d.decider(), f + ".decider"));
  auto date = RequireDate(d.decision_date(), f + ".decision_date");
  if (!date.ok()) return date.status();
  RETURN_IF_ERROR(CheckFactDate(*date, f + ".decision_date", role, today));
  if (d.primary_reason().empty()) return InvalidField(f + ".primary_reason", "required");
  if (!policy.end_reasons.count(d.primary_reason())) {
    return InvalidField(f + ".primary_reason", "unknown end reason '" + d.primary_reason() + "'");
  }
  for (int i = 0; i < d.other_reasons_size(); ++i) {
    if (!policy.end_reasons.count(d.other_reasons(i))) {
      return InvalidField(f + ".other_reasons[" + std::to_string(i) + "]",
                          "unknown end reason '" + d.other_reasons(i) + "'");
    }
  }
  RETURN_IF_ERROR(CheckText(d.reason_text(), f + ".reason_text", 4000, true));
  RETURN_IF_ERROR(
      CheckInvolvement(d.person_involvement(), f + ".person_involvement", d.migrated()));
  RETURN_IF_ERROR(CheckText(d.consulted(), f + ".consulted", 500,
                            d.person_involvement() == "LACKS_CAPACITY_CONSULTED_OTHERS"));
  return CheckText(d.other_care_after_discharge(), f + ".other_care_after_discharge", 2000, false);
}

absl::StatusOr<Episode> EpisodeFromOpenRequest(const icr::v1::OpenEntitlementRequest& req,
                                               const std::string& person_id,
                                               const ReferenceData& ref, const Policy& policy,
                                               Role role, Date today, int review_interval_months) {
  std::string code = req.legal_status_code();
  if (code.size() == 1) code = "0" + code;
  const Qualifying q = QualifyingOf(ref.FindLegalStatus(code));
  if (code.empty()) return InvalidField("legal_status_code", "required");
  if (q == Qualifying::kInvalid) {
    return InvalidField("legal_status_code", "'" + code + "' is not a known detention");
  }
  if (q == Qualifying::kNo) {
    return InvalidField("legal_status_code", "'" + code + "' (" +
                                                 ref.FindLegalStatus(code)->description +
                                                 ") does not qualify for s117 aftercare");
  }
  if (q == Qualifying::kCaseDecision) {
    if (!req.has_case_decision()) {
      return InvalidField("case_decision", "required: '" + code +
                                               "' qualifies only by a recorded decision");
    }
    RETURN_IF_ERROR(CheckDecisionRecord(req.case_decision(), "case_decision", today));
  }
  auto start = PastDate(req.detention_start_date(), "detention_start_date", today);
  if (!start.ok()) return start.status();
  RETURN_IF_ERROR(ref.CheckOrganisation(req.detaining_provider_code(), "detaining_provider_code",
                                        {"trust", "other"}, true, *start));
  auto state = ParseState(req.state());
  if (!state || !IsOpen(*state)) return InvalidField("state", "PLANNED or ACTIVE");
  auto ceased = OptionalPastDate(req.ceased_detained_date(), "ceased_detained_date", today);
  if (!ceased.ok()) return ceased.status();
  auto left = OptionalPastDate(req.left_hospital_date(), "left_hospital_date", today);
  if (!left.ok()) return left.status();
  auto cto = OptionalPastDate(req.cto_start_date(), "cto_start_date", today);
  if (!cto.ok()) return cto.status();
  auto cd = OptionalPastDate(req.conditional_discharge_date(), "conditional_discharge_date", today);
  if (!cd.ok()) return cd.status();
  if (*left && !*ceased) return InvalidField("ceased_detained_date", "required with left_hospital_date");
  if (req.has_s17_trigger()) RETURN_IF_ERROR(CheckDecisionRecord(req.s17_trigger(), "s17_trigger", today));
  auto registered = FactDate(req.registered_on(), "registered_on", role, today);
  if (!registered.ok()) return registered.status();
  std::optional<Date> effective;
  if (!req.effective_from().empty()) {
    auto d = FactDate(req.effective_from(), "effective_from", role, today);
    if (!d.ok()) return d.status();
    effective = *d;
  }
  // The bodies are responsible from the entitlement's effective date (else its registration).
  const Date bodies_from = effective.value_or(*registered);
  if (req.has_council()) {
    RETURN_IF_ERROR(CheckResponsibleCouncil(req.council(), ref, "council", bodies_from));
  }
  if (req.has_icb()) RETURN_IF_ERROR(CheckResponsibleIcb(req.icb(), ref, "icb", bodies_from));
  RETURN_IF_ERROR(CheckDisputeStatus(req.or_dispute_status(), "or_dispute_status", false));
  RETURN_IF_ERROR(CheckText(req.reason(), "reason", 1000, true));

  auto e = NewEpisode(person_id, code, *start, req.detaining_provider_code(), policy);
  if (!e.ok()) return e.status();
  if (q == Qualifying::kCaseDecision) {
    e->case_decision_by = req.case_decision().by();
    e->case_decision_role = req.case_decision().role();
    e->case_decision_date = ParseDate(req.case_decision().date());
    e->case_decision_rationale = req.case_decision().rationale();
  }
  if (req.has_s17_trigger()) {
    e->s17_trigger_by = req.s17_trigger().by();
    e->s17_trigger_role = req.s17_trigger().role();
    e->s17_trigger_date = ParseDate(req.s17_trigger().date());
    e->s17_trigger_rationale = req.s17_trigger().rationale();
  }
  e->cto_start_date = *cto;
  e->conditional_discharge_date = *cd;
  if (req.has_council()) {
    e->responsible_council_code = req.council().code();
    e->council_basis = req.council().basis();
    e->ordinary_residence_evidence = req.council().evidence();
    e->council_provisional = req.council().provisional();
    e->council_reason = "entered by hand: " + req.reason();
  }
  if (req.has_icb()) {
    e->responsible_icb_code = req.icb().code();
    e->icb_basis = req.icb().basis();
    e->gp_practice_at_application = req.icb().gp_practice_at_application();
  }
  if (!req.or_dispute_status().empty()) SetDisputeStatus(*e, req.or_dispute_status(), today, today);
  const std::vector<std::pair<std::string, std::optional<Date>>> later = {
      {"ceased_detained_date", *ceased},
      {"left_hospital_date", *left},
      {"cto_start_date", *cto},
      {"conditional_discharge_date", *cd},
      {"s17_trigger.date", e->s17_trigger_date},
      {"registered_on", *registered},
      {"effective_from", effective}};
  for (const auto& [field, d] : later) {
    if (d && *d < *start) return InvalidField(field, "before detention_start_date");
  }
  e->registered_on = *registered;
  if (*state == State::kPlanned) {
    if (*left || *cto || *cd || req.has_s17_trigger()) {
      return InvalidField("state", "the duty has a trigger (left hospital, CTO, conditional "
                                   "discharge or s17 decision): the entitlement is ACTIVE");
    }
    if (effective) {
      return InvalidField("effective_from", "a PLANNED entitlement is not yet in force");
    }
    e->ceased_detained_date = *ceased;
    return e;
  }
  if (!req.has_council()) return InvalidField("council", "required for an ACTIVE entitlement");
  if (!req.has_icb()) return InvalidField("icb", "required for an ACTIVE entitlement");
  if (*left) {
    RETURN_IF_ERROR(ActivateOnLeavingHospital(*e, **ceased, **left, review_interval_months));
  } else {
    std::optional<Date> first;
    for (const auto& d : {*cto, *cd, e->s17_trigger_date}) {
      if (d && (!first || *d < *first)) first = d;
    }
    e->ceased_detained_date = *ceased;
    RETURN_IF_ERROR(ActivateOnTrigger(*e, first.value_or(*start), review_interval_months));
  }
  if (effective) {
    // Later than the trigger (a register that counts from the first service, say), never
    // before it: the duty starts only once the person has left hospital (2.3).
    if (*effective < *e->effective_from) {
      return InvalidField("effective_from", "before the duty's trigger (" +
                                                FormatDate(*e->effective_from) +
                                                "): it starts only once the person has left "
                                                "hospital or the CTO, conditional discharge or "
                                                "s17 decision took effect");
    }
    e->effective_from = effective;
    e->next_review_due = AddMonths(*effective, review_interval_months);
  }
  return e;
}

absl::Status ValidateLegalEvent(const icr::v1::RecordLegalEventRequest& req, Date today) {
  if (!kLegalDateEvents.count(req.kind()) && !kLegalDecisionEvents.count(req.kind())) {
    std::set<std::string> all = kLegalDateEvents;
    all.insert(kLegalDecisionEvents.begin(), kLegalDecisionEvents.end());
    return CheckEnum(req.kind(), all, "kind");
  }
  RETURN_IF_ERROR(PastDate(req.date(), "date", today).status());
  const bool decision = kLegalDecisionEvents.count(req.kind()) || req.kind() == "S17_LEAVE_TRIGGER";
  if (decision || req.has_decided_by()) RETURN_IF_ERROR(CheckStaff(req.decided_by(), "decided_by"));
  if (req.kind() == "DISCHARGE_RESCINDED") {
    RETURN_IF_ERROR(CheckStaff(req.icb_decided_by(), "icb_decided_by"));
  }
  return CheckText(req.rationale(), "rationale", 2000, decision);
}

bool IsLegalDateEvent(const std::string& kind) { return kLegalDateEvents.count(kind) > 0; }

bool LegalDateRecorded(const Episode& e, const std::string& kind, Date date) {
  if (kind == "CTO_STARTED") return e.cto_start_date == date && !e.cto_end_date;
  if (kind == "CTO_ENDED") return e.cto_end_date == date;
  if (kind == "CONDITIONALLY_DISCHARGED") {
    return e.conditional_discharge_date == date && !e.absolute_discharge_date;
  }
  if (kind == "ABSOLUTELY_DISCHARGED") return e.absolute_discharge_date == date;
  return false;
}

std::string LegalEventAction(const std::string& kind) {
  std::string action = "s117_" + kind;
  std::transform(action.begin(), action.end(), action.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return action;
}

absl::Status ApplyLegalDateEvent(Episode& e, const icr::v1::RecordLegalEventRequest& req,
                                 int review_interval_months) {
  RETURN_IF_ERROR(RequireOpen(e, req.kind() + " applies to an open entitlement"));
  const Date date = *ParseDate(req.date());
  if (e.detention_start_date && date < *e.detention_start_date) {
    return RefusedField("date", "before the qualifying detention started");
  }
  const std::string& kind = req.kind();
  if (kind == "CTO_STARTED") {
    if (!kCtoSections.count(e.legal_status_code)) {
      return RefusedField("kind", "a CTO can follow only section 3 or an unrestricted section 37");
    }
    if (e.cto_start_date && !e.cto_end_date) {
      return RefusedField("on_cto", "a CTO is already in force");
    }
    e.cto_start_date = date;
    e.cto_end_date.reset();
  } else if (kind == "CTO_ENDED") {
    if (!e.cto_start_date || e.cto_end_date) {
      return RefusedField("on_cto", "no CTO is in force");
    }
    if (date < *e.cto_start_date) return RefusedField("date", "before the CTO started");
    e.cto_end_date = date;
  } else if (kind == "CONDITIONALLY_DISCHARGED") {
    if (!kRestrictedSections.count(e.legal_status_code)) {
      return RefusedField("kind", "conditional discharge applies only to a restricted patient");
    }
    e.conditional_discharge_date = date;
    e.absolute_discharge_date.reset();
  } else if (kind == "ABSOLUTELY_DISCHARGED") {
    if (!e.ConditionallyDischargedNow()) {
      return RefusedField("conditionally_discharged", "not conditionally discharged");
    }
    if (date < *e.conditional_discharge_date) {
      return RefusedField("date", "before the conditional discharge");
    }
    e.absolute_discharge_date = date;
  } else if (kind == "S17_LEAVE_TRIGGER") {
    RETURN_IF_ERROR(RequireState(e, State::kPlanned, "the s17-leave trigger starts a PLANNED entitlement"));
    e.s17_trigger_by = req.decided_by().name();
    e.s17_trigger_role = req.decided_by().role();
    e.s17_trigger_date = date;
    e.s17_trigger_rationale = req.rationale();
  } else {
    return InvalidField("kind", "'" + kind + "' is not a dated legal event");
  }
  const bool starts = kind == "CTO_STARTED" || kind == "CONDITIONALLY_DISCHARGED" ||
                      kind == "S17_LEAVE_TRIGGER";
  if (starts && e.state == State::kPlanned) {
    return ActivateOnTrigger(e, date, review_interval_months);
  }
  return absl::OkStatus();
}

}  // namespace icr::s117
