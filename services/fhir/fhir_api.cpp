#include "services/fhir/fhir_api.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>

#include "services/common/url.h"
#include "services/common/validation.h"
#include "services/fhir/capability.h"
#include "services/fhir/definitions.h"
#include "services/fhir/export_jobs.h"
#include "services/fhir/outcome.h"
#include "services/fhir/resources.h"
#include "services/fhir/transaction.h"

namespace icr::fhir {
namespace {

using Json = nlohmann::json;

constexpr int kDefaultCount = 50;
constexpr int kMaxCount = 500;
constexpr auto kCallDeadline = std::chrono::seconds(30);
// The HTTP headers a call carries on to the gRPC services (their metadata).
constexpr const char* kForwardedHeaders[] = {"authorization", "x-purpose-of-use", "x-request-id",
                                             "x-break-glass-reason"};

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  // A refusal may quote what the client sent (a parameter's name): bytes that are not UTF-8
  // become U+FFFD rather than an exception.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse Refusal(absl::StatusCode code, const std::string& diagnostics,
                     const std::string& expression = "", bool if_match = false) {
  return JsonResponse(HttpStatusOf(code, if_match),
                      OperationOutcome(IssueCodeOf(code), diagnostics, expression));
}

HttpResponse Invalid(const std::string& expression, const std::string& diagnostics) {
  return Refusal(absl::StatusCode::kInvalidArgument, diagnostics, expression);
}

absl::StatusCode CodeOf(const grpc::Status& s) {
  return static_cast<absl::StatusCode>(s.error_code());
}

// A refusal from a gRPC service, its field named by `path_of` (a service field -> FHIRPath).
HttpResponse FromGrpc(const grpc::Status& s,
                      const std::function<std::string(const std::string&)>& path_of,
                      bool if_match = false) {
  const std::string field = RefusedField(s.error_message());
  return Refusal(CodeOf(s), s.error_message(), field.empty() ? "" : path_of(field), if_match);
}

HttpResponse FromGrpc(const grpc::Status& s) {
  return FromGrpc(s, [](const std::string&) { return std::string(); });
}

std::string UrlEncode(std::string_view s) { return PercentEncode(s, "/:"); }

// The one value of a parameter ("" when absent); several values are refused.
absl::StatusOr<std::string> Single(const HttpRequest& req, const std::string& name) {
  auto [first, last] = req.params.equal_range(name);
  if (first == last) return std::string();
  if (std::next(first) != last) {
    return absl::InvalidArgumentError(name + ": give it once");
  }
  return first->second;
}

// Parameters other than `allowed` (and the general ones) are refused: a filter ignored would
// answer with more than was asked for.
std::optional<HttpResponse> UnknownParam(const HttpRequest& req,
                                         const std::set<std::string>& allowed) {
  static const std::set<std::string> kGeneral = {"_format", "_count", "_page_token"};
  for (const auto& [name, value] : req.params) {
    if (!allowed.count(name) && !kGeneral.count(name)) {
      return Invalid(name, name +
                               ": this server does not support the parameter here (see "
                               "/metadata for what it supports)");
    }
  }
  return std::nullopt;
}

absl::StatusOr<int> Count(const HttpRequest& req) {
  auto v = Single(req, "_count");
  if (!v.ok()) return v.status();
  if (v->empty()) return kDefaultCount;
  if (v->size() > 4 || v->find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError("_count: a whole number from 1 to 500");
  }
  const int n = std::stoi(*v);
  if (n < 1 || n > kMaxCount) return absl::InvalidArgumentError("_count: from 1 to 500");
  return n;
}

HttpResponse BadParam(const absl::Status& s) {
  const std::string field = RefusedField(std::string(s.message()));
  return Invalid(field, std::string(s.message()));
}

// The person id of a `patient` parameter: "Patient/{id}", "{id}" or "{base}/Patient/{id}".
std::string PatientIdOf(const std::string& value) {
  const auto slash = value.rfind("Patient/");
  if (slash != std::string::npos) return value.substr(slash + 8);
  return value;
}

// The query string of a search's links, without the page token.
std::string Query(const HttpRequest& req) {
  std::string q;
  for (const auto& [name, value] : req.params) {
    if (name == "_page_token") continue;
    q += (q.empty() ? "" : "&") + UrlEncode(name) + "=" + UrlEncode(value);
  }
  return q;
}

Json SearchBundle(const HttpRequest& req, const std::string& type,
                  const std::vector<Json>& resources, const std::string& next_token,
                  std::optional<size_t> total) {
  const std::string query = Query(req);
  const std::string self = req.base_url + "/" + type + (query.empty() ? "" : "?" + query);
  Json bundle = {{"resourceType", "Bundle"},
                 {"type", "searchset"},
                 {"link", Json::array({{{"relation", "self"}, {"url", self}}})}};
  if (total) bundle["total"] = *total;
  if (!next_token.empty()) {
    bundle["link"].push_back(
        {{"relation", "next"},
         {"url", self + (query.empty() ? "?" : "&") + "_page_token=" + UrlEncode(next_token)}});
  }
  for (const auto& r : resources) {
    bundle["entry"].push_back(
        {{"fullUrl", req.base_url + "/" + r.value("resourceType", "") + "/" + r.value("id", "")},
         {"resource", r},
         {"search", {{"mode", "match"}}}});
  }
  return bundle;
}

// The answer for a person the caller may not see, one who does not exist, and an id that
// cannot be anyone's: one answer (a read is 404, a search finds nothing), whichever it was.
bool NoSuchPerson(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::NOT_FOUND ||
         (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
          RefusedField(s.error_message()) == "person_id");
}

HttpResponse WithETag(HttpResponse r, int64_t version) {
  r.headers.emplace_back("ETag", "W/\"" + std::to_string(version) + "\"");
  return r;
}

bool JsonAccepted(const std::string& value) {
  return value.empty() || value.find("json") != std::string::npos ||
         value.find("*/*") != std::string::npos;
}

}  // namespace

FhirApi::FhirApi(std::shared_ptr<grpc::Channel> channel, Authenticator& auth,
                 std::shared_ptr<const ReferenceData> ref, ExportJobs* exports)
    : record_(icr::v1::RecordService::NewStub(channel)),
      careplan_(icr::v1::CarePlanService::NewStub(channel)),
      auth_(auth),
      ref_(std::move(ref)),
      exports_(exports) {}

std::unique_ptr<grpc::ClientContext> FhirApi::Context(const HttpRequest& req) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  for (const char* name : kForwardedHeaders) {
    const std::string value = req.header(name);
    if (!value.empty()) ctx->AddMetadata(name, value);
  }
  return ctx;
}

HttpResponse FhirApi::Handle(const HttpRequest& req) {
  // What reaches the services must be text they can hold: parameters in UTF-8, and the headers
  // forwarded as gRPC metadata in printable ASCII.
  for (const auto& [name, value] : req.params) {
    if (!IsUtf8(name) || !IsUtf8(value)) {
      return Invalid(IsUtf8(name) ? name : "", "a query parameter is not UTF-8 text");
    }
  }
  for (const char* name : kForwardedHeaders) {
    const std::string value = req.header(name);
    if (!std::all_of(value.begin(), value.end(),
                     [](unsigned char c) { return c >= 0x20 && c < 0x7F; })) {
      return Invalid(name, std::string(name) + ": printable ASCII only");
    }
  }
  // Only JSON is spoken: _format first, then Accept.
  auto format = Single(req, "_format");
  if (!format.ok()) return BadParam(format.status());
  if (!format->empty() && *format != "json" && format->find("json") == std::string::npos) {
    HttpResponse r =
        Refusal(absl::StatusCode::kInvalidArgument,
                "_format: this server speaks JSON only (application/fhir+json)", "_format");
    r.status = 406;
    return r;
  }
  if (format->empty() && !JsonAccepted(req.header("accept")) &&
      req.path.find("/$export-file/") == std::string::npos) {
    HttpResponse r = Refusal(absl::StatusCode::kInvalidArgument,
                             "Accept: this server speaks JSON only (application/fhir+json)");
    r.status = 406;
    return r;
  }
  // What is not about anyone needs no token: the CapabilityStatement and the definitions.
  if (req.method == "GET" && req.path == "/metadata") {
    return JsonResponse(200, CapabilityStatement(req.base_url, "0.1.0", exports_ != nullptr));
  }
  static const std::regex kDefinition(
      R"(/(StructureDefinition|CodeSystem)/([A-Za-z0-9.\-]{1,64}))");
  std::smatch m;
  if (req.method == "GET" && std::regex_match(req.path, m, kDefinition)) {
    const Json* d = Definition(m[1].str(), m[2].str());
    if (!d)
      return Refusal(absl::StatusCode::kNotFound,
                     m[1].str() + "/" + m[2].str() + ": no such definition");
    return JsonResponse(200, *d);
  }
  // Every other request is authenticated here first, with the client's own address for the
  // throttle of failed tokens (the gRPC services then find the token in their cache).
  auto caller = auth_.Authenticate(req.header, req.peer);
  if (!caller.ok()) {
    HttpResponse r = Refusal(caller.status().code(), std::string(caller.status().message()));
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return Route(req, *caller);
}

HttpResponse FhirApi::Route(const HttpRequest& req, const Caller& caller) {
  static const std::regex kRead(R"(/([A-Za-z]+)/([A-Za-z0-9.\-]{1,64}))");
  static const std::regex kVread(R"(/CarePlan/([A-Za-z0-9.\-]{1,64})/_history/([0-9]{1,18}))");
  static const std::regex kEverything(R"(/Patient/([A-Za-z0-9.\-]{1,64})/\$everything)");
  static const std::regex kGroupExport(R"(/Group/([A-Za-z0-9.\-]{1,64})/\$export)");
  static const std::regex kExportStatus(R"(/\$export-status/([A-Za-z0-9\-]{1,64}))");
  static const std::regex kExportFile(
      R"(/\$export-file/([A-Za-z0-9\-]{1,64})/([A-Za-z0-9.\-]{1,100}))");
  std::smatch m;
  const std::string& p = req.path;
  if (req.method == "GET") {
    if (p == "/Patient") return SearchPatients(req);
    if (p == "/EpisodeOfCare" || p == "/Encounter" || p == "/Observation") {
      return SearchRecord(req, p.substr(1));
    }
    if (p == "/CarePlan") return SearchCarePlans(req);
    if (std::regex_match(p, m, kEverything)) return Everything(req, m[1].str());
    if (std::regex_match(p, m, kVread))
      return ReadCarePlan(req, m[1].str(), std::stoll(m[2].str()));
    if (p == "/$export") return Export(req, caller, "system", "");
    if (p == "/Patient/$export") return Export(req, caller, "patient", "");
    if (std::regex_match(p, m, kGroupExport)) return Export(req, caller, "group", m[1].str());
    if (std::regex_match(p, m, kExportStatus)) return ExportStatus(req, caller, m[1].str());
    if (std::regex_match(p, m, kExportFile)) return ExportFile(caller, m[1].str(), m[2].str());
    if (std::regex_match(p, m, kRead)) {
      if (m[1] == "Patient") return ReadPatient(req, m[2].str());
      if (m[1] == "CarePlan") return ReadCarePlan(req, m[2].str(), 0);
      if (m[1] == "Organization") return ReadOrganization(m[2].str());
    }
  } else if (req.method == "POST") {
    if (p.empty() || p == "/") return Transaction(req);
    if (p == "/$export") return Export(req, caller, "system", "");
    if (p == "/Patient/$export") return Export(req, caller, "patient", "");
    if (std::regex_match(p, m, kGroupExport)) return Export(req, caller, "group", m[1].str());
  } else if (req.method == "DELETE") {
    if (std::regex_match(p, m, kExportStatus)) return ExportCancel(caller, m[1].str());
  }
  return Refusal(absl::StatusCode::kNotFound,
                 req.method + " " + (p.empty() ? "/" : p) +
                     ": not an interaction this server supports (see /metadata)");
}

HttpResponse FhirApi::ReadPatient(const HttpRequest& req, const std::string& id) {
  if (auto bad = UnknownParam(req, {})) return *bad;
  icr::v1::GetPersonRequest request;
  request.set_person_id(id);
  icr::v1::Person person;
  auto ctx = Context(req);
  grpc::Status s = record_->GetPerson(ctx.get(), request, &person);
  if (NoSuchPerson(s)) return Refusal(absl::StatusCode::kNotFound, "Patient: not found");
  if (!s.ok()) return FromGrpc(s);
  return WithETag(JsonResponse(200, PatientResource(person)), person.version());
}

HttpResponse FhirApi::SearchPatients(const HttpRequest& req) {
  if (auto bad = UnknownParam(req, {"identifier", "family", "birthdate", "address-postalcode"})) {
    return *bad;
  }
  auto identifier = Single(req, "identifier");
  auto family = Single(req, "family");
  auto birthdate = Single(req, "birthdate");
  auto postcode = Single(req, "address-postalcode");
  auto count = Count(req);
  auto token = Single(req, "_page_token");
  for (const auto* v : {&identifier, &family, &birthdate, &postcode, &token}) {
    if (!v->ok()) return BadParam(v->status());
  }
  if (!count.ok()) return BadParam(count.status());
  std::vector<Json> found;
  if (!identifier->empty()) {
    if (!family->empty() || !birthdate->empty() || !postcode->empty()) {
      return Invalid("identifier", "identifier: search by identifier alone");
    }
    std::string nhs = *identifier;
    const std::string prefix = std::string(kNhsNumberSystem) + "|";
    if (nhs.rfind(prefix, 0) == 0) {
      nhs = nhs.substr(prefix.size());
    } else if (nhs.find('|') != std::string::npos) {
      return Invalid("identifier", "identifier: only " + std::string(kNhsNumberSystem) +
                                       "|{NHS number} is searchable");
    }
    icr::v1::GetPersonRequest request;
    request.set_nhs_number(nhs);
    icr::v1::Person person;
    auto ctx = Context(req);
    grpc::Status s = record_->GetPerson(ctx.get(), request, &person);
    if (s.ok()) {
      found.push_back(PatientResource(person));
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      return FromGrpc(s, [](const std::string&) { return std::string("identifier"); });
    }
    Json bundle = SearchBundle(req, "Patient", found, "", found.size());
    if (!person.resolved_from_alias().empty()) {
      // Found by a former NHS number (a merged record's, or a changed number): said so in an
      // outcome entry, as a searchset may carry one.
      bundle["entry"].push_back(
          {{"resource", Information("identifier: a former NHS number of the patient found (a "
                                    "merged record's or a changed number); the patient's NHS "
                                    "number now is in Patient.identifier")},
           {"search", {{"mode", "outcome"}}}});
    }
    return JsonResponse(200, bundle);
  }
  icr::v1::FindPeopleRequest request;
  if (!postcode->empty()) {
    if (!family->empty() || !birthdate->empty()) {
      return Invalid("address-postalcode", "address-postalcode: search by postcode alone");
    }
    request.set_postcode(*postcode);
  } else if (!family->empty() || !birthdate->empty()) {
    if (family->empty() || birthdate->empty()) {
      return Invalid(family->empty() ? "family" : "birthdate",
                     "family and birthdate: give both (or identifier, or address-postalcode)");
    }
    request.mutable_name_and_birth()->set_family_name(*family);
    request.mutable_name_and_birth()->set_date_of_birth(*birthdate);
  } else {
    return Invalid("identifier",
                   "Patient search needs identifier, family with birthdate, or address-postalcode");
  }
  request.mutable_page()->set_page_size(*count);
  request.mutable_page()->set_page_token(*token);
  icr::v1::FindPeopleResponse response;
  auto ctx = Context(req);
  grpc::Status s = record_->FindPeople(ctx.get(), request, &response);
  if (!s.ok()) {
    return FromGrpc(s, [](const std::string& field) -> std::string {
      if (field.find("family_name") != std::string::npos) return "family";
      if (field.find("date_of_birth") != std::string::npos) return "birthdate";
      if (field.find("postcode") != std::string::npos) return "address-postalcode";
      if (field.find("page_token") != std::string::npos) return "_page_token";
      return "";
    });
  }
  for (const auto& person : response.people()) found.push_back(PatientResource(person));
  return JsonResponse(
      200, SearchBundle(req, "Patient", found, response.page().next_page_token(), std::nullopt));
}

HttpResponse FhirApi::Everything(const HttpRequest& req, const std::string& id) {
  if (auto bad = UnknownParam(req, {})) return *bad;
  icr::v1::GetIntegratedRecordRequest request;
  request.set_person_id(id);
  icr::v1::IntegratedRecord record;
  auto ctx = Context(req);
  grpc::Status s = record_->GetIntegratedRecord(ctx.get(), request, &record);
  if (NoSuchPerson(s)) return Refusal(absl::StatusCode::kNotFound, "Patient: not found");
  if (!s.ok()) return FromGrpc(s);
  const std::vector<Json> resources = RecordResources(record);
  Json bundle =
      SearchBundle(req, "Patient/" + id + "/$everything", resources, "", resources.size());
  if (record.break_glass()) {
    // The read was a break-glass access: say so on the answer, as the audit does.
    bundle["meta"]["security"] =
        Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActReason"},
                      {"code", "BTG"},
                      {"display", "break the glass"}}});
  }
  return JsonResponse(200, bundle);
}

HttpResponse FhirApi::SearchRecord(const HttpRequest& req, const std::string& type) {
  const bool observation = type == "Observation";
  if (auto bad = UnknownParam(req, observation ? std::set<std::string>{"patient", "code"}
                                               : std::set<std::string>{"patient"})) {
    return *bad;
  }
  auto patient = Single(req, "patient");
  auto code = Single(req, "code");
  auto count = Count(req);
  auto token = Single(req, "_page_token");
  for (const auto* v : {&patient, &code, &token}) {
    if (!v->ok()) return BadParam(v->status());
  }
  if (!count.ok()) return BadParam(count.status());
  if (patient->empty()) return Invalid("patient", "patient: required (Patient/{id})");
  icr::v1::GetIntegratedRecordRequest request;
  request.set_person_id(PatientIdOf(*patient));
  icr::v1::IntegratedRecord record;
  auto ctx = Context(req);
  grpc::Status s = record_->GetIntegratedRecord(ctx.get(), request, &record);
  std::vector<Json> matches;
  if (s.ok()) {
    for (auto& r : RecordResources(record)) {
      if (r.value("resourceType", "") != type) continue;
      if (observation && !code->empty() && !ObservationHasCode(r, *code)) continue;
      matches.push_back(std::move(r));
    }
  } else if (!NoSuchPerson(s)) {
    return FromGrpc(s, [](const std::string&) { return std::string("patient"); });
  }
  // Keyset pages by resource id.
  std::sort(matches.begin(), matches.end(),
            [](const Json& a, const Json& b) { return a.value("id", "") < b.value("id", ""); });
  const size_t total = matches.size();
  std::vector<Json> page;
  std::string next;
  for (auto& r : matches) {
    if (!token->empty() && r.value("id", "") <= *token) continue;
    if (static_cast<int>(page.size()) == *count) {
      next = page.back().value("id", "");  // more follow: the next page starts after this id
      break;
    }
    page.push_back(std::move(r));
  }
  return JsonResponse(200, SearchBundle(req, type, page, next, total));
}

HttpResponse FhirApi::ReadCarePlan(const HttpRequest& req, const std::string& id, int64_t version) {
  if (auto bad = UnknownParam(req, {})) return *bad;
  icr::v1::GetCarePlanRequest request;
  request.set_plan_id(id);
  request.set_version(version);
  icr::v1::CarePlan plan;
  auto ctx = Context(req);
  grpc::Status s = careplan_->GetCarePlan(ctx.get(), request, &plan);
  if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    // An id or version that cannot be a plan's is no plan.
    return Refusal(
        absl::StatusCode::kNotFound,
        "CarePlan/" + id + (version ? "/_history/" + std::to_string(version) : "") + ": not found");
  }
  if (!s.ok()) return FromGrpc(s);
  return WithETag(JsonResponse(200, CarePlanResource(plan)), plan.version());
}

HttpResponse FhirApi::SearchCarePlans(const HttpRequest& req) {
  if (auto bad = UnknownParam(req, {"patient", "status"})) return *bad;
  auto patient = Single(req, "patient");
  auto status = Single(req, "status");
  auto count = Count(req);
  auto token = Single(req, "_page_token");
  for (const auto* v : {&patient, &status, &token}) {
    if (!v->ok()) return BadParam(v->status());
  }
  if (!count.ok()) return BadParam(count.status());
  if (patient->empty()) return Invalid("patient", "patient: required (Patient/{id})");
  std::set<std::string> statuses;
  for (size_t start = 0; !status->empty() && start <= status->size();) {
    const size_t comma = status->find(',', start);
    const std::string one =
        status->substr(start, comma == std::string::npos ? comma : comma - start);
    if (one != "draft" && one != "active" && one != "completed") {
      return Invalid("status", "status: draft, active or completed (comma-separated)");
    }
    statuses.insert(one);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  icr::v1::ListCarePlansRequest request;
  request.set_person_id(PatientIdOf(*patient));
  request.set_include_closed(statuses.empty() || statuses.count("completed"));
  request.mutable_page()->set_page_size(*count);
  request.mutable_page()->set_page_token(*token);
  icr::v1::ListCarePlansResponse response;
  auto ctx = Context(req);
  grpc::Status s = careplan_->ListCarePlans(ctx.get(), request, &response);
  std::vector<Json> found;
  if (!s.ok() && !NoSuchPerson(s)) {
    return FromGrpc(s, [](const std::string& field) -> std::string {
      return field.find("page_token") != std::string::npos ? "_page_token" : "patient";
    });
  }
  for (const auto& h : response.plans()) {
    // The plan as its header shows it (one audited list read, not a read per plan).
    icr::v1::CarePlan plan;
    plan.set_plan_id(h.plan_id());
    plan.set_person_id(h.person_id());
    plan.set_nhs_number(h.nhs_number());
    plan.set_version(h.current_version());
    plan.set_current_version(h.current_version());
    plan.set_status(h.status());
    *plan.mutable_key_worker() = h.key_worker();
    plan.set_agreed_version(h.agreed_version());
    *plan.mutable_agreed_at() = h.agreed_at();
    plan.set_agreed_on(h.agreed_on());
    plan.set_jointly_agreed(h.jointly_agreed());
    plan.set_is_s117_aftercare_plan(h.is_s117_aftercare_plan());
    plan.set_is_care_act_plan(h.is_care_act_plan());
    if (!h.last_review_date().empty()) {
      plan.mutable_last_review()->set_review_date(h.last_review_date());
    }
    if (!h.next_review_date().empty()) {
      plan.mutable_review()->set_next_review_date(h.next_review_date());
    }
    Json r = CarePlanResource(plan);
    if (!statuses.empty() && !statuses.count(r.value("status", ""))) continue;
    found.push_back(std::move(r));
  }
  return JsonResponse(
      200, SearchBundle(req, "CarePlan", found, response.page().next_page_token(), std::nullopt));
}

HttpResponse FhirApi::ReadOrganization(const std::string& id) {
  const Organisation* org = ref_->FindOrganisation(id);
  if (!org) return Refusal(absl::StatusCode::kNotFound, "Organization/" + id + ": not found");
  return JsonResponse(200, OrganizationResource(*org));
}

HttpResponse FhirApi::Transaction(const HttpRequest& req) {
  if (auto bad = UnknownParam(req, {})) return *bad;
  Json bundle = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded() || !bundle.is_object()) {
    return Invalid("Bundle", "the body is not a JSON resource");
  }
  BundleError error;
  auto tx = ParseTransaction(bundle, &error);
  if (!tx.ok()) {
    return JsonResponse(
        error.http_status,
        OperationOutcome(
            error.issue_code.empty() ? "invalid" : error.issue_code,
            error.diagnostics.empty() ? std::string(tx.status().message()) : error.diagnostics,
            error.expression));
  }
  bool if_match = false;
  for (const auto& p : tx->request.people()) if_match |= p.expected_version() != 0;
  icr::v1::RecordEventsResponse response;
  auto ctx = Context(req);
  grpc::Status s = record_->RecordEvents(ctx.get(), tx->request, &response);
  if (!s.ok()) {
    return FromGrpc(
        s, [&](const std::string& field) { return FhirPathOf(*tx, field); }, if_match);
  }
  Json out = {{"resourceType", "Bundle"}, {"type", "transaction-response"}};
  for (const auto& entry : tx->entries) {
    Json response_entry;
    if (entry.person >= 0 && entry.person < response.people_size()) {
      const auto& person = response.people(entry.person);
      response_entry = {{"status", "200 OK"},
                        {"location", "Patient/" + person.person_id() + "/_history/" +
                                         std::to_string(person.version())},
                        {"etag", "W/\"" + std::to_string(person.version()) + "\""}};
    } else {
      bool stored = false;
      for (int i : entry.events) {
        if (i < response.outcomes_size() &&
            response.outcomes(i).result() == icr::v1::EventOutcome::STORED) {
          stored = true;
        }
      }
      response_entry = {{"status", stored ? "201 Created" : "200 OK"}};
    }
    out["entry"].push_back({{"response", response_entry}});
  }
  return JsonResponse(200, out);
}

}  // namespace icr::fhir

namespace icr::fhir {
namespace {

// Kick-off parameters this server does not support: refused (400), unless the client asks for
// lenient handling (Bulk Data IG), when they are ignored.
const std::set<std::string> kExportUnsupported = {
    "_until",  "_elements",        "_typeFilter",          "includeAssociatedData",
    "patient", "organizeOutputBy", "allowPartialManifests"};

std::vector<std::string> SplitCommas(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    const std::string one = value.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Rfc1123(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace

HttpResponse FhirApi::Export(const HttpRequest& req, const Caller& caller, const std::string& level,
                             const std::string& group) {
  if (!exports_) {
    return Refusal(absl::StatusCode::kUnimplemented, "bulk export is not enabled on this server");
  }
  const bool lenient = req.header("prefer").find("handling=lenient") != std::string::npos;
  // Parameters from the query, or from a POSTed Parameters resource.
  std::multimap<std::string, std::string> params = req.params;
  if (req.method == "POST" && !req.body.empty()) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || body.value("resourceType", "") != "Parameters") {
      return Invalid("Parameters", "the body of a POST kick-off is a Parameters resource");
    }
    for (const auto& p : body.value("parameter", Json::array())) {
      for (const char* key : {"valueString", "valueInstant", "valueCode"}) {
        if (p.contains(key) && p[key].is_string()) {
          params.emplace(p.value("name", ""), p[key].get<std::string>());
        }
      }
    }
  }
  ExportKickoff kickoff;
  kickoff.level = level;
  kickoff.group_id = group;
  for (const auto& [name, value] : params) {
    if (name == "_type") {
      for (auto& t : SplitCommas(value)) kickoff.types.push_back(t);
    } else if (name == "_since") {
      if (!kickoff.since.empty()) return Invalid("_since", "_since: give it once");
      kickoff.since = value;
    } else if (name == "_outputFormat") {
      if (value != "application/fhir+ndjson" && value != "application/ndjson" &&
          value != "ndjson") {
        return Invalid("_outputFormat", "_outputFormat: only application/fhir+ndjson");
      }
    } else if (name == "_format") {
      continue;
    } else if (!lenient || !kExportUnsupported.count(name)) {
      return Invalid(name, name + ": not supported by this server's export" +
                               (kExportUnsupported.count(name)
                                    ? std::string(" (send Prefer: handling=lenient to ignore it)")
                                    : std::string()));
    }
  }
  std::string query = Query(req);
  kickoff.request_url = req.base_url +
                        (level == "system"    ? "/$export"
                         : level == "patient" ? "/Patient/$export"
                                              : "/Group/" + group + "/$export") +
                        (query.empty() ? "" : "?" + query);
  auto job = exports_->Kickoff(caller, kickoff);
  if (!job.ok()) {
    HttpResponse r = Refusal(job.status().code(), std::string(job.status().message()),
                             RefusedField(std::string(job.status().message())));
    if (r.status == 429) r.headers.emplace_back("Retry-After", "120");
    return r;
  }
  HttpResponse r =
      JsonResponse(202, Information("export started: poll the URL in Content-Location"));
  r.headers.emplace_back("Content-Location", req.base_url + "/$export-status/" + *job);
  return r;
}

HttpResponse FhirApi::ExportStatus(const HttpRequest& req, const Caller& caller,
                                   const std::string& job) {
  if (!exports_) return Refusal(absl::StatusCode::kNotFound, "no such export job");
  auto status = exports_->Status(caller, job);
  if (!status.ok()) return Refusal(status.status().code(), std::string(status.status().message()));
  using State = fhir::ExportStatus::State;
  switch (status->state) {
    case State::kQueued:
    case State::kRunning: {
      HttpResponse r;
      r.status = 202;
      r.headers.emplace_back("X-Progress", status->state == State::kQueued
                                               ? std::string("queued")
                                               : status->progress.substr(0, 99));
      r.headers.emplace_back("Retry-After", "2");
      return r;
    }
    case State::kFailed:
      return Refusal(absl::StatusCode::kInternal, "the export failed: " + status->error);
    case State::kDone:
      break;
  }
  Json manifest = {{"transactionTime", status->transaction_time},
                   {"request", status->request_url},
                   {"requiresAccessToken", true},
                   {"output", Json::array()},
                   {"error", Json::array()}};
  for (const auto& f : status->files) {
    manifest["output"].push_back({{"type", f.type},
                                  {"url", req.base_url + "/$export-file/" + job + "/" + f.name},
                                  {"count", f.count}});
  }
  HttpResponse r = JsonResponse(200, manifest);
  r.content_type = "application/json";
  r.headers.emplace_back("Expires", Rfc1123(status->expires));
  return r;
}

HttpResponse FhirApi::ExportCancel(const Caller& caller, const std::string& job) {
  if (!exports_) return Refusal(absl::StatusCode::kNotFound, "no such export job");
  absl::Status s = exports_->Cancel(caller, job);
  if (!s.ok()) return Refusal(s.code(), std::string(s.message()));
  return JsonResponse(202, Information("the export is cancelled and its files removed"));
}

HttpResponse FhirApi::ExportFile(const Caller& caller, const std::string& job,
                                 const std::string& name) {
  if (!exports_) return Refusal(absl::StatusCode::kNotFound, "no such export file");
  auto path = exports_->FilePath(caller, job, name);
  if (!path.ok()) return Refusal(path.status().code(), std::string(path.status().message()));
  HttpResponse r;
  r.content_type = "application/fhir+ndjson";
  r.file = *path;
  return r;
}

}  // namespace icr::fhir
