// demo seed: streams a deterministic synthetic population through ImportEvents.
#include <chrono>
#include <iostream>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/demo_seed.h"
#include "clients/icrctl/output.h"
#include "services/common/validation.h"

namespace icrctl {
namespace {

// The import deadline grows with the population: a minute plus 50 ms a person.
std::chrono::seconds ImportDeadline(int64_t people) {
  return std::chrono::seconds(60 + people / 20);
}

demo::Options SeedOptions(const Invocation& inv) {
  if (!inv.Has("people")) FailUsage(inv.name + ": --people is required");
  demo::Options o;
  o.people = inv.Int("people", 1, demo::Capacity());
  o.seed = inv.Has("seed") ? inv.Uint("seed") : 1;
  o.org = inv.Str("org");
  o.as_of = demo::DefaultAsOf();
  if (inv.Has("as-of")) {
    auto d = icr::ParseDate(inv.Str("as-of"));
    if (!d) FailUsage(inv.name + ": --as-of: not a date (YYYY-MM-DD)");
    o.as_of = *d;
  }
  return o;
}

void PrintSummary(const Invocation& inv, const icr::v1::ImportSummary& s, int64_t people,
                  double seconds) {
  if (inv.globals.json) return out::PrintJson(s);
  out::Fields f;
  f.Add("People", std::to_string(people));
  f.Add("Received", std::to_string(s.received()));
  f.Add("Stored", std::to_string(s.stored()));
  f.Add("Duplicates", std::to_string(s.duplicates()));
  f.Add("Rejected", std::to_string(s.rejected()));
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", seconds);
  f.Add("Took", took);
  f.Print(std::cout, "");
  if (s.rejections().empty()) return;
  constexpr int kShown = 20;
  std::cout << "\nRejections" << (s.rejections_size() > kShown ? " (first 20)" : "") << "\n";
  out::Table t({"INDEX", "KEY", "CODE", "MESSAGE"});
  for (int i = 0; i < s.rejections_size() && i < kShown; ++i) {
    const auto& r = s.rejections(i);
    t.Row({std::to_string(r.index()), r.key(),
           absl::StatusCodeToString(static_cast<absl::StatusCode>(r.code())), r.message()});
  }
  t.Print(std::cout, "  ");
}

int Seed(const Invocation& inv) {
  const demo::Options options = SeedOptions(inv);
  auto generator = demo::Generator::Create(options);
  Check(generator.status());
  demo::DemoPerson person;

  if (inv.Has("dry-run")) {  // the items as JSONL, for inspection or files
    icr::v1::ImportItem item;
    while (generator->Next(&person)) {
      *item.mutable_person() = person.person;
      out::PrintJsonLine(item);
      for (const auto& e : person.events) {
        *item.mutable_event() = e;
        out::PrintJsonLine(item);
      }
    }
    return 0;
  }

  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx, ImportDeadline(options.people));
  icr::v1::ImportSummary summary;
  const auto started = std::chrono::steady_clock::now();
  auto writer = client.record().ImportEvents(&ctx, &summary);
  int64_t people = 0;
  bool open = true;
  icr::v1::ImportItem item;
  while (open && generator->Next(&person)) {
    ++people;
    *item.mutable_person() = std::move(person.person);
    open = writer->Write(item);
    for (auto& e : person.events) {
      if (!open) break;
      *item.mutable_event() = std::move(e);
      open = writer->Write(item);
    }
  }
  if (open) writer->WritesDone();
  Check(writer->Finish());  // a broken stream reports its status here
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  PrintSummary(inv, summary, people, seconds);
  if (summary.rejected() > 0) {
    std::string first = summary.rejections().empty() ? "" : "; first: " + summary.rejections(0).message();
    throw Failure("demo seed: " + std::to_string(summary.rejected()) + " of " +
                  std::to_string(summary.received()) + " items rejected" + first);
  }
  return 0;
}

}  // namespace

void AddDemoCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"demo", "seed"},
       "send a deterministic synthetic population (999 test NHS numbers) through ImportEvents",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("people", "how many people (at most " + std::to_string(demo::Capacity()) + ", the valid numbers of the 999 test range)", cxxopts::value<std::string>())
           ("seed", "random seed (default 1); the same seed sends the same people and events. People are numbered from NHS number 999 000 001 8 whatever the seed, so use one seed per database", cxxopts::value<std::string>())
           ("org", "only people of this trust, ICB or council (RW4, RXV, RV5, RXY, RX4, RGD or their ICBs and councils)", cxxopts::value<std::string>())
           ("as-of", "history ends the day before this date (default: the 1st of this month, so reruns in a month are identical)", cxxopts::value<std::string>())
           ("dry-run", "print the items as JSONL (icr.v1.ImportItem) instead of sending them");
         // clang-format on
       },
       Seed});
}

}  // namespace icrctl
