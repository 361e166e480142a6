// icr.v1.S117RegisterService: each RPC admits the caller and runs an operation returning
// absl::Status, which checks who may see the entitlement (access::RegisterScope) and runs one
// transaction holding the change, its history, change-feed and audit rows. Owns the change-feed
// follower that keeps the register in step with the record (started here, stopped on destruction).
// GetFeedPosition reads the follower's stored cursor, so any replica answers it, whichever one
// runs the follower.
#pragma once

#include <functional>
#include <memory>

#include "icr/v1/s117.grpc.pb.h"
#include "services/common/access_rule.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/s117/feed_follower.h"
#include "services/s117/store.h"
#include "services/s117/successions.h"

namespace icr::s117 {

class S117ServiceImpl final : public icr::v1::S117RegisterService::Service {
 public:
  // The follower steps only while follow_while answers true (empty: always), e.g. while this
  // replica holds the singleton work kFollowerWork (Singletons::Gate).
  // succession_every: how often this replica applies the successions due (SuccessionRunner),
  // while succeed_while answers true (Singletons::Gate(kSuccessionWork)); 0: only on request.
  S117ServiceImpl(Database& db, Authenticator& auth, std::shared_ptr<const ReferenceData> ref,
                  std::function<bool()> follow_while = nullptr,
                  std::chrono::seconds succession_every = std::chrono::seconds(0),
                  std::function<bool()> succeed_while = nullptr);
  ~S117ServiceImpl() override;

  grpc::Status GetEntitlement(grpc::ServerContext* ctx, const icr::v1::GetEntitlementRequest* req,
                              icr::v1::Entitlement* resp) override;
  grpc::Status ListRegister(grpc::ServerContext* ctx, const icr::v1::ListRegisterRequest* req,
                            icr::v1::ListRegisterResponse* resp) override;
  grpc::Status ExportRegister(grpc::ServerContext* ctx, const icr::v1::ExportRegisterRequest* req,
                              grpc::ServerWriter<icr::v1::RegisterRow>* writer) override;
  grpc::Status OpenEntitlement(grpc::ServerContext* ctx, const icr::v1::OpenEntitlementRequest* req,
                               icr::v1::Entitlement* resp) override;
  grpc::Status SetResponsibleBodies(grpc::ServerContext* ctx,
                                    const icr::v1::SetResponsibleBodiesRequest* req,
                                    icr::v1::Entitlement* resp) override;
  grpc::Status AddAftercareService(grpc::ServerContext* ctx,
                                   const icr::v1::AddAftercareServiceRequest* req,
                                   icr::v1::AddAftercareServiceResponse* resp) override;
  grpc::Status EndAftercareService(grpc::ServerContext* ctx,
                                   const icr::v1::EndAftercareServiceRequest* req,
                                   icr::v1::Entitlement* resp) override;
  grpc::Status RecordReview(grpc::ServerContext* ctx, const icr::v1::RecordReviewRequest* req,
                            icr::v1::Entitlement* resp) override;
  grpc::Status RecordEndDecision(grpc::ServerContext* ctx,
                                 const icr::v1::RecordEndDecisionRequest* req,
                                 icr::v1::Entitlement* resp) override;
  grpc::Status RecordLegalEvent(grpc::ServerContext* ctx,
                                const icr::v1::RecordLegalEventRequest* req,
                                icr::v1::Entitlement* resp) override;
  grpc::Status RecordInError(grpc::ServerContext* ctx, const icr::v1::RecordInErrorRequest* req,
                             icr::v1::Entitlement* resp) override;
  // feed_position.h, reconcile.h.
  grpc::Status GetFeedPosition(grpc::ServerContext* ctx, const icr::v1::GetFeedPositionRequest* req,
                               icr::v1::FeedPosition* resp) override;
  grpc::Status ReconcileRegister(
      grpc::ServerContext* ctx, const icr::v1::ReconcileRegisterRequest* req,
      grpc::ServerWriter<icr::v1::ReconciliationFinding>* writer) override;
  grpc::Status ImportRegister(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<icr::v1::ImportRowResult, icr::v1::RegisterImportRow>* stream)
      override;
  grpc::Status RecordPlacement(grpc::ServerContext* ctx, const icr::v1::RecordPlacementRequest* req,
                               icr::v1::Placement* resp) override;
  grpc::Status EndPlacement(grpc::ServerContext* ctx, const icr::v1::EndPlacementRequest* req,
                            icr::v1::Placement* resp) override;
  grpc::Status ListPlacements(grpc::ServerContext* ctx, const icr::v1::ListPlacementsRequest* req,
                              icr::v1::ListPlacementsResponse* resp) override;
  // successions.h (organisation successions applied, the split's work list).
  grpc::Status ApplySuccessions(grpc::ServerContext* ctx,
                                const icr::v1::ApplySuccessionsRequest* req,
                                icr::v1::ApplySuccessionsResponse* resp) override;
  grpc::Status ListSuccessionWork(grpc::ServerContext* ctx,
                                  const icr::v1::ListSuccessionWorkRequest* req,
                                  icr::v1::ListSuccessionWorkResponse* resp) override;
  grpc::Status ResolveSuccessionWork(grpc::ServerContext* ctx,
                                     const icr::v1::ResolveSuccessionWorkRequest* req,
                                     icr::v1::SuccessionWorkItem* resp) override;

 private:
  // What a write did, for the history and the change feed; after_save runs once the episode
  // is stored (e.g. to open a successor).
  struct Mutation {
    std::string action;
    std::string reason;
    std::function<absl::Status()> after_save;
  };
  using Change =
      std::function<absl::Status(pqxx::work& tx, const Policy& policy, Episode& e, Mutation& m)>;

  // Authentication and the policy table's role check for `rpc` of this service.
  absl::StatusOr<Caller> Admit(grpc::ServerContext* ctx, const char* rpc);
  // Whose entitlements the caller sees (access::RegisterScope), by its organisation's kind.
  access::RegisterScope ScopeOf(const Caller& caller) const;

  // The shape every write takes: the visible episode at expected_version, changed, stored as
  // the next version with its audit row, and returned. A refusal by the access rule is audited
  // and kept.
  absl::Status WriteEpisode(const Caller& caller, const std::string& rpc,
                            const std::string& entitlement_id, int64_t expected_version,
                            const Change& change, icr::v1::Entitlement* resp);
  // One page of the register after `after` for the caller, each row's person audited as
  // `action`.
  absl::StatusOr<std::vector<icr::v1::RegisterRow>> RegisterPage(
      pqxx::work& tx, const Caller& caller, const icr::v1::RegisterFilter& filter,
      const std::string& after, int limit, const std::string& action);
  // The operations on an episode inside a transaction, each the one way to do its thing: the
  // RPCs run one, ImportRegister several in one transaction.
  // Builds (EpisodeFromOpenRequest) and stores a new episode for person_id.
  absl::Status OpenIn(pqxx::work& tx, const Caller& caller, const Policy& policy,
                      const icr::v1::OpenEntitlementRequest& req, const std::string& person_id,
                      Episode& e, const std::string& source_ref = "",
                      const std::string& digest = "");
  absl::Status AddServiceTo(pqxx::work& tx, const Caller& caller, const Policy& policy, Episode& e,
                            Mutation& m, icr::v1::AftercareService line, const std::string& field,
                            std::string* line_id);
  // Ending a service line: the request's own checks, then the change (fields named under
  // `prefix`, e.g. "services[1].").
  static absl::Status CheckServiceEnd(const Caller& caller,
                                      const icr::v1::EndAftercareServiceRequest& req,
                                      const std::string& prefix);
  static absl::Status EndServiceOf(pqxx::work& tx, Episode& e, Mutation& m,
                                   const icr::v1::EndAftercareServiceRequest& req,
                                   const std::string& prefix);
  // migrated: an imported review (attendance may be NOT_RECORDED).
  absl::Status ReviewOf(pqxx::work& tx, const Caller& caller, const Policy& policy, Episode& e,
                        Mutation& m, icr::v1::S117Review review, const std::string& field,
                        bool migrated);
  absl::Status EndDecisionOf(pqxx::work& tx, const Caller& caller, const Policy& policy, Episode& e,
                             Mutation& m, const icr::v1::RecordEndDecisionRequest& req,
                             const std::optional<Date>& notified);
  absl::Status LegalDecision(pqxx::work& tx, const Caller& caller, const Policy& policy,
                             const icr::v1::RecordLegalEventRequest& req, Episode& e, Mutation& m);

  // The operations behind the RPCs, for an admitted caller.
  absl::Status Get(const Caller& caller, const icr::v1::GetEntitlementRequest& req,
                   icr::v1::Entitlement* resp);
  absl::Status List(const Caller& caller, const icr::v1::ListRegisterRequest& req,
                    icr::v1::ListRegisterResponse* resp);
  // Sends the whole register a page at a time until `emit` refuses a row or `cancelled`.
  absl::Status Export(const Caller& caller, const icr::v1::ExportRegisterRequest& req,
                      const std::function<bool()>& cancelled,
                      const std::function<bool(const icr::v1::RegisterRow&)>& emit);
  absl::Status Open(const Caller& caller, const icr::v1::OpenEntitlementRequest& req,
                    icr::v1::Entitlement* resp);
  absl::Status SetBodies(const Caller& caller, const icr::v1::SetResponsibleBodiesRequest& req,
                         icr::v1::Entitlement* resp);
  absl::Status AddService(const Caller& caller, const icr::v1::AddAftercareServiceRequest& req,
                          icr::v1::AddAftercareServiceResponse* resp);
  absl::Status EndService(const Caller& caller, const icr::v1::EndAftercareServiceRequest& req,
                          icr::v1::Entitlement* resp);
  absl::Status Review(const Caller& caller, const icr::v1::RecordReviewRequest& req,
                      icr::v1::Entitlement* resp);
  absl::Status EndDecision(const Caller& caller, const icr::v1::RecordEndDecisionRequest& req,
                           icr::v1::Entitlement* resp);
  absl::Status LegalEvent(const Caller& caller, const icr::v1::RecordLegalEventRequest& req,
                          icr::v1::Entitlement* resp);
  absl::Status InError(const Caller& caller, const icr::v1::RecordInErrorRequest& req,
                       icr::v1::Entitlement* resp);
  absl::Status AddPlacement(const Caller& caller, const icr::v1::RecordPlacementRequest& req,
                            icr::v1::Placement* resp);
  absl::Status StopPlacement(const Caller& caller, const icr::v1::EndPlacementRequest& req,
                             icr::v1::Placement* resp);
  // One register row in one transaction (rolled back for a dry run): its result.
  icr::v1::ImportRowResult ImportRow(const Caller& caller, const icr::v1::RegisterImportRow& row);
  // The row's entitlement stored through the live operations in `tx`: the person (found or
  // created), the entitlement, its services, its last review and its migrated joint end.
  absl::Status ImportInto(pqxx::work& tx, const Caller& caller, const Policy& policy,
                          const icr::v1::RegisterImportRow& row, const std::string& digest,
                          absl::Status& refused, std::string* id);

  Database& db_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
  PolicyCache policy_;
  std::unique_ptr<FeedFollower> follower_;
  std::unique_ptr<SuccessionRunner> successions_;  // null: only on request
};

}  // namespace icr::s117
