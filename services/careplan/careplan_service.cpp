#include "services/careplan/careplan_service.h"

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/grpc_status.h"
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

absl::Status CarePlanServiceImpl::Create(const Caller& caller,
                                         const icr::v1::CreateCarePlanRequest& req,
                                         CarePlan* resp) {
  ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  CarePlan plan = req.plan();
  RETURN_IF_ERROR(ValidatePlan(plan, *ref_, "plan", Today()));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person =
        Access::ResolvePersonForWrite(tx, caller, nhs, "CreateCarePlan", access::Write::kEvent);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();
    }
    if (auto open = CarePlanStore::OpenPlanOf(tx, person->person_id)) {
      return absl::AlreadyExistsError("nhs_number: the person already has an open care plan (" +
                                      *open + "); update it instead");
    }
    const std::string plan_id = CarePlanStore::Create(tx, person->person_id, plan, caller);
    Changes::Append(tx, change::kCarePlan, plan_id, person->person_id, change::kCreated,
                    caller.org_code);
    Audit::Write(tx, caller, person->person_id, "CreateCarePlan", kAuditOk);
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
  return ChangePlan(
      caller, req.plan_id(), req.expected_version(), "AgreeCarePlan", Action::kSignOff,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const Caller& c = step.caller;
        const PlanRow& row = step.row;
        const CarePlan& draft = step.current;
        ASSIGN_OR_RETURN(const PlanTypeRule rule, CarePlanStore::LoadRule(tx, PlanType(draft)));
        const bool s117_open = CarePlanStore::S117EntitlementOpen(tx, row.person_id);
        RETURN_IF_ERROR(CheckAgreement(draft, {Today(), rule, row.agreed_s117 && s117_open}));
        if (!CarePlanStore::AddSignoff(tx, row, agency, c.org_code, req.signed_by(),
                                       req.signer_role())) {
          return absl::AlreadyExistsError("agency: " + AgencyName(agency) +
                                          " has already signed version " +
                                          std::to_string(row.current_version));
        }
        if (!SignoffsComplete(
                rule, CarePlanStore::SignedAgencies(tx, row.plan_id, row.current_version))) {
          // Waiting for the other agency; the version stays as it is.
          Changes::Append(tx, change::kCarePlan, row.plan_id, row.person_id, change::kSignedOff,
                          c.org_code);
          return absl::OkStatus();
        }
        CarePlan agreed = draft;
        if (agreed.is_care_act_plan() && row.agreed_version == 0 &&
            agreed.review().light_touch_review_date().empty()) {
          // A new Care Act plan gets its first light-touch review 6 weeks on (4.4 rule 2).
          agreed.mutable_review()->set_light_touch_review_date(
              FormatDate(Today() + std::chrono::days{42}));
        }
        ASSIGN_OR_RETURN(const PlanStatus status, Transition(row.status, Action::kAgree));
        RETURN_IF_ERROR(
            Advance(tx, c, row, {status, &agreed, change::kAgreed, "", row.current_version}));
        CarePlanStore::MarkAgreed(tx, row.plan_id, row.current_version);
        return absl::OkStatus();
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
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const PlanRow& row = step.row;
        ASSIGN_OR_RETURN(const PlanTypeRule rule,
                         CarePlanStore::LoadRule(tx, PlanType(step.current)));
        RETURN_IF_ERROR(
            ValidateReview(review, *ref_, rule, row.is_s117 || row.agreed_s117, Today()));
        step.current.mutable_review()->set_next_review_date(review.next_review_date());
        const auto outcome = icr::v1::CarePlanReview::Outcome_Name(review.outcome());
        // A review that keeps the plan keeps its sign-offs; MODIFY starts a new draft.
        const auto signed_version =
            step.next == CarePlan::AGREED ? row.signed_version : std::optional<int64_t>();
        RETURN_IF_ERROR(
            Advance(tx, step.caller, row,
                    {step.next, &step.current, change::kReviewed, outcome, signed_version}));
        const auto agencies = ParticipantAgencies(review.participants(), *ref_);
        CarePlanStore::InsertReview(
            tx, row, review, agencies.count(icr::v1::CarePlanSignOff::HEALTH),
            agencies.count(icr::v1::CarePlanSignOff::SOCIAL_CARE), step.caller.org_code);
        return absl::OkStatus();
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

}  // namespace icr::careplan
