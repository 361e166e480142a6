#include "clients/demo/register_sample.h"

#include "services/common/csv.h"
#include "services/s117/register_csv.h"

namespace icrctl::demo {
namespace {

using icr::Date;
using std::chrono::days;

std::string Day(Date d) { return icr::FormatDate(d); }

// A whole number in [lo, hi] from the NHS number and what it decides.
int Pick(const std::string& nhs, const std::string& what, int lo, int hi) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : nhs + "/" + what) h = (h ^ c) * 1099511628211ULL;
  return lo + static_cast<int>(SplitMix64(h) % static_cast<uint64_t>(hi - lo + 1));
}

icr::v1::AftercareService Line(const std::string& type, const std::string& provider,
                               int64_t weekly_pence, const std::string& funder, Date start) {
  icr::v1::AftercareService s;
  s.set_service_type(type);
  s.set_provider_name(provider);
  s.set_weekly_cost_pence(weekly_pence);
  s.set_funder(funder);
  s.set_delivery_mode("COMMISSIONED");
  if (funder == "JOINT") {
    s.set_council_pct(50);
    s.set_icb_pct(50);
  }
  s.set_start_date(Day(start));
  return s;
}

}  // namespace

absl::StatusOr<std::vector<icr::v1::RegisterImportRow>> SampleRegister(const Options& options) {
  // The people after the seeded ones: up to 400 more, to find enough in one council.
  Options more = options;
  more.people = std::min<int64_t>(options.people + 400, Capacity());
  auto generator = Generator::Create(more);
  if (!generator.ok()) return generator.status();
  DemoPerson person;
  for (int64_t i = 0; i < options.people && generator->Next(&person); ++i) {
  }
  static const char* kSections[] = {"S3", "S37", "S3", "S37_41", "S3", "S47"};
  std::vector<icr::v1::RegisterImportRow> rows;
  std::string council;
  while (static_cast<int>(rows.size()) < kSampleEntitlements && generator->Next(&person)) {
    const auto& p = person.person;
    const auto dob = icr::ParseDate(p.date_of_birth());
    if (!dob || p.council_code().empty() || p.icb_code().empty()) continue;
    if (council.empty()) council = p.council_code();
    if (p.council_code() != council || *dob > options.as_of - days(365 * 19)) continue;
    const std::string& nhs = p.nhs_number();
    const int n = static_cast<int>(rows.size());
    // Detained 5 to 22 months before the as-of date, in hospital 3 to 16 weeks.
    const Date detained = options.as_of - days(Pick(nhs, "detained", 150, 670));
    const Date left = detained + days(Pick(nhs, "stay", 21, 112));
    icr::v1::RegisterImportRow r;
    r.set_source_ref(council + "-S117-" + std::to_string(1001 + n));
    r.set_nhs_number(nhs);
    r.set_family_name(p.family_name());
    r.set_given_name(p.given_name());
    r.set_date_of_birth(p.date_of_birth());
    r.set_qualifying_section(kSections[n % std::size(kSections)]);
    r.set_detention_start_date(Day(detained));
    r.set_left_hospital_date(Day(left));
    r.set_detaining_provider_code(person.trust);
    r.mutable_council()->set_code(council);
    r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
    r.mutable_icb()->set_code(p.icb_code());
    r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
    r.set_registered_on(Day(left + days(Pick(nhs, "registered", 0, 20))));
    // Reviewed a year apart; the last review is the one the spreadsheet keeps.
    Date review = left + days(Pick(nhs, "first review", 40, 70));
    while (review + days(365) < options.as_of) review += days(365);
    if (review < options.as_of) {
      r.set_last_review_date(Day(review));
      r.set_next_review_due(Day(review + days(365)));
    }
    const Date start = left + days(Pick(nhs, "service start", 0, 14));
    if (n % 3 != 2) {
      *r.add_services() = Line("HOME_CARE", "Community Home Support CIC",
                               Pick(nhs, "home care", 180, 520) * 100 + n * 25, "JOINT", start);
    }
    if (n % 2 == 1) {
      *r.add_services() = Line("SUPPORTED_ACCOMMODATION", "Housing and Recovery Trust",
                               Pick(nhs, "housing", 700, 1400) * 100, "COUNCIL", start);
    }
    if (n == kSampleEntitlements - 1 && !r.last_review_date().empty()) {  // ended jointly
      const Date end = *icr::ParseDate(r.last_review_date()) + days(21);
      if (end < options.as_of) {
        for (auto& s : *r.mutable_services()) {
          s.set_end_date(Day(end));
          s.set_end_reason("No longer needed: joint decision to end s117 after-care");
        }
        r.set_end_date(Day(end));
        r.set_end_reason("NO_LONGER_NEEDS_AFTERCARE");
        r.clear_next_review_due();
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string SampleRegisterCsv(const std::vector<icr::v1::RegisterImportRow>& rows) {
  std::string text;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + icr::CsvField(cells[i]);
    text += "\r\n";
  };
  std::vector<std::string> header;
  for (auto c : icr::s117::RegisterCsvColumns()) header.emplace_back(c);
  line(header);
  for (const auto& r : rows) line(icr::s117::RegisterCsvCells(r));
  return text;
}

}  // namespace icrctl::demo
