// The S117 register service's succession RPCs (successions.h): ApplySuccessions,
// ListSuccessionWork, ResolveSuccessionWork.
#include "services/common/access.h"
#include "services/common/grpc_status.h"
#include "services/common/paging.h"
#include "services/common/status.h"
#include "services/s117/s117_service.h"

namespace icr::s117 {
namespace {
// A body named in a request: an ODS or GSS code.
absl::Status CheckBody(const std::string& code, const std::string& field) {
  if (code.empty() || IsOdsCodeSyntax(code) || IsGssCodeSyntax(code)) return absl::OkStatus();
  return InvalidField(field, "not an ODS or GSS code");
}
}  // namespace

grpc::Status S117ServiceImpl::ApplySuccessions(grpc::ServerContext* ctx,
                                               const icr::v1::ApplySuccessionsRequest* req,
                                               icr::v1::ApplySuccessionsResponse* resp) {
  auto caller = Admit(ctx, "ApplySuccessions");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto as_of = RequireDate(req->as_of(), "as_of");
  if (!as_of.ok()) return ToGrpc(as_of.status());
  if (*as_of > Today() && !req->dry_run()) {
    return ToGrpc(InvalidField(
        "as_of",
        "after today: a succession applies on its date, not before (a dry run may look ahead)"));
  }
  const absl::Status rolled_back = absl::AbortedError("dry run");
  absl::Status s = db_.Write([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*resp, Successions::Apply(tx, *caller, *as_of));
    return req->dry_run() ? rolled_back : absl::OkStatus();
  });
  if (s == rolled_back) s = absl::OkStatus();
  resp->set_dry_run(req->dry_run());
  return ToGrpc(s);
}

grpc::Status S117ServiceImpl::ListSuccessionWork(grpc::ServerContext* ctx,
                                                 const icr::v1::ListSuccessionWorkRequest* req,
                                                 icr::v1::ListSuccessionWorkResponse* resp) {
  auto caller = Admit(ctx, "ListSuccessionWork");
  if (!caller.ok()) return ToGrpc(caller.status());
  absl::Status s = CheckBody(req->body_code(), "body_code");
  const std::string& token = req->page().page_token();
  if (s.ok() && !token.empty()) s = CheckUuid(token, "page.page_token", "a work_id");
  if (!s.ok()) return ToGrpc(s);
  return ToGrpc(db_.Write([&](pqxx::work& tx) {
    return Successions::List(tx, *caller, *req, PageSize(req->page()), resp);
  }));
}

grpc::Status S117ServiceImpl::ResolveSuccessionWork(
    grpc::ServerContext* ctx, const icr::v1::ResolveSuccessionWorkRequest* req,
    icr::v1::SuccessionWorkItem* resp) {
  auto caller = Admit(ctx, "ResolveSuccessionWork");
  if (!caller.ok()) return ToGrpc(caller.status());
  absl::Status s = CheckUuid(req->work_id(), "work_id", "a work item id");
  if (s.ok()) s = CheckBody(req->successor_code(), "successor_code");
  if (!s.ok()) return ToGrpc(s);
  return ToGrpc(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) {
    return Successions::Resolve(tx, *caller, *req, resp, refused);
  }));
}

}  // namespace icr::s117
