#include "services/common/refdata_load.h"

#include <optional>
#include <regex>
#include <set>

#include "services/common/csv.h"
#include "services/common/sql/statements.h"
#include "services/common/validation.h"

namespace icr {
namespace {

const std::vector<std::string_view> kOrganisationColumns = {"code", "kind", "name", "icb_code",
                                                            "opened_on", "closed_on"};
const std::set<std::string> kKinds = {"trust",  "icb",         "council", "district",
                                      "region", "gp_practice", "other"};

// Comment lines become empty lines, so CSV line numbers stay the file's.
std::string WithoutComments(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text[start] != '#') out.append(text, start, end - start);
    out += '\n';
    start = end + 1;
  }
  return out;
}

bool IsOrganisationCode(const std::string& code) {
  return IsOdsCodeSyntax(code) || IsGssCodeSyntax(code);
}

RefdataRow Refused(int line, std::string field, std::string message) {
  return {line, "refused", std::move(field), std::move(message)};
}

// Whether the store knows an organisation, and its close date ("" while open).
struct Known {
  bool found = false;
  std::string closed_on;
};

Known Lookup(pqxx::work& tx, const std::string& code) {
  auto r = Exec(tx, common::sql::kRefdataOrganisationDates, code);
  if (r.empty()) return {};
  return {true, r[0][1].c_str()};
}

RefdataRow LoadOrganisation(pqxx::work& tx, const CsvColumns& cols, const CsvRecord& rec) {
  const int line = rec.line;
  if (auto s = CheckCsvWidth(rec, cols.size()); !s.ok()) return Refused(line, "", std::string(s.message()));
  const std::string code = cols.Get(rec, "code"), kind = cols.Get(rec, "kind"),
                    name = cols.Get(rec, "name"), icb = cols.Get(rec, "icb_code");
  std::string opened = cols.Get(rec, "opened_on"), closed = cols.Get(rec, "closed_on");
  if (!IsOrganisationCode(code)) return Refused(line, "code", "not an ODS or GSS code");
  if (!kKinds.count(kind)) return Refused(line, "kind", "unknown kind '" + kind + "'");
  if (auto s = CheckText(name, "name", 200, true); !s.ok()) return Refused(line, "name", std::string(s.message()));
  if (!icb.empty() && !Lookup(tx, icb).found) {
    return Refused(line, "icb_code", "unknown organisation '" + icb + "' (list it first)");
  }
  if (opened.empty()) opened = "1900-01-01";
  if (!ParseDate(opened)) return Refused(line, "opened_on", "not a date (YYYY-MM-DD)");
  if (!closed.empty() && !ParseDate(closed)) return Refused(line, "closed_on", "not a date (YYYY-MM-DD)");
  if (!closed.empty() && closed <= opened) return Refused(line, "closed_on", "not after opened_on");
  auto r = Exec(tx, common::sql::kRefdataOrganisationUpsert, code, kind, name, icb, opened, closed);
  if (r.empty()) return {line, "unchanged", "", code};
  return {line, r[0][0].as<bool>() ? "added" : "updated", "", code};
}

// CCYYMMDD -> YYYY-MM-DD, or "" when not a date.
std::string OdsDate(const std::string& d) {
  if (d.size() != 8) return "";
  std::string iso = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
  return ParseDate(iso) ? iso : "";
}

RefdataRow LoadSuccession(pqxx::work& tx, const CsvRecord& rec) {
  const int line = rec.line;
  if (rec.cells.size() < 4 || rec.cells.size() > 5) {
    return Refused(line, "", "expected 5 fields (predecessor, successor, reason, date, indicator)");
  }
  const std::string from = rec.cells[0], to = rec.cells[1], reason = rec.cells[2];
  const std::string indicator = rec.cells.size() > 4 ? rec.cells[4] : "";
  if (!IsOrganisationCode(from)) return Refused(line, "predecessor_code", "not an ODS or GSS code");
  if (!IsOrganisationCode(to)) return Refused(line, "successor_code", "not an ODS or GSS code");
  if (from == to) return Refused(line, "successor_code", "the predecessor itself");
  if (!reason.empty() && reason != "F" && reason != "O" && reason != "R") {
    return Refused(line, "reason", "not F, O or R");
  }
  const std::string on = OdsDate(rec.cells[3]);
  if (on.empty()) return Refused(line, "effective_date", "not a date (CCYYMMDD)");
  if (!indicator.empty() && indicator != "F" && indicator != "X") {
    return Refused(line, "indicator", "not F, X or blank");
  }
  const Known pred = Lookup(tx, from), succ = Lookup(tx, to);
  const std::string what = from + " -> " + to + " on " + on;
  if (!pred.found && !succ.found) return {line, "skipped", "", what + " (neither is known here)"};
  if (!pred.found) return Refused(line, "predecessor_code", "unknown organisation '" + from + "'");
  if (!succ.found) return Refused(line, "successor_code", "unknown organisation '" + to + "'");
  if (!pred.closed_on.empty() && pred.closed_on != on) {
    return Refused(line, "effective_date", from + " closed on " + pred.closed_on + ", not " + on);
  }
  const bool added = !Exec(tx, common::sql::kRefdataSuccessorInsert, from, to, on, reason).empty();
  const bool closed = !Exec(tx, common::sql::kRefdataOrganisationClose, from, on).empty();
  return {line, added ? "added" : closed ? "updated" : "unchanged", "", what};
}

const std::vector<std::string_view> kAreaColumns = {"predecessor_code", "successor_code",
                                                    "effective_on", "postcode_district"};

// A postcode district (outward code): one or two letters, a digit, then a digit or letter.
bool IsPostcodeDistrict(const std::string& d) {
  static const std::regex kDistrict("^[A-Z]{1,2}[0-9][0-9A-Z]?$");
  return std::regex_match(d, kDistrict);
}

RefdataRow LoadArea(pqxx::work& tx, const CsvColumns& cols, const CsvRecord& rec) {
  const int line = rec.line;
  if (auto s = CheckCsvWidth(rec, cols.size()); !s.ok()) return Refused(line, "", std::string(s.message()));
  const std::string from = cols.Get(rec, "predecessor_code"), to = cols.Get(rec, "successor_code"),
                    on = cols.Get(rec, "effective_on"), district = cols.Get(rec, "postcode_district");
  if (!ParseDate(on)) return Refused(line, "effective_on", "not a date (YYYY-MM-DD)");
  if (!IsPostcodeDistrict(district)) {
    return Refused(line, "postcode_district", "not a postcode district (outward code, e.g. KT10)");
  }
  auto r = Exec(tx, common::sql::kRefdataAreaUpsert, from, to, on, district);
  if (r.empty()) {
    return Refused(line, "successor_code",
                   "no succession " + from + " -> " + to + " on " + on + " (load it first)");
  }
  const std::string what = district + " -> " + to;
  if (r[0][0].is_null()) return {line, "unchanged", "", what};
  return {line, r[0][0].as<bool>() ? "added" : "updated", "", what};
}

}  // namespace

int RefdataReport::Count(const std::string& outcome) const {
  int n = 0;
  for (const auto& r : rows) n += r.outcome == outcome;
  return n;
}

absl::StatusOr<RefdataReport> LoadRefdataFile(Database& db, const std::string& text) {
  auto records = ParseCsv(WithoutComments(text));
  if (!records.ok()) return records.status();
  if (records->empty()) return absl::InvalidArgumentError("no rows");
  RefdataReport report;
  const std::string first = CsvColumnName(records->front().cells[0]);
  const bool organisations = first == "code", areas = first == "predecessor_code";
  report.layout = organisations ? "organisations" : areas ? "successor_areas" : "successions";
  std::optional<CsvColumns> cols;
  if (organisations || areas) {
    const auto& names = organisations ? kOrganisationColumns : kAreaColumns;
    auto c = CsvColumns::Match(records->front(), names, names);
    if (!c.ok()) return c.status();
    cols = *c;
  }
  const absl::Status refused = absl::AbortedError("refused rows");
  absl::Status s = db.Write([&](pqxx::work& tx) {
    report.rows.clear();
    for (size_t i = cols ? 1 : 0; i < records->size(); ++i) {
      const CsvRecord& rec = (*records)[i];
      report.rows.push_back(organisations ? LoadOrganisation(tx, *cols, rec)
                            : areas       ? LoadArea(tx, *cols, rec)
                                          : LoadSuccession(tx, rec));
    }
    return report.Count("refused") ? refused : absl::OkStatus();
  });
  if (s == refused) return report;
  if (!s.ok()) return s;
  report.committed = true;
  return report;
}

}  // namespace icr
