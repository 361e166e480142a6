#include "services/fhir/definitions.h"

namespace icr::fhir {

const nlohmann::json* Definition(std::string_view, std::string_view) { return nullptr; }
std::vector<const nlohmann::json*> Definitions() { return {}; }

}  // namespace icr::fhir
