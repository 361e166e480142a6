#include "services/common/audit.h"

namespace icr {
namespace {
const Statement kAuditInsert{
    "audit_insert",
    "INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, "
    "outcome, break_glass_reason) VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8)"};
const Statement kAuditInsertMany{
    "audit_insert_many",
    "INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, "
    "outcome, break_glass_reason) SELECT $1, $2, p, $4, $5, $6, $7, $8 "
    "FROM unnest($3::uuid[]) AS p"};
const Statement kAuditInsertRows{
    "audit_insert_rows",
    "INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, "
    "outcome, break_glass_reason) SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], "
    "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"};
}  // namespace

const std::vector<Statement>& Audit::Statements() {
  static const std::vector<Statement> kStatements = {kAuditInsert, kAuditInsertMany};
  return kStatements;
}

void Audit::Write(pqxx::transaction_base& tx, const Caller& caller, const std::string& person_id,
                  const std::string& action, const std::string& outcome) {
  const char* person = person_id.empty() ? nullptr : person_id.c_str();
  tx.exec_prepared(kAuditInsert.name, caller.org_code, RoleName(caller.role), person, action,
                   caller.purpose_of_use, caller.request_id, outcome, caller.break_glass_reason);
}

void Audit::WriteMany(pqxx::transaction_base& tx, const Caller& caller,
                      const std::vector<std::string>& person_ids, const std::string& action,
                      const std::string& outcome) {
  if (person_ids.empty()) return;
  tx.exec_prepared(kAuditInsertMany.name, caller.org_code, RoleName(caller.role),
                   PgTextArray(person_ids), action, caller.purpose_of_use, caller.request_id,
                   outcome, caller.break_glass_reason);
}

AuditQueue::AuditQueue(Database& db) : db_(db) {}

const std::vector<Statement>& AuditQueue::Statements() {
  static const std::vector<Statement> kStatements = {kAuditInsertRows};
  return kStatements;
}

absl::Status AuditQueue::Write(const Caller& caller, const std::string& person_id,
                               const std::string& action, const std::string& outcome) {
  auto mine = std::make_shared<Slot>();
  std::unique_lock lock(mu_);
  rows_.push_back({caller.org_code, RoleName(caller.role), person_id, action,
                   caller.purpose_of_use, caller.request_id, outcome,
                   caller.break_glass_reason});
  slots_.push_back(mine);
  while (!mine->done) {
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    // Nobody is writing: write everything queued, ours included.
    writing_ = true;
    auto rows = std::move(rows_);
    auto slots = std::move(slots_);
    rows_.clear();
    slots_.clear();
    lock.unlock();
    absl::Status status = Insert(rows);
    lock.lock();
    for (auto& slot : slots) {
      slot->done = true;
      slot->status = status;
    }
    writing_ = false;
    cv_.notify_all();
  }
  return mine->status;
}

absl::Status AuditQueue::Insert(const std::vector<Row>& rows) {
  std::vector<std::string> cols[8];
  for (auto& col : cols) col.reserve(rows.size());
  for (const auto& r : rows) {
    cols[0].push_back(r.org);
    cols[1].push_back(r.role);
    cols[2].push_back(r.person);
    cols[3].push_back(r.action);
    cols[4].push_back(r.purpose);
    cols[5].push_back(r.request);
    cols[6].push_back(r.outcome);
    cols[7].push_back(r.reason);
  }
  return db_.Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);  // one statement: its own transaction
    tx.exec_prepared(kAuditInsertRows.name, PgTextArray(cols[0]), PgTextArray(cols[1]),
                     PgTextArray(cols[2]), PgTextArray(cols[3]), PgTextArray(cols[4]),
                     PgTextArray(cols[5]), PgTextArray(cols[6]), PgTextArray(cols[7]));
    return absl::OkStatus();
  });
}

}  // namespace icr
