#include "services/careplan/careplan_service.h"

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/fact_dates.h"
#include "services/common/grpc_status.h"
#include "services/common/import_row.h"
#include "services/common/metrics.h"
#include "services/common/paging.h"

namespace icr::careplan {
namespace {
using icr::v1::CarePlan;

constexpr char kService[] = "icr.v1.CarePlanService.";
constexpr char kNotVisible[] = "plan_id: no such care plan visible to you";

absl::Status CheckPlanId(const std::string& plan_id) {
  if (!IsUuid(plan_id)) return InvalidField("plan_id", "not a care plan id");
  return absl::OkStatus();
}

// The plan if the caller may read it (write: change it) under the access rule; NOT_FOUND alike
// for a plan that does not exist and one that is not visible, and PERMISSION_DENIED for a change
// by an organisation that sees the person but is neither named in the plan nor responsible for
// them; each refusal audited. Breaking glass opens reads, not writes.
absl::StatusOr<PlanRow> ResolvePlan(pqxx::work& tx, const Caller& caller,
                                    const std::string& plan_id, const std::string& action,
                                    bool write) {
  auto row = CarePlanStore::FindPlan(tx, plan_id, caller.org_code, write);
  access::Facts facts;
  facts.exists = row.has_value();
  facts.sees = row && row->visible;
  facts.plan_role = row && row->plan_role;
  const access::Decision d = write
                                 ? access::DecideWrite(caller, access::Write::kCarePlan, facts, "")
                                 : access::DecideRead(caller, facts, true, "");
  if (d.ok()) return *row;
  Access::AuditDecision(tx, caller, row ? row->person_id : "", action, d);
  return absl::IsNotFound(d.status) ? absl::NotFoundError(kNotVisible) : d.status;
}

// Appends the next version and puts it on the change feed.
absl::Status Advance(pqxx::work& tx, const Caller& caller, const PlanRow& row,
                     const NewVersion& version) {
  RETURN_IF_ERROR(
      CarePlanStore::AppendVersion(tx, row, row.current_version, version, caller).status());
  Changes::Append(tx, change::kCarePlan, row.plan_id, row.person_id, version.change,
                  caller.org_code);
  return absl::OkStatus();
}

// The day a plan was started, as stored.
Date StartOf(const PlanRow& row) { return ParseDate(row.started_on).value_or(Date{}); }

// A plan cannot start before the person was born.
absl::Status CheckStart(pqxx::work& tx, const std::string& person_id, Date started) {
  const auto birth = ParseDate(CarePlanStore::BirthDate(tx, person_id));
  return birth ? CheckNotBefore(started, *birth, "started_on", "the person's birth")
               : absl::OkStatus();
}

// The draft in `row` becomes the version in force, agreed on agreed_on (a new Care Act plan's
// first light-touch review counts from that day).
absl::Status AgreeDraft(pqxx::work& tx, const Caller& caller, const PlanRow& row, CarePlan agreed,
                        Date agreed_on) {
  if (agreed.is_care_act_plan() && row.agreed_version == 0 &&
      agreed.review().light_touch_review_date().empty()) {
    agreed.mutable_review()->set_light_touch_review_date(
        FormatDate(FirstLightTouchReview(agreed_on)));
  }
  ASSIGN_OR_RETURN(const PlanStatus status, Transition(row.status, Action::kAgree));
  const std::string on = FormatDate(agreed_on);
  RETURN_IF_ERROR(
      Advance(tx, caller, row, {status, &agreed, change::kAgreed, "", row.current_version, on}));
  CarePlanStore::MarkAgreed(tx, row.plan_id, row.current_version, on);
  return absl::OkStatus();
}

// One agency's sign-off, given on signed_on by a signatory of org_code.
struct SignOffFact {
  Agency agency;
  std::string org_code;
  std::string signed_by;
  std::string role;
  Date signed_on;
  bool joint = false;
};

// Records a sign-off of the plan in `row` (content `current`, type rule `rule`): a DRAFT's
// sign-off agrees it when the sign-offs are complete (on the latest of their days); an AGREED
// plan's joins the sign-offs of the version in force, without a new version.
absl::Status SignOff(pqxx::work& tx, const Caller& caller, const PlanRow& row,
                     const CarePlan& current, const PlanTypeRule& rule, const SignOffFact& s) {
  RETURN_IF_ERROR(CheckNotBefore(s.signed_on, StartOf(row), "signed_on", "the plan's start"));
  const std::string on = FormatDate(s.signed_on);
  if (row.status == CarePlan::AGREED) {
    const int64_t in_force = row.signed_version.value_or(row.current_version);
    RETURN_IF_ERROR(CheckLateSignoff(
        rule, s.agency, CarePlanStore::SignedAgencies(tx, row.plan_id, in_force), in_force));
    CarePlanStore::AddSignoff(tx, row, in_force, s.agency, s.org_code, s.signed_by, s.role, on);
    Changes::Append(tx, change::kCarePlan, row.plan_id, row.person_id, change::kSignedOff,
                    caller.org_code);
    return absl::OkStatus();
  }
  if (!CarePlanStore::AddSignoff(tx, row, row.current_version, s.agency, s.org_code, s.signed_by,
                                 s.role, on)) {
    return absl::AlreadyExistsError("agency: " + AgencyName(s.agency) +
                                    " has already signed version " +
                                    std::to_string(row.current_version));
  }
  const auto signoffs = CarePlanStore::Signoffs(tx, row.plan_id, row.current_version);
  std::set<Agency> agencies;
  for (const auto& d : signoffs) agencies.insert(d.agency);
  if (!SignoffsComplete(rule, agencies, s.joint)) {
    // Waiting for the other agency; the version stays as it is.
    Changes::Append(tx, change::kCarePlan, row.plan_id, row.person_id, change::kSignedOff,
                    caller.org_code);
    return absl::OkStatus();
  }
  return AgreeDraft(tx, caller, row, current, LatestSignedOn(signoffs));
}

// Records a review of the plan in `row` (content `current`, moving to `next`): its date is a
// fact date of the caller's role, not before the plan's start.
absl::Status RecordReviewOf(pqxx::work& tx, const Caller& caller, const PlanRow& row,
                            CarePlan& current, PlanStatus next, icr::v1::CarePlanReview review,
                            const ReferenceData& ref) {
  ASSIGN_OR_RETURN(const PlanTypeRule rule, CarePlanStore::LoadRule(tx, PlanType(current)));
  RETURN_IF_ERROR(ValidateReview(review, ref, rule, row.is_s117 || row.agreed_s117, Today()));
  const Date date = ParseDate(review.review_date()).value_or(Date{});
  RETURN_IF_ERROR(CheckFactDate(date, "review.review_date", caller.role, Today()));
  RETURN_IF_ERROR(CheckNotBefore(date, StartOf(row), "review.review_date", "the plan's start"));
  current.mutable_review()->set_next_review_date(review.next_review_date());
  const auto outcome = icr::v1::CarePlanReview::Outcome_Name(review.outcome());
  // A review that keeps the plan keeps its sign-offs; MODIFY starts a new draft.
  const auto signed_version =
      next == CarePlan::AGREED ? row.signed_version : std::optional<int64_t>();
  RETURN_IF_ERROR(
      Advance(tx, caller, row, {next, &current, change::kReviewed, outcome, signed_version}));
  const auto agencies = ParticipantAgencies(review.participants(), ref);
  CarePlanStore::InsertReview(tx, row, review, agencies.count(icr::v1::CarePlanSignOff::HEALTH),
                              agencies.count(icr::v1::CarePlanSignOff::SOCIAL_CARE),
                              caller.org_code);
  return absl::OkStatus();
}

// An import row's sign-offs, each with its field prefix ("signoffs[1]."), oldest first: by the
// rule, in date order, the plan is agreed on the day its sign-offs were complete.
absl::StatusOr<std::vector<std::pair<SignOffFact, std::string>>> ImportedSignoffs(
    const icr::v1::CarePlanImportRow& in, const ReferenceData& ref, Role role, Date today) {
  std::vector<std::pair<SignOffFact, std::string>> out;
  for (int i = 0; i < in.signoffs_size(); ++i) {
    const auto& s = in.signoffs(i);
    const std::string f = "signoffs[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(ref.CheckOrganisation(s.organisation_code(), f + ".organisation_code", {}));
    if (!icr::v1::CarePlanSignOff::Agency_IsValid(s.agency())) {
      return InvalidField(f + ".agency", "HEALTH or SOCIAL_CARE");
    }
    const Organisation* org = ref.FindOrganisation(s.organisation_code());
    auto agency = SigningAgency(org ? org->kind : "", s.agency());
    if (!agency.ok()) return InvalidField(f + ".agency", std::string(agency.status().message()));
    RETURN_IF_ERROR(CheckText(s.signed_by(), f + ".signed_by", 200, true));
    RETURN_IF_ERROR(CheckText(s.role(), f + ".role", 200, true));
    if (s.signed_on().empty()) {
      return InvalidField(f + ".signed_on", "required: the day the agency signed");
    }
    ASSIGN_OR_RETURN(const Date on, FactDate(s.signed_on(), f + ".signed_on", role, today));
    out.push_back({{*agency, s.organisation_code(), s.signed_by(), s.role(), on}, f + "."});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first.signed_on < b.first.signed_on;
  });
  return out;
}

// Replays one review of an imported, agreed plan (row, content current) as it happened: the
// review starts and is recorded, dated not before the agreement; errors name `field`
// ("reviews[2].").
absl::Status ReplayReview(pqxx::work& tx, const Caller& caller, const PlanRow& row,
                          const CarePlan& current, const icr::v1::CarePlanReview& review,
                          const std::string& field, const ReferenceData& ref) {
  const auto agreed_on = ParseDate(current.agreed_on());
  if (!agreed_on) {
    return RefusedField(field + "review_date",
                        "a review of a plan never agreed (its sign-offs are incomplete)");
  }
  if (const auto date = ParseDate(review.review_date())) {
    RETURN_IF_ERROR(
        CheckNotBefore(*date, *agreed_on, field + "review_date", "the plan's agreement"));
  }
  auto reviewing = Transition(row.status, Action::kStartReview);
  if (!reviewing.ok()) return RenameField(reviewing.status(), "", field);
  RETURN_IF_ERROR(
      Advance(tx, caller, row,
              {*reviewing, &current, change::kReviewStarted, "imported", row.signed_version}));
  auto started = CarePlanStore::FindPlan(tx, row.plan_id, caller.org_code, false);
  auto content = CarePlanStore::LoadVersion(tx, row.plan_id, 0);
  if (!started || !content) return absl::InternalError("imported care plan missing");
  auto next = Transition(started->status, Action::kRecordReview, review.outcome());
  if (!next.ok()) return RenameField(next.status(), "", field);
  return RenameField(RecordReviewOf(tx, caller, *started, *content, *next, review, ref), "review.",
                 field);
}

}  // namespace

CarePlanServiceImpl::CarePlanServiceImpl(Database& db, Authenticator& auth,
                                         std::shared_ptr<const ReferenceData> ref)
    : db_(db), auth_(auth), ref_(std::move(ref)) {}

absl::StatusOr<Caller> CarePlanServiceImpl::Admit(grpc::ServerContext* ctx, const char* rpc) {
  return Access::Admit(auth_, *ctx, std::string(kService) + rpc);
}

absl::Status CarePlanServiceImpl::ChangePlan(const Caller& caller, const std::string& plan_id,
                                             int64_t expected_version, const std::string& action,
                                             Action kind, const Change& change, CarePlan* resp,
                                             icr::v1::CarePlanReview::Outcome outcome) {
  RETURN_IF_ERROR(CheckPlanId(plan_id));
  if (expected_version < 1) {
    return InvalidField("expected_version", "required: the version last read");
  }
  RETURN_IF_ERROR(CheckVersion(expected_version, "expected_version"));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto row = ResolvePlan(tx, caller, plan_id, action, true);  // locks the plan row
    if (!row.ok()) {
      refused = row.status();
      return absl::OkStatus();
    }
    if (row->current_version != expected_version) {
      return absl::AbortedError("expected_version: the plan is at version " +
                                std::to_string(row->current_version) + ", not " +
                                std::to_string(expected_version) + "; read it again");
    }
    ASSIGN_OR_RETURN(const PlanStatus next, Transition(row->status, kind, outcome));
    auto current = CarePlanStore::LoadVersion(tx, plan_id, row->current_version);
    if (!current) return absl::InternalError("care plan version missing");
    Step step{caller, *row, next, std::move(*current)};
    RETURN_IF_ERROR(change(tx, step));
    Audit::Write(tx, caller, row->person_id, action, kAuditOk);
    auto now = CarePlanStore::LoadVersion(tx, plan_id, 0);
    if (now) *resp = *now;
    return absl::OkStatus();
  });
}

absl::Status CarePlanServiceImpl::ReadPlan(
    const Caller& caller, const std::string& plan_id, const std::string& action,
    const std::function<absl::Status(pqxx::work&, const PlanRow&)>& read) {
  RETURN_IF_ERROR(CheckPlanId(plan_id));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto row = ResolvePlan(tx, caller, plan_id, action, false);
    if (!row.ok()) {
      refused = row.status();
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(read(tx, *row));
    Audit::Write(tx, caller, row->person_id, action, kAuditOk);
    return absl::OkStatus();
  });
}

absl::Status CarePlanServiceImpl::NewPlanFor(
    const Caller& caller, const std::string& nhs, const std::string& action, Date started,
    const std::function<absl::Status(pqxx::work&, const PersonRef&)>& store) {
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person = Access::ResolvePersonForWrite(tx, caller, nhs, action, access::Write::kEvent);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(CheckStart(tx, person->person_id, started));
    return store(tx, *person);
  });
}

absl::Status CarePlanServiceImpl::Create(const Caller& caller,
                                         const icr::v1::CreateCarePlanRequest& req,
                                         CarePlan* resp) {
  ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  CarePlan plan = req.plan();
  RETURN_IF_ERROR(ValidatePlan(plan, *ref_, "plan", Today()));
  ASSIGN_OR_RETURN(const Date started,
                   FactDate(req.started_on(), "started_on", caller.role, Today()));
  return NewPlanFor(
      caller, nhs, "CreateCarePlan", started,
      [&](pqxx::work& tx, const PersonRef& person) -> absl::Status {
        if (auto open = CarePlanStore::OpenPlanOf(tx, person.person_id)) {
          return absl::AlreadyExistsError("nhs_number: the person already has an open care plan (" +
                                          *open + "); update it instead");
        }
        const std::string plan_id =
            CarePlanStore::Create(tx, person.person_id, plan, caller, {FormatDate(started)});
        Changes::Append(tx, change::kCarePlan, plan_id, person.person_id, change::kCreated,
                        caller.org_code);
        Audit::Write(tx, caller, person.person_id, "CreateCarePlan", kAuditOk);
        *resp = *CarePlanStore::LoadVersion(tx, plan_id, 0);
        return absl::OkStatus();
      });
}

absl::Status CarePlanServiceImpl::Get(const Caller& caller, const icr::v1::GetCarePlanRequest& req,
                                      CarePlan* resp) {
  RETURN_IF_ERROR(CheckVersion(req.version(), "version"));
  auto load = [&](pqxx::work& tx, const std::string& plan_id) -> absl::Status {
    auto plan = CarePlanStore::LoadVersion(tx, plan_id, req.version());
    if (!plan) {
      return absl::NotFoundError("version: the plan has no version " +
                                 std::to_string(req.version()));
    }
    *resp = std::move(*plan);
    return absl::OkStatus();
  };
  switch (req.plan_case()) {
    case icr::v1::GetCarePlanRequest::kPlanId:
      return ReadPlan(caller, req.plan_id(), "GetCarePlan",
                      [&](pqxx::work& tx, const PlanRow& row) { return load(tx, row.plan_id); });
    case icr::v1::GetCarePlanRequest::kNhsNumber:
      break;
    case icr::v1::GetCarePlanRequest::PLAN_NOT_SET:
      return InvalidField("plan", "plan_id or nhs_number");
  }
  ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person = Access::ResolvePerson(tx, caller, nhs, "GetCarePlan");
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();
    }
    auto open = CarePlanStore::OpenPlanOf(tx, person->person_id);
    if (!open) return absl::NotFoundError("nhs_number: the person has no open care plan");
    RETURN_IF_ERROR(load(tx, *open));
    Audit::Write(tx, caller, person->person_id, "GetCarePlan", kAuditOk);
    return absl::OkStatus();
  });
}

absl::Status CarePlanServiceImpl::Update(const Caller& caller,
                                         const icr::v1::UpdateCarePlanRequest& req,
                                         CarePlan* resp) {
  CarePlan plan = req.plan();
  RETURN_IF_ERROR(ValidatePlan(plan, *ref_, "plan", Today()));
  RETURN_IF_ERROR(CheckText(req.change_reason(), "change_reason", 1000, false));
  // An agreed version is never edited: the change is version n+1, a DRAFT.
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "UpdateCarePlan", Action::kUpdate,
      [&](pqxx::work& tx, Step& step) {
        return Advance(tx, step.caller, step.row,
                       {step.next, &plan, change::kUpdated, req.change_reason(), std::nullopt});
      },
      resp);
}

absl::Status CarePlanServiceImpl::Agree(const Caller& caller,
                                        const icr::v1::AgreeCarePlanRequest& req, CarePlan* resp) {
  RETURN_IF_ERROR(CheckText(req.signed_by(), "signed_by", 200, true));
  RETURN_IF_ERROR(CheckText(req.signer_role(), "signer_role", 200, true));
  if (!icr::v1::CarePlanSignOff::Agency_IsValid(req.agency())) {
    return InvalidField("agency", "HEALTH or SOCIAL_CARE");
  }
  const Organisation* org = ref_->FindOrganisation(caller.org_code);
  ASSIGN_OR_RETURN(const Agency agency, SigningAgency(org ? org->kind : "", req.agency()));
  ASSIGN_OR_RETURN(const Date signed_on,
                   FactDate(req.signed_on(), "signed_on", caller.role, Today()));
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "AgreeCarePlan", Action::kSignOff,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const PlanRow& row = step.row;
        ASSIGN_OR_RETURN(const PlanTypeRule rule,
                         CarePlanStore::LoadRule(tx, PlanType(step.current)));
        if (row.status == CarePlan::DRAFT) {
          const bool s117_open = CarePlanStore::S117EntitlementOpen(tx, row.person_id);
          RETURN_IF_ERROR(
              CheckAgreement(step.current, {signed_on, rule, row.agreed_s117 && s117_open}));
        }
        return SignOff(tx, step.caller, row, step.current, rule,
                       {agency, step.caller.org_code, req.signed_by(), req.signer_role(), signed_on,
                        req.joint()});
      },
      resp);
}

absl::Status CarePlanServiceImpl::StartReviewOf(const Caller& caller,
                                                const icr::v1::StartCarePlanReviewRequest& req,
                                                CarePlan* resp) {
  using Request = icr::v1::StartCarePlanReviewRequest;
  if (req.trigger() == Request::TRIGGER_UNSPECIFIED || !Request::Trigger_IsValid(req.trigger())) {
    return InvalidField("trigger", "required: why the review starts");
  }
  RETURN_IF_ERROR(CheckText(req.reason(), "reason", 1000, false));
  std::string reason = Request::Trigger_Name(req.trigger());
  if (!req.reason().empty()) reason += ": " + req.reason();
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "StartReview", Action::kStartReview,
      [&](pqxx::work& tx, Step& step) {
        return Advance(
            tx, step.caller, step.row,
            {step.next, &step.current, change::kReviewStarted, reason, step.row.signed_version});
      },
      resp);
}

absl::Status CarePlanServiceImpl::Review(const Caller& caller,
                                         const icr::v1::RecordCarePlanReviewRequest& req,
                                         CarePlan* resp) {
  icr::v1::CarePlanReview review = req.review();
  // Before ChangePlan reads the outcome to choose the plan's next status.
  RETURN_IF_ERROR(CheckEnums(review, "review"));
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "RecordReview", Action::kRecordReview,
      [&](pqxx::work& tx, Step& step) {
        return RecordReviewOf(tx, step.caller, step.row, step.current, step.next, review, *ref_);
      },
      resp, review.outcome());
}

absl::Status CarePlanServiceImpl::Close(const Caller& caller,
                                        const icr::v1::CloseCarePlanRequest& req, CarePlan* resp) {
  RETURN_IF_ERROR(CheckText(req.reason(), "reason", 1000, true));
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "CloseCarePlan", Action::kClose,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const PlanRow& row = step.row;
        RETURN_IF_ERROR(CheckClose(row.is_s117 || row.agreed_s117,
                                   CarePlanStore::S117EntitlementOpen(tx, row.person_id)));
        RETURN_IF_ERROR(
            Advance(tx, step.caller, row,
                    {step.next, &step.current, change::kClosed, req.reason(), row.signed_version}));
        CarePlanStore::MarkClosed(tx, row.plan_id, req.reason());
        return absl::OkStatus();
      },
      resp);
}

absl::Status CarePlanServiceImpl::Versions(const Caller& caller,
                                           const icr::v1::ListCarePlanVersionsRequest& req,
                                           icr::v1::ListCarePlanVersionsResponse* resp) {
  int64_t after = 0;
  const std::string& token = req.page().page_token();
  if (!token.empty()) {
    if (token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidField("page.page_token", "not a token returned by ListCarePlanVersions");
    }
    after = std::stoll(token);
  }
  const int limit = PageSize(req.page());
  return ReadPlan(caller, req.plan_id(), "ListCarePlanVersions",
                  [&](pqxx::work& tx, const PlanRow& row) -> absl::Status {
                    auto versions = CarePlanStore::ListVersions(tx, row.plan_id, after, limit);
                    for (auto& v : versions) *resp->add_versions() = std::move(v);
                    if (static_cast<int>(versions.size()) == limit) {
                      resp->mutable_page()->set_next_page_token(
                          std::to_string(resp->versions(limit - 1).version()));
                    }
                    return absl::OkStatus();
                  });
}

absl::Status CarePlanServiceImpl::Plans(const Caller& caller,
                                        const icr::v1::ListCarePlansRequest& req,
                                        icr::v1::ListCarePlansResponse* resp) {
  PlanFilter filter;
  filter.include_closed = req.include_closed();
  std::string nhs;
  if (!req.nhs_number().empty()) {
    ASSIGN_OR_RETURN(nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  }
  // By person_id: a filter only (a person unknown or not visible lists nothing).
  if (!req.person_id().empty()) {
    if (!IsUuid(req.person_id())) return InvalidField("person_id", "not a person id");
    filter.person_id = req.person_id();
  }
  if (!req.key_worker_organisation_code().empty()) {
    RETURN_IF_ERROR(ref_->CheckOrganisation(req.key_worker_organisation_code(),
                                            "key_worker_organisation_code", {}));
    filter.key_worker_org = req.key_worker_organisation_code();
  }
  if (!req.review_due_before().empty()) {
    RETURN_IF_ERROR(RequireDate(req.review_due_before(), "review_due_before").status());
    filter.review_due_before = req.review_due_before();
  }
  if (const std::string& token = req.page().page_token(); !token.empty()) {
    const auto slash = token.find('/');
    const std::string date = token.substr(0, slash);
    if (slash == std::string::npos || (date != "infinity" && !ParseDate(date)) ||
        !IsUuid(token.substr(slash + 1))) {
      return InvalidField("page.page_token", "not a token returned by ListCarePlans");
    }
    filter.after_date = date;
    filter.after_plan = token.substr(slash + 1);
  }
  const int limit = PageSize(req.page());
  // Break-glass lists see every plan; each plan listed is audited either way.
  const std::string visible_to = access::ListScope(caller, std::string(kService) + "ListCarePlans");
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    if (!nhs.empty()) {
      auto person = Access::ResolvePerson(tx, caller, nhs, "ListCarePlans");
      if (!person.ok()) {
        refused = person.status();
        return absl::OkStatus();
      }
      // Both keys: the plans of the person both name (none when they name two people).
      if (filter.person_id && *filter.person_id != person->person_id) return absl::OkStatus();
      filter.person_id = person->person_id;
    }
    auto plans = CarePlanStore::ListPlans(tx, filter, visible_to, limit);
    std::vector<std::string> seen;
    for (auto& [header, key] : plans) {
      seen.push_back(header.person_id());
      *resp->add_plans() = std::move(header);
    }
    Audit::WriteMany(tx, caller, seen, "ListCarePlans", kAuditOk);
    if (static_cast<int>(plans.size()) == limit) {
      resp->mutable_page()->set_next_page_token(plans.back().second);
    }
    return absl::OkStatus();
  });
}

absl::Status CarePlanServiceImpl::Import(const Caller& caller, const icr::v1::CarePlanImportRow& in,
                                         std::string* id, bool* duplicate) {
  const Date today = Today();
  RETURN_IF_ERROR(CheckText(in.source_ref(), "source_ref", 200, true));
  ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(in.nhs_number(), "nhs_number"));
  CarePlan plan = in.plan();
  // Content as on create; agreement completeness is not checked again (MissingForAgreement):
  // the plan was agreed in the system it comes from.
  RETURN_IF_ERROR(ValidatePlan(plan, *ref_, "plan", today));
  ASSIGN_OR_RETURN(const Date started, FactDate(in.started_on(), "started_on", caller.role, today));
  ASSIGN_OR_RETURN(const auto signoffs, ImportedSignoffs(in, *ref_, caller.role, today));
  std::vector<int> reviews(in.reviews_size());
  for (int i = 0; i < in.reviews_size(); ++i) reviews[i] = i;
  std::stable_sort(reviews.begin(), reviews.end(), [&](int a, int b) {
    return in.reviews(a).review_date() < in.reviews(b).review_date();
  });
  return NewPlanFor(
      caller, nhs, "ImportCarePlans", started,
      [&](pqxx::work& tx, const PersonRef& person) -> absl::Status {
        const std::string source_row = CarePlanStore::SourceRow(in);
        if (auto found =
                CarePlanStore::FindBySource(tx, caller.org_code, in.source_ref(), source_row)) {
          *id = found->first;
          if (!found->second) {
            return RefusedField("source_ref", "already imported as plan " + found->first +
                                                  " with different content");
          }
          *duplicate = true;
          return in.dry_run() ? DryRunRollback() : absl::OkStatus();
        }
        if (auto open = CarePlanStore::OpenPlanOf(tx, person.person_id)) {
          return RefusedField("nhs_number",
                              "the person already has an open care plan (" + *open + ")");
        }
        const std::string plan_id = CarePlanStore::Create(
            tx, person.person_id, plan, caller, {FormatDate(started), in.source_ref(), source_row});
        Changes::Append(tx, change::kCarePlan, plan_id, person.person_id, change::kCreated,
                        caller.org_code);
        ASSIGN_OR_RETURN(const PlanTypeRule rule, CarePlanStore::LoadRule(tx, PlanType(plan)));
        // The plan as it is now, after each step.
        auto now = [&]() -> absl::StatusOr<std::pair<PlanRow, CarePlan>> {
          auto row = CarePlanStore::FindPlan(tx, plan_id, caller.org_code, false);
          auto current = CarePlanStore::LoadVersion(tx, plan_id, 0);
          if (!row || !current) return absl::InternalError("imported care plan missing");
          return std::make_pair(std::move(*row), std::move(*current));
        };
        for (const auto& [fact, field] : signoffs) {
          ASSIGN_OR_RETURN(auto state, now());
          RETURN_IF_ERROR(
              RenameField(SignOff(tx, caller, state.first, state.second, rule, fact), "", field));
        }
        for (int i : reviews) {
          ASSIGN_OR_RETURN(auto state, now());
          RETURN_IF_ERROR(ReplayReview(tx, caller, state.first, state.second, in.reviews(i),
                                       "reviews[" + std::to_string(i) + "].", *ref_));
        }
        Audit::Write(tx, caller, person.person_id, "ImportCarePlans", kAuditOk);
        *id = plan_id;
        return in.dry_run() ? DryRunRollback() : absl::OkStatus();
      });
}

icr::v1::ImportRowResult CarePlanServiceImpl::ImportRow(const Caller& caller,
                                                        const icr::v1::CarePlanImportRow& in) {
  std::string id;
  bool duplicate = false;
  const absl::Status status = Import(caller, in, &id, &duplicate);
  return ImportRowResultOf(in.row(), status, duplicate, id);
}

// The RPCs: the caller admitted by the policy table, then the operation.

grpc::Status CarePlanServiceImpl::CreateCarePlan(grpc::ServerContext* ctx,
                                                 const icr::v1::CreateCarePlanRequest* req,
                                                 CarePlan* resp) {
  auto caller = Admit(ctx, "CreateCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Create(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::GetCarePlan(grpc::ServerContext* ctx,
                                              const icr::v1::GetCarePlanRequest* req,
                                              CarePlan* resp) {
  auto caller = Admit(ctx, "GetCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Get(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::UpdateCarePlan(grpc::ServerContext* ctx,
                                                 const icr::v1::UpdateCarePlanRequest* req,
                                                 CarePlan* resp) {
  auto caller = Admit(ctx, "UpdateCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Update(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::AgreeCarePlan(grpc::ServerContext* ctx,
                                                const icr::v1::AgreeCarePlanRequest* req,
                                                CarePlan* resp) {
  auto caller = Admit(ctx, "AgreeCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Agree(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::StartReview(grpc::ServerContext* ctx,
                                              const icr::v1::StartCarePlanReviewRequest* req,
                                              CarePlan* resp) {
  auto caller = Admit(ctx, "StartReview");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(StartReviewOf(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::RecordReview(grpc::ServerContext* ctx,
                                               const icr::v1::RecordCarePlanReviewRequest* req,
                                               CarePlan* resp) {
  auto caller = Admit(ctx, "RecordReview");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Review(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::CloseCarePlan(grpc::ServerContext* ctx,
                                                const icr::v1::CloseCarePlanRequest* req,
                                                CarePlan* resp) {
  auto caller = Admit(ctx, "CloseCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Close(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::ListCarePlanVersions(
    grpc::ServerContext* ctx, const icr::v1::ListCarePlanVersionsRequest* req,
    icr::v1::ListCarePlanVersionsResponse* resp) {
  auto caller = Admit(ctx, "ListCarePlanVersions");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Versions(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::ListCarePlans(grpc::ServerContext* ctx,
                                                const icr::v1::ListCarePlansRequest* req,
                                                icr::v1::ListCarePlansResponse* resp) {
  auto caller = Admit(ctx, "ListCarePlans");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Plans(*caller, *req, resp));
}

grpc::Status CarePlanServiceImpl::ImportCarePlans(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<icr::v1::ImportRowResult, icr::v1::CarePlanImportRow>* stream) {
  auto caller = Admit(ctx, "ImportCarePlans");
  if (!caller.ok()) return ToGrpc(caller.status());
  icr::v1::CarePlanImportRow row;
  while (stream->Read(&row)) {
    const auto result = ImportRow(*caller, row);
    metrics::CountImportRow("care_plans", result.outcome());
    if (!stream->Write(result)) break;
  }
  return grpc::Status::OK;
}

}  // namespace icr::careplan
