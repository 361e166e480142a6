#include "services/common/reference.h"

#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr {

const Organisation* ReferenceData::FindOrganisation(const std::string& code) const {
  auto it = organisations_.find(code);
  return it == organisations_.end() ? nullptr : &it->second;
}

const CodeEntry* ReferenceData::FindCode(const std::string& list, const std::string& code) const {
  auto it = codes_.find({list, code});
  return it == codes_.end() ? nullptr : &it->second;
}

const LegalStatus* ReferenceData::FindLegalStatus(const std::string& code) const {
  auto it = legal_statuses_.find(code);
  return it == legal_statuses_.end() ? nullptr : &it->second;
}

absl::Status ReferenceData::CheckCode(const std::string& list, const std::string& code,
                                      const std::string& field, bool required) const {
  if (code.empty()) return required ? InvalidField(field, "required") : absl::OkStatus();
  if (!FindCode(list, code)) return InvalidField(field, "unknown " + list + " code '" + code + "'");
  return absl::OkStatus();
}

absl::Status ReferenceData::CheckOrganisation(const std::string& code, const std::string& field,
                                              const std::set<std::string>& kinds,
                                              bool required, std::optional<Date> on) const {
  if (code.empty()) return required ? InvalidField(field, "required") : absl::OkStatus();
  if (!IsOdsCodeSyntax(code) && !IsGssCodeSyntax(code)) {
    return InvalidField(field, "not an ODS or GSS code");
  }
  const Organisation* org = FindOrganisation(code);
  if (!org) return InvalidField(field, "unknown organisation code '" + code + "'");
  if (!kinds.empty() && !kinds.count(org->kind)) {
    return InvalidField(field, "'" + code + "' is a " + org->kind + ", not a valid organisation here");
  }
  return CheckOpen(*org, field, on.value_or(Today()));
}

absl::Status ReferenceData::CheckOpen(const Organisation& org, const std::string& field,
                                      Date on) const {
  if (org.opened_on && on < *org.opened_on) {
    return InvalidField(field, org.code + " opened on " + FormatDate(*org.opened_on) +
                                   ", after " + FormatDate(on));
  }
  if (!org.closed_on || on < *org.closed_on) return absl::OkStatus();
  const auto& next = Successors(org.code);
  std::string successor = "no successor is recorded";
  if (next.size() == 1) successor = "its successor is " + next[0].code;
  if (next.size() > 1) {
    successor = "its successors are ";
    for (size_t i = 0; i < next.size(); ++i) successor += (i ? ", " : "") + next[i].code;
    successor += " (split: choose by where the person lives)";
  }
  return InvalidField(field, org.code + " closed on " + FormatDate(*org.closed_on) + "; " +
                                 successor);
}

const std::vector<Successor>& ReferenceData::Successors(const std::string& code) const {
  static const std::vector<Successor> kNone;
  auto it = successors_.find(code);
  return it == successors_.end() ? kNone : it->second;
}

absl::Status ReferenceData::CheckCouncil(const std::string& code, const std::string& field,
                                         bool required, std::optional<Date> on) const {
  if (code.empty()) return required ? InvalidField(field, "required") : absl::OkStatus();
  if (!IsGssCodeSyntax(code)) return InvalidField(field, "not a GSS code");
  if (!IsSocialServicesAuthority(code)) {
    return InvalidField(field, "'" + code + "' is not a council with social services duties");
  }
  return CheckOrganisation(code, field, {"council"}, true, on);
}

void ReferenceData::AddOrganisation(Organisation org) {
  organisations_[org.code] = std::move(org);
}

void ReferenceData::AddCode(const std::string& list, const std::string& code, CodeEntry entry) {
  codes_[{list, code}] = std::move(entry);
}

void ReferenceData::AddSuccessor(const std::string& predecessor, Successor successor) {
  successors_[predecessor].push_back(std::move(successor));
}

void ReferenceData::AddLegalStatus(LegalStatus status) {
  legal_statuses_[status.code] = std::move(status);
}

}  // namespace icr
