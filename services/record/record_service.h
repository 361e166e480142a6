// icr.v1.RecordService handlers: each admits the caller and hands the request to a method
// returning absl::Status (one transaction with its audit row and change-feed entries), whose
// status it maps to gRPC. The import workflow is Importer, the change feed ChangeStream.
#pragma once

#include <memory>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/record/change_stream.h"
#include "services/record/record_reader.h"
#include "services/record/write_batch.h"

namespace icr::record {

class RecordServiceImpl final : public icr::v1::RecordService::Service {
 public:
  // record_cache_bytes: the budget of integrated-record bodies kept in memory (RecordCache).
  RecordServiceImpl(Database& db, Authenticator& auth, std::shared_ptr<const ReferenceData> ref,
                    size_t record_cache_bytes);

  grpc::Status UpsertPerson(grpc::ServerContext* ctx, const icr::v1::UpsertPersonRequest* req,
                            icr::v1::Person* resp) override;
  grpc::Status GetPerson(grpc::ServerContext* ctx, const icr::v1::GetPersonRequest* req,
                         icr::v1::Person* resp) override;
  grpc::Status FindPeople(grpc::ServerContext* ctx, const icr::v1::FindPeopleRequest* req,
                          icr::v1::FindPeopleResponse* resp) override;
  grpc::Status RecordEvents(grpc::ServerContext* ctx, const icr::v1::RecordEventsRequest* req,
                            icr::v1::RecordEventsResponse* resp) override;
  grpc::Status ImportEvents(grpc::ServerContext* ctx,
                            grpc::ServerReader<icr::v1::ImportItem>* reader,
                            icr::v1::ImportSummary* resp) override;
  // Served by RecordReader, with other calls' reads in one statement.
  grpc::Status GetIntegratedRecord(grpc::ServerContext* ctx,
                                   const icr::v1::GetIntegratedRecordRequest* req,
                                   icr::v1::IntegratedRecord* resp) override;
  grpc::Status WatchChanges(grpc::ServerContext* ctx, const icr::v1::WatchChangesRequest* req,
                            grpc::ServerWriter<icr::v1::Change>* writer) override;
  grpc::Status GetAuditTrail(grpc::ServerContext* ctx, const icr::v1::GetAuditTrailRequest* req,
                             icr::v1::AuditTrail* resp) override;
  // DatasetImport: the upload, then the job, its progress and its end on the stream.
  grpc::Status ImportDataset(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<icr::v1::DatasetImportJob, icr::v1::DatasetChunk>* stream) override;
  grpc::Status GetDatasetImport(grpc::ServerContext* ctx,
                                const icr::v1::GetDatasetImportRequest* req,
                                icr::v1::DatasetImportJob* resp) override;
  // PersonMerge (person_merge.h).
  grpc::Status MergePeople(grpc::ServerContext* ctx, const icr::v1::MergePeopleRequest* req,
                           icr::v1::MergePeopleResponse* resp) override;
  grpc::Status Unmerge(grpc::ServerContext* ctx, const icr::v1::UnmergeRequest* req,
                       icr::v1::UnmergeResponse* resp) override;
  grpc::Status ChangeNhsNumber(grpc::ServerContext* ctx,
                               const icr::v1::ChangeNhsNumberRequest* req,
                               icr::v1::Person* resp) override;

 private:
  absl::Status StorePerson(const Caller& caller, const icr::v1::UpsertPersonRequest& req,
                           icr::v1::Person* resp);
  // The NHS number a look-up names: nhs_number, or that of the person with person_id (exactly
  // one of the two). A person_id of no one is NOT_FOUND, audited not_found under `action` as an
  // NHS number of no one is.
  absl::StatusOr<std::string> NhsNumberFor(const Caller& caller, const std::string& nhs_number,
                                           const std::string& person_id, const std::string& action);
  absl::Status ReadPerson(const Caller& caller, const icr::v1::GetPersonRequest& req,
                          icr::v1::Person* resp);
  // A look-up by NHS number that found no one tried again with the number it is an alias of
  // (a merged record's, a changed number), if any: `read` with that number, the answer's
  // person flagged resolved_from_alias. Otherwise `not_found`, as it was.
  absl::Status RetryByAlias(const absl::Status& not_found, const std::string& nhs,
                            const std::function<absl::Status(const std::string&)>& read,
                            icr::v1::Person* person);
  absl::Status SearchPeople(const Caller& caller, const icr::v1::FindPeopleRequest& req,
                            icr::v1::FindPeopleResponse* resp);
  absl::Status StoreEvents(const Caller& caller, const icr::v1::RecordEventsRequest& req,
                           icr::v1::RecordEventsResponse* resp);
  absl::Status ReadAuditTrail(const Caller& caller, const icr::v1::GetAuditTrailRequest& req,
                              icr::v1::AuditTrail* resp);
  // Runs fn, the writes of one call through `batch`, in one transaction. When the write rule
  // refused the call, its writes are rolled back and the refusal's audit row is written alone.
  absl::Status WriteAll(WriteBatch& batch, const std::function<absl::Status(pqxx::work&)>& fn);

  Database& db_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
  RecordReader reader_;
  ChangeStream changes_;
};

}  // namespace icr::record
