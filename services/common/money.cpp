#include "services/common/money.h"

#include <limits>

namespace icr {
namespace {

// The magnitude of pence as unsigned (INT64_MIN included), and the parts of a pounds text.
uint64_t Magnitude(int64_t pence) {
  return pence < 0 ? 0 - static_cast<uint64_t>(pence) : static_cast<uint64_t>(pence);
}

std::string Pence(uint64_t abs) {
  const unsigned p = static_cast<unsigned>(abs % 100);
  return std::string(1, static_cast<char>('0' + p / 10)) + static_cast<char>('0' + p % 10);
}

}  // namespace

std::string FormatPounds(int64_t pence) {
  const uint64_t abs = Magnitude(pence);
  std::string whole = std::to_string(abs / 100);
  for (int at = static_cast<int>(whole.size()) - 3; at > 0; at -= 3) {
    whole.insert(static_cast<size_t>(at), ",");
  }
  return std::string(pence < 0 ? "-" : "") + "\u00a3" + whole + "." + Pence(abs);
}

std::string PlainPounds(int64_t pence) {
  const uint64_t abs = Magnitude(pence);
  return std::string(pence < 0 ? "-" : "") + std::to_string(abs / 100) + "." + Pence(abs);
}

std::optional<int64_t> ParsePounds(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (whole.empty() || !digits(whole) || !digits(frac) || frac.size() > 2) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t pence = 0;
  for (char c : whole) {
    if (pence > (kMax + 1) / 10) return std::nullopt;
    pence = pence * 10 + static_cast<uint64_t>(c - '0');
  }
  const uint64_t cents =
      frac.empty() ? 0 : (frac[0] - '0') * 10 + (frac.size() > 1 ? frac[1] - '0' : 0);
  if (pence > (kMax + 1 - cents) / 100) return std::nullopt;
  pence = pence * 100 + cents;
  if (pence > kMax + (negative ? 1 : 0)) return std::nullopt;
  if (negative) return static_cast<int64_t>(0 - pence);
  return static_cast<int64_t>(pence);
}

}  // namespace icr
