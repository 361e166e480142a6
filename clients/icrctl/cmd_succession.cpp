// refdata apply-successions | refdata work list | refdata work resolve: organisation successions
// applied (S117RegisterService.ApplySuccessions) and a split's work list (README "Keeping
// reference data current"). Counts only, never names, for what moved.
#include <iostream>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/validation.h"

namespace icrctl {
namespace {

using Stub = icr::v1::S117RegisterService::Stub;

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& codes) {
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : "/") + c;
  return out;
}

void PrintApplied(std::ostream& os, const icr::v1::ApplySuccessionsResponse& r) {
  out::Table t({"FROM", "TO", "ON", "KIND", "ENTITLEMENTS", "CARE PLANS", "PEOPLE", "TOKENS",
                "AGREEMENTS", "WORK ITEMS"});
  for (const auto& s : r.successions()) {
    t.Row({s.predecessor_code(), Joined(s.successor_codes()), s.effective_on(), s.kind(),
           std::to_string(s.entitlements()), std::to_string(s.care_plans()),
           std::to_string(s.people()), std::to_string(s.tokens()), std::to_string(s.agreements()),
           std::to_string(s.work_items())});
  }
  if (t.empty()) {
    os << "nothing to move" << (r.dry_run() ? " (dry run)" : "") << "\n";
    return;
  }
  t.Print(os);
  if (r.dry_run()) os << "dry run: nothing was changed\n";
}

int Apply(const Invocation& inv) {
  icr::v1::ApplySuccessionsRequest req;
  req.set_as_of(inv.Has("as-of") ? inv.Str("as-of") : icr::FormatDate(icr::Today()));
  req.set_dry_run(inv.Has("dry-run"));
  return PrintResult(inv, CallOnce(inv, &Stub::ApplySuccessions, req), PrintApplied);
}

void PrintWork(std::ostream& os, const icr::v1::ListSuccessionWorkResponse& r) {
  out::Table t({"WORK ID", "FROM", "ON", "ENTITY", "ROLE", "NHS NUMBER", "DISTRICT", "SUCCESSORS",
                "PROPOSED", "BASIS", "STATUS", "RESOLVED"});
  for (const auto& w : r.items()) {
    t.Row({w.work_id(), w.predecessor_code(), w.effective_on(), w.entity(), w.role(),
           out::NhsDisplay(w.nhs_number()), w.postcode_district(), Joined(w.successor_codes()),
           w.proposed_code().empty() ? "decide" : w.proposed_code(), w.proposal_basis(),
           w.status(), w.resolved_code()});
  }
  t.Print(os);
  PrintCount(r.items_size(), "item", "items", r.page());
}

int List(const Invocation& inv) {
  icr::v1::ListSuccessionWorkRequest req;
  req.set_body_code(inv.Str("body"));
  req.set_include_resolved(inv.Has("all"));
  *req.mutable_page() = PageOf(inv);
  return PrintResult(inv, CallOnce(inv, &Stub::ListSuccessionWork, req), PrintWork);
}

void PrintItem(std::ostream& os, const icr::v1::SuccessionWorkItem& w) {
  os << w.work_id() << ": " << w.entity() << " " << w.role() << " " << w.predecessor_code()
     << " -> " << w.resolved_code() << " (" << w.status() << ")\n";
}

int Resolve(const Invocation& inv) {
  icr::v1::ResolveSuccessionWorkRequest req;
  req.set_work_id(Required(inv, "work-id"));
  req.set_successor_code(inv.Str("successor"));
  return PrintResult(inv, CallOnce(inv, &Stub::ResolveSuccessionWork, req), PrintItem);
}

}  // namespace

void AddSuccessionCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"refdata", "apply-successions"},
       "apply the organisation successions due: one-to-one ones move open entitlements, care "
       "plans, people and tokens; splits list work items (admin; icr-server also does it daily)",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("as-of", "the successions effective by this date, YYYY-MM-DD (default today; a later date only with --dry-run)", cxxopts::value<std::string>())
           ("dry-run", "count what would move, change nothing");
         // clang-format on
       },
       Apply,
       "Prints counts per succession, never names. A rerun moves nothing.\n"});
  commands.push_back(
      {{"refdata", "work", "list"},
       "list a split's work items for your body (s117_officer or admin of the old body or a "
       "successor): the proposed successor from the postcode district, or decide",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("body", "only the splits of this body (the old body or a successor)", cxxopts::value<std::string>())
           ("all", "resolved items too");
         // clang-format on
         AddPageFlags(o);
       },
       List});
  commands.push_back(
      {{"refdata", "work", "resolve"},
       "accept a work item's proposal, or name another successor: its move is applied",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("work-id", "the work item", cxxopts::value<std::string>())
           ("successor", "the successor to move to (default: the proposal)", cxxopts::value<std::string>());
         // clang-format on
       },
       Resolve});
}

}  // namespace icrctl
