#include "services/s117/succession.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "services/common/status.h"

namespace icr::s117 {

std::vector<Succession> DueSuccessions(const std::vector<SuccessionLink>& links, Date as_of) {
  std::map<std::pair<Date, std::string>, std::vector<std::string>> grouped;
  for (const auto& l : links) {
    if (l.on <= as_of) grouped[{l.on, l.predecessor}].push_back(l.successor);
  }
  std::vector<Succession> out;
  for (auto& [key, successors] : grouped) {
    std::sort(successors.begin(), successors.end());
    successors.erase(std::unique(successors.begin(), successors.end()), successors.end());
    out.push_back({key.second, key.first, std::move(successors)});
  }
  return out;
}

std::string RoleOfKind(const std::string& kind) {
  return kind == "council" || kind == "icb" ? kind : "";
}

bool MoveEntitlement(Episode& e, const std::string& role, const std::string& from,
                     const std::string& to) {
  if (!IsOpen(e.state)) return false;
  std::string& body = role == "council" ? e.responsible_council_code : e.responsible_icb_code;
  if ((role != "council" && role != "icb") || body != from) return false;
  body = to;
  return true;
}

std::string PostcodeDistrict(const std::string& postcode) {
  std::string compact;
  for (char c : postcode) {
    if (c == ' ') continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";
    compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  // The inward code is always a digit and two letters; the outward code 2 to 4 characters
  // starting with a letter.
  if (compact.size() < 5 || compact.size() > 7) return "";
  const std::string inward = compact.substr(compact.size() - 3);
  if (!std::isdigit(static_cast<unsigned char>(inward[0])) ||
      !std::isalpha(static_cast<unsigned char>(inward[1])) ||
      !std::isalpha(static_cast<unsigned char>(inward[2])) ||
      !std::isalpha(static_cast<unsigned char>(compact[0]))) {
    return "";
  }
  return compact.substr(0, compact.size() - 3);
}

Proposal ProposeSuccessor(const Succession& s, const std::string& postcode_district,
                          const std::map<std::string, std::string>& area_successor) {
  if (postcode_district.empty()) return {"", "decide: no postcode recorded"};
  auto it = area_successor.find(postcode_district);
  if (it == area_successor.end()) {
    return {"", "decide: postcode district " + postcode_district + " is not in the area table"};
  }
  if (std::find(s.successors.begin(), s.successors.end(), it->second) == s.successors.end()) {
    return {"", "decide: postcode district " + postcode_district + " names " + it->second +
                    ", not a successor of " + s.predecessor};
  }
  return {it->second, "postcode district " + postcode_district};
}

absl::StatusOr<std::string> ResolvedSuccessor(const std::vector<std::string>& successors,
                                              const std::string& proposed,
                                              const std::string& chosen) {
  const std::string code = chosen.empty() ? proposed : chosen;
  std::string listed;
  for (const auto& s : successors) listed += (listed.empty() ? "" : ", ") + s;
  if (code.empty()) {
    return InvalidField("successor_code",
                        "required: nothing was proposed (successors: " + listed + ")");
  }
  if (std::find(successors.begin(), successors.end(), code) == successors.end()) {
    return InvalidField("successor_code",
                        code + " is not a successor of this body (successors: " + listed + ")");
  }
  return code;
}

}  // namespace icr::s117
