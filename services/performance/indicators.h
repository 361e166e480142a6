// Pure rules of the performance service: reporting periods, disclosure control as policy
// objects, SPC (XmR) limits and special causes, and the long CSV format. No I/O.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/csv.h"
#include "services/common/validation.h"

namespace icr::perf {

// A calendar month, "YYYY-MM".
struct Month {
  int year = 0;
  unsigned month = 0;
  Date first() const;
  Date last() const;
  std::string ToString() const;
  Month Next() const;
  Month Prev() const;
  bool operator<(const Month& o) const { return year != o.year ? year < o.year : month < o.month; }
  bool operator==(const Month& o) const = default;
};

absl::StatusOr<Month> ParseMonth(const std::string& text, const std::string& field);
// Months from..to inclusive; INVALID_ARGUMENT when to < from or the range exceeds max_months.
absl::StatusOr<std::vector<Month>> MonthRange(const Month& from, const Month& to, int max_months);
// The month n months before m (m itself for n <= 0).
Month MonthsBefore(Month m, int n);

// What a reader may see of one stored figure.
struct Shown {
  std::string numerator;
  std::string denominator;
  std::string value;
  bool suppressed = false;
};

struct RawFigure {
  std::optional<double> numerator;
  std::optional<double> denominator;
  std::optional<double> value;
  std::string kind;  // ratio | count | sum | median
};

// Statistical disclosure control (kpi-definitions.md section 7).
class DisclosurePolicy {
 public:
  virtual ~DisclosurePolicy() = default;
  virtual std::string name() const = 0;
  virtual Shown Apply(const RawFigure& f) const = 0;
};

// Inside the organisation that holds the data, and England-level totals of a national store:
// nothing hidden.
std::unique_ptr<DisclosurePolicy> UnroundedPolicy();
// MHSDS rule: counts below 5 are "*", other counts rounded to the nearest 5; a percentage is
// "*" when its numerator or denominator is below 5, otherwise computed from the true counts.
std::unique_ptr<DisclosurePolicy> MhsdsPolicy();
// Stricter secondary-care rule: counts 1 to 7 are "*", others rounded to 5 (0 stays 0);
// percentages recalculated from the rounded counts; medians hidden when based on 1 to 7.
std::unique_ptr<DisclosurePolicy> StrictPolicy();

// Which policy applies follows from who is asking and whose data it is: the caller's own
// organisation is unrounded; anything shared across organisations gets the configured shared
// policy ("mhsds" or "strict"). A scope of "all" is the England-level view, unrounded, only when
// the store is national (national_store); in a regional store "all" is the sum of a few
// organisations' figures, shared like any one of them.
std::unique_ptr<DisclosurePolicy> SelectPolicy(const std::string& caller_org,
                                               const std::string& scope_type,
                                               const std::string& scope_code,
                                               const std::string& shared_policy,
                                               bool national_store);

// XmR chart (NHS England Making Data Count).
struct SpcResult {
  double mean = 0;
  double upper = 0;
  double lower = 0;
  int points = 0;
  std::vector<bool> beyond_limit, run, trend;  // per input point (false where no value)
  std::string signal;  // for the latest point: none | improvement | concern | special_cause |
                       // insufficient_data
};

// values: one per month in order; nullopt where there is no value. direction: higher | lower |
// none. Fewer than 12 values gives signal insufficient_data (limits still computed when >= 2).
SpcResult ComputeSpc(const std::vector<std::optional<double>>& values,
                     const std::string& direction);

// The header of the long format performance teams load from NHS England's statistics.
std::string CsvHeader();

}  // namespace icr::perf
