// The CapabilityStatement GET /fhir/metadata answers: exactly what this server does, no more.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace icr::fhir {

// base_url: the server's FHIR base ("https://icr.example.org/fhir"); version: the software's.
nlohmann::json CapabilityStatement(const std::string& base_url, const std::string& version,
                                   bool bulk_export);

}  // namespace icr::fhir
