#include "services/s117/responsible_council.h"

#include <chrono>

namespace icr::s117 {
namespace {

bool Covers(const std::optional<Date>& from, const std::optional<Date>& to, Date day) {
  return (!from || *from <= day) && (!to || *to >= day);
}

// Care Act s39(1) and the Choice of Accommodation Regulations 2014: care homes, shared lives
// schemes and supported living are "specified accommodation"; OTHER is not.
bool SpecifiedAccommodation(const std::string& type) {
  return type == "CARE_HOME" || type == "SHARED_LIVES" || type == "SUPPORTED_LIVING";
}

// Placements the deeming rule looks at: arranged by a council under the Care Act or as s117
// after-care (the placement in Worcestershire itself was s117 after-care, the case s46 answers)
// [U: the transitional provisions and regulations are not yet made].
bool DeemingBasis(const std::string& basis) { return basis == "care_act" || basis == "s117"; }

bool Adult(const std::optional<Date>& date_of_birth, Date on) {
  if (!date_of_birth) return true;
  const std::chrono::year_month_day born{*date_of_birth}, day{on};
  int age = static_cast<int>(day.year()) - static_cast<int>(born.year());
  if (std::chrono::month_day{day.month(), day.day()} <
      std::chrono::month_day{born.month(), born.day()}) {
    --age;
  }
  return age >= 18;
}

std::string Dated(const std::optional<Date>& d, const char* unknown) {
  return d ? FormatDate(*d) : unknown;
}

std::string ResidenceText(const ResidencePeriod& r) {
  return "resident in " +
         (r.council_code.empty() ? std::string("an area with no council recorded")
                                 : r.council_code) +
         " from " + Dated(r.from, "an unrecorded date") + " to " + Dated(r.to, "now");
}

std::string PlacementText(const PlacementFacts& p) {
  return "placed by " + p.placing_council_code + " in " + p.placed_in_council_code + " from " +
         FormatDate(p.start) + " (" + p.legal_basis + ", " + p.accommodation_type + ")";
}

}  // namespace

std::string CouncilRuleFor(Date detention_start, const std::optional<Date>& mha2025_s46_from) {
  return mha2025_s46_from && detention_start >= *mha2025_s46_from ? kRuleMha2025
                                                                  : kRuleWorcestershire;
}

CouncilDerivation DeriveResponsibleCouncil(Date detention_start,
                                           const std::vector<ResidencePeriod>& residences,
                                           const std::vector<PlacementFacts>& placements,
                                           const std::optional<Date>& date_of_birth,
                                           const std::optional<Date>& mha2025_s46_from) {
  const Date before = detention_start - std::chrono::days{1};
  const ResidencePeriod* residence = nullptr;
  for (const auto& r : residences) {
    if (Covers(r.from, r.to, before)) residence = &r;
  }
  const PlacementFacts* placement = nullptr;
  for (const auto& p : placements) {
    if (Covers(p.start, p.end, before) && (!placement || p.start > placement->start)) {
      placement = &p;
    }
  }

  CouncilDerivation out;
  out.rule = CouncilRuleFor(detention_start, mha2025_s46_from);
  std::string facts = residence ? ResidenceText(*residence) : "no residence recorded";
  if (placement) facts += "; " + PlacementText(*placement);
  const std::string when = " immediately before the detention of " + FormatDate(detention_start);

  if (out.rule == kRuleMha2025 && placement && DeemingBasis(placement->legal_basis) &&
      SpecifiedAccommodation(placement->accommodation_type)) {
    if (Adult(date_of_birth, before)) {
      out.council_code = placement->placing_council_code;
      out.reason = facts + ": deemed ordinarily resident in " + out.council_code +
                   ", the placing council (Mental Health Act 2025 s46, s117(3A))";
      return out;
    }
    facts += "; under 18, so the s117(3A) deeming does not apply";
  }
  if (!residence || residence->council_code.empty()) {
    out.reason = facts + when + ": decide the council of ordinary residence";
    return out;
  }
  out.council_code = residence->council_code;
  out.reason = facts + ": ordinarily resident in " + out.council_code + when +
               (out.rule == kRuleMha2025 ? " (s117(3): no deeming placement)"
                                         : " (Worcestershire [2023] UKSC 31: no deeming)");
  return out;
}

}  // namespace icr::s117
