#include "services/fhir/definitions.h"

#include <map>
#include <utility>

namespace icr::fhir {

// Generated from definitions/*.json (embed_definitions.cmake).
const std::vector<std::string_view>& EmbeddedDefinitions();

namespace {

struct Catalogue {
  std::vector<nlohmann::json> all;
  std::map<std::pair<std::string, std::string>, const nlohmann::json*, std::less<>> by_id;
  std::map<std::string, const nlohmann::json*, std::less<>> by_url;
  // code system id -> code -> display
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> displays;
};

const Catalogue& TheCatalogue() {
  static const Catalogue* catalogue = [] {
    auto* c = new Catalogue;
    c->all.reserve(EmbeddedDefinitions().size());
    for (std::string_view text : EmbeddedDefinitions())
      c->all.push_back(nlohmann::json::parse(text));
    for (const nlohmann::json& d : c->all) {
      c->by_id[{d.at("resourceType").get<std::string>(), d.at("id").get<std::string>()}] = &d;
      c->by_url[d.at("url").get<std::string>()] = &d;
      if (d.at("resourceType") == "CodeSystem") {
        auto& codes = c->displays[d.at("id").get<std::string>()];
        for (const nlohmann::json& entry : d.value("concept", nlohmann::json::array())) {
          codes[entry.at("code").get<std::string>()] = entry.value("display", "");
        }
      }
    }
    return c;
  }();
  return *catalogue;
}

}  // namespace

const nlohmann::json* Definition(std::string_view type, std::string_view id) {
  const auto& by_id = TheCatalogue().by_id;
  auto it = by_id.find(std::make_pair(std::string(type), std::string(id)));
  return it == by_id.end() ? nullptr : it->second;
}

std::vector<const nlohmann::json*> Definitions() {
  std::vector<const nlohmann::json*> out;
  for (const nlohmann::json& d : TheCatalogue().all) out.push_back(&d);
  return out;
}

const nlohmann::json* DefinitionByUrl(std::string_view url) {
  const auto& by_url = TheCatalogue().by_url;
  auto it = by_url.find(url);
  return it == by_url.end() ? nullptr : it->second;
}

const std::string* ProjectCodeDisplay(std::string_view code_system_id, std::string_view code) {
  const auto& displays = TheCatalogue().displays;
  auto cs = displays.find(code_system_id);
  if (cs == displays.end()) return nullptr;
  auto it = cs->second.find(code);
  return it == cs->second.end() ? nullptr : &it->second;
}

}  // namespace icr::fhir
