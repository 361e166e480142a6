// CSV both ways. Writing: one field as RFC 4180 writes it (every CSV export: indicators, the S117
// register). Reading: RFC 4180 records (quoted fields with doubled quotes and line breaks, CRLF or
// LF, a UTF-8 byte order mark as spreadsheets save it) and a header row matched against the
// columns a layout knows (the register and care plan imports). Pure, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace icr {

std::string CsvField(const std::string& s);

// One record of a CSV text: its cells, and the line of the text it starts on (from 1).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> cells;
};

// Every record of `text`; lines with no cell but an empty one are skipped. INVALID_ARGUMENT
// "line N: ..." for a quote left open or text after a closing quote.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text);

// A column name as the layouts spell it: lower case, spaces, hyphens and dots as '_', trimmed
// ("NHS Number" -> "nhs_number").
std::string CsvColumnName(std::string_view header);

// The columns of a header row, matched against a layout's known names (in CsvColumnName
// spelling). INVALID_ARGUMENT naming the column for an unknown or repeated column, or a
// required one missing.
class CsvColumns {
 public:
  static absl::StatusOr<CsvColumns> Match(const CsvRecord& header,
                                          const std::vector<std::string_view>& known,
                                          const std::vector<std::string_view>& required);
  bool Has(std::string_view name) const { return index_.count(std::string(name)) > 0; }
  // The cell of `name` in `row`, trimmed of spaces; empty when the column or the cell is absent.
  std::string Get(const CsvRecord& row, std::string_view name) const;
  size_t size() const { return index_.size(); }

 private:
  std::map<std::string, size_t> index_;
};

// Checks a data row's width against the header: more cells than columns is INVALID_ARGUMENT
// (fewer are read as empty, as spreadsheets drop trailing empty cells).
absl::Status CheckCsvWidth(const CsvRecord& row, size_t columns);

// The field name of entry `i` (from 0) of a list column: "services[2]".
std::string CsvEntryField(std::string_view column, size_t i);
// Splits a cell holding a list ("a; b; c") on `sep`, trimming each part; empty parts dropped.
std::vector<std::string> SplitCell(std::string_view cell, char sep);
// Splits one list entry into its parts on `sep`, trimming each and keeping empty ones.
std::vector<std::string> SplitParts(std::string_view entry, char sep);

// A code cell in the spelling of the code lists: upper case, spaces and hyphens as '_'
// ("home care" -> "HOME_CARE").
std::string CsvCode(std::string_view cell);
// Pence as a money cell writes them: "1250.00".
std::string CsvPounds(int64_t pence);

// A date cell as YYYY-MM-DD: given so, or as DD/MM/YYYY (UK spreadsheets); empty stays empty.
// INVALID_ARGUMENT naming `field` for anything else or a day the calendar lacks.
absl::StatusOr<std::string> CsvDate(std::string_view cell, std::string_view field);
// An amount of money in pounds and pence ("250", "250.5", "250.00", "£1,250.00") as pence, up to
// kMaxWeeklyPence; INVALID_ARGUMENT naming `field` otherwise (an empty cell included).
absl::StatusOr<int64_t> CsvPence(std::string_view cell, std::string_view field);

}  // namespace icr
