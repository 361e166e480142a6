#include "clients/icrctl/views.h"

#include <map>

#include "clients/icrctl/output.h"

namespace icrctl::view {

std::string SexName(const std::string& code) {
  static const std::map<std::string, std::string> kNames = {
      {"0", "Not known"}, {"1", "Male"}, {"2", "Female"}, {"9", "Indeterminate"}};
  auto it = kNames.find(code);
  return Coded(code, it == kNames.end() ? "" : it->second);
}

std::string EthnicCategoryName(const std::string& code) {
  // NHS ethnic category (Data Dictionary, 2001 census classification).
  static const std::map<std::string, std::string> kNames = {
      {"A", "White - British"},
      {"B", "White - Irish"},
      {"C", "White - Any other White background"},
      {"D", "Mixed - White and Black Caribbean"},
      {"E", "Mixed - White and Black African"},
      {"F", "Mixed - White and Asian"},
      {"G", "Mixed - Any other mixed background"},
      {"H", "Asian or Asian British - Indian"},
      {"J", "Asian or Asian British - Pakistani"},
      {"K", "Asian or Asian British - Bangladeshi"},
      {"L", "Asian or Asian British - Any other Asian background"},
      {"M", "Black or Black British - Caribbean"},
      {"N", "Black or Black British - African"},
      {"P", "Black or Black British - Any other Black background"},
      {"R", "Other Ethnic Groups - Chinese"},
      {"S", "Other Ethnic Groups - Any other ethnic group"},
      {"Z", "Not stated"},
      {"99", "Not known"}};
  auto it = kNames.find(code);
  return Coded(code, it == kNames.end() ? "" : it->second);
}

std::string Coded(const std::string& code, const std::string& description) {
  if (code.empty()) return "";
  return description.empty() ? code : code + " " + description;
}

void PrintPerson(std::ostream& os, const icr::v1::Person& p, const std::string& indent) {
  out::Fields f;
  f.Add("NHS number", out::NhsDisplay(p.nhs_number()));
  f.Add("Name", p.given_name().empty() ? p.family_name() : p.given_name() + " " + p.family_name());
  f.Add("Date of birth", p.date_of_birth());
  if (!p.date_of_death().empty()) f.Add("Date of death", p.date_of_death());
  f.Add("Sex", SexName(p.sex()));
  f.Add("Ethnic category", EthnicCategoryName(p.ethnic_category()));
  f.Add("Postcode", p.postcode());
  f.Add("GP practice", p.gp_practice_code());
  f.Add("Council", p.council_code());
  f.Add("ICB", p.icb_code());
  std::string ids;
  for (const auto& id : p.local_identifiers()) {
    ids += (ids.empty() ? "" : ", ") + id.system() + "=" + id.value();
  }
  f.Add("Local identifiers", ids);
  f.Add("Person id", p.person_id());
  f.Add("Version", p.version() ? std::to_string(p.version()) : "");
  if (!p.resolved_from_alias().empty()) {
    f.Add("Found by", "former NHS number " + out::NhsDisplay(p.resolved_from_alias()));
  }
  f.Print(os, indent);
}

}  // namespace icrctl::view
