#include "services/record/dataset_import.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/savepoint.h"
#include "services/common/status.h"
#include "services/datasets/access_file.h"
#include "services/datasets/cld_map.h"
#include "services/datasets/dataset_csv.h"
#include "services/datasets/mhsds_map.h"
#include "services/record/importer.h"
#include "services/record/person_merge.h"
#include "services/record/record_rules.h"
#include "services/record/sql/statements.h"
#include "services/record/store.h"
#include "services/record/write_batch.h"

namespace icr::record {
namespace {
using google::protobuf::util::TimeUtil;
using Chunk = icr::v1::DatasetChunk;
using Report = icr::v1::DatasetImportReport;

constexpr int kMaxReportedRefusals = 1000;
constexpr auto kProgressEvery = std::chrono::milliseconds(500);
// The longest one file's load may take (its one transaction).
constexpr auto kLoadTimeout = std::chrono::minutes(30);

std::string KindName(Chunk::Kind kind) { return kind == Chunk::CLD ? "cld" : "mhsds"; }

// A refusal of a row; the same refusal again (a person's row and the event on that row, refused
// for one reason) counts once.
void AddRefusal(Report& report, const std::string& table, int64_t row, const std::string& field,
                const std::string& reason) {
  if (report.refusals_size() > 0) {
    const auto& last = report.refusals(report.refusals_size() - 1);
    if (last.table() == table && last.row() == row && last.field() == field &&
        last.reason() == reason) {
      return;
    }
  }
  report.set_refused(report.refused() + 1);
  if (report.refusals_size() >= kMaxReportedRefusals) return;
  auto* r = report.add_refusals();
  r->set_table(table);
  r->set_row(row);
  r->set_field(field);
  r->set_reason(reason);
}

// "field.path: reason" of a status message as (field, reason).
std::pair<std::string, std::string> FieldAndReason(const absl::Status& s) {
  const std::string m(s.message());
  const size_t colon = m.find(": ");
  if (colon == std::string::npos) return {"", m};
  return {m.substr(0, colon), m.substr(colon + 2)};
}

}  // namespace

absl::Status AddChunk(DatasetFile& file, const icr::v1::DatasetChunk& chunk) {
  if (file.parts.empty()) {
    if (chunk.kind() == Chunk::KIND_UNSPECIFIED) return InvalidField("kind", "required");
    if (chunk.format() == Chunk::FORMAT_UNSPECIFIED) return InvalidField("format", "required");
    if (!Chunk::Kind_IsValid(chunk.kind())) return InvalidField("kind", "unknown");
    if (!Chunk::Format_IsValid(chunk.format())) return InvalidField("format", "unknown");
    file.kind = chunk.kind();
    file.format = chunk.format();
  } else if ((chunk.kind() != Chunk::KIND_UNSPECIFIED && chunk.kind() != file.kind) ||
             (chunk.format() != Chunk::FORMAT_UNSPECIFIED && chunk.format() != file.format)) {
    return InvalidField("kind", "changed during the upload");
  }
  RETURN_IF_ERROR(CheckText(chunk.part_name(), "part_name", 200, true));
  if (file.parts.empty() || file.parts.back().first != chunk.part_name()) {
    for (const auto& [name, data] : file.parts) {
      if (name == chunk.part_name()) {
        return InvalidField("part_name", "'" + name + "' sent in two runs of chunks");
      }
    }
    file.parts.emplace_back(chunk.part_name(), "");
  }
  size_t total = chunk.data().size();
  for (const auto& [name, data] : file.parts) total += data.size();
  if (total > kMaxDatasetBytes) return InvalidField("data", "the file is over 512 MiB");
  file.parts.back().second += chunk.data();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<datasets::Table>> ReadTables(const DatasetFile& file) {
  if (file.parts.empty()) return InvalidField("part_name", "no file was sent");
  std::vector<datasets::Table> tables;
  if (file.format == Chunk::ACCESS) {
    if (file.parts.size() != 1) return InvalidField("part_name", "one Access file per upload");
    return datasets::ReadAccessFile(file.parts[0].second);
  }
  for (const auto& [name, data] : file.parts) {
    ASSIGN_OR_RETURN(auto table, datasets::TableFromCsv(name, data));
    tables.push_back(std::move(table));
  }
  return tables;
}

absl::StatusOr<icr::v1::DatasetImportJob> DatasetImport::Create(Chunk::Kind kind) {
  icr::v1::DatasetImportJob job;
  RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
    auto r = Exec(tx, sql::kDatasetJobCreate, caller_.org_code, KindName(kind));
    job.set_job_id(r[0][0].c_str());
    *job.mutable_started_at() = TimeUtil::MicrosecondsToTimestamp(r[0][1].as<int64_t>());
    return absl::OkStatus();
  }));
  job.set_state("receiving");
  job.set_kind(KindName(kind));
  started_ = last_progress_ = std::chrono::steady_clock::now();
  return job;
}

void DatasetImport::Progress(
    icr::v1::DatasetImportJob& job, int64_t done, bool force,
    const std::function<void(const icr::v1::DatasetImportJob&)>& progress) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_progress_ < kProgressEvery) return;
  last_progress_ = now;
  job.set_rows_done(done);
  const double seconds = std::chrono::duration<double>(now - started_).count();
  job.set_rows_per_second(seconds > 0 ? done / seconds : 0);
  job.set_eta_seconds(job.rows_per_second() > 0 && job.rows_total() > done
                          ? static_cast<int64_t>((job.rows_total() - done) / job.rows_per_second())
                          : 0);
  *job.mutable_updated_at() = TimeUtil::GetCurrentTime();
  // Its own connection and transaction: visible to every replica while the load runs (not
  // with a pool of one connection, which the load holds: the row then shows the end only).
  if (db_.pool_stats().size > 1)
    (void)db_.Write([&](pqxx::work& tx) {
      Exec(tx, sql::kDatasetJobProgress, job.job_id(), job.state(), done, job.rows_total());
      return absl::OkStatus();
    });
  if (progress) progress(job);
}

absl::Status DatasetImport::Run(
    icr::v1::DatasetImportJob& job, const DatasetFile& file,
    const std::function<void(const icr::v1::DatasetImportJob&)>& progress) {
  job.set_state("running");
  started_ = std::chrono::steady_clock::now();
  Progress(job, 0, true, progress);
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto tables, ReadTables(file));
    std::vector<datasets::Origin> events, people;
    absl::StatusOr<datasets::Mapped> mapped;
    if (file.kind == Chunk::CLD) {
      if (tables.size() != 1) return InvalidField("part_name", "a CLD return is one CSV file");
      mapped = datasets::MapCld(tables[0], caller_.org_code, &events, &people);
    } else {
      mapped = datasets::MapMhsds(tables, caller_.org_code, &events, &people);
    }
    if (!mapped.ok()) return mapped.status();
    RETURN_IF_ERROR(ResolveLocalSubjects(*mapped));
    return Load(*mapped, events, people, job, progress);
  }();
  if (status.ok()) {
    job.set_state("done");
  } else {
    job.set_state("failed");
    job.set_error(std::string(status.message()));
    job.set_error_code(static_cast<int>(status.code()));
    job.clear_report();
  }
  Progress(job, job.rows_done(), true, nullptr);
  const std::string report = status.ok() ? job.report().SerializeAsString() : "";
  RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
    Exec(tx, sql::kDatasetJobFinish, job.job_id(), job.state(), pqxx::binarystring(report),
         job.error(), job.error_code(), job.rows_done(), job.rows_total());
    return absl::OkStatus();
  }));
  if (progress) progress(job);
  return status;
}

// Rows that name a person only by the sender's own local identifier (a CLD row without a valid
// NHS number names them by the council's person id) reach the record when that identifier
// already belongs to a stored person: the NHS number is filled in from the store, and the
// person counts as matched. Otherwise they stay as they are, and are refused.
absl::Status DatasetImport::ResolveLocalSubjects(datasets::Mapped& mapped) {
  const std::string own = caller_.org_code + ":";
  std::map<std::pair<std::string, std::string>, std::string> found;
  return db_.Read([&](pqxx::nontransaction& tx) {
    auto nhs_of = [&](const icr::v1::LocalIdentifier& id) -> std::string {
      if (id.system().rfind(own, 0) != 0) return "";  // only the sender's own identifiers
      auto key = std::make_pair(id.system(), id.value());
      auto it = found.find(key);
      if (it == found.end()) {
        auto r = Exec(tx, sql::kNhsByIdentifier, id.system(), id.value());
        it = found.emplace(key, r.empty() ? "" : r[0][0].c_str()).first;
      }
      return it->second;
    };
    for (auto& p : mapped.people) {
      if (!p.nhs_number().empty()) continue;
      for (const auto& id : p.local_identifiers()) {
        if (auto nhs = nhs_of(id); !nhs.empty()) {
          p.set_nhs_number(nhs);
          break;
        }
      }
    }
    for (auto& e : mapped.events) {
      if (!e.nhs_number().empty() || !e.has_subject_local_identifier()) continue;
      if (auto nhs = nhs_of(e.subject_local_identifier()); !nhs.empty()) {
        e.set_nhs_number(nhs);
        e.clear_subject_local_identifier();
      }
    }
    return absl::OkStatus();
  });
}

// One item of the load: a person or event, where it came from and what it is to the report.
struct DatasetImport::Item {
  enum class Class { kPerson, kNew, kDuplicate, kCorrected, kReplay };
  Class what = Class::kNew;
  datasets::Origin origin;
  std::string event_id;
};

constexpr char kNoOneByLocalId[] =
    "no valid NHS number, and the sender's person id names no one in the record yet";

absl::Status DatasetImport::Load(
    const datasets::Mapped& mapped, const std::vector<datasets::Origin>& event_origin,
    const std::vector<datasets::Origin>& person_origin, icr::v1::DatasetImportJob& job,
    const std::function<void(const icr::v1::DatasetImportJob&)>& progress) {
  Report report;
  report.set_kind(job.kind());
  report.set_sender_org(mapped.sender_org);
  report.set_period_start(mapped.period_start);
  report.set_period_end(mapped.period_end);
  for (const auto& [table, rows] : mapped.rows_read) {
    auto* t = report.add_rows_read();
    t->set_table(table);
    t->set_rows(rows);
  }
  for (const auto& r : mapped.refused) AddRefusal(report, r.table, r.row, r.field, r.reason);
  auto origin_of = [](const std::vector<datasets::Origin>& origins, size_t i,
                      const std::string& fallback) {
    return i < origins.size() ? origins[i]
                              : datasets::Origin{fallback, static_cast<int64_t>(i + 1)};
  };

  // Validated as ImportEvents validates; a refused item is refused alone.
  const Date today = Today();
  std::vector<icr::v1::Person> people;
  std::vector<datasets::Origin> people_from;
  for (size_t i = 0; i < mapped.people.size(); ++i) {
    icr::v1::Person p = mapped.people[i];
    if (p.family_name().empty()) p.set_family_name(datasets::kMhsdsNoName);
    const auto from = origin_of(person_origin, i, "people");
    if (p.nhs_number().empty() && p.local_identifiers_size() > 0) {
      AddRefusal(report, from.table, from.row, "nhs_number", kNoOneByLocalId);
      continue;
    }
    if (auto s = ValidatePerson(p, ref_, "person", today); !s.ok()) {
      auto [field, reason] = FieldAndReason(s);
      AddRefusal(report, from.table, from.row, field, reason);
      continue;
    }
    people.push_back(std::move(p));
    people_from.push_back(from);
  }
  std::vector<icr::v1::Event> events;
  std::vector<datasets::Origin> events_from;
  std::set<std::string> ids;
  for (size_t i = 0; i < mapped.events.size(); ++i) {
    icr::v1::Event e = mapped.events[i];
    const auto from = origin_of(event_origin, i, "events");
    if (e.nhs_number().empty() && e.has_subject_local_identifier()) {
      AddRefusal(report, from.table, from.row, "nhs_number", kNoOneByLocalId);
      continue;
    }
    absl::Status s = ValidateEvent(e, ref_, "event", today);
    if (s.ok() && !ids.insert(e.event_id()).second) {
      s = InvalidField("event.event_id", "sent twice in the file");
    }
    if (!s.ok()) {
      auto [field, reason] = FieldAndReason(s);
      AddRefusal(report, from.table, from.row, field, reason);
      continue;
    }
    events.push_back(std::move(e));
    events_from.push_back(from);
  }
  report.set_people(static_cast<int64_t>(mapped.people.size()));
  job.set_rows_total(static_cast<int64_t>(people.size() + events.size()));

  const std::string& org = caller_.org_code;
  const std::string kind = job.kind();
  absl::Status status = db_.Write(
      [&](pqxx::work& tx) -> absl::Status {
        // A former NHS number (merged or changed) names the person it now belongs to, as in
        // ImportEvents (Importer::ResolveAliases).
        std::vector<std::string> numbers;
        for (const auto& p : people) numbers.push_back(p.nhs_number());
        for (const auto& e : events) numbers.push_back(e.nhs_number());
        const auto current = PersonMerge::ResolveAliases(tx, numbers);
        const auto resolve = [&](std::string* nhs) {
          if (auto found = current.find(*nhs); found != current.end()) *nhs = found->second;
        };
        for (auto& p : people) resolve(p.mutable_nhs_number());
        for (auto& e : events) resolve(e.mutable_nhs_number());

        // The period's previous load (its lock held to the end of this transaction).
        auto previous = Exec(tx, sql::kDatasetLoadGet, org, kind, mapped.period_start);
        std::vector<std::string> before;
        if (!previous[0][1].is_null()) {
          auto parser = previous[0][1].as_array();
          for (auto next = parser.get_next(); next.first != pqxx::array_parser::done;
               next = parser.get_next()) {
            if (next.first == pqxx::array_parser::string_value) before.push_back(next.second);
          }
        }
        // What of the file is known: same content (duplicate) or not (correction).
        std::vector<std::string> asked(ids.begin(), ids.end());
        asked.insert(asked.end(), before.begin(), before.end());
        const KnownEvents known = RecordStore::KnownEventHashes(tx, org, asked);
        std::map<std::string, const icr::v1::Event*> corrected;
        std::vector<Item::Class> classes;
        for (const auto& e : events) {
          auto k = known.find(e.event_id());
          if (k == known.end()) {
            classes.push_back(Item::Class::kNew);
          } else if (k->second == Sha256(CanonicalJson(e))) {
            classes.push_back(Item::Class::kDuplicate);
          } else {
            classes.push_back(Item::Class::kCorrected);
            corrected[e.event_id()] = &e;
          }
        }
        std::set<std::string> retracted;
        for (const auto& id : before) {
          if (!ids.count(id) && known.count(id)) retracted.insert(id);
        }

        // The people a correction or retraction concerns: their part of the record is rebuilt
        // from the sender's events as they now stand, in the order it stored them.
        std::vector<std::string> touched;
        for (const auto& [id, e] : corrected) touched.push_back(id);
        touched.insert(touched.end(), retracted.begin(), retracted.end());
        std::vector<Item> items;
        Importer::Batch batch;
        auto add = [&](Item::Class what, const datasets::Origin& from, const std::string& id,
                       icr::v1::ImportItem item) {
          Item it;
          it.what = what;
          it.origin = from;
          it.event_id = id;
          items.push_back(std::move(it));
          batch.push_back({static_cast<int64_t>(items.size() - 1), std::move(item)});
        };
        if (!touched.empty()) {
          std::set<std::string> person_ids;
          std::map<std::string, std::string> person_of;
          for (const auto& r : Exec(tx, sql::kDatasetEventPeople, org, PgTextArray(touched))) {
            person_ids.insert(r[1].c_str());
            person_of[r[0].c_str()] = r[1].c_str();
          }
          const std::string people_array =
              PgTextArray(std::vector<std::string>(person_ids.begin(), person_ids.end()));
          auto stored = Exec(tx, sql::kDatasetPersonEvents, org, people_array);
          Exec(tx, sql::kDatasetReset, org, people_array);
          for (const auto& r : stored) {
            const std::string id = r[0].c_str();
            if (retracted.count(id)) continue;
            icr::v1::Event e;
            if (auto c = corrected.find(id); c != corrected.end()) {
              e = *c->second;
            } else {
              google::protobuf::util::JsonParseOptions options;
              options.ignore_unknown_fields = true;
              if (!google::protobuf::util::JsonStringToMessage(r[1].c_str(), &e, options).ok()) {
                return absl::InternalError("stored event " + id + " cannot be read back");
              }
            }
            icr::v1::ImportItem item;
            *item.mutable_event() = std::move(e);
            add(Item::Class::kReplay, {"stored", 0}, id, std::move(item));
          }
          for (const auto& id : touched) {
            Changes::Append(tx, change::kEvent, org + "/" + id, person_of[id],
                            retracted.count(id) ? change::kEventRetracted : change::kEventCorrected,
                            org);
          }
        }

        // The file's people (those not in the store yet: the file has no names to update an
        // existing record with) and events.
        std::vector<std::string> nhs_numbers;
        for (const auto& p : people) nhs_numbers.push_back(p.nhs_number());
        std::set<std::string> matched;
        for (const auto& found : RecordStore::FindByNhsNumbers(tx, nhs_numbers, org)) {
          matched.insert(found.person.nhs_number());
        }
        report.set_people_matched(static_cast<int64_t>(matched.size()));
        for (size_t i = 0; i < people.size(); ++i) {
          if (matched.count(people[i].nhs_number())) continue;
          icr::v1::ImportItem item;
          *item.mutable_person() = people[i];
          add(Item::Class::kPerson, people_from[i], "", std::move(item));
        }
        for (size_t i = 0; i < events.size(); ++i) {
          icr::v1::ImportItem item;
          *item.mutable_event() = events[i];
          add(classes[i], events_from[i], events[i].event_id(), std::move(item));
        }
        job.set_rows_total(static_cast<int64_t>(batch.size()));

        // First without a savepoint per item (faster); when an item is refused, once more from
        // here with one, so that the refused items are rolled back alone.
        std::optional<WriteBatch> writes;
        Importer::BatchRun run;
        const auto after_item = [&](size_t done) {
          Progress(job, static_cast<int64_t>(done), false, progress);
        };
        absl::Status stored;
        {
          Savepoint whole(tx);
          writes.emplace(caller_, "ImportDataset");
          stored = Importer::StoreItems(tx, *writes, batch, /*savepoints=*/false, run, after_item);
          if (absl::IsAborted(stored)) {
            whole.Rollback();
          } else {
            whole.Release();
          }
        }
        if (absl::IsAborted(stored)) {
          writes.emplace(caller_, "ImportDataset");
          stored = Importer::StoreItems(tx, *writes, batch, /*savepoints=*/true, run, after_item);
        }
        RETURN_IF_ERROR(stored);

        std::set<std::string> failed;
        for (const auto& [item, refusal] : run.failures) {
          // No one row's fault (the database or the call gave out, a concurrent write): the
          // file fails as a whole, and can be sent again.
          if (absl::IsDeadlineExceeded(refusal) || absl::IsUnavailable(refusal) ||
              absl::IsCancelled(refusal) || absl::IsInternal(refusal) || absl::IsAborted(refusal)) {
            return refusal;
          }
          const Item& it = items[item->index];
          if (it.what == Item::Class::kReplay && !corrected.count(it.event_id)) {
            // An event kept from before that no longer stores: the record would lose it.
            return absl::FailedPreconditionError(
                "event " + it.event_id +
                ", stored before, cannot be stored again: " + std::string(refusal.message()));
          }
          failed.insert(it.event_id);
          if (it.what == Item::Class::kReplay) continue;  // reported with the file's item
          auto [field, reason] = FieldAndReason(refusal);
          AddRefusal(report, it.origin.table, it.origin.row, field, reason);
        }
        std::vector<std::string> loaded;
        std::vector<std::string> cand_nhs, cand_ids, cand_codes;
        for (size_t i = 0; i < events.size(); ++i) {
          const auto& e = events[i];
          if (failed.count(e.event_id())) continue;
          loaded.push_back(e.event_id());
          switch (classes[i]) {
            case Item::Class::kNew:
              report.set_stored(report.stored() + 1);
              break;
            case Item::Class::kDuplicate:
              report.set_duplicates(report.duplicates() + 1);
              break;
            default:
              report.set_corrected(report.corrected() + 1);
          }
          if (e.has_detention_start() &&
              datasets::MhsdsS117Qualifying(e.detention_start().legal_status_code())) {
            cand_nhs.push_back(e.nhs_number());
            cand_ids.push_back(e.detention_start().detention_id());
            cand_codes.push_back(e.detention_start().legal_status_code());
          }
        }
        report.set_retracted(static_cast<int64_t>(retracted.size()));
        Exec(tx, sql::kDatasetLoadPut, org, kind, mapped.period_start, mapped.period_end,
             PgTextArray(loaded), job.job_id());
        for (const auto& r : Exec(tx, sql::kDatasetCandidates, PgTextArray(cand_nhs),
                                  PgTextArray(cand_ids), PgTextArray(cand_codes))) {
          auto* c = report.add_s117_candidates();
          c->set_detention_id(r[0].c_str());
          c->set_legal_status_code(r[1].c_str());
          c->set_person_id(r[2].c_str());
        }
        if (writes->LastChange()) report.set_change_cursor(EncodeCursor(*writes->LastChange()));
        job.set_rows_done(static_cast<int64_t>(batch.size()));
        return absl::OkStatus();
      },
      kLoadTimeout);
  if (status.ok()) *job.mutable_report() = std::move(report);
  return status;
}

absl::StatusOr<icr::v1::DatasetImportJob> DatasetImport::Get(Database& db, const Caller& caller,
                                                             const std::string& job_id) {
  RETURN_IF_ERROR(CheckUuid(job_id, "job_id", "a dataset import job id"));
  icr::v1::DatasetImportJob job;
  bool found = false;
  RETURN_IF_ERROR(db.Write([&](pqxx::work& tx) {
    auto r = Exec(tx, sql::kDatasetJobGet, job_id, caller.org_code);
    if (r.empty()) return absl::OkStatus();
    found = true;
    const auto& row = r[0];
    job.set_job_id(row[0].c_str());
    job.set_kind(row[1].c_str());
    job.set_state(row[2].c_str());
    job.set_rows_total(row[3].as<int64_t>());
    job.set_rows_done(row[4].as<int64_t>());
    *job.mutable_started_at() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
    *job.mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
    const double seconds = (row[6].as<int64_t>() - row[7].as<int64_t>()) / 1e6;
    if (seconds > 0) job.set_rows_per_second(job.rows_done() / seconds);
    if (job.state() == "running" && job.rows_per_second() > 0) {
      job.set_eta_seconds(
          static_cast<int64_t>((job.rows_total() - job.rows_done()) / job.rows_per_second()));
    }
    job.set_error(row[8].c_str());
    job.set_error_code(row[9].as<int>());
    if (!row[10].is_null())
      job.mutable_report()->ParseFromString(pqxx::binarystring(row[10]).str());
    return absl::OkStatus();
  }));
  if (!found) return absl::NotFoundError("job_id: no such dataset import job");
  return job;
}

}  // namespace icr::record
