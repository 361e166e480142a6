// Pure rules of the record: validation and normalisation of people and events against the
// reference data. No gRPC status, no SQL: each returns absl::Status naming the bad field.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "icr/v1/record.pb.h"
#include "services/common/access_rule.h"
#include "services/common/reference.h"
#include "services/common/validation.h"

namespace icr::record {

// Normalises (NHS number, upper-case codes) and validates a person; `field` is the path prefix
// used in error messages, e.g. "person".
absl::Status ValidatePerson(icr::v1::Person& person, const ReferenceData& ref,
                            const std::string& field, Date today);

// Validates one event (normalising its NHS number); `field` is the path prefix, e.g.
// "events[3]". The rules needing stored state are below (CheckNotAfterDeath, CheckDeath,
// CloseRefusal): the store reads the facts, they decide.
absl::Status ValidateEvent(icr::v1::Event& event, const ReferenceData& ref,
                           const std::string& field, Date today);

// Normalises (upper-case postcode) and validates a FindPeople request: its page token (a person
// id FindPeople returned) and its one query.
absl::Status ValidateQuery(icr::v1::FindPeopleRequest& query);

// The event kind's name ("referral_opened", ...), as stored and sent on the change feed.
std::string EventKind(const icr::v1::Event& event);

// The date the event is about, for the rule that nothing happens after death.
std::optional<Date> EventDate(const icr::v1::Event& event);

// What an event is under the write rule (architecture.md, Who may write) when `org` sends it:
// kOpenRelationship for a referral opened, an admission, a detention start, a CTO start or a
// conditional discharge start whose provider is `org`, and a Care Act request or carer's
// assessment whose council is `org`; kDeath; otherwise kEvent. `names_other` is set to the field of an event that names another organisation as its
// provider or council (such an event is refused).
access::Write EventWrite(const icr::v1::Event& event, const std::string& org,
                         std::string* names_other);

// Whether an upsert changes the stored person's demographics (names, birth, sex, ethnicity,
// address, GP, council, ICB).
bool ChangesDemographics(const icr::v1::Person& stored, const icr::v1::Person& incoming);

// The rules that depend on what is stored. Each refuses with FAILED_PRECONDITION naming the field
// (architecture.md, Errors): the request is well formed, the record's state forbids it.

// Nothing happens after death: an event dated after the person's recorded date of death
// (YYYY-MM-DD, "" for none) is refused.
absl::Status CheckNotAfterDeath(const icr::v1::Event& event, const std::string& date_of_death,
                                const std::string& field);

// A death dated date_of_death for `person` as stored: refused before their date of birth, when a
// different date of death is recorded already, and before their latest activity already
// recorded (latest_activity, YYYY-MM-DD, nullopt for none). `field` is the item's prefix.
absl::Status CheckDeath(const std::string& date_of_death, const icr::v1::Person& person,
                        const std::optional<std::string>& latest_activity,
                        const std::string& field);

// The closing events: each closes a row an opening event of the same organisation wrote.
enum class Closing {
  kReferralClosed,
  kDischarge,
  kDetentionEnd,
  kKeyWorkerEnded,
  kCtoEnd,
  kConditionalDischargeEnd
};

// What is stored of the row a close names (same organisation, id and person), read when the
// close was not written.
struct ClosedRowFacts {
  bool closed = false;        // closed (discharged, ended) already
  bool before_start = false;  // the close is dated before the row started
};

// Why a close was not written, `field` being its item's prefix ("events[2]"): no such row for the
// person (nullopt), closed already, or dated before the row started; ABORTED when none holds (a
// concurrent call changed the row: sending again decides).
absl::Status CloseRefusal(Closing closing, const std::optional<ClosedRowFacts>& row,
                          const std::string& field);

// ---- Residence history (core.residence), fed by UpsertPerson ----

// UpsertPersonRequest.residence_from: empty gives nullopt; otherwise a real date, not after today
// and not before the person's date of birth (INVALID_ARGUMENT naming `field`).
absl::StatusOr<std::optional<Date>> ResidenceFrom(const std::string& value,
                                                  const icr::v1::Person& person, Date today,
                                                  const std::string& field);

// The person's current residence as stored.
struct CurrentResidence {
  std::string postcode, council_code, icb_code;
  std::optional<Date> from;  // nullopt: since a date not recorded
};

// What an upsert does to the residence history: nothing (same address, or none at all), open
// the person's first residence (from `from`, nullopt: not recorded), or close the current one
// the day before `from` and open the new one from it.
struct ResidenceChange {
  enum class Kind { kNone, kOpenFirst, kMove } kind = Kind::kNone;
  std::optional<Date> from;
};
// A move takes effect on residence_from, else today; FAILED_PRECONDITION naming `field` when
// that is not after the current residence's start.
absl::StatusOr<ResidenceChange> PlanResidence(const std::optional<CurrentResidence>& current,
                                              const icr::v1::Person& person,
                                              const std::optional<Date>& residence_from, Date today,
                                              const std::string& field);

// Canonical content of an event for idempotency: equal for resends of the same content.
std::string CanonicalJson(const google::protobuf::Message& message);

}  // namespace icr::record
