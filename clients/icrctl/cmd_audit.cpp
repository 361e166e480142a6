// audit show: who read or changed one person's record, when and why.
#include <iostream>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"

namespace icrctl {
namespace {

int Show(const Invocation& inv) {
  icr::v1::GetAuditTrailRequest req;
  req.set_nhs_number(inv.Positional(1, "one NHS number")[0]);
  req.mutable_page()->set_page_size(static_cast<int>(inv.Int("page-size", 0, 100000)));
  req.mutable_page()->set_page_token(inv.Str("page-token"));
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::AuditTrail trail;
  Check(client.record().GetAuditTrail(&ctx, req, &trail));
  if (inv.globals.json) {
    out::PrintJson(trail);
    return 0;
  }
  out::Table table({"WHEN", "ORG", "ROLE", "ACTION", "PURPOSE", "OUTCOME", "BREAK-GLASS REASON"});
  for (const auto& e : trail.entries()) {
    table.Row({out::Time(e.at()), e.organisation_code(), e.role(), e.action(), e.purpose_of_use(),
               e.outcome(), e.break_glass_reason()});
  }
  table.Print(std::cout);
  std::cout << trail.entries_size() << (trail.entries_size() == 1 ? " entry" : " entries")
            << ", newest first";
  if (!trail.page().next_page_token().empty()) {
    std::cout << "; older with --page-token " << trail.page().next_page_token();
  }
  std::cout << "\n";
  return 0;
}

}  // namespace

void AddAuditCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"audit", "show"},
       "show the audit trail of one person (newest first)",
       "NHS_NUMBER",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("page-size", "entries per page (server default 50, max 500)", cxxopts::value<std::string>())
           ("page-token", "continue from this token", cxxopts::value<std::string>());
         // clang-format on
       },
       Show});
}

}  // namespace icrctl
