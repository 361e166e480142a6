// s117 import | careplan import: a council's register or a trust's care plans from a CSV file
// (services/s117/register_csv.h, services/careplan/plan_csv.h), streamed row by row to
// S117RegisterService.ImportRegister and CarePlanService.ImportCarePlans. A row that does not
// parse is refused here, naming its column, and never sent; the server answers every row it is
// sent (stored, duplicate, refused, or valid on a dry run), in order.
#include <map>
#include <thread>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/careplan/plan_csv.h"
#include "services/common/csv.h"
#include "services/common/grpc_status.h"
#include "services/s117/register_csv.h"

namespace icrctl {
namespace {

using icr::v1::ImportRowResult;

// The exit code when at least one row was refused (by icrctl or by the server).
constexpr int kExitRowsRefused = 3;

// How one layout is read and sent.
template <class Row>
struct Layout {
  absl::StatusOr<icr::CsvColumns> (*header)(const icr::CsvRecord&);
  absl::StatusOr<Row> (*parse)(const icr::CsvColumns&, const icr::CsvRecord&);
  // Opens the import stream on `client`'s channel.
  std::function<std::unique_ptr<grpc::ClientReaderWriter<Row, ImportRowResult>>(
      const Client&, grpc::ClientContext*)>
      open;
};

ImportRowResult ClientRefusal(int line, const absl::Status& status) {
  ImportRowResult r;
  r.set_row(line);
  r.set_outcome(ImportRowResult::REFUSED);
  r.set_code(static_cast<int>(status.code()));
  const std::string message(status.message());
  r.set_field(message.substr(0, message.find(": ")));
  r.set_message(message);
  return r;
}

struct Tally {
  std::map<ImportRowResult::Outcome, int> by_outcome;
  int rows = 0;
};

void Print(const Invocation& inv, const ImportRowResult& r, Tally& tally) {
  ++tally.rows;
  ++tally.by_outcome[r.outcome()];
  if (inv.globals.json) {
    out::PrintJsonLine(r, true);
    return;
  }
  const std::string what = r.outcome() == ImportRowResult::REFUSED ? r.message() : r.id();
  std::printf("row %-5d %-9s %s\n", r.row(), ImportRowResult::Outcome_Name(r.outcome()).c_str(),
              what.c_str());
  std::fflush(stdout);
}

template <class Row>
int RunImport(const Invocation& inv, const Layout<Row>& layout) {
  const std::string path = inv.Positional(1, "FILE.csv")[0];
  const bool dry_run = inv.Has("dry-run");
  auto records = icr::ParseCsv(ReadInput(path));
  if (!records.ok())
    throw Failure("INVALID_ARGUMENT: " + path + ": " + std::string(records.status().message()),
                  kExitUsage);
  if (records->empty()) throw Failure("INVALID_ARGUMENT: " + path + ": no header row", kExitUsage);
  auto columns = layout.header(records->front());
  if (!columns.ok()) {
    throw Failure("INVALID_ARGUMENT: " + path +
                      ": header row: " + std::string(columns.status().message()) + " (see icrctl " +
                      inv.name + " --help)",
                  kExitUsage);
  }
  std::vector<Row> rows;
  std::vector<ImportRowResult> refused;  // by icrctl, in row order
  for (size_t i = 1; i < records->size(); ++i) {
    auto row = layout.parse(*columns, (*records)[i]);
    if (!row.ok()) {
      refused.push_back(ClientRefusal((*records)[i].line, row.status()));
      continue;
    }
    row->set_dry_run(dry_run);
    rows.push_back(std::move(*row));
  }

  Tally tally;
  auto refused_next = refused.begin();
  auto print_refused_before = [&](int line) {  // keeps the output in row order
    for (; refused_next != refused.end() && refused_next->row() < line; ++refused_next)
      Print(inv, *refused_next, tally);
  };
  grpc::Status status;
  if (!rows.empty()) {
    Client client(inv.globals);
    grpc::ClientContext ctx;
    client.Prepare(ctx, kNoDeadline);
    auto stream = layout.open(client, &ctx);
    std::thread writer([&] {  // all rows out while the results come back
      for (const auto& row : rows) {
        if (!stream->Write(row)) break;
      }
      stream->WritesDone();
    });
    ImportRowResult result;
    while (stream->Read(&result)) {
      print_refused_before(result.row());
      Print(inv, result, tally);
    }
    writer.join();
    status = stream->Finish();
  }
  print_refused_before(INT32_MAX);
  const int answered = tally.rows - static_cast<int>(refused.size());
  if (!inv.globals.json) {
    auto n = [&](ImportRowResult::Outcome o) { return std::to_string(tally.by_outcome[o]); };
    std::printf("%d rows: %s stored, %s duplicate, %s refused, %s valid%s\n", tally.rows,
                n(ImportRowResult::STORED).c_str(), n(ImportRowResult::DUPLICATE).c_str(),
                n(ImportRowResult::REFUSED).c_str(), n(ImportRowResult::VALID).c_str(),
                dry_run ? " (dry run: nothing stored)" : "");
  }
  if (!status.ok()) {  // each row is its own transaction: a rerun finds the stored DUPLICATE
    const absl::Status failed = icr::FromGrpc(status);
    const std::string why = failed.message().empty() ? "the import failed on the server"
                                                     : std::string(failed.message());
    FailStatus(absl::Status(failed.code(), why + " (" + std::to_string(rows.size() - answered) +
                                               " row(s) not answered)"));
  }
  return tally.by_outcome[ImportRowResult::REFUSED] > 0 ? kExitRowsRefused : 0;
}

void ImportFlags(cxxopts::Options& o) {
  o.add_options()("dry-run", "check every row against the record without storing anything");
}

constexpr char kOutput[] =
    R"(Output: one line per row in file order, "row N OUTCOME id-or-reason", where N is the
line the row starts on and OUTCOME is STORED, DUPLICATE (already imported with the same content:
nothing changed), REFUSED (nothing changed; the reason names the column, lists counted from 0,
e.g. services[1].weekly_cost) or VALID (--dry-run: would be stored); then a summary. With --json,
one protobuf-JSON icr.v1.ImportRowResult per row. A row that does not parse is refused by
icrctl and not sent. Each row is its own transaction, so the file can be fixed and run again:
rows already stored come back DUPLICATE.

Exit status: 0 when no row was refused, 3 when at least one was, 2 for a file or header that
cannot be read (nothing sent), 1 when the server failed the import.

Cells: a header row is required; column names are case-insensitive, spaces and hyphens read as
'_'; an unknown column is refused; empty cells and absent optional columns mean "not known".
Dates YYYY-MM-DD or DD/MM/YYYY. Money in pounds and pence: 250, 250.00, £1,250.00. NHS numbers
with or without spaces. Codes in any case, spaces as '_'. Lists separated by ';', the parts of
one entry by '|'. Quote a cell that holds a comma ("£1,250.00").
)";

constexpr char kRegisterLayout[] = R"(
Layout (one row per entitlement; * required):
  source_ref*              your register's reference for the entitlement
  nhs_number*              943 476 5919 or 9434765919
  family_name, given_name, date_of_birth
                           create the person when the record does not hold them yet
  qualifying_section*      S3, S37, S37/41, S45A, S47, S47/49, S48, S48/49 (also s3, 37/41,
                           Section 37-41)
  detention_start_date*    the qualifying detention's start
  left_hospital_date       empty: still in hospital (the entitlement is PLANNED)
  detaining_provider_code  ODS code of the detaining trust
  council_code*, council_basis
                           GSS code; OR_ENGLAND_S117_3A, OR_WALES_S117_3B,
                           NOT_OR_RESIDENT_OR_SENT_S117_3C or PRE_2015_RESIDENCE_TEST
  icb_code*, icb_basis     ODS code; CORE_GP_REGISTRATION, CORE_USUAL_RESIDENCE,
                           CARRIED_FROM_ORIGINATING_ICB, NHSE_COMMISSIONED or LEGACY_RULE
  registered_on            the day you registered it (empty: today)
  effective_from           empty: left_hospital_date
  last_review_date         carried over as a review whose attendance was not recorded
  next_review_due
  services                 entries "type|provider|weekly cost|funder|council %|start|end|end reason
                           |delivery mode", e.g. HOME_CARE|Acme Care|250.00|JOINT|50|2024-03-01|
                           funder COUNCIL, ICB or JOINT; council % only for JOINT (empty: the
                           funding agreement's split); end and end reason together or neither;
                           delivery mode COMMISSIONED (empty), DIRECT_PAYMENT, PHB or IN_HOUSE
  end_date, end_reason     a joint end carried over (both bodies, marked migrated); end_reason
                           a primary end reason code, e.g. NO_LONGER_NEEDS_AFTERCARE
)";

constexpr char kPlanLayout[] = R"(
Layout (one row per care plan; * required):
  source_ref*              your system's reference for the plan
  nhs_number*              943 476 5919 or 9434765919
  types*                   S117, CARE_ACT and/or NHS_PCSP, e.g. S117;CARE_ACT;NHS_PCSP
  key_worker_name, key_worker_role, key_worker_org
  acting_for_council_code, acting_for_icb_code
  started_on               the day the plan was started
  health_signed_by, health_signed_role, health_signed_org, health_signed_on
  social_care_signed_by, social_care_signed_role, social_care_signed_org, social_care_signed_on
                           each agency's sign-off as given (name and date required when any is
                           given); the plan is agreed on the day its type's sign-offs completed
  last_review_date, last_review_outcome (CONTINUE, MODIFY or RECOMMEND_CLOSURE)
  last_review_participants who took part: entries "name|role|organisation" (organisation
                           empty for the person, a carer or an advocate)
  next_review_date
  what_matters_to_me       in the person's own words
  needs                    descriptions, e.g. Managing meals;Staying well (n1, n2, ...)
  goals                    in the person's words, each linked to every need
  interventions            entries "description|organisation|person or role|funder|s117", funder
                           COUNCIL, ICB, JOINT, OTHER or SELF, s117 yes/no (empty: an S117 plan's
                           are S117), each linked to every need and goal
  crisis_warning_signs     e.g. Not sleeping;Missing appointments
  crisis_contacts          entries "name|organisation|telephone"
)";

}  // namespace

void AddImportCommands(std::vector<Command>& commands) {
  Layout<icr::v1::RegisterImportRow> reg{
      icr::s117::RegisterCsvHeader, icr::s117::ParseRegisterRow,
      [](const Client& client, grpc::ClientContext* ctx) {
        return icr::v1::S117RegisterService::NewStub(client.channel())->ImportRegister(ctx);
      }};
  Layout<icr::v1::CarePlanImportRow> plans{
      icr::careplan::PlanCsvHeader, icr::careplan::ParsePlanRow,
      [](const Client& client, grpc::ClientContext* ctx) {
        return icr::v1::CarePlanService::NewStub(client.channel())->ImportCarePlans(ctx);
      }};
  commands.push_back(
      {{"s117", "import"},
       "bring a council's S117 register over from a CSV file, one row per entitlement",
       "FILE.csv",
       ImportFlags,
       [reg](const Invocation& inv) { return RunImport(inv, reg); },
       std::string(kRegisterLayout) + "\n" + kOutput});
  commands.push_back({{"careplan", "import"},
                      "bring care plans over from a CSV file, one row per plan with its sign-offs",
                      "FILE.csv",
                      ImportFlags,
                      [plans](const Invocation& inv) { return RunImport(inv, plans); },
                      std::string(kPlanLayout) + "\n" + kOutput});
}

}  // namespace icrctl
