#include "services/common/validation.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cctype>
#include <cstdio>
#include <vector>

#include "services/common/status.h"

namespace icr {

bool NhsNumberChecksumOk(std::string_view s) {
  if (s.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    sum += (s[i] - '0') * (10 - i);
  }
  if (s[9] < '0' || s[9] > '9') return false;
  int check = 11 - (sum % 11);
  if (check == 11) check = 0;
  if (check == 10) return false;  // never issued
  return check == (s[9] - '0');
}

absl::StatusOr<std::string> NormaliseNhsNumber(std::string_view input, std::string_view field) {
  std::string digits;
  if (input.size() == 12 && input[3] == ' ' && input[7] == ' ') {
    digits = std::string(input.substr(0, 3)) + std::string(input.substr(4, 3)) +
             std::string(input.substr(8, 4));
  } else {
    digits = std::string(input);
  }
  if (digits.empty()) return InvalidField(field, "required");
  if (digits.size() != 10) return InvalidField(field, "must be 10 digits");
  for (char c : digits) {
    if (c < '0' || c > '9') return InvalidField(field, "must be 10 digits");
  }
  if (!NhsNumberChecksumOk(digits)) return InvalidField(field, "fails the Modulus 11 check");
  // Ranges that are never English NHS numbers (domain-rules 8.1, [S]): Scottish CHI numbers
  // (010 100 0000 to 311 299 9999, and everything below) and Northern Irish H&C numbers
  // (320 000 001 to 399 999 999). The 999 test range is accepted.
  const std::string nine = digits.substr(0, 9);
  if (nine <= "311299999") return InvalidField(field, "not an English NHS number (Scottish CHI range)");
  if (nine >= "320000001" && nine <= "399999999") {
    return InvalidField(field, "not an English NHS number (Northern Irish range)");
  }
  return digits;
}

std::optional<Date> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                  std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                  std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  if (!ymd.ok() || ymd.year() < std::chrono::year{1850}) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::string FormatDate(Date d) {
  std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Date Today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

absl::StatusOr<Date> RequireDate(std::string_view value, std::string_view field) {
  if (value.empty()) return InvalidField(field, "required");
  auto d = ParseDate(value);
  if (!d) return InvalidField(field, "not a date (YYYY-MM-DD)");
  if (std::chrono::year_month_day{*d}.year() > std::chrono::year{kLastYear}) {
    return InvalidField(field, "after " + std::to_string(kLastYear) + "-12-31");
  }
  return *d;
}

absl::StatusOr<std::optional<Date>> OptionalDate(std::string_view value, std::string_view field) {
  if (value.empty()) return std::optional<Date>{};
  auto d = RequireDate(value, field);
  if (!d.ok()) return d.status();
  return std::optional<Date>{*d};
}

absl::Status CheckPence(int64_t pence, std::string_view field, int64_t max_pence) {
  if (pence < 0) return InvalidField(field, "must not be negative");
  if (pence > max_pence) {
    return InvalidField(field, "more than " + std::to_string(max_pence) + " pence");
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(int64_t version, std::string_view field) {
  if (version < 0) return InvalidField(field, "must not be negative");
  if (version > kMaxVersion) return InvalidField(field, "beyond any version");
  return absl::OkStatus();
}

absl::Status CheckEnums(const google::protobuf::Message& message, const std::string& path) {
  using google::protobuf::FieldDescriptor;
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);  // those set
  for (const FieldDescriptor* f : fields) {
    const std::string name = path.empty() ? f->name() : path + "." + f->name();
    const int n = f->is_repeated() ? reflection->FieldSize(message, f) : 1;
    for (int i = 0; i < n; ++i) {
      const std::string at = f->is_repeated() ? name + "[" + std::to_string(i) + "]" : name;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        const int value = f->is_repeated() ? reflection->GetRepeatedEnumValue(message, f, i)
                                           : reflection->GetEnumValue(message, f);
        if (!f->enum_type()->FindValueByNumber(value)) {
          return InvalidField(at, "unknown value " + std::to_string(value));
        }
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        RETURN_IF_ERROR(CheckEnums(f->is_repeated() ? reflection->GetRepeatedMessage(message, f, i)
                                                    : reflection->GetMessage(message, f),
                                   at));
      }
    }
  }
  return absl::OkStatus();
}

bool IsOdsCodeSyntax(std::string_view code) {
  if (code.size() < 3 || code.size() > 6) return false;
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsGssCodeSyntax(std::string_view code) {
  if (code.size() != 9) return false;
  if (code[0] != 'E' && code[0] != 'N' && code[0] != 'S' && code[0] != 'W') return false;
  for (size_t i = 1; i < 9; ++i) {
    if (code[i] < '0' || code[i] > '9') return false;
  }
  return true;
}

bool IsSocialServicesAuthority(std::string_view gss) {
  if (!IsGssCodeSyntax(gss)) return false;
  auto prefix = gss.substr(0, 3);
  return prefix == "E06" || prefix == "E08" || prefix == "E09" || prefix == "E10" ||
         prefix == "W06";
}

absl::Status CheckText(std::string_view value, std::string_view field, size_t max_len,
                       bool required) {
  if (required && value.empty()) return InvalidField(field, "required");
  if (value.size() > max_len) {
    return InvalidField(field, "longer than " + std::to_string(max_len) + " characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\n' && c != '\t') return InvalidField(field, "contains control characters");
  }
  return absl::OkStatus();
}

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // cut short
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

absl::Status CheckUuid(std::string_view value, std::string_view field, std::string_view what) {
  if (value.empty()) return InvalidField(field, "required");
  if (!IsUuid(value)) return InvalidField(field, "not " + std::string(what));
  return absl::OkStatus();
}

}  // namespace icr
