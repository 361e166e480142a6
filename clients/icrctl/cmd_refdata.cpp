// refdata load FILE...: organisations and succession links (services/common/refdata_load.h),
// straight in the database like `db migrate` and `admin token`: reference data is the
// deployment's, loaded by its operator, and no service serves it over RPC (each icr-server
// reads it at start). One transaction per file; a file with a refused row changes nothing.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "clients/icrctl/commands.h"
#include "services/common/db.h"
#include "services/common/refdata_load.h"

namespace icrctl {
namespace {

// The exit code when a file had a refused row (as for `s117 import`).
constexpr int kExitRowsRefused = 3;

int Load(const Invocation& inv) {
  const auto& paths = inv.positional;
  if (paths.empty()) FailUsage(inv.name + ": expected FILE.csv... (see icrctl " + inv.name + " --help)");
  icr::Database db(DatabaseUrl(inv), 1);
  int rc = 0;
  for (const auto& path : paths) {
    auto report = icr::LoadRefdataFile(db, ReadInput(path));
    if (!report.ok()) {
      throw Failure(std::string(absl::StatusCodeToString(report.status().code())) + ": " + path +
                        ": " + std::string(report.status().message()),
                    kExitUsage);
    }
    if (!report->committed) rc = kExitRowsRefused;
    nlohmann::json counts;
    for (const char* o : {"added", "updated", "unchanged", "skipped", "refused"}) {
      counts[o] = report->Count(o);
    }
    if (inv.globals.json) {
      nlohmann::json refused = nlohmann::json::array();
      for (const auto& r : report->rows) {
        if (r.outcome == "refused") {
          refused.push_back({{"line", r.line}, {"field", r.field}, {"message", r.message}});
        }
      }
      std::cout << nlohmann::json{{"file", path},          {"layout", report->layout},
                                  {"committed", report->committed}, {"counts", counts},
                                  {"refused", refused}}
                       .dump()
                << "\n";
      continue;
    }
    for (const auto& r : report->rows) {
      if (r.outcome == "unchanged" && !inv.Has("verbose")) continue;
      std::printf("%s line %-4d %-9s %s%s\n", path.c_str(), r.line, r.outcome.c_str(),
                  r.field.empty() ? "" : (r.field + ": ").c_str(), r.message.c_str());
    }
    std::printf("%s: %s: %d added, %d updated, %d unchanged, %d skipped, %d refused%s\n",
                path.c_str(), report->layout.c_str(), report->Count("added"),
                report->Count("updated"), report->Count("unchanged"), report->Count("skipped"),
                report->Count("refused"), report->committed ? "" : " (nothing written)");
  }
  return rc;
}

}  // namespace

void AddRefdataCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"refdata", "load"},
       "load organisations, succession links (ODS successor layout, or its GSS equivalent) or "
       "a split's successor areas from CSV files; running servers see them after a restart",
       "FILE.csv...",
       [](cxxopts::Options& o) {
         o.add_options()("verbose", "also list the unchanged rows");
         AddDatabaseUrlOption(o);
       },
       Load,
       "Layouts (told apart by the first row; lines starting with # are comments):\n"
       "  organisations: header code,kind,name,icb_code,opened_on,closed_on (YYYY-MM-DD;\n"
       "    closed_on is the first day closed, empty while open)\n"
       "  successions: the ODS succ.csv layout, no header: predecessor,successor,reason (F|O|R),\n"
       "    effective date CCYYMMDD,indicator (F|X|blank); GSS codes for councils. The\n"
       "    predecessor closes on the effective date; rows naming two unknown bodies are skipped.\n"
       "  successor areas: header predecessor_code,successor_code,effective_on,postcode_district\n"
       "    (YYYY-MM-DD; outward code, e.g. KT10): where a split body's people go, for the split's\n"
       "    work list (icrctl refdata work); load the succession first.\n"
       "Exit 3 when a row was refused (that file is not written).\n"});
}

}  // namespace icrctl
