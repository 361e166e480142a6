// Reference data (organisations, code lists, MHA legal status codes), loaded once from the store
// (reference_loader.h) so validators check codes without a database round trip. Pure: no
// database here, so the rules libraries can use it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/validation.h"

namespace icr {

struct Organisation {
  std::string code;
  std::string kind;  // trust, icb, council, district, region, gp_practice, other
  std::string name;
  std::string icb_code;
  // Open from opened_on until closed_on (exclusive: the first day it no longer exists, its
  // successors' effective date); nullopt: open since before any record / still open.
  std::optional<Date> opened_on;
  std::optional<Date> closed_on;
};

// A succession link (core.organisation_successor): `code` succeeded the organisation on `on`.
struct Successor {
  std::string code;
  Date on;
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
  // kinds: accepted organisation kinds, e.g. {"trust"}; empty accepts any. The organisation
  // must be open on `on` (the fact's date; nullopt: today): see CheckOpen.
  absl::Status CheckOrganisation(const std::string& code, const std::string& field,
                                 const std::set<std::string>& kinds, bool required = true,
                                 std::optional<Date> on = std::nullopt) const;
  // A council with social services duties (never a district or region), open on `on`.
  absl::Status CheckCouncil(const std::string& code, const std::string& field,
                            bool required = true, std::optional<Date> on = std::nullopt) const;
  // The one rule on dates: an organisation cannot be named for a day before it opened or from
  // the day it closed ("field: QMJ closed on 2026-04-01; its successor is Z9B2Z").
  absl::Status CheckOpen(const Organisation& org, const std::string& field, Date on) const;
  // The organisations that succeeded `code` (immediate successors only), by code.
  const std::vector<Successor>& Successors(const std::string& code) const;

  // For tests and tools: build from explicit values.
  void AddOrganisation(Organisation org);
  void AddCode(const std::string& list, const std::string& code, CodeEntry entry);
  void AddLegalStatus(LegalStatus status);
  void AddSuccessor(const std::string& predecessor, Successor successor);

 private:
  std::map<std::string, Organisation> organisations_;
  std::map<std::pair<std::string, std::string>, CodeEntry> codes_;
  std::map<std::string, LegalStatus> legal_statuses_;
  std::map<std::string, std::vector<Successor>> successors_;
};

}  // namespace icr
