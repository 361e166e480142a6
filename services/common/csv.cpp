#include "services/common/csv.h"

#include <cctype>

#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool Blank(const CsvRecord& r) { return r.cells.size() == 1 && Trim(r.cells[0]).empty(); }

}  // namespace

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string cell;
  int line = 1;
  size_t i = 0;
  auto end_record = [&] {
    record.cells.push_back(std::move(cell));
    cell.clear();
    if (!Blank(record)) records.push_back(std::move(record));
    record = CsvRecord{line, {}};
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' && cell.empty()) {  // a quoted cell, to its closing quote
      const int opened = line;
      ++i;
      while (true) {
        if (i >= text.size()) {
          return InvalidField("line " + std::to_string(opened), "a quoted cell is never closed");
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        cell += text[i++];
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
        return InvalidField("line " + std::to_string(line), "text after a closing quote");
      }
      continue;
    }
    if (c == ',') {
      record.cells.push_back(std::move(cell));
      cell.clear();
      ++i;
    } else if (c == '\r' || c == '\n') {
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      ++line;
      end_record();
    } else {
      cell += c;
      ++i;
    }
  }
  if (!cell.empty() || !record.cells.empty()) end_record();
  return records;
}

std::string CsvColumnName(std::string_view header) {
  std::string name;
  for (char c : Trim(header)) {
    name += (c == ' ' || c == '-' || c == '.')
                ? '_'
                : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

absl::StatusOr<CsvColumns> CsvColumns::Match(const CsvRecord& header,
                                             const std::vector<std::string_view>& known,
                                             const std::vector<std::string_view>& required) {
  CsvColumns columns;
  for (size_t i = 0; i < header.cells.size(); ++i) {
    const std::string name = CsvColumnName(header.cells[i]);
    if (name.empty()) {
      return InvalidField("column " + std::to_string(i + 1), "has no name in the header row");
    }
    bool ok = false;
    for (auto k : known) ok |= k == name;
    if (!ok) return InvalidField(header.cells[i], "not a column of this layout");
    if (!columns.index_.emplace(name, i).second) {
      return InvalidField(header.cells[i], "appears twice in the header row");
    }
  }
  for (auto r : required) {
    if (!columns.Has(r)) return InvalidField(std::string(r), "a required column is missing");
  }
  return columns;
}

std::string CsvColumns::Get(const CsvRecord& row, std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end() || it->second >= row.cells.size()) return "";
  return Trim(row.cells[it->second]);
}

absl::Status CheckCsvWidth(const CsvRecord& row, size_t columns) {
  if (row.cells.size() <= columns) return absl::OkStatus();
  return InvalidField("cells", std::to_string(row.cells.size()) + " cells; the header has " +
                                   std::to_string(columns) + " columns");
}

std::string CsvEntryField(std::string_view column, size_t i) {
  return std::string(column) + "[" + std::to_string(i) + "]";
}

std::vector<std::string> SplitParts(std::string_view entry, char sep) {
  std::vector<std::string> parts;
  size_t from = 0;
  while (true) {
    const size_t at = entry.find(sep, from);
    parts.push_back(Trim(entry.substr(from, at == std::string_view::npos ? at : at - from)));
    if (at == std::string_view::npos) return parts;
    from = at + 1;
  }
}

std::vector<std::string> SplitCell(std::string_view cell, char sep) {
  std::vector<std::string> parts;
  for (auto& p : SplitParts(cell, sep)) {
    if (!p.empty()) parts.push_back(std::move(p));
  }
  return parts;
}

std::string CsvCode(std::string_view cell) {
  std::string code;
  for (char c : Trim(cell)) {
    code += (c == ' ' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return code;
}

std::string CsvPounds(int64_t pence) {
  std::string p = std::to_string(pence % 100);
  return std::to_string(pence / 100) + "." + (p.size() == 1 ? "0" + p : p);
}

absl::StatusOr<std::string> CsvDate(std::string_view cell, std::string_view field) {
  if (cell.empty()) return std::string();
  std::string iso(cell);
  const auto slash = SplitParts(cell, '/');
  if (slash.size() == 3 && slash[2].size() == 4 && !slash[0].empty() && slash[0].size() <= 2 &&
      !slash[1].empty() && slash[1].size() <= 2) {  // DD/MM/YYYY
    auto two = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
    iso = slash[2] + "-" + two(slash[1]) + "-" + two(slash[0]);
  }
  const auto d = ParseDate(iso);
  if (!d) return InvalidField(field, "not a date (YYYY-MM-DD or DD/MM/YYYY): " + std::string(cell));
  return FormatDate(*d);
}

absl::StatusOr<int64_t> CsvPence(std::string_view cell, std::string_view field) {
  std::string digits;
  for (char c : cell) {
    if (c != ',' && c != ' ') digits += c;
  }
  if (digits.rfind("\xC2\xA3", 0) == 0)
    digits.erase(0, 2);  // £ in UTF-8
  else if (digits.rfind("\xA3", 0) == 0)
    digits.erase(0, 1);  // £ in Windows-1252
  const size_t dot = digits.find('.');
  const std::string whole = digits.substr(0, dot);
  const std::string pence = dot == std::string::npos ? "" : digits.substr(dot + 1);
  auto all_digits = [](const std::string& s) {
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  if (whole.empty() || whole.size() > 9 || !all_digits(whole) || !all_digits(pence) ||
      pence.size() > 2 || (dot != std::string::npos && pence.empty())) {
    return InvalidField(
        field, "not an amount in pounds and pence (250.00 or £1,250.00): " + std::string(cell));
  }
  const int64_t amount = std::stoll(whole) * 100 +
                         (pence.empty() ? 0 : std::stoll(pence) * (pence.size() == 1 ? 10 : 1));
  RETURN_IF_ERROR(CheckPence(amount, field));
  return amount;
}

}  // namespace icr
