#pragma once
// National dataset files (a trust's MHSDS month, a council's CLD return) read into tables, and
// what they map to: people and events for the record's one write path. Pure: no database.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "icr/v1/record.pb.h"

namespace icr::datasets {

// One table of a file as read: an IDB table / a per-table CSV, or the one CLD CSV.
struct Table {
  std::string name;                            // e.g. "MHS001MPI", or "CLD"
  std::vector<std::string> columns;            // header as in the file
  std::vector<std::vector<std::string>> rows;  // cells as text, one vector per row
};

// A row that could not become part of the record. Never carries demographics.
struct Refusal {
  std::string table;
  std::int64_t row = 0;  // 1-based data row within its table
  std::string field;     // column name as in the file (or the mapped field)
  std::string reason;
};

// Where a mapped person or event came from, for the refusals of the store (table and 1-based
// data row).
struct Origin {
  std::string table;
  std::int64_t row = 0;
};

// What a file maps to. The sender and the period drive replace-by-(sender, period).
struct Mapped {
  std::string sender_org;               // OrgIDProv (MHSDS) or the council's code (CLD)
  std::string period_start;             // YYYY-MM-DD: first day the file reports on
  std::string period_end;               // YYYY-MM-DD: last day
  std::vector<icr::v1::Person> people;  // people the file describes (upserted first)
  std::vector<icr::v1::Event> events;   // event_id stable across resubmissions (local ids)
  std::vector<Refusal> refused;
  std::map<std::string, std::int64_t> rows_read;  // per table name
};

}  // namespace icr::datasets
