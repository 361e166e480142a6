#include "services/fhir/capability.h"

#include "services/fhir/resources.h"

namespace icr::fhir {
namespace {

using Json = nlohmann::json;

Json Param(const std::string& name, const std::string& type, const std::string& doc) {
  return {{"name", name}, {"type", type}, {"documentation", doc}};
}

Json Resource(const std::string& type, const std::string& profile, Json interactions,
              Json params) {
  // FHIR JSON has no empty arrays or strings: what a resource does not have is left out.
  Json r = {{"type", type}};
  if (!profile.empty()) r["profile"] = profile;
  for (const auto& i : interactions) r["interaction"].push_back({{"code", i}});
  if (!params.empty()) r["searchParam"] = std::move(params);
  return r;
}

const std::string kUkCore = "https://fhir.hl7.org.uk/StructureDefinition/";

}  // namespace

Json CapabilityStatement(const std::string& base_url, const std::string& version,
                         bool bulk_export) {
  const Json patient_param =
      Param("patient", "reference", "Patient/{id} (the person id this server assigned)");
  Json resources = Json::array();
  Json patient = Resource(
      "Patient", kUkCore + "UKCore-Patient", {"read", "search-type"},
      {Param("identifier", "token",
             "https://fhir.nhs.uk/Id/nhs-number|{NHS number} (or the bare NHS number)"),
       Param("family", "string", "family name, exact (with birthdate)"),
       Param("birthdate", "date", "YYYY-MM-DD, exact (with family)"),
       Param("address-postalcode", "string", "postcode")});
  patient["operation"] = Json::array(
      {{{"name", "everything"},
        {"definition", "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}});
  resources.push_back(patient);
  resources.push_back(Resource("EpisodeOfCare", kUkCore + "UKCore-EpisodeOfCare",
                               {"search-type"}, {patient_param}));
  resources.push_back(
      Resource("Encounter", kUkCore + "UKCore-Encounter", {"search-type"}, {patient_param}));
  resources.push_back(Resource(
      "Observation", kUkCore + "UKCore-Observation", {"search-type"},
      {patient_param,
       Param("code", "token",
             "EMPLOYMENT_STATUS, ACCOMMODATION_STATUS, MHA_LEGAL_STATUS (system|code or code; "
             "comma-separated: any of)")}));
  resources.push_back(Resource(
      "CarePlan", kUkCore + "UKCore-CarePlan", {"read", "vread", "search-type"},
      {patient_param, Param("status", "token", "draft, active, completed (comma-separated)")}));
  resources.push_back(Resource("Organization", kUkCore + "UKCore-Organization", {"read"}, {}));
  resources.push_back(Resource("StructureDefinition", "", {"read"}, {}));
  resources.push_back(Resource("CodeSystem", "", {"read"}, {}));
  if (bulk_export) {
    resources.push_back(Resource("Group", "", {}, {}));
    resources.back()["operation"] = Json::array(
        {{{"name", "export"},
          {"definition", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}}});
    for (auto& r : resources) {
      if (r["type"] == "Patient") {
        r["operation"].push_back(
            {{"name", "export"},
             {"definition", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"}});
      }
    }
  }
  Json rest = {{"mode", "server"},
               {"documentation",
                "Bearer tokens (Authorization: Bearer); x-purpose-of-use, x-request-id and "
                "x-break-glass-reason headers are audited. A person the caller may not see is "
                "404, exactly like one who does not exist. Search parameters not listed are "
                "refused (400), never ignored."},
               {"security", {{"cors", false}, {"description", "Bearer tokens issued by icrctl admin token create"}}},
               {"resource", resources},
               {"interaction", Json::array({{{"code", "transaction"}}})}};
  if (bulk_export) {
    rest["operation"] = Json::array(
        {{{"name", "export"},
          {"definition", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}}});
  }
  Json cs = {{"resourceType", "CapabilityStatement"},
             {"status", "active"},
             {"date", "2026-12-04"},
             {"kind", "instance"},
             {"software", {{"name", "icr-server"}, {"version", version}}},
             {"implementation",
              {{"description", "Integrated care record and S117 register"}, {"url", base_url}}},
             {"fhirVersion", "4.0.1"},
             {"format", Json::array({"application/fhir+json", "json"})},
             {"rest", Json::array({rest})}};
  if (bulk_export) {
    cs["instantiates"] =
        Json::array({"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"});
  }
  return cs;
}

}  // namespace icr::fhir
