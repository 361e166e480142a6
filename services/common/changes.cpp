#include "services/common/changes.h"

#include "services/common/sql/statements.h"
#include "services/common/status.h"

namespace icr {

std::string EncodeCursor(const ChangeCursor& c) {
  return "c1." + c.txid + "." + std::to_string(c.seq);
}

bool CursorBefore(const ChangeCursor& a, const ChangeCursor& b) {
  // Decimal text without leading zeros: a shorter number is smaller.
  if (a.txid.size() != b.txid.size()) return a.txid.size() < b.txid.size();
  if (a.txid != b.txid) return a.txid < b.txid;
  return a.seq < b.seq;
}

absl::StatusOr<ChangeCursor> DecodeCursor(const std::string& text) {
  if (text.empty()) return ChangeCursor{};
  auto bad = [] { return InvalidField("cursor", "not a cursor returned by this feed"); };
  if (text.rfind("c1.", 0) != 0) return bad();
  auto dot = text.find('.', 3);
  if (dot == std::string::npos) return bad();
  ChangeCursor c;
  c.txid = text.substr(3, dot - 3);
  std::string seq = text.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(c.txid) || !digits(seq)) return bad();
  c.seq = std::stoll(seq);
  return c;
}

void Changes::Append(pqxx::transaction_base& tx, const std::string& entity,
                     const std::string& entity_id, const std::string& person_id,
                     const std::string& change_type, const std::string& org_code) {
  const char* person = person_id.empty() ? nullptr : person_id.c_str();
  Exec(tx, common::sql::kChangesInsert, entity, entity_id, person, change_type, org_code);
}

std::vector<ChangeRow> Changes::Read(pqxx::transaction_base& tx, const ChangeCursor& after,
                                     int limit, const std::optional<std::string>& visible_to_org) {
  const char* org = visible_to_org ? visible_to_org->c_str() : nullptr;
  auto result = Exec(tx, common::sql::kChangesRead, after.txid, after.seq, limit, org);
  std::vector<ChangeRow> rows;
  rows.reserve(result.size());
  for (const auto& r : result) {
    ChangeRow row;
    row.cursor.txid = r[0].c_str();
    row.cursor.seq = r[1].as<int64_t>();
    row.committed_at_us = r[2].as<int64_t>();
    row.entity = r[3].c_str();
    row.entity_id = r[4].c_str();
    row.person_id = r[5].c_str();
    row.change_type = r[6].c_str();
    row.org_code = r[7].c_str();
    row.lag_ms = r[8].as<int64_t>();
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace icr
