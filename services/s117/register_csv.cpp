#include "services/s117/register_csv.h"

#include <cstdio>

#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr::s117 {
namespace {

using icr::v1::AftercareService;
using icr::v1::RegisterImportRow;

// The parts of one entry of the services cell, in order.
constexpr const char* kServiceParts[] = {"type",  "provider", "weekly_cost", "funder",       "council_pct",
                                         "start", "end",      "end_reason",  "delivery_mode"};
constexpr size_t kServicePartCount = std::size(kServiceParts);

absl::StatusOr<double> Percent(const std::string& cell, const std::string& field) {
  std::string text = cell;
  if (!text.empty() && text.back() == '%') text.pop_back();
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v >= 0 && v <= 100) return v;
  } catch (const std::exception&) {
  }
  return InvalidField(field, "not a percentage from 0 to 100: " + cell);
}

// One entry "type|provider|weekly cost|funder|council %|start|end|end reason|delivery mode"
// (delivery mode empty: COMMISSIONED).
absl::StatusOr<AftercareService> ServiceEntry(const std::string& entry, const std::string& f,
                                              const std::string& source_ref) {
  const auto parts = SplitParts(entry, '|');
  if (parts.size() < 6 || parts.size() > kServicePartCount) {
    return InvalidField(f,
                        "expected type|provider|weekly cost|funder|council %|start|end|end "
                        "reason|delivery mode (6 to 9 parts), found " +
                            std::to_string(parts.size()));
  }
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  auto name = [&](size_t i) { return f + "." + kServiceParts[i]; };
  AftercareService s;
  s.set_is_s117(true);
  s.set_need_arises_from_mental_disorder(true);
  s.set_need_ref("previous register " + source_ref);
  if (part(0).empty()) return InvalidField(name(0), "required");
  s.set_service_type(CsvCode(part(0)));
  if (part(1).empty()) return InvalidField(name(1), "required");
  s.set_provider_name(part(1));
  ASSIGN_OR_RETURN(const int64_t pence, CsvPence(part(2), name(2)));
  s.set_weekly_cost_pence(pence);
  s.set_funder(CsvCode(part(3)));
  if (s.funder() != "COUNCIL" && s.funder() != "ICB" && s.funder() != "JOINT") {
    return InvalidField(name(3), "COUNCIL, ICB or JOINT, not '" + part(3) + "'");
  }
  if (!part(4).empty()) {
    if (s.funder() != "JOINT") return InvalidField(name(4), "only for a JOINT funder");
    ASSIGN_OR_RETURN(const double council, Percent(part(4), name(4)));
    s.set_council_pct(council);
    s.set_icb_pct(100 - council);
  }
  ASSIGN_OR_RETURN(auto start, CsvDate(part(5), name(5)));
  if (start.empty()) return InvalidField(name(5), "required");
  s.set_start_date(start);
  ASSIGN_OR_RETURN(auto end, CsvDate(part(6), name(6)));
  if (!end.empty() && end < start) return InvalidField(name(6), "before the start " + start);
  s.set_end_date(end);
  s.set_end_reason(part(7));
  if (end.empty() != part(7).empty()) {
    return InvalidField(end.empty() ? name(6) : name(7),
                        "an end date and an end reason go together");
  }
  s.set_delivery_mode(part(8).empty() ? "COMMISSIONED" : CsvCode(part(8)));
  return s;
}

// A date column (YYYY-MM-DD or DD/MM/YYYY), set when given.
absl::Status DateColumn(const CsvColumns& c, const CsvRecord& r, std::string_view column,
                        bool required, void (RegisterImportRow::*set)(const std::string&),
                        RegisterImportRow& out) {
  ASSIGN_OR_RETURN(auto date, CsvDate(c.Get(r, column), column));
  if (required && date.empty()) return InvalidField(column, "required");
  (out.*set)(date);
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string_view>& RegisterCsvColumns() {
  static const std::vector<std::string_view> kColumns = {"source_ref",
                                                         "nhs_number",
                                                         "family_name",
                                                         "given_name",
                                                         "date_of_birth",
                                                         "qualifying_section",
                                                         "detention_start_date",
                                                         "left_hospital_date",
                                                         "detaining_provider_code",
                                                         "council_code",
                                                         "council_basis",
                                                         "icb_code",
                                                         "icb_basis",
                                                         "registered_on",
                                                         "effective_from",
                                                         "last_review_date",
                                                         "next_review_due",
                                                         "services",
                                                         "end_date",
                                                         "end_reason"};
  return kColumns;
}

absl::StatusOr<CsvColumns> RegisterCsvHeader(const CsvRecord& header) {
  return CsvColumns::Match(header, RegisterCsvColumns(),
                           {"source_ref", "nhs_number", "qualifying_section",
                            "detention_start_date", "council_code", "icb_code"});
}

absl::StatusOr<std::string> QualifyingSection(std::string_view cell, std::string_view field) {
  std::string s = CsvCode(cell);
  for (const char* prefix : {"SECTION", "SEC.", "SEC", "S.", "S"}) {
    if (s.rfind(prefix, 0) == 0) {
      s.erase(0, std::string_view(prefix).size());
      break;
    }
  }
  std::string code;
  for (char c : s) {
    if (c == '/' || c == '_') {
      if (code.empty() || code.back() != '_') code += '_';
    } else if (c != '.') {
      code += c;
    }
  }
  if (!code.empty() && code.front() == '_') code.erase(0, 1);
  for (const char* known : {"3", "37", "37_41", "45A", "47", "47_49", "48", "48_49"}) {
    if (code == known) return "S" + code;
  }
  return InvalidField(field,
                      "not a qualifying section (S3, S37, S37/41, S45A, S47, S47/49, "
                      "S48, S48/49): " +
                          std::string(cell));
}

absl::StatusOr<RegisterImportRow> ParseRegisterRow(const CsvColumns& c, const CsvRecord& r) {
  RETURN_IF_ERROR(CheckCsvWidth(r, c.size()));
  RegisterImportRow out;
  out.set_row(r.line);
  out.set_source_ref(c.Get(r, "source_ref"));
  if (out.source_ref().empty()) return InvalidField("source_ref", "required");
  ASSIGN_OR_RETURN(auto nhs, NormaliseNhsNumber(c.Get(r, "nhs_number"), "nhs_number"));
  out.set_nhs_number(nhs);
  out.set_family_name(c.Get(r, "family_name"));
  out.set_given_name(c.Get(r, "given_name"));
  RETURN_IF_ERROR(
      DateColumn(c, r, "date_of_birth", false, &RegisterImportRow::set_date_of_birth, out));
  ASSIGN_OR_RETURN(auto section,
                   QualifyingSection(c.Get(r, "qualifying_section"), "qualifying_section"));
  out.set_qualifying_section(section);
  RETURN_IF_ERROR(DateColumn(c, r, "detention_start_date", true,
                             &RegisterImportRow::set_detention_start_date, out));
  RETURN_IF_ERROR(DateColumn(c, r, "left_hospital_date", false,
                             &RegisterImportRow::set_left_hospital_date, out));
  out.set_detaining_provider_code(CsvCode(c.Get(r, "detaining_provider_code")));
  out.mutable_council()->set_code(CsvCode(c.Get(r, "council_code")));
  out.mutable_council()->set_basis(CsvCode(c.Get(r, "council_basis")));
  out.mutable_icb()->set_code(CsvCode(c.Get(r, "icb_code")));
  out.mutable_icb()->set_basis(CsvCode(c.Get(r, "icb_basis")));
  RETURN_IF_ERROR(
      DateColumn(c, r, "registered_on", false, &RegisterImportRow::set_registered_on, out));
  RETURN_IF_ERROR(
      DateColumn(c, r, "effective_from", false, &RegisterImportRow::set_effective_from, out));
  RETURN_IF_ERROR(
      DateColumn(c, r, "last_review_date", false, &RegisterImportRow::set_last_review_date, out));
  RETURN_IF_ERROR(
      DateColumn(c, r, "next_review_due", false, &RegisterImportRow::set_next_review_due, out));
  const auto services = SplitCell(c.Get(r, "services"), ';');
  for (size_t i = 0; i < services.size(); ++i) {
    ASSIGN_OR_RETURN(*out.add_services(),
                     ServiceEntry(services[i], CsvEntryField("services", i), out.source_ref()));
  }
  RETURN_IF_ERROR(DateColumn(c, r, "end_date", false, &RegisterImportRow::set_end_date, out));
  out.set_end_reason(CsvCode(c.Get(r, "end_reason")));
  if (out.end_date().empty() != out.end_reason().empty()) {
    return InvalidField(out.end_date().empty() ? "end_date" : "end_reason",
                        "an end date and an end reason go together");
  }
  return out;
}

std::vector<std::string> RegisterCsvCells(const RegisterImportRow& row) {
  std::string services;
  for (const auto& s : row.services()) {
    char pct[16] = "";
    if (s.council_pct() != 0 || s.icb_pct() != 0)
      std::snprintf(pct, sizeof pct, "%g", s.council_pct());
    services += (services.empty() ? "" : ";") + s.service_type() + "|" + s.provider_name() + "|" +
                CsvPounds(s.weekly_cost_pence()) + "|" + s.funder() + "|" + pct + "|" +
                s.start_date() + "|" + s.end_date() +
                (s.end_reason().empty() && s.delivery_mode() == "COMMISSIONED"
                     ? ""
                     : "|" + s.end_reason() + "|" + s.delivery_mode());
  }
  std::string section = row.qualifying_section();  // S37_41 as councils write it: S37/41
  for (char& ch : section) ch = ch == '_' ? '/' : ch;
  return {row.source_ref(),
          row.nhs_number(),
          row.family_name(),
          row.given_name(),
          row.date_of_birth(),
          section,
          row.detention_start_date(),
          row.left_hospital_date(),
          row.detaining_provider_code(),
          row.council().code(),
          row.council().basis(),
          row.icb().code(),
          row.icb().basis(),
          row.registered_on(),
          row.effective_from(),
          row.last_review_date(),
          row.next_review_due(),
          services,
          row.end_date(),
          row.end_reason()};
}

}  // namespace icr::s117
