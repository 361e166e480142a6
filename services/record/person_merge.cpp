#include "services/record/person_merge.h"

#include <optional>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/import_row.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/record/merge_rules.h"
#include "services/record/sql/statements.h"
#include "services/record/store.h"

namespace icr::record {
namespace {

// A person named by NHS number or person_id (GetPersonRequest), checked before any read.
absl::Status CheckKey(const icr::v1::GetPersonRequest& key, const std::string& field) {
  if (key.person_id().empty()) {
    return NormaliseNhsNumber(key.nhs_number(), field + ".nhs_number").status();
  }
  if (!key.nhs_number().empty()) {
    return InvalidField(field + ".person_id", "give nhs_number or person_id, not both");
  }
  if (!IsUuid(key.person_id())) return InvalidField(field + ".person_id", "not a person id");
  return absl::OkStatus();
}

// The person a checked key names, if the caller may make `write` about them (aliases resolved):
// a refusal is audited under `action` and reported in `refused` as NOT_FOUND naming `field`.
std::optional<PersonRef> ResolveKey(pqxx::work& tx, const Caller& caller,
                                    const icr::v1::GetPersonRequest& key,
                                    const std::string& field, const std::string& action,
                                    access::Write write, absl::Status& refused) {
  std::string nhs;
  if (!key.person_id().empty()) {
    nhs = RecordStore::NhsNumberOf(tx, key.person_id()).value_or("");
  } else {
    nhs = *NormaliseNhsNumber(key.nhs_number(), field);
    auto current = PersonMerge::ResolveAliases(tx, {nhs});
    if (!current.empty()) nhs = current.begin()->second;
  }
  if (nhs.empty()) {
    const access::Decision d{access::NotVisible(field), access::kAuditNotFound};
    Access::AuditDecision(tx, caller, "", action, d);
    refused = d.status;
    return std::nullopt;
  }
  auto ref = Access::ResolvePersonForWrite(tx, caller, nhs, action, write);
  if (!ref.ok()) {
    refused = RenameField(ref.status(), "nhs_number", field);
    return std::nullopt;
  }
  return *ref;
}

std::vector<OpenItem> OpenItems(pqxx::work& tx, const std::string& person_id) {
  std::vector<OpenItem> items;
  for (const auto& r : Exec(tx, sql::kMergeOpenItems, person_id)) {
    items.push_back({r[0].c_str(), r[1].c_str()});
  }
  return items;
}

icr::v1::Person PersonById(pqxx::work& tx, const std::string& person_id) {
  return *RecordStore::FindByNhsNumber(tx, *RecordStore::NhsNumberOf(tx, person_id));
}

// One audit row ("<verb>:<fate>:<table>") and one change (`change_type`, entity the table, id the
// row's key) per row a merge or unmerge moved (`rows`: table, fate, key or whole row), about
// `person`, whose record the row is now part of; counted by table when by_table is set.
int64_t AuditRows(pqxx::work& tx, const Caller& caller, const pqxx::result& rows,
                  const std::string& person, const std::string& verb, const char* change_type,
                  google::protobuf::Map<std::string, int64_t>* by_table) {
  for (const auto& r : rows) {
    const std::string table = r[0].c_str(), fate = r[1].c_str(), row = r[2].c_str();
    Audit::Write(tx, caller, person, verb + ":" + fate + ":" + table, kAuditOk);
    Changes::Append(tx, table, row, person, change_type, caller.org_code);
    if (by_table) ++(*by_table)[table];
  }
  return static_cast<int64_t>(rows.size());
}

}  // namespace

std::map<std::string, std::string> PersonMerge::ResolveAliases(
    pqxx::transaction_base& tx, const std::vector<std::string>& nhs_numbers) {
  std::map<std::string, std::string> current;
  if (nhs_numbers.empty()) return current;
  for (const auto& r : Exec(tx, sql::kAliasResolve, PgTextArray(nhs_numbers))) {
    current[r[0].c_str()] = r[1].c_str();
  }
  return current;
}

absl::StatusOr<std::optional<std::string>> PersonMerge::ResolveAlias(
    Database& db, const std::string& nhs_number) {
  std::optional<std::string> current;
  RETURN_IF_ERROR(db.Write([&](pqxx::work& tx) {
    auto found = ResolveAliases(tx, {nhs_number});
    if (!found.empty()) current = found.begin()->second;
    return absl::OkStatus();
  }));
  return current;
}

absl::Status PersonMerge::Merge(Database& db, const Caller& caller,
                                const icr::v1::MergePeopleRequest& req,
                                icr::v1::MergePeopleResponse* resp) {
  RETURN_IF_ERROR(CheckKey(req.survivor(), "survivor"));
  RETURN_IF_ERROR(CheckKey(req.superseded(), "superseded"));
  RETURN_IF_ERROR(RequireReason(req.reason()));
  return Access::InTransaction(db, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto survivor = ResolveKey(tx, caller, req.survivor(), "survivor", "MergePeople",
                               access::Write::kEvent, refused);
    if (!survivor) return absl::OkStatus();
    auto superseded = ResolveKey(tx, caller, req.superseded(), "superseded", "MergePeople",
                                 access::Write::kEvent, refused);
    if (!superseded) return absl::OkStatus();
    const std::string& to = survivor->person_id;
    const std::string& from = superseded->person_id;
    if (to == from) return InvalidField("superseded", "the same person as survivor");
    Exec(tx, sql::kMergeLockPeople, to, from);
    RETURN_IF_ERROR(CheckMergeable(OpenItems(tx, to), OpenItems(tx, from)));
    const std::string merge_id = Exec(tx, sql::kMergeInsert, to, from, req.reason(),
                                      caller.org_code, RoleName(caller.role))[0][0]
                                     .c_str();
    const std::string old_nhs = *RecordStore::NhsNumberOf(tx, from);
    const auto moved = Exec(tx, sql::kMergeMoveRows, merge_id, from, to);
    resp->set_rows_moved(AuditRows(tx, caller, moved, to, "MergePeople", change::kMovedByMerge,
                                   resp->mutable_rows_by_table()));
    Exec(tx, sql::kMergeDeletePerson, from);
    Exec(tx, sql::kAliasInsert, old_nhs, to, merge_id, req.reason(), caller.org_code);
    Audit::Write(tx, caller, to, "MergePeople", kAuditOk);
    Changes::Append(tx, change::kPerson, from, to, change::kMerged, caller.org_code);
    resp->set_merge_id(merge_id);
    *resp->mutable_survivor() = PersonById(tx, to);
    return absl::OkStatus();
  });
}

absl::Status PersonMerge::Unmerge(Database& db, const Caller& caller,
                                  const icr::v1::UnmergeRequest& req,
                                  icr::v1::UnmergeResponse* resp) {
  if (!IsUuid(req.merge_id())) return InvalidField("merge_id", "not a merge id");
  RETURN_IF_ERROR(RequireReason(req.reason()));
  return Access::InTransaction(db, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto found = Exec(tx, sql::kMergeGet, req.merge_id());
    const access::Decision absent{absl::NotFoundError("merge_id: no such merge visible to you"),
                                  access::kAuditNotFound};
    if (found.empty()) {
      Access::AuditDecision(tx, caller, "", "Unmerge", absent);
      refused = absent.status;
      return absl::OkStatus();
    }
    const std::string to = found[0][0].c_str(), from = found[0][1].c_str();
    // Who may undo it: one who may merge the person the survivor is (part of) now.
    const bool survivor_gone = found[0][4].is_null();
    const auto& now = survivor_gone ? found[0][6] : found[0][4];
    if (now.is_null() ||
        !Access::ResolvePersonForWrite(tx, caller, now.c_str(), "Unmerge", access::Write::kEvent)
             .ok()) {
      refused = absent.status;
      return absl::OkStatus();
    }
    if (survivor_gone) {
      return absl::FailedPreconditionError(
          "merge_id: the survivor has since been merged into another record; unmerge that merge "
          "first");
    }
    if (found[0][3].as<bool>()) {
      return absl::FailedPreconditionError("merge_id: already unmerged");
    }
    if (found[0][5].as<bool>()) {
      return absl::FailedPreconditionError(
          "merge_id: the superseded NHS number has since become a person's own number");
    }
    Exec(tx, sql::kMergeLockPeople, to, to);
    Exec(tx, sql::kAliasDeleteMerge, req.merge_id());
    auto lost = Exec(tx, sql::kUnmergeRestoreRows, req.merge_id());
    if (!lost.empty()) {
      return absl::FailedPreconditionError(
          "merge_id: " + std::to_string(lost.size()) +
          " row(s) the merge moved have since been removed or changed hands (first: " +
          std::string(lost[0][0].c_str()) +
          "); the merge cannot be undone exactly, so nothing was changed");
    }
    const int64_t restored = AuditRows(tx, caller, Exec(tx, sql::kMergeRowsOf, req.merge_id()),
                                       from, "Unmerge", change::kRestoredByUnmerge, nullptr);
    Exec(tx, sql::kMergeMarkUnmerged, req.merge_id(), caller.org_code, req.reason());
    for (const auto& person : {to, from}) {
      Audit::Write(tx, caller, person, "Unmerge", kAuditOk);
      Changes::Append(tx, change::kPerson, from, person, change::kUnmerged, caller.org_code);
    }
    *resp->mutable_survivor() = PersonById(tx, to);
    *resp->mutable_restored() = PersonById(tx, from);
    resp->set_rows_restored(restored);
    return absl::OkStatus();
  });
}

absl::Status PersonMerge::ChangeNhsNumber(Database& db, const Caller& caller,
                                          const icr::v1::ChangeNhsNumberRequest& req,
                                          icr::v1::Person* resp) {
  RETURN_IF_ERROR(CheckKey(req.person(), "person"));
  ASSIGN_OR_RETURN(const std::string next, NormaliseNhsNumber(req.new_nhs_number(),
                                                              "new_nhs_number"));
  RETURN_IF_ERROR(RequireReason(req.reason()));
  return Access::InTransaction(db, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person = ResolveKey(tx, caller, req.person(), "person", "ChangeNhsNumber",
                             access::Write::kEvent, refused);
    if (!person) return absl::OkStatus();
    if (Exec(tx, sql::kNhsNumberInUse, next)[0][0].as<bool>()) {
      return absl::AlreadyExistsError("new_nhs_number: already a person's number or an alias");
    }
    const std::string old = *RecordStore::NhsNumberOf(tx, person->person_id);
    Exec(tx, sql::kNhsNumberChange, person->person_id, next);
    Exec(tx, sql::kAliasInsert, old, person->person_id, nullptr, req.reason(), caller.org_code);
    Audit::Write(tx, caller, person->person_id, "ChangeNhsNumber", kAuditOk);
    Changes::Append(tx, change::kPerson, person->person_id, person->person_id,
                    change::kNhsNumberChanged, caller.org_code);
    *resp = PersonById(tx, person->person_id);
    return absl::OkStatus();
  });
}

}  // namespace icr::record
