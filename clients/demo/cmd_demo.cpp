// demo seed: streams a deterministic synthetic population through ImportEvents, then records
// care plans and S117 register work for it (demo_followup.h).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "clients/demo/followup.h"
#include "clients/demo/population.h"
#include "clients/demo/principals.h"
#include "clients/demo/register_sample.h"
#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "services/common/config.h"
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

std::string Took(double seconds) {
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", seconds);
  return took;
}

double SecondsSince(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void PrintSummary(const icr::v1::ImportSummary& s, int64_t people, double seconds) {
  out::Fields f;
  f.Add("People", std::to_string(people));
  f.Add("Received", std::to_string(s.received()));
  f.Add("Stored", std::to_string(s.stored()));
  f.Add("Duplicates", std::to_string(s.duplicates()));
  f.Add("Rejected", std::to_string(s.rejected()));
  f.Add("Took", Took(seconds));
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

// "60 ACTIVE, 9 PLANNED" from counts by state or status.
std::string Counts(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [name, n] : counts)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  return out;
}

int Total(const std::map<std::string, int>& counts) {
  int n = 0;
  for (const auto& [name, k] : counts) n += k;
  return n;
}

void PrintFollowup(const demo::FollowupSummary& s, double seconds) {
  auto count = [](const std::map<std::string, int>& m, const std::string& key) {
    auto it = m.find(key);
    return std::to_string(it == m.end() ? 0 : it->second);
  };
  const auto& e = s.entitlements_by_state;
  out::Fields f;
  f.Add("S117 entitlements", std::to_string(Total(e)) + ": " + Counts(e));
  f.Add("Re-detentions",
        count(e, "ENDED_SUPERSEDED") + " (superseded by a second qualifying detention)");
  f.Add("Reviews overdue",
        std::to_string(s.reviews_overdue) + " today; " + std::to_string(s.stale) + " stale");
  f.Add("Reviewed", std::to_string(s.reviewed));
  f.Add("With service lines",
        std::to_string(s.with_open_services) + " (joint 50:50, council only, one direct payment)");
  f.Add("OR disputes", std::to_string(s.disputed));
  f.Add("Joint discharges", count(e, "ENDED_DISCHARGED"));
  f.Add("Care plans", std::to_string(Total(s.plans_by_status)) + ": " + Counts(s.plans_by_status) +
                          "; " + std::to_string(s.s117_plans) + " S117 aftercare plans; " +
                          std::to_string(s.plans_review_overdue) + " overdue for review");
  f.Add("Written this run", s.writes.empty() ? "nothing (already done)" : Counts(s.writes));
  f.Add("Took", Took(seconds));
  std::cout << "\nFollow-up\n";
  f.Print(std::cout, "");
  for (const auto& note : s.notes) std::cout << "Skipped: " << note << "\n";
}

nlohmann::json FollowupJson(const demo::FollowupSummary& s) {
  return {{"entitlements_by_state", s.entitlements_by_state},
          {"reviews_overdue", s.reviews_overdue},
          {"stale", s.stale},
          {"reviewed", s.reviewed},
          {"with_open_services", s.with_open_services},
          {"disputed", s.disputed},
          {"plans_by_status", s.plans_by_status},
          {"s117_plans", s.s117_plans},
          {"plans_review_overdue", s.plans_review_overdue},
          {"writes", s.writes},
          {"notes", s.notes}};
}

// One ImportEvents stream of one principal.
class Stream {
 public:
  Stream(demo::Actor& actor, std::chrono::seconds deadline) {
    actor.client.Prepare(ctx_, deadline);
    writer_ = actor.client.record().ImportEvents(&ctx_, &summary_);
  }
  void Write(const icr::v1::ImportItem& item) {
    if (open_) open_ = writer_->Write(item);
  }
  // Ends the stream and adds its summary to `total`; a broken stream reports its status here.
  void Finish(icr::v1::ImportSummary* total) {
    if (open_) writer_->WritesDone();
    Check(writer_->Finish());
    total->set_received(total->received() + summary_.received());
    total->set_stored(total->stored() + summary_.stored());
    total->set_duplicates(total->duplicates() + summary_.duplicates());
    total->set_rejected(total->rejected() + summary_.rejected());
    total->mutable_rejections()->MergeFrom(summary_.rejections());
  }

 private:
  grpc::ClientContext ctx_;
  icr::v1::ImportSummary summary_;
  std::unique_ptr<grpc::ClientWriter<icr::v1::ImportItem>> writer_;
  bool open_ = true;
};

// The streams of the organisations of one phase, one per principal (all the caller's own
// without a tokens file), opened on first use.
class Streams {
 public:
  Streams(demo::Principals& who, std::chrono::seconds deadline) : who_(who), deadline_(deadline) {}
  Stream& Of(const std::string& org) {
    demo::Actor* actor = &who_.ForOrGiven(org, icr::Role::kSystem);
    for (auto& [a, stream] : streams_) {
      if (a == actor) return *stream;
    }
    return *streams_.emplace_back(actor, std::make_unique<Stream>(*actor, deadline_)).second;
  }
  void Finish(icr::v1::ImportSummary* total) {
    for (auto& [actor, stream] : streams_) stream->Finish(total);
  }

 private:
  demo::Principals& who_;
  std::chrono::seconds deadline_;
  std::vector<std::pair<demo::Actor*, std::unique_ptr<Stream>>> streams_;  // in order of use
};

// The sample register (register_sample.h) to --register-csv, by default register-sample.csv in
// the parent of the tokens file's directory (var/ for the quickstart's var/tokens/demo); not
// written without either.
void WriteRegisterSample(const Invocation& inv, const demo::Options& options,
                         const std::string& tokens, bool json) {
  std::string path = inv.Str("register-csv");
  if (path.empty() && !tokens.empty()) {
    const auto dir = std::filesystem::absolute(tokens).parent_path();
    path = (dir.parent_path() / "register-sample.csv").string();
  }
  if (path.empty()) return;
  const auto rows = demo::SampleRegister(options);
  Check(rows.status());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << demo::SampleRegisterCsv(*rows);
  if (!out.flush()) throw Failure("demo seed: cannot write " + path);
  if (!json) {
    std::cout << "\nSample register: " << path << " (" << rows->size()
              << " entitlements not yet in the store; try icrctl s117 import " << path
              << " --dry-run with that council's system token)\n";
  }
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
      for (const auto* events : {&person.events, &person.later}) {  // later: after the import
        for (const auto& e : *events) {
          *item.mutable_event() = e;
          out::PrintJsonLine(item);
        }
      }
    }
    return 0;
  }

  const std::string tokens =
      inv.Has("tokens") ? inv.Str("tokens") : icr::EnvOr("ICR_DEMO_TOKENS", "");
  demo::Principals who(inv.globals, tokens);
  demo::Seeded seeded;  // what the follow-up needs to know, kept from this run
  icr::v1::ImportSummary summary;
  const auto started = std::chrono::steady_clock::now();
  // The trusts send the people and their events; the councils then send their Care Act and
  // carer's assessment events, once the trusts' streams have committed the people they see.
  Streams trusts(who, ImportDeadline(options.people));
  std::map<std::string, std::vector<icr::v1::Event>> by_council;
  int64_t people = 0;
  icr::v1::ImportItem item;
  while (generator->Next(&person)) {
    ++people;
    demo::PersonFacts facts = demo::FactsOf(person);
    seeded.later.insert(seeded.later.end(), person.later.begin(), person.later.end());
    seeded.people.emplace(facts.nhs, std::move(facts));
    Stream& trust = trusts.Of(person.trust);
    *item.mutable_person() = std::move(person.person);
    trust.Write(item);
    for (auto& e : person.events) {
      const std::string& council = e.has_care_act()           ? e.care_act().council_code()
                                   : e.has_carer_assessment() ? e.carer_assessment().council_code()
                                                              : "";
      if (!council.empty()) {
        by_council[council].push_back(std::move(e));
        continue;
      }
      *item.mutable_event() = std::move(e);
      trust.Write(item);
    }
  }
  trusts.Finish(&summary);
  Streams councils(who, ImportDeadline(options.people));
  for (auto& [council, events] : by_council) {
    Stream& stream = councils.Of(council);
    for (auto& e : events) {
      *item.mutable_event() = std::move(e);
      stream.Write(item);
    }
  }
  councils.Finish(&summary);
  const bool json = inv.globals.json;
  const bool import_only = inv.Has("import-only");
  if (!json) PrintSummary(summary, people, SecondsSince(started));
  if (json && (import_only || summary.rejected() > 0)) out::PrintJson(summary);
  if (summary.rejected() > 0) {
    std::string first =
        summary.rejections().empty() ? "" : "; first: " + summary.rejections(0).message();
    const std::string hint =
        who.has_tokens() ? ""
                         : " (without --tokens every item goes with your token, and events of "
                           "other organisations are refused)";
    throw Failure("demo seed: " + std::to_string(summary.rejected()) + " of " +
                  std::to_string(summary.received()) + " items rejected" + first + hint);
  }
  WriteRegisterSample(inv, options, tokens, json);
  if (import_only) return 0;

  demo::FollowupOptions follow;
  follow.population = options;
  follow.register_timeout =
      std::chrono::seconds(inv.Has("register-timeout") ? inv.Int("register-timeout", 1, 86400)
                                                       : 120 + options.people / 50);
  if (!json)
    std::cout << "\nWaiting for the S117 register to take in the detentions ..." << std::endl;
  const auto followed = std::chrono::steady_clock::now();
  const auto result = demo::RunFollowup(who, follow, seeded);
  if (json) {
    std::cout << nlohmann::json{{"import", nlohmann::json::parse(out::ToJson(summary, false))},
                                {"followup", FollowupJson(result)}}
                     .dump(2)
              << "\n";
  } else {
    PrintFollowup(result, SecondsSince(followed));
  }
  return 0;
}

// The organisations and roles a --tokens file needs, one "ORG ROLE" line each.
int PrintPrincipals(const Invocation&) {
  for (const auto& [org, role] : demo::NeededPrincipals())
    std::cout << org << " " << icr::RoleName(role) << "\n";
  return 0;
}

}  // namespace

void AddDemoCommands(std::vector<Command>& commands) {
  commands.push_back({{"demo", "principals"},
                      "list the organisations and roles demo seed acts as (ORG ROLE per line)",
                      "",
                      [](cxxopts::Options&) {},
                      PrintPrincipals});
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
           ("dry-run", "print the items as JSONL (icr.v1.ImportItem) instead of sending them")
           ("import-only", "only the import: no care plans or S117 register follow-up")
           ("register-csv", "write a sample S117 register CSV here (icrctl s117 import's layout: a few entitlements of one demo council, for people not seeded); default register-sample.csv in the parent of the --tokens file's directory", cxxopts::value<std::string>())
           ("register-timeout", "seconds to wait for the S117 register to take in the seeded detentions (default 120 plus 1 per 50 people)", cxxopts::value<std::string>());
         // clang-format on
         o.add_options()(
             "tokens",
             "a file of tokens, one line \"ORG ROLE TOKEN\" for each organisation and role "
             "`icrctl demo principals` lists (env ICR_DEMO_TOKENS; deploy/stack.sh writes one), "
             "so each trust sends its people and events, each council its Care Act and carer's "
             "assessment events, and councils and ICBs take the follow-up steps only they may "
             "take. Without it everything goes with your token, which may record only its own "
             "organisation's events",
             cxxopts::value<std::string>());
       },
       Seed});
}

}  // namespace icrctl
