// A council's CLD return written by the tests (issue 21): a CSV in the specification's layout
// with hand-worked answers beside it, so a test can load it and check what the record holds.
// Synthetic people only (NHS numbers in the 999 test range). Pure: text in, text out.
#pragma once

#include <string>
#include <vector>

namespace icr::fixtures {

struct CldOptions {
  std::string council = "E08000035";         // the sending council (GSS)
  std::string period_start = "2025-10-01";   // a rolling 12 months
  std::string period_end = "2026-09-30";
  int service_users = 3;                     // N: each has a request, assessment, service, review
  bool release1 = false;                     // Release 1 spellings ("Service User", "Carer", ...)
  // The resubmission of the same period: the first service user's service ends (the one row
  // corrected), every other row as before.
  bool resubmission = false;
  // Another population (the benchmark's runs): service user i's NHS number is
  // TestNhsNumber(first_nhs + i), and every LA person id starts with id_prefix.
  int first_nhs = 100;
  std::string id_prefix;
};

// The return and what it must map to (the hand-worked answers).
struct CldReturn {
  std::string csv;                           // header + rows, CRLF line ends
  std::vector<std::string> nhs_numbers;      // the service users', in order (valid, 999 range)
  std::string carer_nhs_number;              // the one unpaid carer's (cares for service user 1)
  std::string unmatched_person_id;           // LA id of the person whose NHS number is invalid
  int rows = 0;
  int people = 0;                            // N service users + the carer + the invalid one
  int requests = 0;                          // N + the invalid one's
  int assessments = 0;                       // N + the carer's
  int services = 0;                          // N
  int reviews = 0;                           // N
  int carer_links = 0;                       // CarerAssessment events: 1 (the carer -> user 1)
  std::string corrected_event_id;            // the event the resubmission changes
  std::string corrected_end_date;            // its end date in the resubmission ("" before)
  long long weekly_cost_pence = 0;           // each service's weekly cost (hand-worked)
};

CldReturn MakeCldReturn(const CldOptions& options = {});

// A valid NHS number in the 999 test range, distinct for each n (0 <= n < 100000).
std::string TestNhsNumber(int n);

}  // namespace icr::fixtures
