// icr.v1.S117RegisterService handlers: authenticate, check who may see the entitlement, run one
// transaction holding the change, its history, change-feed and audit rows, and map the result
// to a gRPC status. Owns the change-feed follower that keeps the register in step with the
// record (started here, stopped on destruction).
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

namespace icr::s117 {

class S117ServiceImpl final : public icr::v1::S117RegisterService::Service {
 public:
  // follow_feed = false leaves the register to another instance's follower.
  S117ServiceImpl(Database& db, Authenticator& auth, std::shared_ptr<const ReferenceData> ref,
                  bool follow_feed = true);
  ~S117ServiceImpl() override;

  grpc::Status GetEntitlement(grpc::ServerContext* ctx, const icr::v1::GetEntitlementRequest* req,
                              icr::v1::Entitlement* resp) override;
  grpc::Status ListRegister(grpc::ServerContext* ctx, const icr::v1::ListRegisterRequest* req,
                            icr::v1::ListRegisterResponse* resp) override;
  grpc::Status ExportRegister(grpc::ServerContext* ctx, const icr::v1::ExportRegisterRequest* req,
                              grpc::ServerWriter<icr::v1::RegisterRow>* writer) override;
  grpc::Status OpenEntitlement(grpc::ServerContext* ctx,
                               const icr::v1::OpenEntitlementRequest* req,
                               icr::v1::Entitlement* resp) override;
  grpc::Status SetResponsibleBodies(grpc::ServerContext* ctx,
                                    const icr::v1::SetResponsibleBodiesRequest* req,
                                    icr::v1::Entitlement* resp) override;
  grpc::Status AddAftercareService(grpc::ServerContext* ctx,
                                   const icr::v1::AddAftercareServiceRequest* req,
                                   icr::v1::Entitlement* resp) override;
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

 private:
  // What a write did, for the history and the change feed; after_save runs once the episode
  // is stored (e.g. to open a successor).
  struct Mutation {
    std::string action;
    std::string reason;
    std::function<absl::Status()> after_save;
  };
  using Change = std::function<absl::Status(pqxx::work& tx, const Caller& caller,
                                            const Policy& policy, Episode& e, Mutation& m)>;

  // The shape every write takes: the visible episode at expected_version, changed, stored as
  // the next version with its audit row, and returned.
  // `check` validates the request after the caller is admitted (nullptr: nothing more to check).
  grpc::Status WriteEpisode(grpc::ServerContext* ctx, const std::string& rpc,
                            const std::string& entitlement_id, int64_t expected_version,
                            const std::function<absl::Status()>& check, const Change& change,
                            icr::v1::Entitlement* resp);
  // A council or an ICB sees the entitlements it is responsible for; anyone else those of
  // people it has a legitimate relationship with.
  // The facts of the access rule for the caller and an entitlement's person: a council or ICB
  // sees what it is responsible for, anyone else what core.relationship lets it see.
  access::Facts FactsOf(pqxx::transaction_base& tx, const Caller& caller,
                        const std::string& person_id, const std::string& council,
                        const std::string& icb);
  Visibility RegisterVisibility(const Caller& caller) const;
  absl::Status LegalDecision(pqxx::work& tx, const Caller& caller, const Policy& policy,
                             const icr::v1::RecordLegalEventRequest& req, Episode& e,
                             Mutation& m);

  Database& db_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
  PolicyCache policy_;
  std::unique_ptr<FeedFollower> follower_;
};

}  // namespace icr::s117
