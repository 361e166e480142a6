#include "services/fhir/resources.h"

namespace icr::fhir {

const std::string kCanon = "https://icr.example.org/fhir";

}  // namespace icr::fhir
