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
// "events[3]". Rules needing stored state (e.g. discharge before admission) are in the store.
absl::Status ValidateEvent(icr::v1::Event& event, const ReferenceData& ref,
                           const std::string& field, Date today);

// The event kind's name ("referral_opened", ...), as stored and sent on the change feed.
std::string EventKind(const icr::v1::Event& event);

// The date the event is about, for the rule that nothing happens after death.
std::optional<Date> EventDate(const icr::v1::Event& event);

// What an event is under the write rule (architecture.md, Who may write) when `org` sends it:
// kOpenRelationship for a referral opened, an admission or a detention start whose provider is
// `org`, and a Care Act request or carer's assessment whose council is `org`; kDeath; otherwise
// kEvent. `names_other` is set to the field of an event that names another organisation as its
// provider or council (such an event is refused).
access::Write EventWrite(const icr::v1::Event& event, const std::string& org,
                         std::string* names_other);

// Whether an upsert changes the stored person's demographics (names, birth, sex, ethnicity,
// address, GP, council, ICB).
bool ChangesDemographics(const icr::v1::Person& stored, const icr::v1::Person& incoming);

// Canonical content of an event for idempotency: equal for resends of the same content.
std::string CanonicalJson(const google::protobuf::Message& message);

}  // namespace icr::record
