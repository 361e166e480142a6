#include "services/careplan/careplan_service.h"

#include <algorithm>
#include <cctype>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/changes.h"
#include "services/common/grpc_status.h"

namespace icr::careplan {
namespace {
using icr::v1::CarePlan;

constexpr char kEntity[] = "care_plan";  // on the change feed
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr char kNotVisible[] = "plan_id: no such care plan visible to you";

int Limit(const icr::v1::PageRequest& page) {
  return page.page_size() <= 0 ? kDefaultPageSize : std::min(page.page_size(), kMaxPageSize);
}

bool IsUuid(const std::string& s) {
  static const std::string kShape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  return s.size() == kShape.size() &&
         std::equal(s.begin(), s.end(), kShape.begin(), [](char c, char shape) {
           return shape == '-' ? c == '-' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
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
  const access::Decision d = write ? access::DecideWrite(caller, access::Write::kCarePlan, facts, "")
                                   : access::DecideRead(caller, facts, true, "");
  if (d.ok()) return *row;
  Access::AuditDecision(tx, caller, row ? row->person_id : "", action, d);
  return absl::IsNotFound(d.status) ? absl::NotFoundError(kNotVisible) : d.status;
}

// Appends the next version and puts it on the change feed.
absl::Status Advance(pqxx::work& tx, const Caller& caller, const PlanRow& row,
                     const NewVersion& version) {
  auto v = CarePlanStore::AppendVersion(tx, row, row.current_version, version, caller);
  if (!v.ok()) return v.status();
  Changes::Append(tx, kEntity, row.plan_id, row.person_id, version.change, caller.org_code);
  return absl::OkStatus();
}

}  // namespace

CarePlanServiceImpl::CarePlanServiceImpl(Database& db, Authenticator& auth,
                                         std::shared_ptr<const ReferenceData> ref)
    : db_(db), auth_(auth), ref_(std::move(ref)) {
  db_.Register(CarePlanStore::Statements());
}

grpc::Status CarePlanServiceImpl::ChangePlan(const Caller& caller, const std::string& plan_id,
                                             int64_t expected_version, const std::string& action,
                                             Action kind, const Change& change, CarePlan* resp,
                                             icr::v1::CarePlanReview::Outcome outcome) {
  if (!IsUuid(plan_id)) return ToGrpc(InvalidField("plan_id", "not a care plan id"));
  if (expected_version < 1) {
    return ToGrpc(InvalidField("expected_version", "required: the version last read"));
  }
  if (auto s = CheckVersion(expected_version, "expected_version"); !s.ok()) return ToGrpc(s);
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
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
    auto next = Transition(row->status, kind, outcome);
    if (!next.ok()) return next.status();
    auto current = CarePlanStore::LoadVersion(tx, plan_id, row->current_version);
    if (!current) return absl::InternalError("care plan version missing");
    Step step{caller, *row, *next, std::move(*current)};
    RETURN_IF_ERROR(change(tx, step));
    Audit::Write(tx, caller, row->person_id, action, kAuditOk);
    auto now = CarePlanStore::LoadVersion(tx, plan_id, 0);
    if (now) *resp = *now;
    return absl::OkStatus();
  }));
}

grpc::Status CarePlanServiceImpl::ReadPlan(
    const Caller& caller, const std::string& plan_id, const std::string& action,
    const std::function<absl::Status(pqxx::work&, const PlanRow&)>& read) {
  if (!IsUuid(plan_id)) return ToGrpc(InvalidField("plan_id", "not a care plan id"));
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto row = ResolvePlan(tx, caller, plan_id, action, false);
    if (!row.ok()) {
      refused = row.status();
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(read(tx, *row));
    Audit::Write(tx, caller, row->person_id, action, kAuditOk);
    return absl::OkStatus();
  }));
}

grpc::Status CarePlanServiceImpl::CreateCarePlan(grpc::ServerContext* ctx,
                                                 const icr::v1::CreateCarePlanRequest* req,
                                                 CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.CreateCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto nhs = NormaliseNhsNumber(req->nhs_number(), "nhs_number");
  if (!nhs.ok()) return ToGrpc(nhs.status());
  CarePlan plan = req->plan();
  if (auto s = ValidatePlan(plan, *ref_, "plan", Today()); !s.ok()) return ToGrpc(s);
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person = Access::ResolvePersonForWrite(tx, *caller, *nhs, "CreateCarePlan",
                                               access::Write::kEvent);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();
    }
    if (auto open = CarePlanStore::OpenPlanOf(tx, person->person_id)) {
      return absl::AlreadyExistsError("nhs_number: the person already has an open care plan (" +
                                      *open + "); update it instead");
    }
    const std::string plan_id = CarePlanStore::Create(tx, person->person_id, plan, *caller);
    Changes::Append(tx, kEntity, plan_id, person->person_id, "created", caller->org_code);
    Audit::Write(tx, *caller, person->person_id, "CreateCarePlan", kAuditOk);
    *resp = *CarePlanStore::LoadVersion(tx, plan_id, 0);
    return absl::OkStatus();
  }));
}

grpc::Status CarePlanServiceImpl::GetCarePlan(grpc::ServerContext* ctx,
                                              const icr::v1::GetCarePlanRequest* req,
                                              CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.GetCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto s = CheckVersion(req->version(), "version"); !s.ok()) return ToGrpc(s);
  auto load = [&](pqxx::work& tx, const std::string& plan_id) -> absl::Status {
    auto plan = CarePlanStore::LoadVersion(tx, plan_id, req->version());
    if (!plan)
      return absl::NotFoundError("version: the plan has no version " +
                                 std::to_string(req->version()));
    *resp = std::move(*plan);
    return absl::OkStatus();
  };
  switch (req->plan_case()) {
    case icr::v1::GetCarePlanRequest::kPlanId:
      return ReadPlan(*caller, req->plan_id(), "GetCarePlan",
                      [&](pqxx::work& tx, const PlanRow& row) { return load(tx, row.plan_id); });
    case icr::v1::GetCarePlanRequest::kNhsNumber:
      break;
    case icr::v1::GetCarePlanRequest::PLAN_NOT_SET:
      return ToGrpc(InvalidField("plan", "plan_id or nhs_number"));
  }
  auto nhs = NormaliseNhsNumber(req->nhs_number(), "nhs_number");
  if (!nhs.ok()) return ToGrpc(nhs.status());
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person = Access::ResolvePerson(tx, *caller, *nhs, "GetCarePlan");
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();
    }
    auto open = CarePlanStore::OpenPlanOf(tx, person->person_id);
    if (!open) return absl::NotFoundError("nhs_number: the person has no open care plan");
    RETURN_IF_ERROR(load(tx, *open));
    Audit::Write(tx, *caller, person->person_id, "GetCarePlan", kAuditOk);
    return absl::OkStatus();
  }));
}

grpc::Status CarePlanServiceImpl::UpdateCarePlan(grpc::ServerContext* ctx,
                                                 const icr::v1::UpdateCarePlanRequest* req,
                                                 CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.UpdateCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  CarePlan plan = req->plan();
  if (auto s = ValidatePlan(plan, *ref_, "plan", Today()); !s.ok()) return ToGrpc(s);
  if (auto s = CheckText(req->change_reason(), "change_reason", 1000, false); !s.ok()) {
    return ToGrpc(s);
  }
  // An agreed version is never edited: the change is version n+1, a DRAFT.
  return ChangePlan(
      *caller, req->plan_id(), req->expected_version(), "UpdateCarePlan", Action::kUpdate,
      [&](pqxx::work& tx, Step& step) {
        return Advance(tx, step.caller, step.row,
                       {step.next, &plan, "updated", req->change_reason(), std::nullopt});
      },
      resp);
}

grpc::Status CarePlanServiceImpl::AgreeCarePlan(grpc::ServerContext* ctx,
                                                const icr::v1::AgreeCarePlanRequest* req,
                                                CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.AgreeCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto s = CheckText(req->signed_by(), "signed_by", 200, true); !s.ok()) return ToGrpc(s);
  if (auto s = CheckText(req->signer_role(), "signer_role", 200, true); !s.ok()) return ToGrpc(s);
  if (!icr::v1::CarePlanSignOff::Agency_IsValid(req->agency())) {
    return ToGrpc(InvalidField("agency", "HEALTH or SOCIAL_CARE"));
  }
  const Organisation* org = ref_->FindOrganisation(caller->org_code);
  auto agency = SigningAgency(org ? org->kind : "", req->agency());
  if (!agency.ok()) return ToGrpc(agency.status());
  return ChangePlan(
      *caller, req->plan_id(), req->expected_version(), "AgreeCarePlan", Action::kSignOff,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const Caller& c = step.caller;
        const PlanRow& row = step.row;
        const CarePlan& draft = step.current;
        auto rule = CarePlanStore::LoadRule(tx, PlanType(draft));
        if (!rule.ok()) return rule.status();
        const bool s117_open = CarePlanStore::S117EntitlementOpen(tx, row.person_id);
        RETURN_IF_ERROR(CheckAgreement(draft, {Today(), *rule, row.agreed_s117 && s117_open}));
        if (!CarePlanStore::AddSignoff(tx, row, *agency, c.org_code, req->signed_by(),
                                       req->signer_role())) {
          return absl::AlreadyExistsError("agency: " + AgencyName(*agency) +
                                          " has already signed version " +
                                          std::to_string(row.current_version));
        }
        if (!SignoffsComplete(
                *rule, CarePlanStore::SignedAgencies(tx, row.plan_id, row.current_version))) {
          // Waiting for the other agency; the version stays as it is.
          Changes::Append(tx, kEntity, row.plan_id, row.person_id, "signed_off", c.org_code);
          return absl::OkStatus();
        }
        CarePlan agreed = draft;
        if (agreed.is_care_act_plan() && row.agreed_version == 0 &&
            agreed.review().light_touch_review_date().empty()) {
          // A new Care Act plan gets its first light-touch review 6 weeks on (4.4 rule 2).
          agreed.mutable_review()->set_light_touch_review_date(
              FormatDate(Today() + std::chrono::days{42}));
        }
        auto status = Transition(row.status, Action::kAgree);
        if (!status.ok()) return status.status();
        RETURN_IF_ERROR(Advance(tx, c, row, {*status, &agreed, "agreed", "", row.current_version}));
        CarePlanStore::MarkAgreed(tx, row.plan_id, row.current_version);
        return absl::OkStatus();
      },
      resp);
}

grpc::Status CarePlanServiceImpl::StartReview(grpc::ServerContext* ctx,
                                              const icr::v1::StartCarePlanReviewRequest* req,
                                              CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.StartReview");
  if (!caller.ok()) return ToGrpc(caller.status());
  using Request = icr::v1::StartCarePlanReviewRequest;
  if (req->trigger() == Request::TRIGGER_UNSPECIFIED || !Request::Trigger_IsValid(req->trigger())) {
    return ToGrpc(InvalidField("trigger", "required: why the review starts"));
  }
  if (auto s = CheckText(req->reason(), "reason", 1000, false); !s.ok()) return ToGrpc(s);
  std::string reason = Request::Trigger_Name(req->trigger());
  if (!req->reason().empty()) reason += ": " + req->reason();
  return ChangePlan(
      *caller, req->plan_id(), req->expected_version(), "StartReview", Action::kStartReview,
      [&](pqxx::work& tx, Step& step) {
        return Advance(
            tx, step.caller, step.row,
            {step.next, &step.current, "review_started", reason, step.row.signed_version});
      },
      resp);
}

grpc::Status CarePlanServiceImpl::RecordReview(grpc::ServerContext* ctx,
                                               const icr::v1::RecordCarePlanReviewRequest* req,
                                               CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.RecordReview");
  if (!caller.ok()) return ToGrpc(caller.status());
  icr::v1::CarePlanReview review = req->review();
  // Before ChangePlan reads the outcome to choose the plan's next status.
  if (auto s = CheckEnums(review, "review"); !s.ok()) return ToGrpc(s);
  return ChangePlan(
      *caller, req->plan_id(), req->expected_version(), "RecordReview", Action::kRecordReview,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const PlanRow& row = step.row;
        auto rule = CarePlanStore::LoadRule(tx, PlanType(step.current));
        if (!rule.ok()) return rule.status();
        RETURN_IF_ERROR(
            ValidateReview(review, *ref_, *rule, row.is_s117 || row.agreed_s117, Today()));
        step.current.mutable_review()->set_next_review_date(review.next_review_date());
        const auto outcome = icr::v1::CarePlanReview::Outcome_Name(review.outcome());
        // A review that keeps the plan keeps its sign-offs; MODIFY starts a new draft.
        const auto signed_version =
            step.next == CarePlan::AGREED ? row.signed_version : std::optional<int64_t>();
        RETURN_IF_ERROR(Advance(tx, step.caller, row,
                                {step.next, &step.current, "reviewed", outcome, signed_version}));
        const auto agencies = ParticipantAgencies(review.participants(), *ref_);
        CarePlanStore::InsertReview(
            tx, row, review, agencies.count(icr::v1::CarePlanSignOff::HEALTH),
            agencies.count(icr::v1::CarePlanSignOff::SOCIAL_CARE), step.caller.org_code);
        return absl::OkStatus();
      },
      resp, review.outcome());
}

grpc::Status CarePlanServiceImpl::CloseCarePlan(grpc::ServerContext* ctx,
                                                const icr::v1::CloseCarePlanRequest* req,
                                                CarePlan* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.CloseCarePlan");
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto s = CheckText(req->reason(), "reason", 1000, true); !s.ok()) return ToGrpc(s);
  return ChangePlan(
      *caller, req->plan_id(), req->expected_version(), "CloseCarePlan", Action::kClose,
      [&](pqxx::work& tx, Step& step) -> absl::Status {
        const PlanRow& row = step.row;
        RETURN_IF_ERROR(CheckClose(row.is_s117 || row.agreed_s117,
                                   CarePlanStore::S117EntitlementOpen(tx, row.person_id)));
        RETURN_IF_ERROR(
            Advance(tx, step.caller, row,
                    {step.next, &step.current, "closed", req->reason(), row.signed_version}));
        CarePlanStore::MarkClosed(tx, row.plan_id, req->reason());
        return absl::OkStatus();
      },
      resp);
}

grpc::Status CarePlanServiceImpl::ListCarePlanVersions(
    grpc::ServerContext* ctx, const icr::v1::ListCarePlanVersionsRequest* req,
    icr::v1::ListCarePlanVersionsResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.ListCarePlanVersions");
  if (!caller.ok()) return ToGrpc(caller.status());
  int64_t after = 0;
  const std::string& token = req->page().page_token();
  if (!token.empty()) {
    if (token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos) {
      return ToGrpc(
          InvalidField("page.page_token", "not a token returned by ListCarePlanVersions"));
    }
    after = std::stoll(token);
  }
  const int limit = Limit(req->page());
  return ReadPlan(*caller, req->plan_id(), "ListCarePlanVersions",
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

grpc::Status CarePlanServiceImpl::ListCarePlans(grpc::ServerContext* ctx,
                                                const icr::v1::ListCarePlansRequest* req,
                                                icr::v1::ListCarePlansResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.CarePlanService.ListCarePlans");
  if (!caller.ok()) return ToGrpc(caller.status());
  PlanFilter filter;
  filter.include_closed = req->include_closed();
  std::string nhs;
  if (!req->nhs_number().empty()) {
    auto n = NormaliseNhsNumber(req->nhs_number(), "nhs_number");
    if (!n.ok()) return ToGrpc(n.status());
    nhs = *n;
  }
  if (!req->key_worker_organisation_code().empty()) {
    auto s = ref_->CheckOrganisation(req->key_worker_organisation_code(),
                                     "key_worker_organisation_code", {});
    if (!s.ok()) return ToGrpc(s);
    filter.key_worker_org = req->key_worker_organisation_code();
  }
  if (!req->review_due_before().empty()) {
    auto d = RequireDate(req->review_due_before(), "review_due_before");
    if (!d.ok()) return ToGrpc(d.status());
    filter.review_due_before = req->review_due_before();
  }
  if (const std::string& token = req->page().page_token(); !token.empty()) {
    const auto slash = token.find('/');
    const std::string date = token.substr(0, slash);
    if (slash == std::string::npos || (date != "infinity" && !ParseDate(date)) ||
        !IsUuid(token.substr(slash + 1))) {
      return ToGrpc(InvalidField("page.page_token", "not a token returned by ListCarePlans"));
    }
    filter.after_date = date;
    filter.after_plan = token.substr(slash + 1);
  }
  const int limit = Limit(req->page());
  // Break-glass lists see every plan; each plan listed is audited either way.
  const std::string visible_to =
      access::ListScope(*caller, "icr.v1.CarePlanService.ListCarePlans");
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    if (!nhs.empty()) {
      auto person = Access::ResolvePerson(tx, *caller, nhs, "ListCarePlans");
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
    Audit::WriteMany(tx, *caller, seen, "ListCarePlans", kAuditOk);
    if (static_cast<int>(plans.size()) == limit) {
      resp->mutable_page()->set_next_page_token(plans.back().second);
    }
    return absl::OkStatus();
  }));
}

}  // namespace icr::careplan
