// Reference data (organisations, code lists, MHA legal status codes), loaded once from the store
// (reference_loader.h) so validators check codes without a database round trip. Pure: no
// database here, so the rules libraries can use it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace icr {

struct Organisation {
  std::string code;
  std::string kind;  // trust, icb, council, district, region, gp_practice, other
  std::string name;
  std::string icb_code;
};

struct CodeEntry {
  std::string description;
  std::string group_code;
};

struct LegalStatus {
  std::string code;
  std::string description;
  std::string s117_qualifying;  // yes | no | case_decision | invalid
  bool short_term_hold = false;
};

class ReferenceData {
 public:
  const Organisation* FindOrganisation(const std::string& code) const;
  // Every current organisation, by code (e.g. for a dashboard's organisation filter).
  const std::map<std::string, Organisation>& organisations() const { return organisations_; }
  const CodeEntry* FindCode(const std::string& list, const std::string& code) const;
  const LegalStatus* FindLegalStatus(const std::string& code) const;

  // Validators that name the field: unknown codes are INVALID_ARGUMENT.
  absl::Status CheckCode(const std::string& list, const std::string& code,
                         const std::string& field, bool required = true) const;
  // kinds: accepted organisation kinds, e.g. {"trust"}; empty accepts any.
  absl::Status CheckOrganisation(const std::string& code, const std::string& field,
                                 const std::set<std::string>& kinds, bool required = true) const;
  // A council with social services duties (never a district or region).
  absl::Status CheckCouncil(const std::string& code, const std::string& field,
                            bool required = true) const;

  // For tests and tools: build from explicit values.
  void AddOrganisation(Organisation org);
  void AddCode(const std::string& list, const std::string& code, CodeEntry entry);
  void AddLegalStatus(LegalStatus status);

 private:
  std::map<std::string, Organisation> organisations_;
  std::map<std::pair<std::string, std::string>, CodeEntry> codes_;
  std::map<std::string, LegalStatus> legal_statuses_;
};

}  // namespace icr
