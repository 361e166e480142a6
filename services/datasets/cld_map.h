#pragma once
// The Adult Social Care Client Level Data (CLD) return a council sends each quarter (one CSV, one
// row per event, a rolling 12 months; national-datasets.md section 2) mapped to the record's
// people and events. Pure: no database, no I/O.
//
// - Header: the specification's column names (Release 1 or 2), matched ignoring case, spaces,
//   underscores and punctuation ("LA Code", "LA_Code" and "la code" are one column). A column
//   the specification lacks, a repeated one, or a missing mandatory one (kCldMandatory) is the
//   whole file's error: INVALID_ARGUMENT naming the column. So is a file whose rows disagree on
//   the reporting period, or one with no rows (no period to replace).
// - Release: R1 when only Release 1 spellings of Client Type, Delivery Mechanism or Service Type
//   occur, R2 otherwise; every value is mapped to one vocabulary (CareActEvent's fields: R2
//   wording for outcome and service type, the record's code lists for delivery mechanism and
//   primary support reason) whatever the release, the value as sent kept in the raw_* fields.
// - People: one per LA Person Unique Identifier, with the local identifier
//   "<council_code>:CLD"; the NHS number when it passes the Modulus 11 check (otherwise left
//   empty and the person's events name them by Event.subject_local_identifier).
// - Events: each row's request, assessment, service or review becomes a CareActEvent of the
//   council; its ids come from the council's ids (kind, LA Person Unique Identifier, Event
//   Reference), so a resubmission gives the same ids. An unpaid carer's assessment also becomes
//   a CarerAssessment on each adult it names (Adult 1..3 Linked Person_ID): the record keeps
//   carers on the person cared for. A Date of Death becomes one Death event per person.
// - Row problems (an unknown Event Type, a bad date, ...) are Refusals of that row (table "CLD",
//   row from 1, the column's name as the file spells it); they never carry demographics.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/datasets/dataset.h"

namespace icr::datasets {

// The local identifier system of a council's CLD person ids.
std::string CldPersonSystem(const std::string& council_code);

// Maps a council's return. `event_origin` (optional) receives one Origin per Mapped.events
// entry (the row it came from), and `person_origin` one per Mapped.people entry (its first row).
absl::StatusOr<Mapped> MapCld(const Table& table, const std::string& council_code,
                              std::vector<Origin>* event_origin = nullptr,
                              std::vector<Origin>* person_origin = nullptr);

}  // namespace icr::datasets
