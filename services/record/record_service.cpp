#include "services/record/record_service.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/grpc_status.h"
#include "services/common/import_row.h"
#include "services/common/metrics.h"
#include "services/common/paging.h"
#include "services/common/status.h"
#include "services/record/dataset_import.h"
#include "services/record/importer.h"
#include "services/record/person_merge.h"
#include "services/record/record_rules.h"
#include "services/record/store.h"
#include "services/record/write_batch.h"

namespace icr::record {
namespace {
constexpr int kMaxEventsPerRequest = 1000;
constexpr int kMaxPeoplePerRequest = 1000;
// GetIntegratedRecord's batches (RecordReader) served at once. One: the calls that arrive while
// a batch is served wait for the next, so batches are larger and the statement's fixed cost is
// shared by more reads. At 8 callers, alternating icr-bench runs gave 22.8-28.0% of the health
// check with one against 17.0-21.2% with two.
constexpr int kReadBatches = 1;

absl::StatusOr<std::string> RequireNhsNumber(const std::string& value) {
  return NormaliseNhsNumber(value, "nhs_number");
}

// GetAuditTrail's page token: the audit_pk to read below (0: from the newest).
absl::StatusOr<int64_t> AuditPageToken(const std::string& token) {
  if (token.empty()) return 0;
  if (token.size() > 18 || token.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidField("page.page_token", "not a token returned by GetAuditTrail");
  }
  return std::stoll(token);
}

// Rewrites the NHS numbers of a request's events and people that are aliases to the numbers
// they resolve to (and `upserted` with them); returns current number -> alias used, for people.
std::map<std::string, std::string> ResolveRequestAliases(
    pqxx::transaction_base& tx, std::vector<icr::v1::Event>& events,
    std::vector<icr::v1::UpsertPersonRequest>& people, std::set<std::string>& upserted) {
  std::vector<std::string> numbers(upserted.begin(), upserted.end());
  for (const auto& e : events) numbers.push_back(e.nhs_number());
  const auto current = PersonMerge::ResolveAliases(tx, numbers);
  std::map<std::string, std::string> used;
  if (current.empty()) return used;
  for (auto& e : events) {
    auto c = current.find(e.nhs_number());
    if (c != current.end()) e.set_nhs_number(c->second);
  }
  for (auto& p : people) {
    auto c = current.find(p.person().nhs_number());
    if (c == current.end()) continue;
    upserted.erase(c->first);
    upserted.insert(c->second);
    used[c->second] = c->first;
    p.mutable_person()->set_nhs_number(c->second);
  }
  return used;
}

}  // namespace

RecordServiceImpl::RecordServiceImpl(Database& db, Authenticator& auth,
                                     std::shared_ptr<const ReferenceData> ref,
                                     size_t record_cache_bytes)
    : db_(db),
      auth_(auth),
      ref_(std::move(ref)),
      reader_(
          db,
          [this](const grpc::ServerContextBase& ctx) {
            return Access::Admit(auth_, ctx, "icr.v1.RecordService.GetIntegratedRecord");
          },
          record_cache_bytes, kReadBatches),
      changes_(db) {}

grpc::Status RecordServiceImpl::UpsertPerson(grpc::ServerContext* ctx,
                                             const icr::v1::UpsertPersonRequest* req,
                                             icr::v1::Person* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.UpsertPerson");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(StorePerson(*caller, *req, resp));
}

grpc::Status RecordServiceImpl::GetPerson(grpc::ServerContext* ctx,
                                          const icr::v1::GetPersonRequest* req,
                                          icr::v1::Person* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetPerson");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(ReadPerson(*caller, *req, resp));
}

grpc::Status RecordServiceImpl::FindPeople(grpc::ServerContext* ctx,
                                           const icr::v1::FindPeopleRequest* req,
                                           icr::v1::FindPeopleResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.FindPeople");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(SearchPeople(*caller, *req, resp));
}

grpc::Status RecordServiceImpl::RecordEvents(grpc::ServerContext* ctx,
                                             const icr::v1::RecordEventsRequest* req,
                                             icr::v1::RecordEventsResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.RecordEvents");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(StoreEvents(*caller, *req, resp));
}

grpc::Status RecordServiceImpl::ImportEvents(grpc::ServerContext* ctx,
                                             grpc::ServerReader<icr::v1::ImportItem>* reader,
                                             icr::v1::ImportSummary* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.ImportEvents");
  if (!caller.ok()) return ToGrpc(caller.status());
  Importer importer(db_, *ref_, *caller, *resp);
  const auto status = importer.Run([&](icr::v1::ImportItem* item) { return reader->Read(item); });
  metrics::CountImportRows("events", "stored", static_cast<double>(resp->stored()));
  metrics::CountImportRows("events", "duplicate", static_cast<double>(resp->duplicates()));
  metrics::CountImportRows("events", "refused", static_cast<double>(resp->rejected()));
  return ToGrpc(status);
}

grpc::Status RecordServiceImpl::ImportDataset(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<icr::v1::DatasetImportJob, icr::v1::DatasetChunk>* stream) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.ImportDataset");
  if (!caller.ok()) return ToGrpc(caller.status());
  DatasetFile file;
  icr::v1::DatasetChunk chunk;
  while (stream->Read(&chunk)) {
    if (auto s = AddChunk(file, chunk); !s.ok()) return ToGrpc(s);
  }
  if (file.parts.empty()) return ToGrpc(InvalidField("kind", "required: no file was sent"));
  DatasetImport import(db_, *ref_, *caller);
  auto job = import.Create(file.kind);
  if (!job.ok()) return ToGrpc(job.status());
  stream->Write(*job);
  const auto status = import.Run(*job, file, [&](const icr::v1::DatasetImportJob& progress) {
    stream->Write(progress);
  });
  if (status.ok()) {
    const auto& r = job->report();
    metrics::CountImportRows(job->kind(), "stored", static_cast<double>(r.stored()));
    metrics::CountImportRows(job->kind(), "duplicate", static_cast<double>(r.duplicates()));
    metrics::CountImportRows(job->kind(), "refused", static_cast<double>(r.refused()));
  }
  return ToGrpc(status);
}

grpc::Status RecordServiceImpl::GetDatasetImport(grpc::ServerContext* ctx,
                                                 const icr::v1::GetDatasetImportRequest* req,
                                                 icr::v1::DatasetImportJob* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetDatasetImport");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto job = DatasetImport::Get(db_, *caller, req->job_id());
  if (!job.ok()) return ToGrpc(job.status());
  *resp = std::move(*job);
  return grpc::Status::OK;
}

grpc::Status RecordServiceImpl::GetIntegratedRecord(grpc::ServerContext* ctx,
                                                    const icr::v1::GetIntegratedRecordRequest* req,
                                                    icr::v1::IntegratedRecord* resp) {
  if (req->person_id().empty()) {
    const absl::Status read = reader_.Read(*ctx, req->nhs_number(), resp);
    if (!absl::IsNotFound(read)) return ToGrpc(read);
    return ToGrpc(RetryByAlias(
        read, req->nhs_number(),
        [&](const std::string& nhs) { return reader_.Read(*ctx, nhs, resp); },
        resp->mutable_person()));
  }
  // By person_id: resolved to the NHS number first, then read exactly as by NHS number (the
  // reader admits the call again and writes the read's audit row).
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetIntegratedRecord");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto nhs = NhsNumberFor(*caller, req->nhs_number(), req->person_id(), "GetIntegratedRecord");
  if (!nhs.ok()) return ToGrpc(nhs.status());
  return ToGrpc(RenameField(reader_.Read(*ctx, *nhs, resp), "nhs_number", "person_id"));
}

grpc::Status RecordServiceImpl::WatchChanges(grpc::ServerContext* ctx,
                                             const icr::v1::WatchChangesRequest* req,
                                             grpc::ServerWriter<icr::v1::Change>* writer) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.WatchChanges");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(changes_.Serve(
      *caller, *req, [&] { return ctx->IsCancelled(); },
      [&](const icr::v1::Change& change) { return writer->Write(change); }));
}

grpc::Status RecordServiceImpl::MergePeople(grpc::ServerContext* ctx,
                                            const icr::v1::MergePeopleRequest* req,
                                            icr::v1::MergePeopleResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.MergePeople");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(PersonMerge::Merge(db_, *caller, *req, resp));
}

grpc::Status RecordServiceImpl::Unmerge(grpc::ServerContext* ctx,
                                        const icr::v1::UnmergeRequest* req,
                                        icr::v1::UnmergeResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.Unmerge");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(PersonMerge::Unmerge(db_, *caller, *req, resp));
}

grpc::Status RecordServiceImpl::ChangeNhsNumber(grpc::ServerContext* ctx,
                                                const icr::v1::ChangeNhsNumberRequest* req,
                                                icr::v1::Person* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.ChangeNhsNumber");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(PersonMerge::ChangeNhsNumber(db_, *caller, *req, resp));
}

grpc::Status RecordServiceImpl::GetAuditTrail(grpc::ServerContext* ctx,
                                              const icr::v1::GetAuditTrailRequest* req,
                                              icr::v1::AuditTrail* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetAuditTrail");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(ReadAuditTrail(*caller, *req, resp));
}

absl::Status RecordServiceImpl::StorePerson(const Caller& caller,
                                            const icr::v1::UpsertPersonRequest& req,
                                            icr::v1::Person* resp) {
  icr::v1::Person person = req.person();
  RETURN_IF_ERROR(ValidatePerson(person, *ref_, "person", Today()));
  RETURN_IF_ERROR(CheckVersion(req.expected_version(), "expected_version"));
  ASSIGN_OR_RETURN(const auto residence_from,
                   ResidenceFrom(req.residence_from(), person, Today(), "residence_from"));
  WriteBatch batch(caller, "UpsertPerson");
  return WriteAll(batch, [&](pqxx::work& tx) -> absl::Status {
    const auto aliases = PersonMerge::ResolveAliases(tx, {person.nhs_number()});
    const std::string alias = aliases.empty() ? "" : person.nhs_number();
    if (!alias.empty()) person.set_nhs_number(aliases.begin()->second);
    ASSIGN_OR_RETURN(UpsertResult stored, batch.Person(tx, person, req.expected_version(),
                                                       req.create_only(), residence_from));
    RETURN_IF_ERROR(batch.Finish(tx));
    *resp = std::move(stored.person);
    resp->set_resolved_from_alias(alias);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> RecordServiceImpl::NhsNumberFor(const Caller& caller,
                                                            const std::string& nhs_number,
                                                            const std::string& person_id,
                                                            const std::string& action) {
  if (person_id.empty()) return RequireNhsNumber(nhs_number);
  if (!nhs_number.empty())
    return InvalidField("person_id", "give nhs_number or person_id, not both");
  if (!IsUuid(person_id)) return InvalidField("person_id", "not a person id");
  std::optional<std::string> nhs;
  RETURN_IF_ERROR(Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) {
    nhs = RecordStore::NhsNumberOf(tx, person_id);
    if (!nhs) {
      const access::Decision d{access::NotVisible("person_id"), access::kAuditNotFound};
      Access::AuditDecision(tx, caller, "", action, d);
      refused = d.status;
    }
    return absl::OkStatus();
  }));
  return *nhs;
}

absl::Status RecordServiceImpl::ReadPerson(const Caller& caller,
                                           const icr::v1::GetPersonRequest& req,
                                           icr::v1::Person* resp) {
  ASSIGN_OR_RETURN(const std::string nhs,
                   NhsNumberFor(caller, req.nhs_number(), req.person_id(), "GetPerson"));
  const auto read_by = [&](const std::string& number) {
    return Access::ReadPerson(db_, caller, number, "GetPerson",
                              [&](pqxx::work& tx, const PersonRef&) {
                                *resp = *RecordStore::FindByNhsNumber(tx, number);
                                return absl::OkStatus();
                              });
  };
  const absl::Status read = read_by(nhs);
  if (!req.person_id().empty()) return RenameField(read, "nhs_number", "person_id");
  return absl::IsNotFound(read) ? RetryByAlias(read, nhs, read_by, resp) : read;
}

absl::Status RecordServiceImpl::RetryByAlias(
    const absl::Status& not_found, const std::string& nhs,
    const std::function<absl::Status(const std::string&)>& read, icr::v1::Person* person) {
  auto valid = RequireNhsNumber(nhs);
  if (!valid.ok()) return not_found;
  ASSIGN_OR_RETURN(const auto current, PersonMerge::ResolveAlias(db_, *valid));
  if (!current) return not_found;
  RETURN_IF_ERROR(read(*current));
  person->set_resolved_from_alias(*valid);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::SearchPeople(const Caller& caller,
                                             const icr::v1::FindPeopleRequest& req,
                                             icr::v1::FindPeopleResponse* resp) {
  icr::v1::FindPeopleRequest query = req;
  RETURN_IF_ERROR(ValidateQuery(query));
  const int limit = PageSize(query.page());
  // Break-glass searches see everyone; each person returned is audited either way.
  const std::string visible_to = access::ListScope(caller, "icr.v1.RecordService.FindPeople");
  return db_.Write([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto people, RecordStore::FindPeople(tx, query, visible_to, limit));
    std::vector<std::string> seen;
    for (auto& p : people) {
      seen.push_back(p.person_id());
      *resp->add_people() = std::move(p);
    }
    Audit::WriteMany(tx, caller, seen, "FindPeople", kAuditOk);
    if (static_cast<int>(people.size()) == limit) {
      resp->mutable_page()->set_next_page_token(resp->people(limit - 1).person_id());
    }
    return absl::OkStatus();
  });
}

absl::Status RecordServiceImpl::StoreEvents(const Caller& caller,
                                            const icr::v1::RecordEventsRequest& req,
                                            icr::v1::RecordEventsResponse* resp) {
  if (req.events_size() == 0 && req.people_size() == 0) {
    return InvalidField("events", "at least one event or person");
  }
  if (req.events_size() > kMaxEventsPerRequest) {
    return InvalidField("events", "at most 1000 events per request; use ImportEvents");
  }
  if (req.people_size() > kMaxPeoplePerRequest) {
    return InvalidField("people", "at most 1000 people per request; use ImportEvents");
  }
  std::vector<icr::v1::Event> events(req.events().begin(), req.events().end());
  std::vector<icr::v1::UpsertPersonRequest> people(req.people().begin(), req.people().end());
  const Date today = Today();
  std::set<std::string> upserted;
  std::vector<std::optional<Date>> residence_from(people.size());
  for (size_t i = 0; i < people.size(); ++i) {
    const std::string field = "people[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(ValidatePerson(*people[i].mutable_person(), *ref_, field + ".person", today));
    RETURN_IF_ERROR(CheckVersion(people[i].expected_version(), field + ".expected_version"));
    ASSIGN_OR_RETURN(residence_from[i],
                     ResidenceFrom(people[i].residence_from(), people[i].person(), today,
                                   field + ".residence_from"));
    upserted.insert(people[i].person().nhs_number());
  }
  for (size_t i = 0; i < events.size(); ++i) {
    RETURN_IF_ERROR(ValidateEvent(events[i], *ref_, "events[" + std::to_string(i) + "]", today));
  }
  WriteBatch batch(caller, "RecordEvents");
  return WriteAll(batch, [&](pqxx::work& tx) -> absl::Status {
    resp->clear_outcomes();
    resp->clear_change_cursor();
    resp->clear_people();
    // NHS numbers that are aliases (a merged record's, a changed number) name their person now.
    const auto aliases = ResolveRequestAliases(tx, events, people, upserted);
    std::vector<const icr::v1::Event*> all;
    for (const auto& e : events) all.push_back(&e);
    batch.Prefetch(tx, all, upserted);
    // The people first, so the events may be about those this request creates.
    for (size_t i = 0; i < people.size(); ++i) {
      const auto& p = people[i];
      auto stored =
          batch.Person(tx, p.person(), p.expected_version(), p.create_only(), residence_from[i]);
      if (!stored.ok()) {
        const std::string field = "people[" + std::to_string(i) + "].";
        return RenameField(RenameField(RenameField(stored.status(), "person", field + "person"),
                                       "expected_version", field + "expected_version"),
                           "residence_from", field + "residence_from");
      }
      auto alias = aliases.find(p.person().nhs_number());
      if (alias != aliases.end()) stored->person.set_resolved_from_alias(alias->second);
      *resp->add_people() = std::move(stored->person);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      ASSIGN_OR_RETURN(const EventResult result,
                       batch.Event(tx, events[i], "events[" + std::to_string(i) + "]"));
      auto* o = resp->add_outcomes();
      o->set_event_id(events[i].event_id());
      o->set_result(result == EventResult::kStored ? icr::v1::EventOutcome::STORED
                                                   : icr::v1::EventOutcome::DUPLICATE);
    }
    RETURN_IF_ERROR(batch.Finish(tx));
    if (batch.LastChange()) resp->set_change_cursor(EncodeCursor(*batch.LastChange()));
    return absl::OkStatus();
  });
}

absl::Status RecordServiceImpl::ReadAuditTrail(const Caller& caller,
                                               const icr::v1::GetAuditTrailRequest& req,
                                               icr::v1::AuditTrail* resp) {
  ASSIGN_OR_RETURN(const std::string nhs, RequireNhsNumber(req.nhs_number()));
  ASSIGN_OR_RETURN(const int64_t before, AuditPageToken(req.page().page_token()));
  const int limit = PageSize(req.page());
  // Reading the trail is itself a read of person-level data, audited like any other.
  return Access::ReadPerson(
      db_, caller, nhs, "GetAuditTrail", [&](pqxx::work& tx, const PersonRef& ref) {
        auto entries = RecordStore::AuditTrail(tx, ref.person_id, before, limit);
        for (auto& [pk, e] : entries) *resp->add_entries() = std::move(e);
        if (static_cast<int>(entries.size()) == limit) {
          resp->mutable_page()->set_next_page_token(std::to_string(entries.back().first));
        }
        return absl::OkStatus();
      });
}

absl::Status RecordServiceImpl::WriteAll(WriteBatch& batch,
                                         const std::function<absl::Status(pqxx::work&)>& fn) {
  absl::Status status = db_.Write(fn);
  if (!batch.Refused()) return status;
  // Refused as a whole: the writes are rolled back; the refusal's audit row is kept.
  absl::Status audited = db_.Write([&](pqxx::work& tx) {
    batch.WriteRefusals(tx);
    return absl::OkStatus();
  });
  return audited.ok() ? status : audited;
}

}  // namespace icr::record
