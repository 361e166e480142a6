// The project's own FHIR artefacts (fhir-ukcore.md section 7): the extensions, the
// ICR-S117AftercareEpisode profile and the code systems the mappers emit, as StructureDefinition
// and CodeSystem resources published at their canonical URLs (kCanon + "/StructureDefinition/<id>",
// kCanon + "/CodeSystem/<id>"). The JSON files live in services/fhir/definitions/ and are compiled
// in. Pure: no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace icr::fhir {

// The definition of that type ("StructureDefinition", "CodeSystem") and id, or null.
const nlohmann::json* Definition(std::string_view type, std::string_view id);
// Every definition, StructureDefinitions and CodeSystems, in file-name order.
std::vector<const nlohmann::json*> Definitions();
// The one with that canonical url, or null.
const nlohmann::json* DefinitionByUrl(std::string_view url);

// The display of a code in one of the project's code systems (by id, e.g. "service-area"), or
// null when the code system does not have the code.
const std::string* ProjectCodeDisplay(std::string_view code_system_id, std::string_view code);

}  // namespace icr::fhir
