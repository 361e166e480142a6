#include "services/record/record_service.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/changes.h"
#include "services/common/savepoint.h"
#include "services/common/grpc_status.h"
#include "services/record/import_lanes.h"
#include "services/record/record_rules.h"
#include "services/record/store.h"
#include "services/record/write_batch.h"

namespace icr::record {
namespace {
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kMaxEventsPerRequest = 1000;
constexpr int kImportBatch = 1000;   // items per transaction in ImportEvents
constexpr int kImportBatchRuns = 3;  // ImportEvents: runs of a batch with savepoints, at most
constexpr int kMaxReportedRejections = 1000;
// GetIntegratedRecord's batches (RecordReader) served at once. One: the calls that arrive while
// a batch is served wait for the next, so batches are larger and the statement's fixed cost is
// shared by more reads. At 8 callers, alternating icr-bench runs gave 22.8-28.0% of the health
// check with one against 17.0-21.2% with two.
constexpr int kReadBatches = 1;

int PageSize(const icr::v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPageSize;
  return std::min(page.page_size(), kMaxPageSize);
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

absl::StatusOr<std::string> RequireNhsNumber(const std::string& value) {
  return NormaliseNhsNumber(value, "nhs_number");
}

// Runs one import item's writes: a database error becomes the item's status (it is rolled back
// alone); a lost connection ends the batch.
absl::Status Guard(const std::function<absl::Status()>& write) {
  try {
    return write();
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const std::exception& e) {
    return StatusFromDbException(e);
  }
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
          record_cache_bytes, kReadBatches) {
}

grpc::Status RecordServiceImpl::UpsertPerson(grpc::ServerContext* ctx,
                                             const icr::v1::UpsertPersonRequest* req,
                                             icr::v1::Person* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.UpsertPerson");
  if (!caller.ok()) return ToGrpc(caller.status());
  icr::v1::Person person = req->person();
  if (auto s = ValidatePerson(person, *ref_, "person", Today()); !s.ok()) return ToGrpc(s);
  if (auto s = CheckVersion(req->expected_version(), "expected_version"); !s.ok()) {
    return ToGrpc(s);
  }
  WriteBatch batch(*caller, "UpsertPerson");
  return ToGrpc(WriteAll(batch, [&](pqxx::work& tx) -> absl::Status {
    auto stored = batch.Person(tx, person, req->expected_version());
    if (!stored.ok()) return stored.status();
    RETURN_IF_ERROR(batch.Finish(tx));
    *resp = stored->person;
    return absl::OkStatus();
  }));
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

grpc::Status RecordServiceImpl::GetPerson(grpc::ServerContext* ctx,
                                          const icr::v1::GetPersonRequest* req,
                                          icr::v1::Person* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetPerson");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto nhs = RequireNhsNumber(req->nhs_number());
  if (!nhs.ok()) return ToGrpc(nhs.status());
  return ToGrpc(
      Access::ReadPerson(db_, *caller, *nhs, "GetPerson", [&](pqxx::work& tx, const PersonRef&) {
        *resp = *RecordStore::FindByNhsNumber(tx, *nhs);
        return absl::OkStatus();
      }));
}

grpc::Status RecordServiceImpl::FindPeople(grpc::ServerContext* ctx,
                                           const icr::v1::FindPeopleRequest* req,
                                           icr::v1::FindPeopleResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.FindPeople");
  if (!caller.ok()) return ToGrpc(caller.status());
  icr::v1::FindPeopleRequest query = *req;
  const std::string& token = query.page().page_token();
  if (!token.empty() && !IsUuid(token)) {
    return ToGrpc(InvalidField("page.page_token", "not a token returned by FindPeople"));
  }
  switch (query.query_case()) {
    case icr::v1::FindPeopleRequest::kNameAndBirth: {
      const auto& q = query.name_and_birth();
      if (auto s = CheckText(q.family_name(), "name_and_birth.family_name", 100, true); !s.ok()) {
        return ToGrpc(s);
      }
      if (auto d = RequireDate(q.date_of_birth(), "name_and_birth.date_of_birth"); !d.ok()) {
        return ToGrpc(d.status());
      }
      break;
    }
    case icr::v1::FindPeopleRequest::kPostcode: {
      std::string pc = query.postcode();
      std::transform(pc.begin(), pc.end(), pc.begin(), ::toupper);
      query.set_postcode(pc);
      if (auto s = CheckText(pc, "postcode", 8, true); !s.ok()) return ToGrpc(s);
      break;
    }
    case icr::v1::FindPeopleRequest::kLocalIdentifier:
      if (auto s =
              CheckText(query.local_identifier().system(), "local_identifier.system", 64, true);
          !s.ok()) {
        return ToGrpc(s);
      }
      if (auto s = CheckText(query.local_identifier().value(), "local_identifier.value", 64, true);
          !s.ok()) {
        return ToGrpc(s);
      }
      break;
    case icr::v1::FindPeopleRequest::QUERY_NOT_SET:
      return ToGrpc(InvalidField("query", "one of name_and_birth, postcode or local_identifier"));
  }
  const int limit = PageSize(query.page());
  // Break-glass searches see everyone; each person returned is audited either way.
  const std::string visible_to = access::ListScope(*caller, "icr.v1.RecordService.FindPeople");
  return ToGrpc(db_.Write([&](pqxx::work& tx) -> absl::Status {
    auto people = RecordStore::FindPeople(tx, query, visible_to, limit);
    if (!people.ok()) return people.status();
    std::vector<std::string> seen;
    for (auto& p : *people) {
      seen.push_back(p.person_id());
      *resp->add_people() = std::move(p);
    }
    Audit::WriteMany(tx, *caller, seen, "FindPeople", kAuditOk);
    if (static_cast<int>(people->size()) == limit) {
      resp->mutable_page()->set_next_page_token(resp->people(limit - 1).person_id());
    }
    return absl::OkStatus();
  }));
}

grpc::Status RecordServiceImpl::RecordEvents(grpc::ServerContext* ctx,
                                             const icr::v1::RecordEventsRequest* req,
                                             icr::v1::RecordEventsResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.RecordEvents");
  if (!caller.ok()) return ToGrpc(caller.status());
  if (req->events_size() == 0) return ToGrpc(InvalidField("events", "at least one event"));
  if (req->events_size() > kMaxEventsPerRequest) {
    return ToGrpc(InvalidField("events", "at most 1000 events per request; use ImportEvents"));
  }
  std::vector<icr::v1::Event> events(req->events().begin(), req->events().end());
  const Date today = Today();
  for (size_t i = 0; i < events.size(); ++i) {
    auto s = ValidateEvent(events[i], *ref_, "events[" + std::to_string(i) + "]", today);
    if (!s.ok()) return ToGrpc(s);
  }
  WriteBatch batch(*caller, "RecordEvents");
  return ToGrpc(WriteAll(batch, [&](pqxx::work& tx) -> absl::Status {
    resp->clear_outcomes();
    std::vector<const icr::v1::Event*> all;
    for (const auto& e : events) all.push_back(&e);
    batch.Prefetch(tx, all);
    for (size_t i = 0; i < events.size(); ++i) {
      auto result = batch.Event(tx, events[i], "events[" + std::to_string(i) + "]");
      if (!result.ok()) return result.status();
      auto* o = resp->add_outcomes();
      o->set_event_id(events[i].event_id());
      o->set_result(*result == EventResult::kStored ? icr::v1::EventOutcome::STORED
                                                    : icr::v1::EventOutcome::DUPLICATE);
    }
    return batch.Finish(tx);
  }));
}

grpc::Status RecordServiceImpl::ImportEvents(grpc::ServerContext* ctx,
                                             grpc::ServerReader<icr::v1::ImportItem>* reader,
                                             icr::v1::ImportSummary* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.ImportEvents");
  if (!caller.ok()) return ToGrpc(caller.status());
  const Date today = Today();
  // The lanes store batches concurrently: the summary and the refusals are kept under `mu`, the
  // refusals as the first kMaxReportedRejections by index (lanes report out of stream order).
  std::mutex mu;
  std::vector<icr::v1::ImportSummary::Rejection> rejections;
  auto keep_first = [&] {  // the first kMaxReportedRejections by index
    std::sort(rejections.begin(), rejections.end(),
              [](const auto& a, const auto& b) { return a.index() < b.index(); });
    if (rejections.size() > kMaxReportedRejections) rejections.resize(kMaxReportedRejections);
  };
  auto reject = [&](int64_t index, const std::string& key, const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    resp->set_rejected(resp->rejected() + 1);
    icr::v1::ImportSummary::Rejection r;
    r.set_index(index);
    r.set_key(key);
    r.set_code(static_cast<int>(s.code()));
    r.set_message(std::string(s.message()));
    rejections.push_back(std::move(r));
    if (rejections.size() >= 2 * kMaxReportedRejections) keep_first();
  };

  // Each batch is one transaction. It first runs without savepoints; if an item fails it runs
  // again with a savepoint per item, so a bad item is rolled back alone and the valid ones are
  // kept.
  using Batch = ImportLanes::Batch;
  auto store = [&](Batch& batch) -> absl::Status {
    int64_t stored = 0, duplicates = 0;
    std::vector<std::pair<ImportLanes::Item*, absl::Status>> failures;
    bool retry = false;  // an item failed in a run without savepoints
    auto run_with_savepoints = [&] {
      retry = true;
      return absl::AbortedError("an item failed: run the batch with savepoints");
    };
    auto run = [&](bool savepoints) {
      return db_.Write([&](pqxx::work& tx) -> absl::Status {
        stored = duplicates = 0;
        failures.clear();
        WriteBatch writes(*caller, "ImportEvents");
        std::vector<const icr::v1::Event*> events;
        std::set<std::string> people;
        for (const auto& p : batch) {
          if (p.item.has_event()) events.push_back(&p.item.event());
          if (p.item.has_person()) people.insert(p.item.person().nhs_number());
        }
        writes.Prefetch(tx, events, people);
        for (auto& p : batch) {
          std::optional<Savepoint> savepoint;
          if (savepoints) savepoint.emplace(tx);
          bool duplicate = false;
          const absl::Status item_status = Guard([&]() -> absl::Status {
            if (p.item.has_person()) {
              auto r = writes.Person(tx, p.item.person(), 0);
              duplicate = r.ok() && !r->changed;
              return r.status();
            }
            auto r = writes.Event(tx, p.item.event(), "event");
            if (!r.ok()) return r.status();
            duplicate = *r == EventResult::kDuplicate;
            return savepoints ? writes.Flush(tx) : absl::OkStatus();
          });
          if (!item_status.ok() && !savepoints) return run_with_savepoints();
          if (item_status.ok()) {
            if (savepoint) savepoint->Release();
            writes.Keep();
            duplicate ? ++duplicates : ++stored;
          } else {
            savepoint->Rollback();
            writes.Discard();
            failures.emplace_back(&p, item_status);
          }
        }
        // Without savepoints a refusal found at the end is not yet any one item's: run again.
        const absl::Status finished = Guard([&] { return writes.Finish(tx); });
        if (!finished.ok() && !savepoints) return run_with_savepoints();
        return finished;
      });
    };
    absl::Status s = run(false);
    // Again with a savepoint per item when an item failed; and again when another transaction
    // stored one of the batch's event ids after the run looked for them, or the batch lost a
    // deadlock to it (both ABORTED): the next run finds those ids stored and refuses their items
    // alone.
    for (int again = 0; again < kImportBatchRuns && (retry || absl::IsAborted(s)); ++again) {
      retry = false;
      s = run(true);
    }
    if (!s.ok()) return s;
    for (auto& [p, st] : failures) {
      reject(p->index, p->item.has_event() ? p->item.event().event_id() : "person", st);
    }
    std::lock_guard<std::mutex> lock(mu);
    resp->set_stored(resp->stored() + stored);
    resp->set_duplicates(resp->duplicates() + duplicates);
    return absl::OkStatus();
  };

  absl::Status status;
  {
    ImportLanes lanes(ImportLanes::kImportEventsLanes, kImportBatch, store);
    icr::v1::ImportItem item;
    int64_t index = 0;
    while (status.ok() && reader->Read(&item)) {
      const int64_t i = index++;
      absl::Status s;
      std::string key;
      if (item.has_person()) {
        key = "person";
        s = ValidatePerson(*item.mutable_person(), *ref_, "person", today);
      } else if (item.has_event()) {
        key = item.event().event_id();
        s = ValidateEvent(*item.mutable_event(), *ref_, "event", today);
      } else {
        s = InvalidField("item", "neither a person nor an event");
      }
      if (!s.ok()) {
        reject(i, key, s);
        continue;
      }
      const std::string nhs =
          item.has_person() ? item.person().nhs_number() : item.event().nhs_number();
      status = lanes.Add(nhs, {i, std::move(item)});
    }
    if (status.ok()) status = lanes.Finish();
    resp->set_received(index);  // the lanes have stopped
  }
  keep_first();
  for (auto& r : rejections) *resp->add_rejections() = std::move(r);
  return ToGrpc(status);
}

grpc::Status RecordServiceImpl::GetIntegratedRecord(grpc::ServerContext* ctx,
                                                    const icr::v1::GetIntegratedRecordRequest* req,
                                                    icr::v1::IntegratedRecord* resp) {
  return ToGrpc(reader_.Read(*ctx, req->nhs_number(), resp));
}

grpc::Status RecordServiceImpl::WatchChanges(grpc::ServerContext* ctx,
                                             const icr::v1::WatchChangesRequest* req,
                                             grpc::ServerWriter<icr::v1::Change>* writer) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.WatchChanges");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto cursor = DecodeCursor(req->cursor());
  if (!cursor.ok()) return ToGrpc(cursor.status());
  if (req->max_changes() < 0) return ToGrpc(InvalidField("max_changes", "must not be negative"));
  // Every role follows only changes about people its organisation may see (the access rule).
  const std::optional<std::string> visible_to = caller->org_code;
  int64_t sent = 0;
  auto idle = std::chrono::milliseconds(50);
  while (!ctx->IsCancelled()) {
    int limit = 500;
    if (req->max_changes() > 0)
      limit = static_cast<int>(std::min<int64_t>(limit, req->max_changes() - sent));
    std::vector<ChangeRow> rows;
    // Each batch delivered is audited: one row per person it names, in the read's transaction.
    absl::Status s = db_.Write([&](pqxx::work& tx) {
      rows = Changes::Read(tx, *cursor, limit, visible_to);
      std::set<std::string> people;
      for (const auto& row : rows) {
        if (!row.person_id.empty()) people.insert(row.person_id);
      }
      Audit::WriteMany(tx, *caller, {people.begin(), people.end()}, "WatchChanges", kAuditOk);
      return absl::OkStatus();
    });
    if (!s.ok()) return ToGrpc(s);
    for (const auto& row : rows) {
      icr::v1::Change c;
      c.set_cursor(EncodeCursor(row.cursor));
      c.set_entity(row.entity);
      c.set_entity_id(row.entity_id);
      c.set_person_id(row.person_id);
      c.set_change_type(row.change_type);
      *c.mutable_committed_at() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(row.committed_at_us);
      c.set_organisation_code(row.org_code);
      c.set_seq(row.cursor.seq);
      c.set_lag_ms(row.lag_ms);
      if (!writer->Write(c)) return grpc::Status::CANCELLED;
      *cursor = row.cursor;
      ++sent;
    }
    if (req->max_changes() > 0 && sent >= req->max_changes()) break;
    if (rows.empty()) {
      if (!req->follow()) break;
      std::this_thread::sleep_for(idle);
      idle = std::min(idle * 2, std::chrono::milliseconds(500));
    } else {
      idle = std::chrono::milliseconds(50);
    }
  }
  return grpc::Status::OK;
}

grpc::Status RecordServiceImpl::GetAuditTrail(grpc::ServerContext* ctx,
                                              const icr::v1::GetAuditTrailRequest* req,
                                              icr::v1::AuditTrail* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.RecordService.GetAuditTrail");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto nhs = RequireNhsNumber(req->nhs_number());
  if (!nhs.ok()) return ToGrpc(nhs.status());
  int64_t before = 0;
  if (!req->page().page_token().empty()) {
    const std::string& t = req->page().page_token();
    if (t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) {
      return ToGrpc(InvalidField("page.page_token", "not a token returned by GetAuditTrail"));
    }
    before = std::stoll(t);
  }
  const int limit = PageSize(req->page());
  // Reading the trail is itself a read of person-level data, audited like any other.
  return ToGrpc(Access::ReadPerson(
      db_, *caller, *nhs, "GetAuditTrail", [&](pqxx::work& tx, const PersonRef& ref) {
        auto entries = RecordStore::AuditTrail(tx, ref.person_id, before, limit);
        for (auto& [pk, e] : entries) *resp->add_entries() = std::move(e);
        if (static_cast<int>(entries.size()) == limit) {
          resp->mutable_page()->set_next_page_token(std::to_string(entries.back().first));
        }
        return absl::OkStatus();
      }));
}

}  // namespace icr::record
