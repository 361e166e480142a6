// TEMPORARY: the two mappers bulk export calls, until branch fhir-map (services/fhir/resources.cpp)
// defines them; removed when it is merged.
#include "services/fhir/resources.h"

namespace icr::fhir {

std::vector<Json> RecordResources(const icr::v1::IntegratedRecord& record) {
  return {Json{{"resourceType", "Patient"}, {"id", record.person().person_id()}}};
}

Json CarePlanResource(const icr::v1::CarePlan& plan) {
  return Json{{"resourceType", "CarePlan"},
              {"id", plan.plan_id()},
              {"subject", {{"reference", "Patient/" + plan.person_id()}}}};
}

}  // namespace icr::fhir
