// events record: sends a JSONL file of icr.v1.Event through RecordEvents, 1000 per request.
#include <iostream>
#include <sstream>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "services/common/status.h"

namespace icrctl {
namespace {

constexpr int kMaxEventsPerRequest = 1000;  // the server's limit for one RecordEvents

struct Line {
  int number;  // 1-based line in the file
  icr::v1::Event event;
};

std::vector<Line> ReadEvents(const std::string& path) {
  std::istringstream in(ReadInput(path));
  std::vector<Line> lines;
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    Line line{number, {}};
    std::string error;
    if (!out::FromJson(text, &line.event, &error)) {
      throw Failure("INVALID_ARGUMENT: " + path + ":" + std::to_string(number) +
                    ": not an icr.v1.Event: " + error);
    }
    lines.push_back(std::move(line));
  }
  if (lines.empty()) throw Failure("INVALID_ARGUMENT: " + path + ": no events");
  return lines;
}

// The server names a bad event "events[i]..."; say which line of the file that is.
std::string WhereInFile(const std::string& message, const std::vector<Line>& lines,
                        size_t first, const std::string& path) {
  if (message.rfind("events[", 0) != 0) return "";
  const auto close = message.find(']');
  if (close == std::string::npos) return "";
  size_t i = 0;
  try {
    i = std::stoul(message.substr(7, close - 7));
  } catch (const std::exception&) {
    return "";
  }
  if (first + i >= lines.size()) return "";
  return " (" + path + ":" + std::to_string(lines[first + i].number) + ")";
}

const char* ResultName(icr::v1::EventOutcome::Result r) {
  switch (r) {
    case icr::v1::EventOutcome::STORED: return "STORED";
    case icr::v1::EventOutcome::DUPLICATE: return "DUPLICATE";
    case icr::v1::EventOutcome::REJECTED: return "REJECTED";
    default: return "UNKNOWN";
  }
}

int Record(const Invocation& inv) {
  if (!inv.Has("file")) FailUsage(inv.name + ": --file is required");
  const std::string path = inv.Str("file");
  const std::vector<Line> lines = ReadEvents(path);
  Client client(inv.globals);

  icr::v1::RecordEventsResponse all;
  const size_t batches = (lines.size() + kMaxEventsPerRequest - 1) / kMaxEventsPerRequest;
  for (size_t b = 0; b < batches; ++b) {
    const size_t first = b * kMaxEventsPerRequest;
    const size_t last = std::min(lines.size(), first + kMaxEventsPerRequest);
    icr::v1::RecordEventsRequest req;
    for (size_t i = first; i < last; ++i) *req.add_events() = lines[i].event;
    grpc::ClientContext ctx;
    client.Prepare(ctx);
    icr::v1::RecordEventsResponse resp;
    const grpc::Status status = client.record().RecordEvents(&ctx, req, &resp);
    if (!status.ok()) {
      std::string text = status.error_message() + WhereInFile(status.error_message(), lines, first, path);
      if (batches > 1) {
        text += "; request " + std::to_string(b + 1) + " of " + std::to_string(batches) +
                " refused whole" + (b > 0 ? ", the earlier ones were stored" : "");
      }
      FailStatus(absl::Status(static_cast<absl::StatusCode>(status.error_code()), text));
    }
    for (auto& o : *resp.mutable_outcomes()) *all.add_outcomes() = std::move(o);
    // The last request's cursor that changed anything: where the whole file sits in the feed.
    if (!resp.change_cursor().empty()) all.set_change_cursor(resp.change_cursor());
  }

  if (inv.globals.json) {
    out::PrintJson(all);
    return 0;
  }
  out::Table table({"LINE", "EVENT ID", "RESULT", "MESSAGE"});
  int stored = 0, duplicates = 0, rejected = 0;
  for (int i = 0; i < all.outcomes_size(); ++i) {
    const auto& o = all.outcomes(i);
    table.Row({i < static_cast<int>(lines.size()) ? std::to_string(lines[i].number) : "",
               o.event_id(), ResultName(o.result()), o.message()});
    if (o.result() == icr::v1::EventOutcome::STORED) ++stored;
    if (o.result() == icr::v1::EventOutcome::DUPLICATE) ++duplicates;
    if (o.result() == icr::v1::EventOutcome::REJECTED) ++rejected;
  }
  table.Print(std::cout);
  std::cout << all.outcomes_size() << " events: " << stored << " stored, " << duplicates
            << " duplicates, " << rejected << " rejected\n";
  if (rejected > 0) throw Failure("events record: " + std::to_string(rejected) + " events rejected");
  return 0;
}

}  // namespace

void AddEventsCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"events", "record"},
       "record events from a JSONL file (one icr.v1.Event per line), 1000 per request",
       "",
       [](cxxopts::Options& o) {
         o.add_options()("file", "JSONL file of protobuf JSON icr.v1.Event ('-' for stdin)",
                         cxxopts::value<std::string>());
       },
       Record});
}

}  // namespace icrctl
