// The record's reads and writes over core.* (statements in services/record/sql/), which the
// handlers compose into one transaction each. The rules they apply to what is stored are in
// record_rules.h.
#pragma once

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"
#include "services/common/access_rule.h"
#include "services/common/auth.h"
#include "services/common/changes.h"
#include "services/common/db.h"
#include "services/common/validation.h"

namespace icr::record {

enum class EventResult { kStored, kDuplicate };

// Event ids an organisation already sent, with the SHA-256 of their canonical content.
using KnownEvents = std::map<std::string, std::string>;

// Rows a transaction's writes leave to be written at its end, in one statement
// (RecordStore::WritePending): the event log and the change outbox.
struct PendingWrites {
  struct EventRow {
    std::string event_id, person_id, kind, hash, json;  // from the batch's organisation
  };
  std::vector<EventRow> events;
  std::vector<NewChange> changes;
  // Writes to the episode tables, one entry per kind (RecordStore::FlushDeferred): the inserts,
  // and the closing events (discharges, ends), which update what the inserts may have written.
  struct Deferred {
    std::vector<std::vector<std::string>> columns;
    // Per row: its key, and its refusal if not written (of a close: its item's field prefix).
    std::vector<std::string> keys, errors;
    std::unordered_set<std::string> pending_keys;
  };
  std::vector<Deferred> deferred;
};

struct PersonFacts {
  icr::v1::Person person;
  access::Facts facts;
};

struct UpsertResult {
  icr::v1::Person person;
  bool changed = false;  // false: exactly as stored already (nothing written but the relationship)
  bool created = false;  // the person was not in the store
};

class RecordStore {
 public:
  static std::optional<icr::v1::Person> FindByNhsNumber(pqxx::transaction_base& tx,
                                                        const std::string& nhs_number);
  // The NHS number of the person with this id (a UUID), if there is one.
  static std::optional<std::string> NhsNumberOf(pqxx::transaction_base& tx,
                                                const std::string& person_id);
  // Those of these NHS numbers that are known, in no particular order, without their local
  // identifiers, with the facts of the access rule for org_code (for the writes of a batch).
  static std::vector<PersonFacts> FindByNhsNumbers(pqxx::transaction_base& tx,
                                                   const std::vector<std::string>& nhs_numbers,
                                                   const std::string& org_code);
  // Creates or updates by NHS number, adding its change row to `changes` (the caller adds the
  // relationship: WriteBatch). ABORTED when expected_version is set and stale; ALREADY_EXISTS
  // when a local identifier belongs to someone else.
  // Also keeps the residence history (PlanResidence): a change of postcode, council or ICB
  // takes effect on residence_from (nullopt: today; a first residence: a date not recorded).
  static absl::StatusOr<UpsertResult> UpsertPerson(pqxx::transaction_base& tx,
                                                   const icr::v1::Person& person,
                                                   int64_t expected_version,
                                                   const std::string& org_code,
                                                   std::vector<NewChange>& changes,
                                                   const std::optional<Date>& residence_from = {});

  static KnownEvents KnownEventHashes(pqxx::transaction_base& tx, const std::string& org,
                                      const std::vector<std::string>& event_ids);

  // Applies a validated event for the person to the episode tables and adds its event-log and
  // change rows to `out`. Resending an event in `known` with the same content is kDuplicate;
  // with other content ALREADY_EXISTS. `field` prefixes error messages. The caller adds the
  // relationship and the audit row (WriteBatch).
  static absl::StatusOr<EventResult> StoreEvent(pqxx::transaction_base& tx,
                                                const icr::v1::Event& event,
                                                const icr::v1::Person& person,
                                                const std::string& org_code,
                                                const std::string& field, const KnownEvents& known,
                                                PendingWrites& out);
  // Writes the deferred episode-table rows, one statement per kind; ALREADY_EXISTS when an
  // inserted row was recorded before, and a close's refusal (no such row for the person:
  // FAILED_PRECONDITION, closed already, dated before the row's start: the same; record_rules:
  // CloseRefusal), for the first refused row of the first kind. Clears them either way.
  static absl::Status FlushDeferred(pqxx::transaction_base& tx, const std::string& org_code,
                                    PendingWrites& pending);
  // Writes the pending rows and the relationships of org_code with these people (core.relationship:
  // "recorded" something for person_ids, "registered" the people it created), in one statement.
  // ABORTED when a concurrent call stored one of the events. Returns the feed position of the
  // last change written (none when there was no change).
  static absl::StatusOr<std::optional<ChangeCursor>> WritePending(
      pqxx::transaction_base& tx, const std::string& org_code, const PendingWrites& pending,
      const std::vector<std::string>& person_ids, const std::vector<std::string>& registered);

  // Visible people matching the request, after the page token; org empty = no visibility filter.
  static absl::StatusOr<std::vector<icr::v1::Person>> FindPeople(
      pqxx::transaction_base& tx, const icr::v1::FindPeopleRequest& request,
      const std::string& visible_to_org, int limit);

  // GetIntegratedRecord's look-ups, for one caller or for several concurrent ones in one
  // statement and one transaction: for each, the person, whether the caller may see them
  // (core.can_see, or the answer the caller's server remembered for the same record version),
  // the audit row of the read (denied when they may not and do not break glass, as
  // access::DecideRead), and the record's version (migration 0013). `fresh`: the version the server
  // holds a body for (seen_version) is still the current one. When it is not and the caller may
  // read, the body kept in the store (core.record_body) if it is still valid. A result is
  // nullopt for an NHS number of no one (audited not_found, as Access::ResolvePerson;
  // migration 0016).
  struct RecordLookupRequest {
    std::string nhs_number;
    const Caller* caller = nullptr;
    std::string seen_version;          // "" when the server holds no body
    std::optional<bool> seen_visible;  // the caller's organisation at seen_version, if known
  };
  struct RecordLookup {
    std::string person_id;
    bool visible = false;
    bool fresh = false;
    std::string version;
    std::optional<std::string> body;  // serialised icr.v1.IntegratedRecord
  };
  static std::vector<std::optional<RecordLookup>> LookupRecords(
      pqxx::transaction_base& tx, const std::vector<const RecordLookupRequest*>& requests);
  // Builds the integrated record from the store and keeps it in the body cache (migration
  // 0010). Run outside a transaction (Database::Read): the build is one statement, so the body
  // and its version come from one snapshot; the fill is its own statement.
  struct BuiltRecord {
    std::string body;  // serialised icr.v1.IntegratedRecord
    std::string version;
  };
  static absl::StatusOr<BuiltRecord> BuildIntegratedRecord(pqxx::transaction_base& tx,
                                                           const std::string& person_id);
  // The integrated record as BuildIntegratedRecord reads it, without keeping its body: for a
  // read-only snapshot (bulk export). `version` (if not null) gets the record's version.
  static absl::StatusOr<icr::v1::IntegratedRecord> ReadIntegratedRecord(
      pqxx::transaction_base& tx, const std::string& person_id, std::string* version = nullptr);

  // Audit entries, newest first, with audit_pk below before_pk (0 = from the newest).
  static std::vector<std::pair<int64_t, icr::v1::AuditEntry>> AuditTrail(
      pqxx::transaction_base& tx, const std::string& person_id, int64_t before_pk, int limit);
};

}  // namespace icr::record
