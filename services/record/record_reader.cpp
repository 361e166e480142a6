#include "services/record/record_reader.h"

#include "services/common/access.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr::record {

RecordReader::RecordReader(Database& db, Authorise authorise, size_t cache_bytes, int threads)
    : db_(db), authorise_(std::move(authorise)), cache_(cache_bytes) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

RecordReader::~RecordReader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& call : queue_) call.done(absl::UnavailableError("the server is stopping"));
}

void RecordReader::Read(const grpc::ServerContextBase* ctx, std::string nhs_number,
                        icr::v1::IntegratedRecord* out, std::function<void(absl::Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      queue_.push_back({ctx, std::move(nhs_number), out, std::move(done)});
      if (queue_.size() == 1) wake_.notify_one();  // else a reader is already on its way
      return;
    }
  }
  done(absl::UnavailableError("the server is stopping"));
}

void RecordReader::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::vector<Call> calls;
    while (!queue_.empty() && calls.size() < kMaxBatch) {
      calls.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (!queue_.empty()) wake_.notify_one();
    lock.unlock();
    try {
      Serve(calls);
    } catch (const std::exception& e) {
      // Serve answers every call it finishes and clears `done`; answer the rest.
      for (auto& call : calls) {
        if (call.done) call.done(absl::InternalError(std::string("record read: ") + e.what()));
      }
    }
    lock.lock();
  }
}

void RecordReader::Serve(std::vector<Call>& calls) {
  auto finish = [](Call& call, absl::Status status) {
    auto done = std::move(call.done);
    call.done = nullptr;
    done(std::move(status));
  };
  // Who is asking, for whom, and what this server holds; refused calls are answered now.
  struct Pending {
    Call* call;
    Caller caller;
    std::string nhs;
    std::optional<RecordCache::Hit> held;
  };
  std::vector<Pending> pending;
  pending.reserve(calls.size());
  for (auto& call : calls) {
    auto caller = authorise_(*call.ctx);
    if (!caller.ok()) {
      finish(call, caller.status());
      continue;
    }
    auto nhs = NormaliseNhsNumber(call.nhs_number, "nhs_number");
    if (!nhs.ok()) {
      finish(call, nhs.status());
      continue;
    }
    auto held = cache_.Get(*nhs, caller->org_code);
    pending.push_back({&call, std::move(*caller), std::move(*nhs), std::move(held)});
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
  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    if (!looked.ok()) {
      finish(*p.call, looked);
      continue;
    }
    if (!found[i]) {
      finish(*p.call, absl::NotFoundError("nhs_number: no such person visible to you"));
      continue;
    }
    auto ref = Access::Decide(p.caller, found[i]->person_id, found[i]->visible);
    if (!ref.ok()) {  // audited as denied by the look-up
      finish(*p.call, ref.status());
      continue;
    }
    auto body = Body(p.nhs, p.caller, p.held, *found[i]);
    if (!body.ok()) {
      finish(*p.call, body.status());
      continue;
    }
    if (!p.call->out->ParseFromString(**body)) {
      finish(*p.call, absl::InternalError("record body"));
      continue;
    }
    p.call->out->set_break_glass(ref->break_glass);
    finish(*p.call, absl::OkStatus());
  }
}

absl::StatusOr<std::shared_ptr<const std::string>> RecordReader::Body(
    const std::string& nhs, const Caller& caller, const std::optional<RecordCache::Hit>& held,
    RecordStore::RecordLookup& found) {
  if (found.fresh && held) {
    if (!held->visible) cache_.NoteVisible(nhs, found.version, caller.org_code, found.visible);
    return held->body;
  }
  std::optional<bool> visible = found.visible;
  if (!found.body) {
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
