#include "services/record/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <string_view>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/auth.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/status.h"
#include "services/record/record_rules.h"
#include "services/record/sql/statements.h"

namespace icr::record {
namespace {
using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

// The deferred writes, flushed in this order: the inserts (no foreign keys between them; the
// order is only for stable seq), then the closes (they update rows the inserts may have written).
// A row must not be written before an earlier row with its key (Defer).
struct DeferredKind {
  const Statement* statement;
  std::string_view table;
  // For a close: which (record_rules.h), and the statement reading why a row was not written.
  std::optional<Closing> closing;
  const Statement* why_not = nullptr;
};
const DeferredKind kDeferred[] = {
    {&sql::kReferralOpen, "referral", std::nullopt},
    {&sql::kSpellOpen, "hospital_spell", std::nullopt},
    {&sql::kDetentionStart, "detention", std::nullopt},
    {&sql::kContactInsert, "care_contact", std::nullopt},
    {&sql::kKeyWorkerAssign, "key_worker", std::nullopt},
    {&sql::kStatusInsert, "status_observation", std::nullopt},
    {&sql::kCareActUpsert, "social_care_event", std::nullopt},
    {&sql::kCarerUpsert, "carer_assessment", std::nullopt},
    {&sql::kCtoStart, "community_treatment_order", std::nullopt},
    {&sql::kConditionalDischargeStart, "conditional_discharge", std::nullopt},
    {&sql::kReferralCloseMany, "referral", Closing::kReferralClosed, &sql::kReferralGet},
    {&sql::kSpellDischargeMany, "hospital_spell", Closing::kDischarge, &sql::kSpellGet},
    {&sql::kDetentionEndMany, "detention", Closing::kDetentionEnd, &sql::kDetentionGet},
    {&sql::kKeyWorkerEndMany, "key_worker", Closing::kKeyWorkerEnded, &sql::kKeyWorkerGet},
    {&sql::kCtoEndMany, "community_treatment_order", Closing::kCtoEnd, &sql::kCtoGet},
    {&sql::kConditionalDischargeEndMany, "conditional_discharge",
     Closing::kConditionalDischargeEnd, &sql::kConditionalDischargeGet},
};

// The one row a statement returns (as pqxx's exec_prepared1: anything else throws).
pqxx::row OneRow(const pqxx::result& r) {
  if (r.size() != 1) {
    throw pqxx::unexpected_rows("expected 1 row, got " + std::to_string(r.size()));
  }
  return r[0];
}

constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

std::string Iso(const Timestamp& ts) { return TimeUtil::ToString(ts); }

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<std::string> TextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (auto next = parser.get_next(); next.first != pqxx::array_parser::done;
       next = parser.get_next()) {
    if (next.first == pqxx::array_parser::string_value) out.push_back(next.second);
  }
  return out;
}

icr::v1::Person PersonFromRow(const pqxx::row& r) {
  icr::v1::Person p;
  p.set_person_id(r[0].c_str());
  p.set_nhs_number(r[1].c_str());
  p.set_family_name(r[2].c_str());
  p.set_given_name(r[3].c_str());
  p.set_date_of_birth(r[4].c_str());
  p.set_sex(r[5].c_str());
  p.set_ethnic_category(r[6].c_str());
  p.set_postcode(r[7].c_str());
  p.set_gp_practice_code(r[8].c_str());
  p.set_council_code(r[9].c_str());
  p.set_icb_code(r[10].c_str());
  p.set_date_of_death(r[11].c_str());
  p.set_version(r[12].as<int64_t>());
  const auto systems = TextArray(r[13]), values = TextArray(r[14]);
  for (size_t i = 0; i < systems.size() && i < values.size(); ++i) {
    auto* id = p.add_local_identifiers();
    id->set_system(systems[i]);
    id->set_value(values[i]);
  }
  return p;
}

// Adds a row to the deferred `statement` (kDeferred); `error` is the refusal if an insert is not
// written (already recorded), or the field prefix of a close. The rows pending with its key in
// its kind, or in a kind of its table flushed after it, are flushed first: one statement must not
// write a key twice, and a close must not be written before an insert it preceded.
absl::Status Defer(pqxx::transaction_base& tx, const std::string& org, PendingWrites& out,
                   const Statement& statement, std::vector<std::string> row, std::string key,
                   std::string error) {
  const size_t kind =
      std::find_if(std::begin(kDeferred), std::end(kDeferred),
                   [&](const DeferredKind& k) { return k.statement == &statement; }) -
      std::begin(kDeferred);
  out.deferred.resize(std::size(kDeferred));
  for (size_t later = kind; !key.empty() && later < std::size(kDeferred); ++later) {
    if (kDeferred[later].table == kDeferred[kind].table &&
        out.deferred[later].pending_keys.count(key)) {
      RETURN_IF_ERROR(RecordStore::FlushDeferred(tx, org, out));
      out.deferred.resize(std::size(kDeferred));
      break;
    }
  }
  auto& rows = out.deferred[kind];
  rows.columns.resize(row.size());
  for (size_t i = 0; i < row.size(); ++i) rows.columns[i].push_back(std::move(row[i]));
  if (!key.empty()) rows.pending_keys.insert(key);
  rows.keys.push_back(std::move(key));
  rows.errors.push_back(std::move(error));
  return absl::OkStatus();
}

// Why the close of row `i` of `rows` was not written (record_rules: CloseRefusal), from the row it
// names as stored.
absl::Status WhyNotClosed(pqxx::transaction_base& tx, const std::string& org,
                          const DeferredKind& kind, const PendingWrites::Deferred& rows, size_t i) {
  auto r = Exec(tx, *kind.why_not, org, rows.columns[1][i], rows.columns[0][i], rows.columns[2][i]);
  std::optional<ClosedRowFacts> row;
  if (!r.empty()) row = ClosedRowFacts{r[0][0].as<bool>(), r[0][1].as<bool>()};
  return CloseRefusal(*kind.closing, row, rows.errors[i]);
}

absl::Status ApplyEvent(pqxx::transaction_base& tx, const icr::v1::Event& e,
                        const icr::v1::Person& person, const std::string& org, const std::string& f,
                        PendingWrites& out) {
  const std::string& pid = person.person_id();
  using K = icr::v1::Event::KindCase;
  switch (e.kind_case()) {
    case K::kReferralOpened: {
      const auto& r = e.referral_opened();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kReferralOpen,
                            {pid, r.referral_id(), r.provider_code(), r.team_type(),
                             r.service_area(), r.received_date(), r.source_of_referral()},
                            r.referral_id(), f + ".referral_opened.referral_id: already recorded"));
      out.changes.push_back(
          {change::kReferral, org + "/" + r.referral_id(), pid, change::kReferralOpened, org});
      return absl::OkStatus();
    }
    case K::kReferralClosed: {
      const auto& r = e.referral_closed();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kReferralCloseMany,
                            {pid, r.referral_id(), r.closed_date(), r.reason()}, r.referral_id(),
                            f));
      // Closing a referral never ends anything else; followers (S117) decide what it means.
      out.changes.push_back(
          {change::kReferral, org + "/" + r.referral_id(), pid, change::kReferralClosed, org});
      return absl::OkStatus();
    }
    case K::kAdmission: {
      const auto& a = e.admission();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kSpellOpen,
                            {pid, a.spell_id(), a.provider_code(), a.referral_id(),
                             Iso(a.admitted_at()), a.bed_type(), a.admission_method()},
                            a.spell_id(), f + ".admission.spell_id: already recorded"));
      out.changes.push_back(
          {change::kHospitalSpell, org + "/" + a.spell_id(), pid, change::kAdmitted, org});
      return absl::OkStatus();
    }
    case K::kDischarge: {
      const auto& d = e.discharge();
      RETURN_IF_ERROR(
          Defer(tx, org, out, sql::kSpellDischargeMany,
                {pid, d.spell_id(), std::to_string(d.discharged_at().seconds()),
                 Iso(d.discharged_at()), d.discharge_method(), d.discharge_destination()},
                d.spell_id(), f));
      out.changes.push_back(
          {change::kHospitalSpell, org + "/" + d.spell_id(), pid, change::kDischarged, org});
      return absl::OkStatus();
    }
    case K::kDetentionStart: {
      const auto& d = e.detention_start();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kDetentionStart,
                            {pid, d.detention_id(), d.legal_status_code(), Iso(d.started_at()),
                             d.spell_id(), d.provider_code()},
                            d.detention_id(),
                            f + ".detention_start.detention_id: already recorded"));
      out.changes.push_back(
          {change::kDetention, org + "/" + d.detention_id(), pid, change::kDetentionStarted, org});
      return absl::OkStatus();
    }
    case K::kDetentionEnd: {
      const auto& d = e.detention_end();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kDetentionEndMany,
                            {pid, d.detention_id(), std::to_string(d.ended_at().seconds()),
                             Iso(d.ended_at()), d.end_reason()},
                            d.detention_id(), f));
      out.changes.push_back(
          {change::kDetention, org + "/" + d.detention_id(), pid, change::kDetentionEnded, org});
      return absl::OkStatus();
    }
    case K::kCareContact: {
      const auto& c = e.care_contact();
      RETURN_IF_ERROR(Defer(
          tx, org, out, sql::kContactInsert,
          {pid, c.contact_id(), c.referral_id(), c.contact_date(), c.attended() ? "true" : "false",
           c.attend_status(), c.consultation_mechanism(), c.team_type()},
          c.contact_id(), f + ".care_contact.contact_id: already recorded"));
      out.changes.push_back({change::kCareContact, org + "/" + c.contact_id(), pid,
                             change::kCareContactRecorded, org});
      return absl::OkStatus();
    }
    case K::kKeyWorkerAssigned: {
      const auto& k = e.key_worker_assigned();
      RETURN_IF_ERROR(
          Defer(tx, org, out, sql::kKeyWorkerAssign,
                {pid, k.assignment_id(), k.key_worker().name(), k.key_worker().role(),
                 k.key_worker().organisation_code(), k.key_worker().contact(), k.start_date()},
                k.assignment_id(), f + ".key_worker_assigned.assignment_id: already recorded"));
      out.changes.push_back({change::kKeyWorker, org + "/" + k.assignment_id(), pid,
                             change::kKeyWorkerAssigned, org});
      return absl::OkStatus();
    }
    case K::kKeyWorkerEnded: {
      const auto& k = e.key_worker_ended();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kKeyWorkerEndMany,
                            {pid, k.assignment_id(), k.end_date()}, k.assignment_id(), f));
      out.changes.push_back(
          {change::kKeyWorker, org + "/" + k.assignment_id(), pid, change::kKeyWorkerEnded, org});
      return absl::OkStatus();
    }
    case K::kEmploymentStatus: {
      const auto& s = e.employment_status();
      RETURN_IF_ERROR(Defer(
          tx, org, out, sql::kStatusInsert,
          {pid, "employment_status", s.code(), s.recorded_date(), std::to_string(s.weekly_hours())},
          "", ""));
      out.changes.push_back({change::kPerson, pid, pid, change::kEmploymentStatus, org});
      return absl::OkStatus();
    }
    case K::kAccommodationStatus: {
      const auto& s = e.accommodation_status();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kStatusInsert,
                            {pid, "accommodation_status", s.code(), s.recorded_date(), ""}, "",
                            ""));
      out.changes.push_back({change::kPerson, pid, pid, change::kAccommodationStatus, org});
      return absl::OkStatus();
    }
    case K::kCareAct: {
      const auto& c = e.care_act();
      std::string kind = icr::v1::CareActEvent::Kind_Name(c.kind());
      std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
      RETURN_IF_ERROR(Defer(
          tx, org, out, sql::kCareActUpsert,
          {pid, c.care_act_id(), kind, c.council_code(), c.start_date(), c.end_date(), c.outcome(),
           c.assessment_type(), c.service_type(), c.delivery_mechanism(),
           c.primary_support_reason(), std::to_string(c.weekly_cost_pence())},
          c.care_act_id(), f + ".care_act.care_act_id: already used for another person or kind"));
      out.changes.push_back({change::kSocialCareEvent, org + "/" + c.care_act_id(), pid,
                             change::kCareActPrefix + kind, org});
      return absl::OkStatus();
    }
    case K::kCarerAssessment: {
      const auto& c = e.carer_assessment();
      RETURN_IF_ERROR(
          Defer(tx, org, out, sql::kCarerUpsert,
                {pid, c.carer_assessment_id(), c.carer_name(), c.relationship(), c.council_code(),
                 c.offered_date(), c.completed_date(), c.outcome()},
                c.carer_assessment_id(),
                f + ".carer_assessment.carer_assessment_id: already used for another person"));
      out.changes.push_back({change::kCarerAssessment, org + "/" + c.carer_assessment_id(), pid,
                             change::kCarerAssessmentRecorded, org});
      return absl::OkStatus();
    }
    case K::kCtoStart: {
      const auto& c = e.cto_start();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kCtoStart,
                            {pid, c.cto_id(), c.detention_id(), c.provider_code(), c.start_date(),
                             c.expiry_date()},
                            c.cto_id(), f + ".cto_start.cto_id: already recorded"));
      out.changes.push_back({change::kCommunityTreatmentOrder, org + "/" + c.cto_id(), pid,
                             change::kCtoStarted, org});
      return absl::OkStatus();
    }
    case K::kCtoEnd: {
      const auto& c = e.cto_end();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kCtoEndMany,
                            {pid, c.cto_id(), c.end_date(), c.end_reason()}, c.cto_id(), f));
      out.changes.push_back({change::kCommunityTreatmentOrder, org + "/" + c.cto_id(), pid,
                             change::kCtoEnded, org});
      return absl::OkStatus();
    }
    case K::kConditionalDischargeStart: {
      const auto& c = e.conditional_discharge_start();
      RETURN_IF_ERROR(
          Defer(tx, org, out, sql::kConditionalDischargeStart,
                {pid, c.conditional_discharge_id(), c.detention_id(), c.provider_code(),
                 c.start_date()},
                c.conditional_discharge_id(),
                f + ".conditional_discharge_start.conditional_discharge_id: already recorded"));
      out.changes.push_back({change::kConditionalDischarge,
                             org + "/" + c.conditional_discharge_id(), pid,
                             change::kConditionalDischargeStarted, org});
      return absl::OkStatus();
    }
    case K::kConditionalDischargeEnd: {
      const auto& c = e.conditional_discharge_end();
      RETURN_IF_ERROR(Defer(tx, org, out, sql::kConditionalDischargeEndMany,
                            {pid, c.conditional_discharge_id(), c.end_date(), c.end_reason(),
                             c.absolute_discharge_responsible()},
                            c.conditional_discharge_id(), f));
      out.changes.push_back({change::kConditionalDischarge,
                             org + "/" + c.conditional_discharge_id(), pid,
                             change::kConditionalDischargeEnded, org});
      return absl::OkStatus();
    }
    case K::kDeath: {
      RETURN_IF_ERROR(RecordStore::FlushDeferred(tx, org, out));  // it reads what they write
      const std::string& dod = e.death().date_of_death();
      auto latest = Exec(tx, sql::kLatestActivity, pid);
      std::optional<std::string> latest_activity;
      if (!latest[0][0].is_null()) latest_activity = latest[0][0].c_str();
      RETURN_IF_ERROR(CheckDeath(dod, person, latest_activity, f));
      Exec(tx, sql::kDeath, pid, dod);
      out.changes.push_back({change::kPerson, pid, pid, change::kDied, org});
      return absl::OkStatus();
    }
    case K::KIND_NOT_SET:
      break;
  }
  return InvalidField(f, "event has no kind");
}

}  // namespace

std::optional<icr::v1::Person> RecordStore::FindByNhsNumber(pqxx::transaction_base& tx,
                                                            const std::string& nhs_number) {
  auto r = Exec(tx, sql::kPeople, "nhs", nhs_number, nullptr, nullptr, kNoUuid, nullptr, 1);
  if (r.empty()) return std::nullopt;
  return PersonFromRow(r[0]);
}

std::optional<std::string> RecordStore::NhsNumberOf(pqxx::transaction_base& tx,
                                                    const std::string& person_id) {
  auto r = Exec(tx, sql::kNhsOfPerson, person_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

std::vector<PersonFacts> RecordStore::FindByNhsNumbers(pqxx::transaction_base& tx,
                                                       const std::vector<std::string>& nhs_numbers,
                                                       const std::string& org_code) {
  std::vector<PersonFacts> people;
  if (nhs_numbers.empty()) return people;
  for (const auto& r : Exec(tx, sql::kPeopleByNhs, PgTextArray(nhs_numbers), org_code)) {
    people.push_back({PersonFromRow(r), Access::ReadFacts(r, 15)});
  }
  return people;
}

namespace {
// The residence history after an upsert of person p (PlanResidence).
absl::Status KeepResidence(pqxx::transaction_base& tx, const std::string& person_id,
                           const icr::v1::Person& p, const std::optional<Date>& residence_from,
                           bool created, const std::string& org_code) {
  std::optional<CurrentResidence> current;
  if (auto r = Exec(tx, sql::kResidenceCurrent, person_id); !r.empty()) {
    current = CurrentResidence{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str(),
                               ParseDate(r[0][3].c_str())};
  }
  ASSIGN_OR_RETURN(const ResidenceChange change,
                   PlanResidence(current, p, residence_from, Today(), "residence_from"));
  if (change.kind == ResidenceChange::Kind::kNone) return absl::OkStatus();
  std::optional<std::string> from;
  if (change.from) from = FormatDate(*change.from);
  if (change.kind == ResidenceChange::Kind::kMove) {
    Exec(tx, sql::kResidenceClose, person_id, FormatDate(*change.from - std::chrono::days{1}));
  }
  Exec(tx, sql::kResidenceOpen, person_id, p.postcode(), p.council_code(), p.icb_code(), from,
       created ? "person_created" : "person_updated", org_code);
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<UpsertResult> RecordStore::UpsertPerson(pqxx::transaction_base& tx,
                                                       const icr::v1::Person& p,
                                                       int64_t expected_version,
                                                       const std::string& org_code,
                                                       std::vector<NewChange>& changes,
                                                       const std::optional<Date>& residence_from) {
  std::vector<std::string> systems, values;
  for (const auto& id : p.local_identifiers()) {
    systems.push_back(id.system());
    values.push_back(id.value());
  }
  auto r = OneRow(Exec(tx, sql::kUpsertPerson, p.nhs_number(), p.family_name(), p.given_name(),
                       p.date_of_birth(), p.sex(), p.ethnic_category(), p.postcode(),
                       p.gp_practice_code(), p.council_code(), p.icb_code(), expected_version,
                       PgTextArray(systems), PgTextArray(values)));
  // Not written: either the version read is stale, or the demographics are exactly as stored.
  if (r[0].is_null() ||
      (!r[4].as<bool>() && expected_version != 0 && r[1].as<int64_t>() != expected_version)) {
    return absl::AbortedError("expected_version: the person has changed since it was read");
  }
  const std::string person_id = r[0].c_str();
  const auto added = r[5].as<int>();
  if (added < p.local_identifiers_size()) {  // some were recorded before: for this person?
    for (int i = 0; i < p.local_identifiers_size(); ++i) {
      const auto& id = p.local_identifiers(i);
      auto owner = OneRow(Exec(tx, sql::kIdentifierOwner, id.system(), id.value()));
      if (owner[0].c_str() != person_id) {
        return absl::AlreadyExistsError("person.local_identifiers[" + std::to_string(i) +
                                        "]: already identifies another person");
      }
    }
  }
  RETURN_IF_ERROR(KeepResidence(tx, person_id, p, residence_from, r[3].as<bool>(), org_code));
  UpsertResult result{p, r[4].as<bool>() || added > 0, r[3].as<bool>()};
  // As stored: the demographics are those sent (written, or equal), the rest is the row's.
  result.person.set_person_id(person_id);
  result.person.set_version(r[1].as<int64_t>());
  result.person.set_date_of_death(r[2].c_str());
  result.person.clear_local_identifiers();
  const auto stored_systems = TextArray(r[6]), stored_values = TextArray(r[7]);
  for (size_t i = 0; i < stored_systems.size() && i < stored_values.size(); ++i) {
    auto* id = result.person.add_local_identifiers();
    id->set_system(stored_systems[i]);
    id->set_value(stored_values[i]);
  }
  if (result.changed) {
    changes.push_back({change::kPerson, person_id, person_id,
                       r[3].as<bool>() ? change::kCreated : change::kUpdated, org_code});
  }
  return result;
}

KnownEvents RecordStore::KnownEventHashes(pqxx::transaction_base& tx, const std::string& org,
                                          const std::vector<std::string>& event_ids) {
  KnownEvents known;
  if (event_ids.empty()) return known;
  for (const auto& r : Exec(tx, sql::kEventHashes, org, PgTextArray(event_ids))) {
    known[r[0].c_str()] = pqxx::binarystring(r[1]).str();
  }
  return known;
}

absl::StatusOr<EventResult> RecordStore::StoreEvent(pqxx::transaction_base& tx,
                                                    const icr::v1::Event& e,
                                                    const icr::v1::Person& person,
                                                    const std::string& org, const std::string& f,
                                                    const KnownEvents& known, PendingWrites& out) {
  std::string json = CanonicalJson(e);
  std::string hash = Sha256(json);
  if (auto existing = known.find(e.event_id()); existing != known.end()) {
    if (existing->second == hash) return EventResult::kDuplicate;
    return absl::AlreadyExistsError(f + ".event_id: already used with different content");
  }
  RETURN_IF_ERROR(CheckNotAfterDeath(e, person.date_of_death(), f));
  RETURN_IF_ERROR(ApplyEvent(tx, e, person, org, f, out));
  out.events.push_back(
      {e.event_id(), person.person_id(), EventKind(e), std::move(hash), std::move(json)});
  return EventResult::kStored;
}

absl::Status RecordStore::FlushDeferred(pqxx::transaction_base& tx, const std::string& org,
                                        PendingWrites& pending) {
  auto deferred = std::move(pending.deferred);
  pending.deferred.clear();
  for (size_t kind = 0; kind < deferred.size(); ++kind) {
    const auto& rows = deferred[kind];
    if (rows.keys.empty()) continue;
    std::vector<std::string> params{org};
    for (const auto& column : rows.columns) params.push_back(PgTextArray(column));
    auto written = Exec(tx, *kDeferred[kind].statement, pqxx::prepare::make_dynamic_params(params));
    if (written.size() == rows.keys.size()) continue;
    std::set<std::string> keys;
    for (const auto& r : written) keys.insert(r[0].c_str());
    for (size_t i = 0; i < rows.keys.size(); ++i) {
      if (keys.count(rows.keys[i])) continue;
      if (kDeferred[kind].closing) return WhyNotClosed(tx, org, kDeferred[kind], rows, i);
      return absl::AlreadyExistsError(rows.errors[i]);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ChangeCursor>> RecordStore::WritePending(
    pqxx::transaction_base& tx, const std::string& org, const PendingWrites& pending,
    const std::vector<std::string>& person_ids, const std::vector<std::string>& registered) {
  std::vector<std::string> ids, people, kinds, hashes, payloads;
  for (const auto& e : pending.events) {
    ids.push_back(e.event_id);
    people.push_back(e.person_id);
    kinds.push_back(e.kind);
    hashes.push_back(Hex(e.hash));
    payloads.push_back(e.json);
  }
  std::vector<std::string> entities, entity_ids, change_people, types, orgs;
  for (const auto& c : pending.changes) {
    entities.push_back(c.entity);
    entity_ids.push_back(c.entity_id);
    change_people.push_back(c.person_id);
    types.push_back(c.change_type);
    orgs.push_back(c.org_code);
  }
  auto r = OneRow(Exec(tx, sql::kWritePending, org, PgTextArray(ids), PgTextArray(people),
                       PgTextArray(kinds), PgTextArray(hashes), PgTextArray(payloads),
                       PgTextArray(entities), PgTextArray(entity_ids), PgTextArray(change_people),
                       PgTextArray(types), PgTextArray(orgs), PgTextArray(person_ids),
                       PgTextArray(registered)));
  if (r[0].as<size_t>() != pending.events.size()) {
    // Another call stored one of these events after this one looked: sending again finds them
    // stored (DUPLICATE) or refuses them (ALREADY_EXISTS).
    return absl::AbortedError(
        "event_id: an event of this call was stored by a concurrent call; send again");
  }
  if (r[1].is_null()) return std::nullopt;
  return ChangeCursor{r[1].c_str(), r[2].as<int64_t>()};
}

absl::StatusOr<std::vector<icr::v1::Person>> RecordStore::FindPeople(
    pqxx::transaction_base& tx, const icr::v1::FindPeopleRequest& req,
    const std::string& visible_to_org, int limit) {
  std::string after = req.page().page_token().empty() ? kNoUuid : req.page().page_token();
  const char* org = visible_to_org.empty() ? nullptr : visible_to_org.c_str();
  // The key by kind (people.sql): the name's date of birth, the identifier's value.
  const char* kind = nullptr;
  std::string key;
  const char* value = nullptr;
  const char* date_of_birth = nullptr;
  using Q = icr::v1::FindPeopleRequest::QueryCase;
  switch (req.query_case()) {
    case Q::kNameAndBirth:
      kind = "name";
      key = req.name_and_birth().family_name();
      date_of_birth = req.name_and_birth().date_of_birth().c_str();
      break;
    case Q::kPostcode:
      kind = "postcode";
      key = req.postcode();
      break;
    case Q::kLocalIdentifier:
      kind = "identifier";
      key = req.local_identifier().system();
      value = req.local_identifier().value().c_str();
      break;
    case Q::QUERY_NOT_SET:
      return InvalidField("query",
                          "one of name_and_birth, postcode or local_identifier is required");
  }
  const auto r = Exec(tx, sql::kPeople, kind, key, value, date_of_birth, after, org, limit);
  std::vector<icr::v1::Person> people;
  for (const auto& row : r) {
    people.push_back(PersonFromRow(row));
  }
  return people;
}

std::vector<std::optional<RecordStore::RecordLookup>> RecordStore::LookupRecords(
    pqxx::transaction_base& tx, const std::vector<const RecordLookupRequest*>& requests) {
  std::vector<std::string> nhs, orgs, roles, purposes, request_ids, reasons, versions, visible;
  for (const RecordLookupRequest* r : requests) {
    nhs.push_back(r->nhs_number);
    orgs.push_back(r->caller->org_code);
    roles.push_back(RoleName(r->caller->role));
    purposes.push_back(r->caller->purpose_of_use);
    request_ids.push_back(r->caller->request_id);
    reasons.push_back(r->caller->break_glass_reason);
    versions.push_back(r->seen_version);
    visible.push_back(!r->seen_visible ? "" : *r->seen_visible ? "t" : "f");
  }
  auto rows = Exec(tx, sql::kLookups, PgTextArray(nhs), PgTextArray(orgs), PgTextArray(roles),
                   PgTextArray(purposes), PgTextArray(request_ids), PgTextArray(reasons),
                   PgTextArray(versions), PgTextArray(visible));
  std::vector<std::optional<RecordLookup>> out(requests.size());
  for (const auto& row : rows) {
    RecordLookup found{row[1].c_str(), row[2].as<bool>(), row[3].as<bool>(), row[4].c_str(),
                       std::nullopt};
    if (!row[5].is_null()) found.body = pqxx::binarystring(row[5]).str();
    out.at(row[0].as<size_t>() - 1) = std::move(found);
  }
  return out;
}

absl::StatusOr<icr::v1::IntegratedRecord> RecordStore::ReadIntegratedRecord(
    pqxx::transaction_base& tx, const std::string& person_id, std::string* version) {
  auto row = OneRow(Exec(tx, sql::kIntegrated, person_id));
  icr::v1::IntegratedRecord record;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(row[0].c_str(), &record, options);
  if (!parsed.ok()) return absl::InternalError("integrated record: " + parsed.ToString());
  if (version != nullptr) *version = row[1].c_str();
  return record;
}

absl::StatusOr<RecordStore::BuiltRecord> RecordStore::BuildIntegratedRecord(
    pqxx::transaction_base& tx, const std::string& person_id) {
  BuiltRecord built;
  ASSIGN_OR_RETURN(auto record, ReadIntegratedRecord(tx, person_id, &built.version));
  built.body = record.SerializeAsString();
  Exec(tx, sql::kBodyFill, person_id, built.version, pqxx::binarystring(built.body));
  return built;
}

std::vector<std::pair<int64_t, icr::v1::AuditEntry>> RecordStore::AuditTrail(
    pqxx::transaction_base& tx, const std::string& person_id, int64_t before_pk, int limit) {
  std::vector<std::pair<int64_t, icr::v1::AuditEntry>> out;
  for (const auto& r : Exec(tx, sql::kAuditTrail, person_id, before_pk, limit)) {
    icr::v1::AuditEntry e;
    *e.mutable_at() = TimeUtil::MicrosecondsToTimestamp(r[1].as<int64_t>());
    e.set_organisation_code(r[2].c_str());
    e.set_role(r[3].c_str());
    e.set_action(r[4].c_str());
    e.set_purpose_of_use(r[5].c_str());
    e.set_request_id(r[6].c_str());
    e.set_outcome(r[7].c_str());
    e.set_break_glass_reason(r[8].c_str());
    out.emplace_back(r[0].as<int64_t>(), std::move(e));
  }
  return out;
}

}  // namespace icr::record
