// The project's own StructureDefinitions and CodeSystems (served at /fhir/StructureDefinition/{id}
// and /fhir/CodeSystem/{id}).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace icr::fhir {

const nlohmann::json* Definition(std::string_view type, std::string_view id);
std::vector<const nlohmann::json*> Definitions();

}  // namespace icr::fhir
