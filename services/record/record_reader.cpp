#include "services/record/record_reader.h"

#include "services/common/access.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr::record {

RecordReader::RecordReader(Database& db, Authorise authorise, size_t cache_bytes, int batches)
    : db_(db), authorise_(std::move(authorise)), cache_(cache_bytes), max_batches_(batches) {}

absl::Status RecordReader::Read(const grpc::ServerContextBase& ctx, const std::string& nhs_number,
                                icr::v1::IntegratedRecord* out) {
  Call call{&ctx, &nhs_number, out, std::nullopt};
  std::unique_lock lock(mu_);
  queue_.push_back(&call);
  while (!call.answered) {
    if (batches_ >= max_batches_ || queue_.empty()) {
      answered_.wait(lock);
      continue;
    }
    // Lead a batch: every call queued by now (this one, unless another batch took it).
    ++batches_;
    std::vector<Call*> calls;
    while (!queue_.empty() && calls.size() < kMaxBatch) {
      calls.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    bool released = false;  // under mu_
    auto release = [&] {
      std::lock_guard hold(mu_);
      --batches_;
      released = true;
      answered_.notify_all();
    };
    try {
      Serve(calls, release);
    } catch (const std::exception& e) {
      for (Call* c : calls) {
        if (!c->status) c->status = absl::InternalError(std::string("record read: ") + e.what());
      }
    }
    lock.lock();
    for (Call* c : calls) c->answered = true;
    if (!released) --batches_;
    answered_.notify_all();
  }
  return *call.status;
}

void RecordReader::Serve(const std::vector<Call*>& calls, const std::function<void()>& release) {
  // Who is asking, for whom, and what this server holds; refused calls are answered now.
  struct Pending {
    Call* call;
    Caller caller;
    std::string nhs;
    std::optional<RecordCache::Hit> held;
  };
  std::vector<Pending> pending;
  pending.reserve(calls.size());
  for (Call* call : calls) {
    auto caller = authorise_(*call->ctx);
    if (!caller.ok()) {
      call->status = caller.status();
      continue;
    }
    auto nhs = NormaliseNhsNumber(*call->nhs_number, "nhs_number");
    if (!nhs.ok()) {
      call->status = nhs.status();
      continue;
    }
    auto held = cache_.Get(*nhs, caller->org_code);
    pending.push_back({call, std::move(*caller), std::move(*nhs), std::move(held)});
  }
  if (pending.empty()) return;
  std::vector<RecordStore::RecordLookupRequest> requests;
  requests.reserve(pending.size());
  for (const auto& p : pending) {
    requests.push_back({p.nhs, &p.caller, p.held ? p.held->version : "",
                        p.held ? p.held->visible : std::nullopt});
  }
  std::vector<const RecordStore::RecordLookupRequest*> batch;
  for (const auto& r : requests) batch.push_back(&r);
  std::vector<std::optional<RecordStore::RecordLookup>> found;
  absl::Status looked = db_.Read([&](pqxx::nontransaction& tx) {
    found = RecordStore::LookupRecords(tx, batch);
    return absl::OkStatus();
  });
  // Records to build (first reads, or changed since) take a round trip each: let the next batch
  // start meanwhile (also for a refused call's, which is not built: harmless).
  for (size_t i = 0; looked.ok() && i < pending.size(); ++i) {
    if (found[i] && MustBuild(*found[i], pending[i].held)) {
      release();
      break;
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    p.call->status = [&]() -> absl::Status {
      if (!looked.ok()) return looked;
      access::Facts facts;  // audited by the look-up, with the same outcome
      facts.exists = found[i].has_value();
      facts.sees = found[i] && found[i]->visible;
      const access::Decision d = access::DecideRead(p.caller, facts, true, "nhs_number");
      if (!d.ok()) return d.status;
      auto body = Body(p.nhs, p.caller, p.held, *found[i]);
      if (!body.ok()) return body.status();
      if (!p.call->out->ParseFromString(**body)) return absl::InternalError("record body");
      p.call->out->set_break_glass(d.break_glass);
      return absl::OkStatus();
    }();
  }
}

bool RecordReader::Held(const RecordStore::RecordLookup& found,
                        const std::optional<RecordCache::Hit>& held) {
  return found.fresh && held;
}

bool RecordReader::MustBuild(const RecordStore::RecordLookup& found,
                             const std::optional<RecordCache::Hit>& held) {
  return !Held(found, held) && !found.body;
}

absl::StatusOr<std::shared_ptr<const std::string>> RecordReader::Body(
    const std::string& nhs, const Caller& caller, const std::optional<RecordCache::Hit>& held,
    RecordStore::RecordLookup& found) {
  if (Held(found, held)) {
    if (!held->visible) cache_.NoteVisible(nhs, found.version, caller.org_code, found.visible);
    return held->body;
  }
  std::optional<bool> visible = found.visible;
  if (MustBuild(found, held)) {
    absl::StatusOr<RecordStore::BuiltRecord> built = absl::InternalError("not built");
    RETURN_IF_ERROR(db_.Read([&](pqxx::nontransaction& tx) {
      built = RecordStore::BuildIntegratedRecord(tx, found.person_id);
      return built.status();
    }));
    if (built->version != found.version) visible.reset();  // written since the look-up
    found.version = std::move(built->version);
    found.body = std::move(built->body);
  }
  auto body = std::make_shared<const std::string>(std::move(*found.body));
  cache_.Put(nhs, found.version, body, caller.org_code, visible);
  return body;
}

}  // namespace icr::record
