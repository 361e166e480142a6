// Readable views of record data shared by several commands, with the descriptions of the few
// national codes a reader needs to make sense of a person (sex, ethnic category).
#pragma once

#include <ostream>
#include <string>

#include "icr/v1/record.pb.h"

namespace icrctl::view {

std::string SexName(const std::string& code);
std::string EthnicCategoryName(const std::string& code);
// "code description" when the description is known, else the code.
std::string Coded(const std::string& code, const std::string& description);

// The person's demographics and identifiers as aligned fields.
void PrintPerson(std::ostream& os, const icr::v1::Person& person, const std::string& indent = "");

}  // namespace icrctl::view
