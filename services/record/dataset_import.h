// RecordService.ImportDataset / GetDatasetImport: a national dataset file (a trust's MHSDS month,
// a council's CLD return) mapped by services/datasets and loaded in ONE transaction through
// ImportEvents' write path (Importer::StoreItems, WriteBatch: the same rules, access and audit),
// as replace-by-(sender, kind, period):
//  - an event sent before with the same content is a duplicate (nothing changes);
//  - one sent before with other content is a correction, and an event of the period's previous
//    load that the file no longer carries is retracted: the people concerned have their part of
//    the record (the sender's event log rows and the episode rows they wrote) rebuilt from the
//    sender's events as they now stand, and each correction or retraction goes on the change
//    feed;
//  - the rest is stored as ImportEvents stores it.
// The job (core.dataset_import_job, migration 0027) is written from its own connection while the
// load runs, so any replica can report its progress.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/datasets/dataset.h"
#include "services/datasets/mhsds_map.h"

namespace icr::record {

// The file as uploaded: its parts by name, in order of arrival.
struct DatasetFile {
  icr::v1::DatasetChunk::Kind kind = icr::v1::DatasetChunk::KIND_UNSPECIFIED;
  icr::v1::DatasetChunk::Format format = icr::v1::DatasetChunk::FORMAT_UNSPECIFIED;
  std::vector<std::pair<std::string, std::string>> parts;
};

// Adds one chunk of an upload to `file`: INVALID_ARGUMENT naming the field for a first chunk
// without kind or format, a chunk without part_name, a kind or format that changes, a part
// sent in two runs, or a file over kMaxDatasetBytes.
inline constexpr size_t kMaxDatasetBytes = 512u << 20;
absl::Status AddChunk(DatasetFile& file, const icr::v1::DatasetChunk& chunk);

// The file's tables: CSV parts parsed, an Access part read with mdbtools (services/datasets).
absl::StatusOr<std::vector<datasets::Table>> ReadTables(const DatasetFile& file);

class DatasetImport {
 public:
  DatasetImport(Database& db, const ReferenceData& ref, const Caller& caller)
      : db_(db), ref_(ref), caller_(caller) {}

  // Creates the job (state receiving) and returns it.
  absl::StatusOr<icr::v1::DatasetImportJob> Create(icr::v1::DatasetChunk::Kind kind);

  // Maps and loads the file for job `job`, calling `progress` with the job as it advances (and
  // writing it to the job's row). The job's end (done with its report, or failed with the
  // error) is written and returned; the status is the load's (a failed load keeps nothing).
  absl::Status Run(icr::v1::DatasetImportJob& job, const DatasetFile& file,
                   const std::function<void(const icr::v1::DatasetImportJob&)>& progress);

  // The caller's organisation's job `job_id`: NOT_FOUND for another's or none.
  static absl::StatusOr<icr::v1::DatasetImportJob> Get(Database& db, const Caller& caller,
                                                       const std::string& job_id);

 private:
  struct Item;  // an item to write, and what the report says of it
  absl::Status ResolveLocalSubjects(datasets::Mapped& mapped);
  absl::Status Load(const datasets::Mapped& mapped, const std::vector<datasets::Origin>& events,
                    const std::vector<datasets::Origin>& people, icr::v1::DatasetImportJob& job,
                    const std::function<void(const icr::v1::DatasetImportJob&)>& progress);
  void Progress(icr::v1::DatasetImportJob& job, int64_t done, bool force,
                const std::function<void(const icr::v1::DatasetImportJob&)>& progress);

  Database& db_;
  const ReferenceData& ref_;
  const Caller& caller_;
  std::chrono::steady_clock::time_point started_, last_progress_;
};

}  // namespace icr::record
