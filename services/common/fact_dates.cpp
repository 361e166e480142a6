#include "services/common/fact_dates.h"

#include <string>

#include "services/common/status.h"

namespace icr {

std::optional<Date> EarliestFactDate(Role role, Date today) {
  switch (role) {
    case Role::kClinician:
    case Role::kSocialWorker:
    case Role::kPerformanceAnalyst:
      return today - std::chrono::days{kLiveBackdateDays};
    case Role::kS117Officer:
    case Role::kSystem:
    case Role::kAdmin:
      return std::nullopt;
  }
  return today;
}

absl::Status CheckFactDate(Date date, std::string_view field, Role role, Date today) {
  if (date > today) return InvalidField(field, "in the future");
  if (auto earliest = EarliestFactDate(role, today); earliest && date < *earliest) {
    return InvalidField(field, "more than " + std::to_string(kLiveBackdateDays) +
                                   " days ago: a " + RoleName(role) +
                                   " records current facts; older history is carried over by "
                                   "a system, an s117_officer or an admin");
  }
  return absl::OkStatus();
}

absl::StatusOr<Date> FactDate(std::string_view value, std::string_view field, Role role,
                              Date today) {
  if (value.empty()) return today;
  ASSIGN_OR_RETURN(const Date date, RequireDate(value, field));
  RETURN_IF_ERROR(CheckFactDate(date, field, role, today));
  return date;
}

absl::Status CheckNotBefore(Date date, Date bound, std::string_view field, std::string_view what) {
  if (date >= bound) return absl::OkStatus();
  return RefusedField(field, "before " + std::string(what) + " (" + FormatDate(bound) + ")");
}

}  // namespace icr
