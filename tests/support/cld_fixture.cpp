#include "tests/support/cld_fixture.h"

#include <string>
#include <vector>

namespace icr::fixtures {
namespace {

const std::vector<std::string> kHeader = {
    "LA Code", "Reporting Period Start Date", "Reporting Period End Date", "NHS Number",
    "LA Person Unique Identifier", "First Name", "Last Name", "Gender", "Ethnicity",
    "Date of Birth", "Client Type", "Primary Support Reason", "Postcode", "Event Type",
    "Event Reference", "Event Start Date", "Event End Date", "Event Outcome", "Assessment Type",
    "Adult 1 Linked Person_ID", "Service Type", "Delivery Mechanism", "Unit Cost",
    "Cost Frequency (Unit Type)", "Planned units per week"};

// A cell as RFC 4180 writes it: quoted when it holds a comma or a quote.
std::string Quoted(const std::string& cell) {
  if (cell.find_first_of(",\"") == std::string::npos) return cell;
  std::string q = "\"";
  for (char c : cell) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string Join(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + Quoted(cells[i]);
  return line + "\r\n";
}

}  // namespace

std::string TestNhsNumber(int n) {
  for (int k = n * 10;; ++k) {  // the first candidate from n*10 whose check digit exists
    const std::string nine = "999" + std::string(6 - std::to_string(k % 1000000).size(), '0') +
                             std::to_string(k % 1000000);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (nine[i] - '0') * (10 - i);
    const int check = 11 - sum % 11;
    if (check == 10) continue;
    return nine + std::to_string(check == 11 ? 0 : check);
  }
}

CldReturn MakeCldReturn(const CldOptions& o) {
  CldReturn r;
  const bool r1 = o.release1;
  const std::string service_user = r1 ? "Service User" : "Service user";
  std::string body;
  // One row: person cells, then event cells in kHeader's order.
  auto row = [&](const std::string& nhs, const std::string& id, const std::string& first,
                 const std::string& client, const std::string& type, const std::string& ref,
                 const std::string& start, const std::string& end, const std::string& outcome,
                 const std::vector<std::string>& tail) {
    std::vector<std::string> cells = {o.council, o.period_start, o.period_end, nhs, id, first,
                                      "Testperson", "Female",
                                      "White: English, Welsh, Scottish, Northern Irish or British",
                                      "1970-01-15", client, "Mental Health Support", "LS1 4AP",
                                      type, ref, start, end, outcome};
    cells.insert(cells.end(), tail.begin(), tail.end());
    cells.resize(kHeader.size());
    body += Join(cells);
    ++r.rows;
  };
  r.weekly_cost_pence = 10 * 1850;      // £18.50 an hour x 10 planned hours a week = £185.00
  for (int i = 0; i < o.service_users; ++i) {
    const std::string nhs = TestNhsNumber(o.first_nhs + i);
    r.nhs_numbers.push_back(nhs);
    const std::string id = o.id_prefix + "P" + std::to_string(i + 1);
    const std::string n = std::to_string(i + 1);
    row(nhs, id, "User" + n, service_user, "Request", "R" + n, "2026-01-05", "2026-01-05",
        "Progress to assessment, review or reassessment", {});
    row(nhs, id, "User" + n, service_user, "Assessment", "A" + n, "2026-01-10", "2026-01-20",
        "Progress to support planning or services", {"Long term assessment"});
    const bool corrected = o.resubmission && i == 0;
    const std::string service_end = corrected ? "2026-08-31" : "";
    row(nhs, id, "User" + n, service_user, "Service", "S" + n, "2026-02-01", service_end,
        corrected ? "NFA: Support ended as planned" : "",
        {"", "", r1 ? "Long Term Support: Community" : "Long term support: Community",
         r1 ? "Direct Payment" : "Direct payment", "18.50", "Hourly", "10"});
    if (i == 0) {
      r.corrected_event_id = "cld:svc:" + id + ":S" + n;
      r.corrected_end_date = service_end;
    }
    row(nhs, id, "User" + n, service_user, "Review", "V" + n, "2026-07-01", "2026-07-01",
        "Continuation of support or services", {});
  }
  // The unpaid carer of service user 1: their own assessment, linked to P1.
  r.carer_nhs_number = TestNhsNumber(99);
  row(r.carer_nhs_number, o.id_prefix + "C1", "Carer", r1 ? "Carer" : "Unpaid carer", "Assessment", "CA1",
      "2026-03-01", "2026-03-15", "Progress to support planning or services",
      {"Unpaid carer assessment", o.id_prefix + "P1"});
  // A person whose NHS number fails the Modulus 11 check: matched by the council's person id.
  r.unmatched_person_id = o.id_prefix + "P900";
  row("1234567890", r.unmatched_person_id, "Nonhs", service_user, "Request", "R900",
      "2026-04-01", "2026-04-02", "NFA: Information and advice or signposting", {});
  r.people = o.service_users + 2;
  r.requests = o.service_users + 1;
  r.assessments = o.service_users + 1;
  r.services = o.service_users;
  r.reviews = o.service_users;
  r.carer_links = 1;
  r.csv = Join(kHeader) + body;
  return r;
}

}  // namespace icr::fixtures
