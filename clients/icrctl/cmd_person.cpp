// person upsert | get | find: one person's demographics and identifiers; person merge | unmerge |
// change-nhs-number: two records of one person made one (and back), a superseded NHS number.
#include <cstdint>
#include <iostream>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "clients/icrctl/views.h"

namespace icrctl {
namespace {

// "SYSTEM=VALUE" as a local identifier.
icr::v1::LocalIdentifier ParseIdentifier(const Invocation& inv, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    FailUsage(inv.name + ": --identifier: expected SYSTEM=VALUE, e.g. RX4:RiO=123456");
  }
  icr::v1::LocalIdentifier id;
  id.set_system(text.substr(0, eq));
  id.set_value(text.substr(eq + 1));
  return id;
}

// The request from --file (a Person or an UpsertPersonRequest), then the flags on top.
icr::v1::UpsertPersonRequest UpsertRequest(const Invocation& inv) {
  icr::v1::UpsertPersonRequest req;
  if (inv.Has("file")) {
    const std::string path = inv.Str("file");
    const std::string text = ReadInput(path);
    std::string error;
    icr::v1::Person person;
    if (!out::FromJson(text, &req, &error)) {
      if (!out::FromJson(text, &person, &error)) {
        throw Failure("INVALID_ARGUMENT: " + path + ": not an icr.v1.Person or " +
                          "UpsertPersonRequest: " + error,
                      kExitUsage);
      }
      req.Clear();
      *req.mutable_person() = std::move(person);
    }
  }
  auto* p = req.mutable_person();
  const std::pair<const char*, void (icr::v1::Person::*)(const std::string&)> kFlags[] = {
      {"nhs-number", &icr::v1::Person::set_nhs_number},
      {"family-name", &icr::v1::Person::set_family_name},
      {"given-name", &icr::v1::Person::set_given_name},
      {"dob", &icr::v1::Person::set_date_of_birth},
      {"sex", &icr::v1::Person::set_sex},
      {"ethnicity", &icr::v1::Person::set_ethnic_category},
      {"postcode", &icr::v1::Person::set_postcode},
      {"gp-practice", &icr::v1::Person::set_gp_practice_code},
      {"council", &icr::v1::Person::set_council_code},
      {"icb", &icr::v1::Person::set_icb_code}};
  for (const auto& [flag, setter] : kFlags) {
    if (inv.Has(flag)) (p->*setter)(inv.Str(flag));
  }
  if (inv.Has("identifier")) {
    for (const auto& text : inv.args["identifier"].as<std::vector<std::string>>()) {
      *p->add_local_identifiers() = ParseIdentifier(inv, text);
    }
  }
  if (inv.Has("expected-version")) req.set_expected_version(inv.Int("expected-version", 0, INT64_MAX));
  if (inv.Has("residence-from")) req.set_residence_from(inv.Str("residence-from"));
  if (!inv.Has("file") && p->nhs_number().empty()) {
    FailUsage(inv.name + ": give --file or at least --nhs-number and --family-name and --dob");
  }
  return req;
}

void PrintPersonResult(const Invocation& inv, const icr::v1::Person& person) {
  if (inv.globals.json) return out::PrintJson(person);
  view::PrintPerson(std::cout, person);
}

int Upsert(const Invocation& inv) {
  const auto req = UpsertRequest(inv);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::Person resp;
  Check(client.record().UpsertPerson(&ctx, req, &resp));
  PrintPersonResult(inv, resp);
  return 0;
}

int Get(const Invocation& inv) {
  icr::v1::GetPersonRequest req;
  req.set_nhs_number(inv.Positional(1, "one NHS number")[0]);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::Person resp;
  Check(client.record().GetPerson(&ctx, req, &resp));
  PrintPersonResult(inv, resp);
  return 0;
}

int Find(const Invocation& inv) {
  icr::v1::FindPeopleRequest req;
  int ways = 0;
  if (inv.Has("family-name") || inv.Has("dob")) {
    if (!inv.Has("family-name") || !inv.Has("dob")) {
      FailUsage(inv.name + ": --family-name and --dob go together");
    }
    req.mutable_name_and_birth()->set_family_name(inv.Str("family-name"));
    req.mutable_name_and_birth()->set_date_of_birth(inv.Str("dob"));
    ++ways;
  }
  if (inv.Has("postcode")) {
    req.set_postcode(inv.Str("postcode"));
    ++ways;
  }
  if (inv.Has("identifier")) {
    const auto ids = inv.args["identifier"].as<std::vector<std::string>>();
    if (ids.size() != 1) FailUsage(inv.name + ": give --identifier once");
    *req.mutable_local_identifier() = ParseIdentifier(inv, ids[0]);
    ++ways;
  }
  if (ways != 1) {
    FailUsage(inv.name + ": search by exactly one of --family-name with --dob, --postcode or " +
              "--identifier");
  }
  req.mutable_page()->set_page_size(static_cast<int>(inv.Int("page-size", 0, 100000)));
  req.mutable_page()->set_page_token(inv.Str("page-token"));

  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::FindPeopleResponse resp;
  Check(client.record().FindPeople(&ctx, req, &resp));
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  out::Table table({"NHS NUMBER", "FAMILY NAME", "GIVEN NAME", "BORN", "SEX", "POSTCODE",
                    "COUNCIL", "ICB", "DIED"});
  for (const auto& p : resp.people()) {
    table.Row({out::NhsDisplay(p.nhs_number()), p.family_name(), p.given_name(),
               p.date_of_birth(), p.sex(), p.postcode(), p.council_code(), p.icb_code(),
               p.date_of_death()});
  }
  table.Print(std::cout);
  std::cout << resp.people_size() << (resp.people_size() == 1 ? " person" : " people");
  if (!resp.page().next_page_token().empty()) {
    std::cout << "; more with --page-token " << resp.page().next_page_token();
  }
  std::cout << "\n";
  return 0;
}

// A person named on the command line: a person id (UUID) or an NHS number.
icr::v1::GetPersonRequest PersonKey(const std::string& text) {
  icr::v1::GetPersonRequest key;
  const bool uuid = text.size() == 36 && text[8] == '-' && text[13] == '-';
  if (uuid) {
    key.set_person_id(text);
  } else {
    key.set_nhs_number(text);
  }
  return key;
}

std::string Reason(const Invocation& inv) {
  if (!inv.Has("reason")) FailUsage(inv.name + ": --reason is required (it is recorded)");
  return inv.Str("reason");
}

int Merge(const Invocation& inv) {
  const auto& people = inv.Positional(2, "SURVIVOR and SUPERSEDED (NHS number or person id)");
  icr::v1::MergePeopleRequest req;
  *req.mutable_survivor() = PersonKey(people[0]);
  *req.mutable_superseded() = PersonKey(people[1]);
  req.set_reason(Reason(inv));
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::MergePeopleResponse resp;
  Check(client.record().MergePeople(&ctx, req, &resp));
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  std::cout << "merge " << resp.merge_id() << ": " << resp.rows_moved()
            << " row(s) moved to the survivor (undo with: icrctl person unmerge "
            << resp.merge_id() << " --reason ...)\n";
  out::Table table({"TABLE", "ROWS"});
  for (const auto& [name, rows] : resp.rows_by_table()) table.Row({name, std::to_string(rows)});
  table.Print(std::cout);
  view::PrintPerson(std::cout, resp.survivor());
  return 0;
}

int Unmerge(const Invocation& inv) {
  icr::v1::UnmergeRequest req;
  req.set_merge_id(inv.Positional(1, "MERGE_ID")[0]);
  req.set_reason(Reason(inv));
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::UnmergeResponse resp;
  Check(client.record().Unmerge(&ctx, req, &resp));
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  std::cout << "unmerged: " << resp.rows_restored() << " row(s) restored\nsurvivor:\n";
  view::PrintPerson(std::cout, resp.survivor(), "  ");
  std::cout << "restored:\n";
  view::PrintPerson(std::cout, resp.restored(), "  ");
  return 0;
}

int ChangeNhsNumber(const Invocation& inv) {
  const auto& args = inv.Positional(2, "PERSON (NHS number or person id) and NEW_NHS_NUMBER");
  icr::v1::ChangeNhsNumberRequest req;
  *req.mutable_person() = PersonKey(args[0]);
  req.set_new_nhs_number(args[1]);
  req.set_reason(Reason(inv));
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::Person resp;
  Check(client.record().ChangeNhsNumber(&ctx, req, &resp));
  PrintPersonResult(inv, resp);
  return 0;
}

void AddReasonFlag(cxxopts::Options& o) {
  o.add_options()("reason", "why (required; recorded with the change and audited)",
                  cxxopts::value<std::string>());
}

void AddPersonFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("file", "protobuf JSON of an icr.v1.Person or UpsertPersonRequest ('-' for stdin); flags override its fields", cxxopts::value<std::string>())
    ("nhs-number", "NHS number (10 digits, Modulus 11)", cxxopts::value<std::string>())
    ("family-name", "family name", cxxopts::value<std::string>())
    ("given-name", "given name", cxxopts::value<std::string>())
    ("dob", "date of birth, YYYY-MM-DD", cxxopts::value<std::string>())
    ("sex", "1 male, 2 female, 9 indeterminate, 0 not known", cxxopts::value<std::string>())
    ("ethnicity", "NHS ethnic category A..S, Z, 99", cxxopts::value<std::string>())
    ("postcode", "postcode", cxxopts::value<std::string>())
    ("gp-practice", "ODS code of the registered GP practice", cxxopts::value<std::string>())
    ("council", "GSS code of the council of residence", cxxopts::value<std::string>())
    ("icb", "ODS code of the ICB", cxxopts::value<std::string>())
    ("residence-from", "the day a change of postcode, council or ICB took effect (YYYY-MM-DD; default today)", cxxopts::value<std::string>())
    ("identifier", "local identifier SYSTEM=VALUE (repeatable)", cxxopts::value<std::vector<std::string>>())
    ("expected-version", "the version last read; a stale one is refused (ABORTED)", cxxopts::value<std::string>());
  // clang-format on
}

void AddFindFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("family-name", "family name (with --dob)", cxxopts::value<std::string>())
    ("dob", "date of birth, YYYY-MM-DD (with --family-name)", cxxopts::value<std::string>())
    ("postcode", "postcode", cxxopts::value<std::string>())
    ("identifier", "local identifier SYSTEM=VALUE", cxxopts::value<std::vector<std::string>>())
    ("page-size", "people per page (server default 50, max 500)", cxxopts::value<std::string>())
    ("page-token", "continue from this token", cxxopts::value<std::string>());
  // clang-format on
}

}  // namespace

void AddPersonCommands(std::vector<Command>& commands) {
  commands.push_back({{"person", "upsert"},
                      "create or update a person from a JSON file or flags",
                      "",
                      AddPersonFlags,
                      Upsert});
  commands.push_back(
      {{"person", "get"}, "show one person by NHS number", "NHS_NUMBER", nullptr, Get});
  commands.push_back({{"person", "find"},
                      "find people by family name and date of birth, postcode or identifier",
                      "",
                      AddFindFlags,
                      Find});
  commands.push_back({{"person", "merge"},
                      "merge two records of one person into SURVIVOR",
                      "SURVIVOR SUPERSEDED",
                      AddReasonFlag,
                      Merge,
                      "SURVIVOR and SUPERSEDED are NHS numbers or person ids. Everything of\n"
                      "SUPERSEDED (episodes, events, care plans, S117 entitlements, relationships,\n"
                      "local identifiers) moves to SURVIVOR; SUPERSEDED's NHS number stays as an\n"
                      "alias that still finds SURVIVOR (answers show 'Found by: former NHS\n"
                      "number'). Refused (FAILED_PRECONDITION) while both have an open S117\n"
                      "entitlement or an open care plan: resolve one first. Needs a system or\n"
                      "admin token of an organisation that sees both people. Prints the merge id\n"
                      "that `icrctl person unmerge` takes.\n"});
  commands.push_back({{"person", "unmerge"},
                      "undo a merge exactly",
                      "MERGE_ID",
                      AddReasonFlag,
                      Unmerge,
                      "Every row the merge moved goes back to its person, the alias is removed\n"
                      "and the superseded person is back as they were. Refused\n"
                      "(FAILED_PRECONDITION, nothing changed) when something since makes that\n"
                      "impossible: the survivor merged again, a moved row removed since.\n"});
  commands.push_back({{"person", "change-nhs-number"},
                      "give a person a new NHS number; the old one stays as an alias",
                      "PERSON NEW_NHS_NUMBER",
                      AddReasonFlag,
                      ChangeNhsNumber,
                      "PERSON is an NHS number or person id. NEW_NHS_NUMBER must pass Modulus 11\n"
                      "and not be in use (ALREADY_EXISTS). The old number still finds the person.\n"});
}

}  // namespace icrctl
