#include "services/fhir/transaction.h"

#include <google/protobuf/util/time_util.h>

#include <optional>
#include <string_view>

#include "services/common/validation.h"
#include "services/fhir/resources.h"

namespace icr::fhir {
namespace {

constexpr int kMaxEvents = 1000;
constexpr std::string_view kIdentifierQuery = "identifier=";
const std::string kUkCoreSd = "https://fhir.hl7.org.uk/StructureDefinition/";
const std::string kUkCoreCs = "https://fhir.hl7.org.uk/CodeSystem/";

// The first problem found: thrown inside the parser, returned by ParseTransaction.
struct Refusal {
  BundleError error;
};

[[noreturn]] void Refuse(int http, std::string code, std::string path, std::string why) {
  throw Refusal{{http, std::move(code), std::move(path), std::move(why)}};
}
[[noreturn]] void Invalid(const std::string& path, const std::string& why) {
  Refuse(400, "invalid", path, why);
}
[[noreturn]] void Required(const std::string& path) { Refuse(400, "required", path, "required"); }
[[noreturn]] void NotSupported(const std::string& path, const std::string& why) {
  Refuse(422, "not-supported", path, why);
}

std::string Index(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// Element access with FHIR's shapes checked: each names the element's FHIRPath when wrong.
const Json* Member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}
const Json* Object(const Json& object, const char* key, const std::string& path) {
  const Json* j = Member(object, key);
  if (j && !j->is_object()) Invalid(path, "must be an object");
  return j;
}
const Json& RequiredObject(const Json& object, const char* key, const std::string& path) {
  const Json* j = Object(object, key, path);
  if (!j) Required(path);
  return *j;
}
const Json* Array(const Json& object, const char* key, const std::string& path) {
  const Json* j = Member(object, key);
  if (j && !j->is_array()) Invalid(path, "must be an array");
  return j;
}
std::optional<std::string> String(const Json& object, const char* key, const std::string& path) {
  const Json* j = Member(object, key);
  if (!j) return std::nullopt;
  if (!j->is_string()) Invalid(path, "must be a string");
  return j->get<std::string>();
}
std::string RequiredString(const Json& object, const char* key, const std::string& path) {
  auto s = String(object, key, path);
  if (!s || s->empty()) Required(path);
  return *s;
}

// The code of the first coding of `system` in a CodeableConcept, "" when none (the service
// then refuses a required code as missing).
std::string CodeOf(const Json& codeable, std::string_view system, const std::string& path) {
  if (!codeable.is_object()) Invalid(path, "must be a CodeableConcept");
  const Json* codings = Array(codeable, "coding", path + ".coding");
  if (!codings) return "";
  for (size_t i = 0; i < codings->size(); ++i) {
    const std::string p = path + Index(".coding", i);
    const Json& c = (*codings)[i];
    if (!c.is_object()) Invalid(p, "must be a Coding");
    if (String(c, "system", p + ".system").value_or("") == system) {
      return String(c, "code", p + ".code").value_or("");
    }
  }
  return "";
}

// An extension of `url` in element's extension[], with its path; nullptr when none.
const Json* Extension(const Json& element, const std::string& url, const std::string& path,
                      std::string* found_path) {
  const Json* exts = Array(element, "extension", path + ".extension");
  if (!exts) return nullptr;
  for (size_t i = 0; i < exts->size(); ++i) {
    const std::string p = path + Index(".extension", i);
    const Json& e = (*exts)[i];
    if (!e.is_object()) Invalid(p, "must be an Extension");
    if (String(e, "url", p + ".url").value_or("") == url) {
      *found_path = p;
      return &e;
    }
  }
  return nullptr;
}

// The ODS code of a logical reference (Reference.identifier with the ODS system), "" if none.
std::string OdsOf(const Json* reference, const std::string& path) {
  if (!reference) return "";
  if (!reference->is_object()) Invalid(path, "must be a Reference");
  const Json* id = Object(*reference, "identifier", path + ".identifier");
  if (!id || String(*id, "system", path + ".identifier.system").value_or("") != kOdsSystem) {
    return "";
  }
  return String(*id, "value", path + ".identifier.value").value_or("");
}

// The ODS code of the first Reference in resource[key] (an array) that has one, and in *at its
// path (that of the array when none has).
std::string FirstOds(const Json& resource, const char* key, const std::string& r, std::string* at) {
  *at = r + "." + key;
  const Json* refs = Array(resource, key, *at);
  for (size_t k = 0; refs && k < refs->size(); ++k) {
    const std::string path = r + Index(std::string(".") + key, k);
    if (std::string ods = OdsOf(&(*refs)[k], path); !ods.empty()) {
      *at = path;
      return ods;
    }
  }
  return "";
}

// The end of a spell's or an episode's period (r: the resource's path): none while it is not
// finished; one that is finished needs it.
std::optional<std::string> EndOf(const Json& period, const std::string& status,
                                 const std::string& r) {
  auto end = String(period, "end", r + ".period.end");
  if (!end && status == "finished") {
    Refuse(400, "required", r + ".period.end", "status finished needs the period's end");
  }
  return end;
}

// The repetition of a HumanName or Address to read: the first whose `use` is this, else the
// first.
size_t Preferred(const Json& repetitions, std::string_view use) {
  for (size_t n = 0; n < repetitions.size(); ++n) {
    const Json& e = repetitions[n];
    const Json* u = e.is_object() ? Member(e, "use") : nullptr;
    if (u && u->is_string() && u->get<std::string>() == use) return n;
  }
  return 0;
}

// A FHIR date, or the date of a dateTime, as YYYY-MM-DD (the record holds whole days).
std::string DateOf(const std::string& value, const std::string& path) {
  const std::string day = value.substr(0, 10);
  if (!ParseDate(day) || (value.size() > 10 && value[10] != 'T')) {
    Invalid(path, "not a date (YYYY-MM-DD)");
  }
  if (value.size() > 10) {
    google::protobuf::Timestamp ignored;
    if (!google::protobuf::util::TimeUtil::FromString(value, &ignored)) {
      Invalid(path, "not a dateTime (YYYY-MM-DDThh:mm:ss+zz:zz)");
    }
  }
  return day;
}

// A dateTime with a time and offset, as an instant.
google::protobuf::Timestamp InstantOf(const std::string& value, const std::string& path) {
  google::protobuf::Timestamp t;
  if (value.size() <= 10 || !ParseDate(value.substr(0, 10)) ||
      !google::protobuf::util::TimeUtil::FromString(value, &t)) {
    Invalid(path, "not a dateTime with a time and offset (YYYY-MM-DDThh:mm:ss+zz:zz)");
  }
  return t;
}

// "identifier=https://fhir.nhs.uk/Id/nhs-number|N" (a search or conditional URL's query) -> N;
// nullopt when it is not that.
std::optional<std::string> NhsNumberQuery(std::string_view query) {
  if (query.substr(0, kIdentifierQuery.size()) != kIdentifierQuery) return std::nullopt;
  query.remove_prefix(kIdentifierQuery.size());
  const std::string system = std::string(kNhsNumberSystem) + "|";
  std::string q(query);
  // The system's ':' and '/' may come percent-encoded, and '|' as %7C.
  for (auto [from, to] : {std::pair<std::string, std::string>{"%3A", ":"},
                          {"%3a", ":"},
                          {"%2F", "/"},
                          {"%2f", "/"},
                          {"%7C", "|"},
                          {"%7c", "|"}}) {
    for (size_t at = q.find(from); at != std::string::npos; at = q.find(from, at)) {
      q.replace(at, from.size(), to);
    }
  }
  if (q.compare(0, system.size(), system) != 0) return std::nullopt;
  std::string nhs = q.substr(system.size());
  if (nhs.empty() || nhs.find('&') != std::string::npos) return std::nullopt;
  return nhs;
}

// The event id of an entry: its identifier with the project's event system, else its fullUrl
// (urn:uuid:X -> X; a URL -> its last segment).
struct EventId {
  std::string id;
  std::string path;  // the element it came from
};
EventId EventIdOf(const Json& entry, const Json& resource, const std::string& at) {
  const std::string event_system = kCanon + "/Id/event";
  if (const Json* ids = Array(resource, "identifier", at + ".resource.identifier")) {
    for (size_t i = 0; i < ids->size(); ++i) {
      const std::string p = at + ".resource" + Index(".identifier", i);
      if (!(*ids)[i].is_object()) Invalid(p, "must be an Identifier");
      if (String((*ids)[i], "system", p + ".system").value_or("") == event_system) {
        return {RequiredString((*ids)[i], "value", p + ".value"), p + ".value"};
      }
    }
  }
  const std::string full = String(entry, "fullUrl", at + ".fullUrl").value_or("");
  std::string id;
  if (full.rfind("urn:uuid:", 0) == 0) {
    id = full.substr(9);
  } else if (full.rfind("http://", 0) == 0 || full.rfind("https://", 0) == 0) {
    const std::string trimmed = full.substr(0, full.find_last_not_of('/') + 1);
    id = trimmed.substr(trimmed.rfind('/') + 1);
  }
  if (id.empty()) {
    Invalid(at + ".fullUrl",
            "an event id is needed: a fullUrl (urn:uuid:... or a URL) or an identifier with "
            "system " +
                event_system);
  }
  return {id, at + ".fullUrl"};
}

class Parser {
 public:
  explicit Parser(TransactionRequest& out) : out_(out) {}

  void Parse(const Json& bundle) {
    if (!bundle.is_object()) Invalid("Bundle", "not a JSON object");
    if (String(bundle, "resourceType", "Bundle.resourceType").value_or("") != "Bundle") {
      Invalid("Bundle.resourceType", "must be Bundle");
    }
    if (String(bundle, "type", "Bundle.type").value_or("") != "transaction") {
      Invalid("Bundle.type", "must be transaction");
    }
    const Json* entries = Array(bundle, "entry", "Bundle.entry");
    if (!entries || entries->empty()) Required("Bundle.entry");
    // First the entries' kinds and the Patients' fullUrls, so an event may name a Patient that
    // comes after it; then the people (stored first), then the events.
    for (size_t i = 0; i < entries->size(); ++i) {
      const std::string at = Index("Bundle.entry", i);
      const Json& entry = (*entries)[i];
      if (!entry.is_object()) Invalid(at, "must be an object");
      const Json& resource = RequiredObject(entry, "resource", at + ".resource");
      const std::string type =
          RequiredString(resource, "resourceType", at + ".resource.resourceType");
      if (type != "Patient" && type != "Encounter" && type != "EpisodeOfCare" &&
          type != "Observation") {
        NotSupported(at + ".resource.resourceType",
                     type +
                         " is not supported in a transaction (Patient, Encounter, "
                         "EpisodeOfCare, Observation)");
      }
      out_.entries.emplace_back().resource_type = type;
      if (type == "EpisodeOfCare" || type == "Encounter") {
        // Their fullUrls name the referral and the spell for the events that point at them.
        const std::string full = String(entry, "fullUrl", at + ".fullUrl").value_or("");
        if (!full.empty()) local_event_ids_[full] = EventIdOf(entry, resource, at).id;
      }
    }
    for (size_t i = 0; i < entries->size(); ++i) {
      if (out_.entries[i].resource_type == "Patient") Patient((*entries)[i], i);
    }
    for (size_t i = 0; i < entries->size(); ++i) {
      const auto& type = out_.entries[i].resource_type;
      const Json& entry = (*entries)[i];
      if (type == "Encounter") Encounter(entry, i);
      if (type == "EpisodeOfCare") Episode(entry, i);
      if (type == "Observation") Observation(entry, i);
    }
    if (out_.request.events_size() > kMaxEvents) {
      Invalid("Bundle.entry", "at most 1000 events in one transaction (this one makes " +
                                  std::to_string(out_.request.events_size()) + ")");
    }
  }

 private:
  TransactionRequest& out_;
  std::map<std::string, std::string> local_event_ids_;  // fullUrl -> its event id
  std::map<std::string, std::string> patients_;         // fullUrl of a Patient entry -> NHS number

  void Origin(const std::string& field, const std::string& path) { out_.origin[field] = path; }

  // A resource's status (required); one that withdraws what it records is not supported: the
  // record keeps what was sent (a correction is sent as a new resource, or to the service).
  static std::string Status(const Json& resource, const std::string& r) {
    std::string status = RequiredString(resource, "status", r + ".status");
    if (status == "entered-in-error" || status == "cancelled") {
      NotSupported(r + ".status", status + " is not supported: nothing is removed from the record");
    }
    return status;
  }

  // The code (of `system`) in the valueCodeableConcept of element's extension `url` ("" when it
  // has none), recording it as the origin of `field` (when it has none: `at`, the element's
  // path, unless an origin is recorded already).
  std::string ExtensionCode(const Json& element, const std::string& at, const std::string& url,
                            const std::string& system, const std::string& field) {
    std::string xp;
    const Json* e = Extension(element, url, at, &xp);
    if (!e) {
      out_.origin.emplace(field, at);
      return "";
    }
    const std::string vp = xp + ".valueCodeableConcept";
    Origin(field, vp);
    return CodeOf(RequiredObject(*e, "valueCodeableConcept", vp), system, vp);
  }

  // request.method (and url), required of every entry of a transaction.
  std::string Method(const Json& entry, const std::string& at) {
    const Json& request = RequiredObject(entry, "request", at + ".request");
    const std::string method = RequiredString(request, "method", at + ".request.method");
    if (method != "POST" && method != "PUT") {
      NotSupported(at + ".request.method", method + " is not supported (POST or PUT)");
    }
    return method;
  }

  void Patient(const Json& entry, size_t i) {
    const std::string at = Index("Bundle.entry", i), r = at + ".resource";
    const Json& resource = entry["resource"];
    const std::string method = Method(entry, at);
    const Json& request = entry["request"];
    const std::string field = Index("people", out_.request.people_size());
    auto* upsert = out_.request.add_people();
    out_.entries[i].person = out_.request.people_size() - 1;
    auto* p = upsert->mutable_person();
    Origin(field, r);

    // The NHS number slice (required).
    if (const Json* ids = Array(resource, "identifier", r + ".identifier")) {
      for (size_t k = 0; k < ids->size(); ++k) {
        const std::string ip = r + Index(".identifier", k);
        if (!(*ids)[k].is_object()) Invalid(ip, "must be an Identifier");
        if (String((*ids)[k], "system", ip + ".system").value_or("") == kNhsNumberSystem) {
          p->set_nhs_number(RequiredString((*ids)[k], "value", ip + ".value"));
          Origin(field + ".person.nhs_number", ip + ".value");
          break;
        }
      }
    }
    if (p->nhs_number().empty()) {
      Refuse(400, "required", r + ".identifier",
             "an identifier with system " + std::string(kNhsNumberSystem) + " is required");
    }
    // Where each field belongs when the resource does not carry it (the service names it).
    for (const char* f : {".person.family_name", ".person.given_name"})
      Origin(field + f, r + ".name");
    for (const char* f : {".person.postcode", ".person.council_code"}) {
      Origin(field + f, r + ".address");
    }
    Origin(field + ".person.ethnic_category", r + ".extension");
    if (const Json* names = Array(resource, "name", r + ".name"); names && !names->empty()) {
      const size_t k = Preferred(*names, "official");
      const std::string np = r + Index(".name", k);
      const Json& name = (*names)[k];
      if (!name.is_object()) Invalid(np, "must be a HumanName");
      p->set_family_name(String(name, "family", np + ".family").value_or(""));
      Origin(field + ".person.family_name", np + ".family");
      if (const Json* given = Array(name, "given", np + ".given")) {
        std::string joined;
        for (size_t g = 0; g < given->size(); ++g) {
          if (!(*given)[g].is_string()) Invalid(np + Index(".given", g), "must be a string");
          joined += (joined.empty() ? "" : " ") + (*given)[g].get<std::string>();
        }
        p->set_given_name(joined);
      }
      Origin(field + ".person.given_name", np + ".given");
    }
    if (auto gender = String(resource, "gender", r + ".gender")) {
      static const std::map<std::string, std::string> kSex = {
          {"male", "1"}, {"female", "2"}, {"other", "9"}, {"unknown", "0"}};
      auto it = kSex.find(*gender);
      if (it == kSex.end()) Invalid(r + ".gender", "male, female, other or unknown");
      p->set_sex(it->second);
    }
    Origin(field + ".person.sex", r + ".gender");
    if (auto birth = String(resource, "birthDate", r + ".birthDate")) {
      if (!ParseDate(*birth)) Invalid(r + ".birthDate", "a full date (YYYY-MM-DD) is needed");
      p->set_date_of_birth(*birth);
    }
    Origin(field + ".person.date_of_birth", r + ".birthDate");
    // A death is an event of its own (the record keeps who recorded it, and the S117 follower
    // acts on it): deceasedDateTime -> Death, its id the entry's + ":death".
    if (const Json* deceased = Member(resource, "deceasedDateTime")) {
      if (!deceased->is_string() || deceased->get<std::string>().size() < 10 ||
          !ParseDate(deceased->get<std::string>().substr(0, 10))) {
        Invalid(r + ".deceasedDateTime", "a date or dateTime (YYYY-MM-DD...) is needed");
      }
      const EventId id = EventIdOf(entry, resource, at);
      std::string death_field;
      NewEvent(i, id.id + ":death", id.path, p->nhs_number(), r + ".identifier", &death_field)
          ->mutable_death()
          ->set_date_of_death(deceased->get<std::string>().substr(0, 10));
      Origin(death_field + ".death.date_of_death", r + ".deceasedDateTime");
    } else if (const Json* flag = Member(resource, "deceasedBoolean");
               flag && flag->is_boolean() && flag->get<bool>()) {
      Refuse(422, "not-supported", r + ".deceasedBoolean",
             "a death is recorded with its date: send deceasedDateTime");
    }
    p->set_ethnic_category(ExtensionCode(resource, r, kUkCoreSd + "Extension-UKCore-EthnicCategory",
                                         kUkCoreCs + "UKCore-EthnicCategoryEngland",
                                         field + ".person.ethnic_category"));
    if (const Json* addresses = Array(resource, "address", r + ".address");
        addresses && !addresses->empty()) {
      const size_t k = Preferred(*addresses, "home");
      const std::string ap = r + Index(".address", k);
      const Json& address = (*addresses)[k];
      if (!address.is_object()) Invalid(ap, "must be an Address");
      p->set_postcode(String(address, "postalCode", ap + ".postalCode").value_or(""));
      Origin(field + ".person.postcode", ap + ".postalCode");
      std::string xp;
      if (const Json* la = Extension(
              address, kCanon + "/StructureDefinition/Extension-ICR-LocalAuthorityOfResidence", ap,
              &xp)) {
        const Json& coding = RequiredObject(*la, "valueCoding", xp + ".valueCoding");
        p->set_council_code(String(coding, "code", xp + ".valueCoding.code").value_or(""));
        Origin(field + ".person.council_code", xp + ".valueCoding");
      }
    }
    std::string icb_path;
    if (const Json* icb = Extension(
            resource, kCanon + "/StructureDefinition/Extension-ICR-ResponsibleICB", r, &icb_path)) {
      p->set_icb_code(OdsOf(&RequiredObject(*icb, "valueReference", icb_path + ".valueReference"),
                            icb_path + ".valueReference"));
      Origin(field + ".person.icb_code", icb_path + ".valueReference");
    }
    std::string gp;
    p->set_gp_practice_code(FirstOds(resource, "generalPractitioner", r, &gp));
    Origin(field + ".person.gp_practice_code", gp);
    Origin(field + ".person.local_identifiers", r + ".identifier");

    // Conditional create (POST, ifNoneExist on the NHS number) or update (PUT, If-Match).
    const Json& req = request;
    if (method == "POST") {
      upsert->set_create_only(true);
      if (auto cond = String(req, "ifNoneExist", at + ".request.ifNoneExist")) {
        auto nhs = NhsNumberQuery(*cond);
        if (!nhs) {
          NotSupported(at + ".request.ifNoneExist",
                       "only identifier=" + std::string(kNhsNumberSystem) + "|{NHS number}");
        }
        if (*nhs != p->nhs_number()) {
          Invalid(at + ".request.ifNoneExist", "names another NHS number than the resource");
        }
      }
      if (Member(req, "ifMatch")) Invalid(at + ".request.ifMatch", "only for PUT");
    } else {
      const std::string url = RequiredString(req, "url", at + ".request.url");
      if (url.rfind("Patient?", 0) == 0) {
        auto nhs = NhsNumberQuery(url.substr(8));
        if (!nhs) {
          NotSupported(at + ".request.url",
                       "Patient?identifier=" + std::string(kNhsNumberSystem) + "|{NHS number}");
        }
        if (*nhs != p->nhs_number()) {
          Invalid(at + ".request.url", "names another NHS number than the resource");
        }
      } else if (url.rfind("Patient/", 0) != 0 || url.size() == 8) {
        Invalid(at + ".request.url", "Patient/{id} or Patient?identifier=...");
      }
      if (auto match = String(req, "ifMatch", at + ".request.ifMatch")) {
        // W/"3" (or "3"): the version last read.
        std::string v = *match;
        if (v.rfind("W/", 0) == 0) v = v.substr(2);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoll(v) <= 0) {
          Invalid(at + ".request.ifMatch", "a version ETag, W/\"{version}\"");
        }
        upsert->set_expected_version(std::stoll(v));
        Origin(field + ".expected_version", at + ".request.ifMatch");
      }
    }
    if (auto full = String(entry, "fullUrl", at + ".fullUrl"); full && !full->empty()) {
      patients_[*full] = p->nhs_number();
    }
  }

  // The NHS number of the person a reference names: a Bundle-local Patient's fullUrl, a
  // conditional reference on the NHS number, or a logical reference with that identifier.
  std::string PersonOf(const Json& resource, const char* key, const std::string& path) {
    const Json* ref = Object(resource, key, path);
    if (!ref) Required(path);
    if (const Json* id = Object(*ref, "identifier", path + ".identifier")) {
      if (String(*id, "system", path + ".identifier.system").value_or("") == kNhsNumberSystem) {
        return RequiredString(*id, "value", path + ".identifier.value");
      }
    }
    const auto reference = String(*ref, "reference", path + ".reference");
    if (!reference) {
      Refuse(400, "required", path,
             "a reference to a Patient of this Bundle or an NHS number identifier is needed");
    }
    if (auto it = patients_.find(*reference); it != patients_.end()) return it->second;
    if (reference->rfind("Patient?", 0) == 0) {
      if (auto nhs = NhsNumberQuery(reference->substr(8))) return *nhs;
    }
    if (reference->rfind("Patient/", 0) == 0) {
      NotSupported(path + ".reference",
                   "a Patient/{id} reference cannot be resolved in a transaction: use the NHS "
                   "number (identifier " +
                       std::string(kNhsNumberSystem) +
                       ", or Patient?identifier=...) or a Patient entry of this Bundle");
    }
    Invalid(path + ".reference",
            "names no Patient of this Bundle (fullUrl) and no NHS number identifier");
  }

  // The event id of the Encounter or EpisodeOfCare a reference names (a Bundle-local fullUrl,
  // or an identifier with the project's event system); "" when absent.
  std::string LocalEventOf(const Json& resource, const char* key, const std::string& path) {
    const Json* ref = Member(resource, key);
    if (!ref) return "";
    if (ref->is_array()) {
      if (ref->empty()) return "";
      ref = &(*ref)[0];
    }
    if (!ref->is_object()) Invalid(path, "must be a Reference");
    if (const Json* id = Object(*ref, "identifier", path + ".identifier")) {
      if (String(*id, "system", path + ".identifier.system").value_or("") == kCanon + "/Id/event") {
        return String(*id, "value", path + ".identifier.value").value_or("");
      }
    }
    const std::string reference = String(*ref, "reference", path + ".reference").value_or("");
    auto it = local_event_ids_.find(reference);
    return it == local_event_ids_.end() ? "" : it->second;
  }

  icr::v1::Event* NewEvent(size_t i, const std::string& id, const std::string& id_path,
                           const std::string& nhs, const std::string& subject_path,
                           std::string* field) {
    *field = Index("events", out_.request.events_size());
    auto* e = out_.request.add_events();
    out_.entries[i].events.push_back(out_.request.events_size() - 1);
    e->set_event_id(id);
    e->set_nhs_number(nhs);
    Origin(*field, Index("Bundle.entry", i) + ".resource");
    Origin(*field + ".event_id", id_path);
    Origin(*field + ".nhs_number", subject_path);
    return e;
  }

  void Encounter(const Json& entry, size_t i) {
    const std::string at = Index("Bundle.entry", i), r = at + ".resource";
    const Json& resource = entry["resource"];
    Method(entry, at);
    const EventId id = EventIdOf(entry, resource, at);
    const Json& cls = RequiredObject(resource, "class", r + ".class");
    if (String(cls, "code", r + ".class.code").value_or("") != "IMP") {
      NotSupported(r + ".class", "only hospital spells (class IMP) are written");
    }
    const std::string status = Status(resource, r);
    const std::string nhs = PersonOf(resource, "subject", r + ".subject");
    const Json& period = RequiredObject(resource, "period", r + ".period");
    std::string field;
    auto* a = NewEvent(i, id.id, id.path, nhs, r + ".subject", &field)->mutable_admission();
    a->set_spell_id(id.id);
    Origin(field + ".admission.spell_id", id.path);
    *a->mutable_admitted_at() =
        InstantOf(RequiredString(period, "start", r + ".period.start"), r + ".period.start");
    Origin(field + ".admission.admitted_at", r + ".period.start");
    a->set_provider_code(OdsOf(Member(resource, "serviceProvider"), r + ".serviceProvider"));
    Origin(field + ".admission.provider_code", r + ".serviceProvider");
    Origin(field + ".admission.bed_type", r + ".location");  // where it belongs when absent
    // On the Encounter itself (as the read side emits it) or on a ward stay (location).
    a->set_bed_type(ExtensionCode(resource, r,
                                  kCanon + "/StructureDefinition/Extension-ICR-MentalHealthBedType",
                                  kCanon + "/CodeSystem/nhsdd-mh-bed-type",
                                  field + ".admission.bed_type"));
    if (const Json* locations = a->bed_type().empty()
                                    ? Array(resource, "location", r + ".location")
                                    : nullptr) {
      for (size_t k = 0; k < locations->size(); ++k) {
        const std::string lp = r + Index(".location", k);
        if (!(*locations)[k].is_object()) Invalid(lp, "must be an object");
        a->set_bed_type(ExtensionCode(
            (*locations)[k], lp, kCanon + "/StructureDefinition/Extension-ICR-MentalHealthBedType",
            kCanon + "/CodeSystem/nhsdd-mh-bed-type", field + ".admission.bed_type"));
        if (!a->bed_type().empty()) break;
      }
    }
    const Json* hosp = Object(resource, "hospitalization", r + ".hospitalization");
    Origin(field + ".admission.admission_method", r + ".hospitalization");
    if (hosp) {
      a->set_admission_method(ExtensionCode(
          *hosp, r + ".hospitalization", kUkCoreSd + "Extension-UKCore-AdmissionMethod",
          kUkCoreCs + "UKCore-AdmissionMethodEngland", field + ".admission.admission_method"));
    }
    a->set_referral_id(LocalEventOf(resource, "episodeOfCare", r + ".episodeOfCare"));
    Origin(field + ".admission.referral_id", r + ".episodeOfCare");

    const auto end = EndOf(period, status, r);
    if (!end) return;
    auto* d = NewEvent(i, id.id + ":discharge", id.path, nhs, r + ".subject", &field)
                  ->mutable_discharge();
    d->set_spell_id(id.id);
    Origin(field + ".discharge.spell_id", id.path);
    *d->mutable_discharged_at() = InstantOf(*end, r + ".period.end");
    Origin(field + ".discharge.discharged_at", r + ".period.end");
    d->set_discharge_method(ExtensionCode(
        resource, r, kUkCoreSd + "Extension-UKCore-DischargeMethod",
        kUkCoreCs + "UKCore-DischargeMethodEngland", field + ".discharge.discharge_method"));
    if (hosp) {
      if (const Json* dd =
              Object(*hosp, "dischargeDisposition", r + ".hospitalization.dischargeDisposition")) {
        d->set_discharge_destination(CodeOf(*dd, kUkCoreCs + "UKCore-DischargeDestinationEngland",
                                            r + ".hospitalization.dischargeDisposition"));
      }
    }
    Origin(field + ".discharge.discharge_destination", r + ".hospitalization.dischargeDisposition");
  }

  void Episode(const Json& entry, size_t i) {
    const std::string at = Index("Bundle.entry", i), r = at + ".resource";
    const Json& resource = entry["resource"];
    Method(entry, at);
    const EventId id = EventIdOf(entry, resource, at);
    std::string team, area;
    if (const Json* types = Array(resource, "type", r + ".type")) {
      for (size_t k = 0; k < types->size(); ++k) {
        const std::string tp = r + Index(".type", k);
        if (CodeOf((*types)[k], kCanon + "/CodeSystem/episode-type", tp) == "S117_AFTERCARE") {
          NotSupported(tp, "S117 entitlements are recorded through the S117 register");
        }
        if (std::string c = CodeOf((*types)[k], kCanon + "/CodeSystem/nhsdd-service-team-type", tp);
            !c.empty()) {
          team = c;
        }
        if (std::string c = CodeOf((*types)[k], kCanon + "/CodeSystem/service-area", tp);
            !c.empty()) {
          area = c;
        }
      }
    }
    const std::string status = Status(resource, r);
    const std::string nhs = PersonOf(resource, "patient", r + ".patient");
    const Json& period = RequiredObject(resource, "period", r + ".period");
    std::string field;
    auto* o = NewEvent(i, id.id, id.path, nhs, r + ".patient", &field)->mutable_referral_opened();
    o->set_referral_id(id.id);
    Origin(field + ".referral_opened.referral_id", id.path);
    o->set_provider_code(
        OdsOf(Member(resource, "managingOrganization"), r + ".managingOrganization"));
    Origin(field + ".referral_opened.provider_code", r + ".managingOrganization");
    o->set_team_type(team);
    o->set_service_area(area);
    Origin(field + ".referral_opened.team_type", r + ".type");
    Origin(field + ".referral_opened.service_area", r + ".type");
    o->set_received_date(
        DateOf(RequiredString(period, "start", r + ".period.start"), r + ".period.start"));
    Origin(field + ".referral_opened.received_date", r + ".period.start");

    const auto end = EndOf(period, status, r);
    if (!end) return;
    auto* c = NewEvent(i, id.id + ":closed", id.path, nhs, r + ".patient", &field)
                  ->mutable_referral_closed();
    c->set_referral_id(id.id);
    Origin(field + ".referral_closed.referral_id", id.path);
    c->set_closed_date(DateOf(*end, r + ".period.end"));
    Origin(field + ".referral_closed.closed_date", r + ".period.end");
  }

  void Observation(const Json& entry, size_t i) {
    const std::string at = Index("Bundle.entry", i), r = at + ".resource";
    const Json& resource = entry["resource"];
    Method(entry, at);
    const EventId id = EventIdOf(entry, resource, at);
    const std::string code = CodeOf(RequiredObject(resource, "code", r + ".code"),
                                    kCanon + "/CodeSystem/observation-code", r + ".code");
    if (code != "EMPLOYMENT_STATUS" && code != "ACCOMMODATION_STATUS" &&
        code != "MHA_LEGAL_STATUS") {
      NotSupported(r + ".code",
                   "only EMPLOYMENT_STATUS, ACCOMMODATION_STATUS and MHA_LEGAL_STATUS "
                   "observations (system " +
                       kCanon + "/CodeSystem/observation-code)");
    }
    Status(resource, r);
    const std::string nhs = PersonOf(resource, "subject", r + ".subject");
    const Json& value =
        RequiredObject(resource, "valueCodeableConcept", r + ".valueCodeableConcept");
    const std::string vp = r + ".valueCodeableConcept";
    std::string field;
    if (code == "MHA_LEGAL_STATUS") {
      const Json& period = RequiredObject(resource, "effectivePeriod", r + ".effectivePeriod");
      auto* s = NewEvent(i, id.id, id.path, nhs, r + ".subject", &field)->mutable_detention_start();
      s->set_detention_id(id.id);
      Origin(field + ".detention_start.detention_id", id.path);
      s->set_legal_status_code(
          CodeOf(value, kUkCoreCs + "UKCore-LegalStatusClassificationEngland", vp));
      Origin(field + ".detention_start.legal_status_code", vp);
      *s->mutable_started_at() =
          InstantOf(RequiredString(period, "start", r + ".effectivePeriod.start"),
                    r + ".effectivePeriod.start");
      Origin(field + ".detention_start.started_at", r + ".effectivePeriod.start");
      s->set_spell_id(LocalEventOf(resource, "encounter", r + ".encounter"));
      Origin(field + ".detention_start.spell_id", r + ".encounter");
      std::string pp;
      s->set_provider_code(FirstOds(resource, "performer", r, &pp));
      Origin(field + ".detention_start.provider_code", pp);
      const auto end = String(period, "end", r + ".effectivePeriod.end");
      if (!end) return;
      auto* e = NewEvent(i, id.id + ":end", id.path, nhs, r + ".subject", &field)
                    ->mutable_detention_end();
      e->set_detention_id(id.id);
      Origin(field + ".detention_end.detention_id", id.path);
      *e->mutable_ended_at() = InstantOf(*end, r + ".effectivePeriod.end");
      Origin(field + ".detention_end.ended_at", r + ".effectivePeriod.end");
      return;
    }
    const std::string when =
        DateOf(RequiredString(resource, "effectiveDateTime", r + ".effectiveDateTime"),
               r + ".effectiveDateTime");
    auto* e = NewEvent(i, id.id, id.path, nhs, r + ".subject", &field);
    if (code == "EMPLOYMENT_STATUS") {
      auto* s = e->mutable_employment_status();
      s->set_code(CodeOf(value, kCanon + "/CodeSystem/nhsdd-employment-status", vp));
      s->set_recorded_date(when);
      Origin(field + ".employment_status.code", vp);
      Origin(field + ".employment_status.recorded_date", r + ".effectiveDateTime");
    } else {
      auto* s = e->mutable_accommodation_status();
      s->set_code(CodeOf(value, kCanon + "/CodeSystem/nhsdd-accommodation", vp));
      s->set_recorded_date(when);
      Origin(field + ".accommodation_status.code", vp);
      Origin(field + ".accommodation_status.recorded_date", r + ".effectiveDateTime");
    }
  }
};

}  // namespace

absl::StatusOr<TransactionRequest> ParseTransaction(const nlohmann::json& bundle,
                                                    BundleError* error) {
  TransactionRequest out;
  try {
    Parser(out).Parse(bundle);
  } catch (const nlohmann::json::exception& e) {  // a shape the checks above missed
    if (error) *error = {400, "invalid", "Bundle", e.what()};
    return absl::InvalidArgumentError(std::string("Bundle: ") + e.what());
  } catch (const Refusal& r) {
    if (error) *error = r.error;
    const std::string message = r.error.expression + ": " + r.error.diagnostics;
    return r.error.http_status == 400 ? absl::InvalidArgumentError(message)
                                      : absl::FailedPreconditionError(message);
  }
  return out;
}

std::string FhirPathOf(const TransactionRequest& tx, const std::string& grpc_field) {
  // "events[3].admission.admitted_at: reason" -> "events[3].admission.admitted_at"
  std::string field = grpc_field.substr(0, grpc_field.find(": "));
  field = field.substr(0, field.find(' '));
  // The longest recorded prefix ending at a path boundary: exactly the field when the mapping
  // recorded it, else its event's or person's resource.
  while (!field.empty()) {
    if (auto it = tx.origin.find(field); it != tx.origin.end()) return it->second;
    const size_t cut = field.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    field = field.substr(0, cut);
  }
  return "Bundle";
}

}  // namespace icr::fhir
