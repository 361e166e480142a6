// The FHIR REST API (issue 19): each request translated into calls of the gRPC services over an
// in-process channel that carries the caller's bearer token and purpose headers, so the access
// rule, the audit, the validation and the refusals are the gRPC services' own; the answers
// mapped to UK Core resources (resources.h). This layer decides nothing about who sees what.
// Independent of the HTTP library (http_server.h carries requests in and answers out).
#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/record.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/reference.h"

namespace icr::fhir {

class ExportJobs;

struct HttpRequest {
  std::string method;  // GET, POST, PUT, DELETE
  std::string path;    // below the base: "/Patient/123", "/metadata", "" for the base itself
  std::multimap<std::string, std::string> params;  // query parameters, decoded
  std::function<std::string(std::string_view)> header;  // by lower-case name; "" when absent
  std::string body;
  std::string base_url;  // "https://host:8081/fhir": for fullUrls, links and Content-Location
  std::function<std::string()> peer;  // the client's address (the auth throttle)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/fhir+json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string file;  // when set, the body is this file's content (bulk export NDJSON)
};

class FhirApi {
 public:
  // channel: to this server's gRPC services (Server::InProcessChannel); exports may be null
  // (bulk export off).
  FhirApi(std::shared_ptr<grpc::Channel> channel, Authenticator& auth,
          std::shared_ptr<const ReferenceData> ref, ExportJobs* exports);

  HttpResponse Handle(const HttpRequest& req);

 private:
  using Json = nlohmann::json;
  HttpResponse Route(const HttpRequest& req, const Caller& caller);
  HttpResponse ReadPatient(const HttpRequest& req, const std::string& id);
  HttpResponse SearchPatients(const HttpRequest& req);
  HttpResponse Everything(const HttpRequest& req, const std::string& id);
  // EpisodeOfCare, Encounter, Observation: the resources of the patient's integrated record.
  HttpResponse SearchRecord(const HttpRequest& req, const std::string& type);
  HttpResponse ReadCarePlan(const HttpRequest& req, const std::string& id, int64_t version);
  HttpResponse SearchCarePlans(const HttpRequest& req);
  HttpResponse ReadOrganization(const std::string& id);
  HttpResponse Transaction(const HttpRequest& req);
  HttpResponse Export(const HttpRequest& req, const Caller& caller, const std::string& level,
                      const std::string& group);
  HttpResponse ExportStatus(const HttpRequest& req, const Caller& caller, const std::string& job);
  HttpResponse ExportCancel(const Caller& caller, const std::string& job);
  HttpResponse ExportFile(const Caller& caller, const std::string& job, const std::string& name);

  // A client context carrying the HTTP request's token and purpose headers.
  std::unique_ptr<grpc::ClientContext> Context(const HttpRequest& req) const;

  std::unique_ptr<icr::v1::RecordService::Stub> record_;
  std::unique_ptr<icr::v1::CarePlanService::Stub> careplan_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
  ExportJobs* exports_;
};

}  // namespace icr::fhir
