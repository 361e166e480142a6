#include "services/fhir/transaction.h"

namespace icr::fhir {}  // namespace icr::fhir
