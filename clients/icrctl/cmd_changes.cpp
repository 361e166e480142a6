// changes watch: the change feed, one line per change, resumable from a cursor.
#include <cstdint>
#include <iostream>
#include <thread>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"

namespace icrctl {
namespace {

// Without --follow the feed ends when it is drained; allow a large backlog time to arrive.
constexpr std::chrono::seconds kDrainDeadline{600};
// Pause before a followed stream that ended UNAVAILABLE is opened again.
constexpr std::chrono::seconds kResumeAfter{1};

int Watch(const Invocation& inv) {
  icr::v1::WatchChangesRequest req;
  req.set_cursor(inv.Str("cursor"));
  req.set_follow(inv.Has("follow"));
  const int64_t max = inv.Int("max", 0, INT32_MAX);

  Client client(inv.globals);
  icr::v1::Change c;
  int64_t n = 0;
  for (;;) {
    req.set_max_changes(static_cast<int>(max > 0 ? max - n : 0));
    grpc::ClientContext ctx;
    client.Prepare(ctx, req.follow() ? kNoDeadline : kDrainDeadline);
    auto reader = client.record().WatchChanges(&ctx, req);
    while (reader->Read(&c)) {
      ++n;
      req.set_cursor(c.cursor());
      if (inv.globals.json) {
        out::PrintJsonLine(c, /*flush=*/true);
        continue;
      }
      std::cout << out::Time(c.committed_at()) << "  " << c.entity() << "/" << c.entity_id()
                << "  " << c.change_type() << "  org=" << out::Dash(c.organisation_code())
                << "  person=" << out::Dash(c.person_id()) << "  lag=" << c.lag_ms()
                << "ms  cursor=" << c.cursor() << std::endl;
    }
    const grpc::Status status = reader->Finish();
    // A followed stream ends UNAVAILABLE when the server closes an old connection
    // (--max-connection-age) or a replica shuts down: resume after the last change seen.
    const bool more = max == 0 || n < max;
    if (req.follow() && more && status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      std::cerr << "stream ended (UNAVAILABLE: " << status.error_message()
                << "); resuming after cursor " << (req.cursor().empty() ? "-" : req.cursor())
                << "\n";
      std::this_thread::sleep_for(kResumeAfter);
      continue;
    }
    Check(status);
    break;
  }
  if (!inv.globals.json) {
    std::cerr << n << (n == 1 ? " change" : " changes");
    if (n > 0) std::cerr << "; resume with --cursor " << c.cursor();
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace

void AddChangesCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"changes", "watch"},
       "print the change feed, one line per change",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("cursor", "resume after this cursor (default: from the beginning)", cxxopts::value<std::string>())
           ("follow", "keep waiting for new changes (Ctrl-C to stop); a stream the server ends UNAVAILABLE (a replica stopping, --max-connection-age) is opened again after the last change")
           ("max", "stop after this many changes (0: no limit)", cxxopts::value<std::string>());
         // clang-format on
       },
       Watch});
}

}  // namespace icrctl
