#include "services/performance/indicators.h"

#include <cmath>
#include <cstdio>

#include "services/common/money.h"
#include "services/common/status.h"

namespace icr::perf {
namespace {

std::string Number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Count(const std::optional<double>& v) { return v ? Number(*v, 0) : ""; }

double RoundTo5(double v) { return std::round(v / 5.0) * 5.0; }

// A sum of money ('sum': pounds, stored rounded to the penny) as exact pence, two decimals.
std::string Money(double pounds) { return PlainPounds(std::llround(pounds * 100.0)); }

class Unrounded : public DisclosurePolicy {
 public:
  std::string name() const override { return "unrounded"; }
  Shown Apply(const RawFigure& f) const override {
    Shown s;
    s.numerator = Count(f.numerator);
    s.denominator = f.kind == "ratio" ? Count(f.denominator) : "";
    if (f.value) {
      s.value = f.kind == "sum" ? Money(*f.value) : Number(*f.value, f.kind == "count" ? 0 : 1);
    }
    return s;
  }
};

class Mhsds : public DisclosurePolicy {
 public:
  std::string name() const override { return "mhsds"; }
  Shown Apply(const RawFigure& f) const override {
    Shown s;
    auto shown_count = [&](const std::optional<double>& v) -> std::string {
      if (!v) return "";
      if (*v < 5) {
        s.suppressed = true;
        return "*";
      }
      return Number(RoundTo5(*v), 0);
    };
    s.numerator = shown_count(f.numerator);
    s.denominator = f.kind == "ratio" ? shown_count(f.denominator) : "";
    if (!f.value) return s;
    if (f.kind == "ratio") {
      const bool small = (f.numerator && *f.numerator < 5) || (f.denominator && *f.denominator < 5);
      s.value = small ? "*" : Number(std::round(*f.value), 0);
    } else if (f.kind == "count") {
      s.value = s.numerator;
    } else if (f.kind == "median") {
      s.value = (f.numerator && *f.numerator < 5) ? "*" : Number(*f.value, 1);
    } else {  // sums of money are not counts of people: shown to the penny
      s.value = (f.numerator && *f.numerator < 5) ? "*" : Money(*f.value);
    }
    if (s.value == "*") s.suppressed = true;
    return s;
  }
};

class Strict : public DisclosurePolicy {
 public:
  std::string name() const override { return "strict"; }
  Shown Apply(const RawFigure& f) const override {
    Shown s;
    auto rounded = [](const std::optional<double>& v) -> std::optional<double> {
      if (!v) return std::nullopt;
      if (*v >= 1 && *v <= 7) return std::nullopt;  // hidden
      return RoundTo5(*v);
    };
    auto shown = [&](const std::optional<double>& v) -> std::string {
      if (!v) return "";
      auto r = rounded(v);
      if (!r) {
        s.suppressed = true;
        return "*";
      }
      return Number(*r, 0);
    };
    s.numerator = shown(f.numerator);
    s.denominator = f.kind == "ratio" ? shown(f.denominator) : "";
    if (!f.value) return s;
    if (f.kind == "ratio") {
      auto n = rounded(f.numerator), d = rounded(f.denominator);
      s.value = (!n || !d || *d == 0) ? "*" : Number(std::round(100.0 * *n / *d), 0);
    } else if (f.kind == "count") {
      s.value = s.numerator;
    } else {
      s.value = (f.numerator && *f.numerator >= 1 && *f.numerator <= 7) ? "*"
                : f.kind == "sum"                                       ? Money(*f.value)
                                                                        : Number(*f.value, 1);
    }
    if (s.value == "*") s.suppressed = true;
    return s;
  }
};

}  // namespace

Date Month::first() const {
  return std::chrono::sys_days{std::chrono::year{year} / std::chrono::month{month} / 1};
}
Date Month::last() const {
  return std::chrono::sys_days{std::chrono::year{year} / std::chrono::month{month} /
                               std::chrono::last};
}
std::string Month::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", year, month);
  return buf;
}
Month Month::Next() const { return month == 12 ? Month{year + 1, 1} : Month{year, month + 1}; }
Month Month::Prev() const { return month == 1 ? Month{year - 1, 12} : Month{year, month - 1}; }

absl::StatusOr<Month> ParseMonth(const std::string& text, const std::string& field) {
  if (text.empty()) return InvalidField(field, "required (YYYY-MM)");
  auto d = ParseDate(text + "-01");
  if (text.size() != 7 || !d) return InvalidField(field, "not a month (YYYY-MM)");
  std::chrono::year_month_day ymd{*d};
  return Month{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month())};
}

absl::StatusOr<std::vector<Month>> MonthRange(const Month& from, const Month& to, int max_months) {
  if (to < from) return InvalidField("to_month", "before from_month");
  std::vector<Month> out;
  for (Month m = from; !(to < m); m = m.Next()) {
    out.push_back(m);
    if (static_cast<int>(out.size()) > max_months) {
      return InvalidField("to_month",
                          "range longer than " + std::to_string(max_months) + " months");
    }
  }
  return out;
}

Month MonthsBefore(Month m, int n) {
  for (int i = 0; i < n; ++i) m = m.Prev();
  return m;
}

std::unique_ptr<DisclosurePolicy> UnroundedPolicy() { return std::make_unique<Unrounded>(); }
std::unique_ptr<DisclosurePolicy> MhsdsPolicy() { return std::make_unique<Mhsds>(); }
std::unique_ptr<DisclosurePolicy> StrictPolicy() { return std::make_unique<Strict>(); }

std::unique_ptr<DisclosurePolicy> SelectPolicy(const std::string& caller_org,
                                               const std::string& scope_type,
                                               const std::string& scope_code,
                                               const std::string& shared_policy,
                                               bool national_store) {
  if (scope_type == "all" && national_store) return UnroundedPolicy();
  if (!caller_org.empty() && caller_org == scope_code) return UnroundedPolicy();
  if (shared_policy == "strict") return StrictPolicy();
  return MhsdsPolicy();
}

SpcResult ComputeSpc(const std::vector<std::optional<double>>& values,
                     const std::string& direction) {
  SpcResult r;
  const size_t n = values.size();
  r.beyond_limit.assign(n, false);
  r.run.assign(n, false);
  r.trend.assign(n, false);
  std::vector<double> v;
  std::vector<size_t> at;
  for (size_t i = 0; i < n; ++i) {
    if (values[i]) {
      v.push_back(*values[i]);
      at.push_back(i);
    }
  }
  r.points = static_cast<int>(v.size());
  if (v.size() < 2) {
    r.signal = "insufficient_data";
    return r;
  }
  double sum = 0, mr = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (i > 0) mr += std::fabs(v[i] - v[i - 1]);
  }
  r.mean = sum / v.size();
  const double mr_bar = mr / (v.size() - 1);
  r.upper = r.mean + 2.66 * mr_bar;
  r.lower = r.mean - 2.66 * mr_bar;
  // Direction of each special cause at a point: +1 high, -1 low.
  std::vector<int> cause(v.size(), 0);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] > r.upper || v[i] < r.lower) {
      r.beyond_limit[at[i]] = true;
      cause[i] = v[i] > r.upper ? 1 : -1;
    }
  }
  // A run: 7 or more consecutive points on one side of the mean (every point of it flagged).
  for (size_t i = 0; i < v.size();) {
    const int side = v[i] > r.mean ? 1 : (v[i] < r.mean ? -1 : 0);
    size_t j = i;
    while (j < v.size() && side != 0 && ((v[j] > r.mean ? 1 : (v[j] < r.mean ? -1 : 0)) == side))
      ++j;
    if (side != 0 && j - i >= 7) {
      for (size_t k = i; k < j; ++k) {
        r.run[at[k]] = true;
        if (!cause[k]) cause[k] = side;
      }
    }
    i = (j == i) ? i + 1 : j;
  }
  // A trend: 7 or more consecutive points each rising (or each falling).
  for (size_t i = 0; i + 1 < v.size();) {
    const int dir = v[i + 1] > v[i] ? 1 : (v[i + 1] < v[i] ? -1 : 0);
    size_t j = i + 1;
    while (dir != 0 && j < v.size() && ((v[j] > v[j - 1] ? 1 : (v[j] < v[j - 1] ? -1 : 0)) == dir))
      ++j;
    if (dir != 0 && j - i >= 7) {
      for (size_t k = i; k < j; ++k) {
        r.trend[at[k]] = true;
        if (!cause[k]) cause[k] = dir;
      }
    }
    i = (j == i + 1) ? i + 1 : j - 1;
  }
  if (v.size() < 12) {
    r.signal = "insufficient_data";
    return r;
  }
  const int last = cause.back();
  if (last == 0) {
    r.signal = "none";
  } else if (direction == "higher") {
    r.signal = last > 0 ? "improvement" : "concern";
  } else if (direction == "lower") {
    r.signal = last < 0 ? "improvement" : "concern";
  } else {
    r.signal = "special_cause";
  }
  return r;
}

std::string CsvHeader() {
  return "REPORTING_PERIOD_START,REPORTING_PERIOD_END,BREAKDOWN,PRIMARY_LEVEL,"
         "PRIMARY_LEVEL_DESCRIPTION,SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,"
         "MEASURE_NAME,MEASURE_VALUE\n";
}

}  // namespace icr::perf
