// icr.v1.CarePlanService: each RPC admits the caller and runs an operation returning
// absl::Status that validates and runs one transaction with its audit row and change-feed entry.
#pragma once

#include <functional>
#include <memory>

#include "icr/v1/careplan.grpc.pb.h"
#include "services/careplan/store.h"
#include "services/common/access.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/reference.h"

namespace icr::careplan {

class CarePlanServiceImpl final : public icr::v1::CarePlanService::Service {
 public:
  CarePlanServiceImpl(Database& db, Authenticator& auth, std::shared_ptr<const ReferenceData> ref);

  grpc::Status CreateCarePlan(grpc::ServerContext* ctx, const icr::v1::CreateCarePlanRequest* req,
                              icr::v1::CarePlan* resp) override;
  grpc::Status GetCarePlan(grpc::ServerContext* ctx, const icr::v1::GetCarePlanRequest* req,
                           icr::v1::CarePlan* resp) override;
  grpc::Status UpdateCarePlan(grpc::ServerContext* ctx, const icr::v1::UpdateCarePlanRequest* req,
                              icr::v1::CarePlan* resp) override;
  grpc::Status AgreeCarePlan(grpc::ServerContext* ctx, const icr::v1::AgreeCarePlanRequest* req,
                             icr::v1::CarePlan* resp) override;
  grpc::Status StartReview(grpc::ServerContext* ctx, const icr::v1::StartCarePlanReviewRequest* req,
                           icr::v1::CarePlan* resp) override;
  grpc::Status RecordReview(grpc::ServerContext* ctx,
                            const icr::v1::RecordCarePlanReviewRequest* req,
                            icr::v1::CarePlan* resp) override;
  grpc::Status CloseCarePlan(grpc::ServerContext* ctx, const icr::v1::CloseCarePlanRequest* req,
                             icr::v1::CarePlan* resp) override;
  grpc::Status ListCarePlanVersions(grpc::ServerContext* ctx,
                                    const icr::v1::ListCarePlanVersionsRequest* req,
                                    icr::v1::ListCarePlanVersionsResponse* resp) override;
  grpc::Status ListCarePlans(grpc::ServerContext* ctx, const icr::v1::ListCarePlansRequest* req,
                             icr::v1::ListCarePlansResponse* resp) override;
  grpc::Status ImportCarePlans(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<icr::v1::ImportRowResult, icr::v1::CarePlanImportRow>* stream)
      override;

 private:
  // What a change to an existing plan works on: the caller, the locked plan row, its current
  // content and the status the state machine moves it to.
  struct Step {
    const Caller& caller;
    const PlanRow& row;
    PlanStatus next;
    icr::v1::CarePlan current;
  };
  using Change = std::function<absl::Status(pqxx::work&, Step&)>;

  // Authentication and the policy table's role check for `rpc` of this service.
  absl::StatusOr<Caller> Admit(grpc::ServerContext* ctx, const char* rpc);

  // One transaction for a change to plan_id at expected_version: NOT_FOUND (the refusal audited
  // and kept) when the caller may not see the plan, ABORTED when the version is stale,
  // FAILED_PRECONDITION when the state machine refuses `kind`, otherwise `change`, whose errors
  // roll everything back. The response is the plan's current version afterwards.
  absl::Status ChangePlan(
      const Caller& caller, const std::string& plan_id, int64_t expected_version,
      const std::string& audit_action, Action kind, const Change& change, icr::v1::CarePlan* resp,
      icr::v1::CarePlanReview::Outcome outcome = icr::v1::CarePlanReview::OUTCOME_UNSPECIFIED);

  // One transaction for a read of a plan (break-glass allowed, audited).
  absl::Status ReadPlan(const Caller& caller, const std::string& plan_id, const std::string& action,
                        const std::function<absl::Status(pqxx::work&, const PlanRow&)>& read);

  // One transaction storing a new plan for the person with NHS number nhs, started on `started`:
  // NOT_FOUND (the refusal audited and kept) when the caller may not write for them,
  // FAILED_PRECONDITION when the plan would start before their birth, otherwise `store`.
  absl::Status NewPlanFor(const Caller& caller, const std::string& nhs, const std::string& action,
                          Date started,
                          const std::function<absl::Status(pqxx::work&, const PersonRef&)>& store);

  // The operations behind the RPCs, for an admitted caller.
  absl::Status Create(const Caller& caller, const icr::v1::CreateCarePlanRequest& req,
                      icr::v1::CarePlan* resp);
  absl::Status Get(const Caller& caller, const icr::v1::GetCarePlanRequest& req,
                   icr::v1::CarePlan* resp);
  absl::Status Update(const Caller& caller, const icr::v1::UpdateCarePlanRequest& req,
                      icr::v1::CarePlan* resp);
  absl::Status Agree(const Caller& caller, const icr::v1::AgreeCarePlanRequest& req,
                     icr::v1::CarePlan* resp);
  absl::Status StartReviewOf(const Caller& caller, const icr::v1::StartCarePlanReviewRequest& req,
                             icr::v1::CarePlan* resp);
  absl::Status Review(const Caller& caller, const icr::v1::RecordCarePlanReviewRequest& req,
                      icr::v1::CarePlan* resp);
  absl::Status Close(const Caller& caller, const icr::v1::CloseCarePlanRequest& req,
                     icr::v1::CarePlan* resp);
  absl::Status Versions(const Caller& caller, const icr::v1::ListCarePlanVersionsRequest& req,
                        icr::v1::ListCarePlanVersionsResponse* resp);
  absl::Status Plans(const Caller& caller, const icr::v1::ListCarePlansRequest& req,
                     icr::v1::ListCarePlansResponse* resp);
  // One row of ImportCarePlans, in one transaction (rolled back for a dry run).
  icr::v1::ImportRowResult ImportRow(const Caller& caller, const icr::v1::CarePlanImportRow& in);
  // The plan stored (or, for a duplicate, found) in *id; *duplicate when the row was imported
  // already with the same content.
  absl::Status Import(const Caller& caller, const icr::v1::CarePlanImportRow& in, std::string* id,
                      bool* duplicate);

  Database& db_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
};

}  // namespace icr::careplan
