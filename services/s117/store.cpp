#include "services/s117/store.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "services/common/change_types.h"
#include "services/common/status.h"
#include "services/s117/sql/statements.h"

// Dates travel as ISO text in JSON, and an absent date as null.
namespace nlohmann {
template <>
struct adl_serializer<std::optional<icr::Date>> {
  static void to_json(json& j, const std::optional<icr::Date>& d) {
    if (d) {
      j = icr::FormatDate(*d);
    } else {
      j = nullptr;
    }
  }
  static void from_json(const json& j, std::optional<icr::Date>& d) {
    d = j.is_string() ? icr::ParseDate(j.get<std::string>()) : std::nullopt;
  }
};
}  // namespace nlohmann

namespace icr::s117 {

void to_json(nlohmann::json& j, State s) { j = StateName(s); }
void from_json(const nlohmann::json& j, State& s) {
  s = ParseState(j.get<std::string>()).value_or(State::kVoid);
}

// The JSON keys are the columns of s117.episode.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Episode, episode_id, person_id, state, predecessor_episode_id, qualifying_section,
    legal_status_code, detention_source_org, detention_id, detention_start_date,
    detaining_provider_code, case_decision_by, case_decision_role, case_decision_rationale,
    case_decision_date, s17_trigger_by, s17_trigger_role, s17_trigger_rationale, s17_trigger_date,
    ceased_detained_date, left_hospital_date, effective_from, cto_start_date, cto_end_date,
    conditional_discharge_date, absolute_discharge_date, responsible_council_code, council_basis,
    council_provisional, ordinary_residence_evidence, council_reason, or_dispute_status,
    or_dispute_opened_on, or_dispute_closed_on, responsible_icb_code, icb_basis,
    gp_practice_at_application, responsibility_rule_version, in_hospital,
    legal_determination_required, pending_detention_source_org, pending_detention_id,
    pending_detention_start_date, pending_legal_status_code, last_review_date, next_review_due,
    ended_on, notification_sent_date, void_reason, registered_on, source_ref, end_migrated,
    import_digest, version)

namespace {

constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

std::optional<std::string> Text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::optional<Episode> EpisodeFromJson(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(r[0][0].c_str());
  for (auto it = j.begin(); it != j.end();) {
    it = it->is_null() ? j.erase(it) : std::next(it);
  }
  return j.get<Episode>();
}

std::string EpisodeJson(const Episode& e) {
  nlohmann::json j = e;
  for (auto& value : j) {
    if (value.is_string() && value.get<std::string>().empty()) value = nullptr;
  }
  return j.dump();
}

absl::Status ParseJson(const std::string& json, google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, out, options).ok()) {
    return absl::InternalError("cannot read the register row");
  }
  return absl::OkStatus();
}

void WriteHistory(pqxx::transaction_base& tx, const Episode& e, const Actor& actor,
                  const std::string& action, const std::string& reason) {
  Exec(tx, sql::kHistoryInsert, e.episode_id, actor.org_code, actor.role, action, reason);
  Changes::Append(tx, change::kS117Episode, e.episode_id, e.person_id, action, actor.org_code);
}

}  // namespace

absl::StatusOr<Policy> S117Store::LoadPolicy(pqxx::transaction_base& tx) {
  Policy p;
  for (const auto& r : Exec(tx, sql::kPolicy)) {
    RETURN_IF_ERROR(ApplyPolicySetting(p, r[0].c_str(), r[1].c_str()));
  }
  for (const auto& r : Exec(tx, sql::kEndReasons)) p.end_reasons[r[0].c_str()] = r[1].as<bool>();
  for (const auto& r : Exec(tx, sql::kSections)) p.sections[r[0].c_str()] = r[1].c_str();
  for (const auto& r : Exec(tx, sql::kServiceTypes)) {
    p.service_types[r[0].c_str()] = r[1].as<bool>();
  }
  return p;
}

std::optional<Split> S117Store::DefaultSplit(pqxx::transaction_base& tx, const Episode& e,
                                             Date date) {
  auto r = Exec(tx, sql::kAgreement, e.responsible_council_code, e.responsible_icb_code,
                FormatDate(date));
  if (r.empty()) return std::nullopt;
  return Split{r[0][0].as<double>(), r[0][1].as<double>()};
}

int S117Store::ReviewIntervalMonths(pqxx::transaction_base& tx, const Episode& e,
                                    const Policy& policy) {
  auto r = Exec(tx, sql::kAgreement, e.responsible_council_code, e.responsible_icb_code,
                FormatDate(Today()));
  const int agreed = r.empty() ? 0 : r[0][2].as<int>();
  return agreed > 0 ? std::min(agreed, policy.review_interval_months)
                    : policy.review_interval_months;
}

std::optional<Episode> S117Store::LoadEpisode(pqxx::transaction_base& tx, const std::string& id) {
  return EpisodeFromJson(Exec(tx, sql::kEpisodeLoad, id));
}

std::optional<Episode> S117Store::OpenEpisode(pqxx::transaction_base& tx,
                                              const std::string& person_id) {
  return EpisodeFromJson(Exec(tx, sql::kEpisodeOpen, person_id));
}

std::optional<std::string> S117Store::SurvivorOf(pqxx::transaction_base& tx,
                                                 const std::string& person_id) {
  if (person_id.empty()) return std::nullopt;
  auto r = Exec(tx, sql::kSurvivorOf, person_id);
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

std::optional<std::string> S117Store::CurrentEpisodeId(pqxx::transaction_base& tx,
                                                       const std::string& person_id) {
  auto r = Exec(tx, sql::kEpisodeCurrent, person_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

void S117Store::InsertEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                              const std::string& action, const std::string& reason) {
  e.version = 1;
  const auto row = Exec(tx, sql::kEpisodeInsert, EpisodeJson(e)).at(0);
  e.episode_id = row[0].c_str();
  e.registered_on = ParseDate(row[1].c_str());
  WriteHistory(tx, e, actor, action, reason);
}

absl::Status S117Store::SaveEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                                    const std::string& action, const std::string& reason) {
  const int64_t read = e.version;
  e.version = read + 1;
  auto r = Exec(tx, sql::kEpisodeUpdate, EpisodeJson(e), e.episode_id, read);
  if (r.empty()) {
    e.version = read;
    return absl::AbortedError("expected_version: the entitlement has changed since it was read");
  }
  WriteHistory(tx, e, actor, action, reason);
  return absl::OkStatus();
}

bool S117Store::DetentionHandled(pqxx::transaction_base& tx, const std::string& source_org,
                                 const std::string& detention_id) {
  return !Exec(tx, sql::kDetentionHandled, source_org, detention_id).empty();
}

void S117Store::LinkDetention(pqxx::transaction_base& tx, const DetentionFacts& d,
                              const std::string& episode_id, const std::string& role) {
  Exec(tx, sql::kLinkDetention, d.source_org, d.detention_id, episode_id, role, d.legal_status_code,
       FormatDate(d.start));
}

std::optional<DetentionRecord> S117Store::Detention(pqxx::transaction_base& tx,
                                                    const std::string& source_org,
                                                    const std::string& detention_id) {
  auto r = Exec(tx, sql::kDetention, source_org, detention_id);
  if (r.empty()) return std::nullopt;
  DetentionRecord d;
  d.person_id = r[0][0].c_str();
  d.facts.source_org = source_org;
  d.facts.detention_id = detention_id;
  d.facts.legal_status_code = r[0][1].c_str();
  d.facts.start = *ParseDate(r[0][2].c_str());
  d.facts.provider_code = r[0][3].c_str();
  d.ended = ParseDate(r[0][4].c_str());
  return d;
}

std::optional<LegalPeriod> S117Store::LegalPeriodOf(pqxx::transaction_base& tx, bool cto,
                                                    const std::string& source_org,
                                                    const std::string& id) {
  auto r = Exec(tx, sql::kLegalPeriod, source_org, id, cto ? "cto" : "conditional");
  if (r.empty()) return std::nullopt;
  return LegalPeriod{*ParseDate(r[0][0].c_str()), ParseDate(r[0][1].c_str())};
}

std::optional<PersonFacts> S117Store::Person(pqxx::transaction_base& tx,
                                             const std::string& person_id,
                                             std::optional<Date>* date_of_death) {
  auto r = Exec(tx, sql::kPerson, person_id);
  if (r.empty()) return std::nullopt;
  if (date_of_death) *date_of_death = ParseDate(r[0][2].c_str());
  PersonFacts person{person_id, r[0][0].c_str(), r[0][1].c_str()};
  person.date_of_birth = ParseDate(r[0][3].c_str());
  for (const auto& row : Exec(tx, sql::kResidences, person_id)) {
    person.residences.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(),
                                 ParseDate(row[3].c_str()), ParseDate(row[4].c_str())});
  }
  for (auto& placement : Placements(tx, person_id)) {
    person.placements.push_back(std::move(placement.facts));
  }
  return person;
}

std::vector<S117Store::PlacementRow> S117Store::Placements(pqxx::transaction_base& tx,
                                                           const std::string& person_id) {
  std::vector<PlacementRow> out;
  for (const auto& r : Exec(tx, sql::kPlacements, person_id)) {
    PlacementRow row;
    if (!ParseJson(r[0].c_str(), &row.placement).ok()) continue;
    row.facts = {r[1].c_str(),
                 r[2].c_str(),
                 r[3].c_str(),
                 r[4].c_str(),
                 ParseDate(r[5].c_str()).value_or(Date{}),
                 ParseDate(r[6].c_str())};
    out.push_back(std::move(row));
  }
  return out;
}

std::string S117Store::InsertPlacement(pqxx::transaction_base& tx, const std::string& person_id,
                                       const icr::v1::Placement& p, const std::string& org) {
  return Exec(tx, sql::kPlacementInsert, person_id, p.placing_council_code(),
              p.placed_in_council_code(), p.accommodation_type(), p.legal_basis(), p.start_date(),
              Text(p.end_date()), p.provider_name(), org)
      .at(0)[0]
      .c_str();
}

std::optional<S117Store::StoredPlacement> S117Store::LoadPlacement(
    pqxx::transaction_base& tx, const std::string& placement_id) {
  auto r = Exec(tx, sql::kPlacementGet, placement_id);
  if (r.empty()) return std::nullopt;
  return StoredPlacement{r[0][0].c_str(), r[0][1].c_str(),
                         ParseDate(r[0][2].c_str()).value_or(Date{}), ParseDate(r[0][3].c_str())};
}

void S117Store::EndPlacement(pqxx::transaction_base& tx, const std::string& placement_id, Date end,
                             const std::string& org) {
  Exec(tx, sql::kPlacementEnd, placement_id, FormatDate(end), org);
}

Presence S117Store::HospitalPresence(pqxx::transaction_base& tx, const std::string& person_id,
                                     Date since) {
  const auto r = Exec(tx, sql::kPresence, person_id, FormatDate(since)).at(0);
  return Presence{r[0].as<bool>(), ParseDate(r[1].c_str())};
}

std::optional<S117Store::ImportMatchRow> S117Store::ImportMatch(
    pqxx::transaction_base& tx, const std::string& council, const std::string& source_ref,
    const std::string& nhs, const std::string& detention_start, const std::string& section) {
  auto r = Exec(tx, sql::kImportMatch, council, source_ref, nhs,
                ParseDate(detention_start) ? detention_start : std::string("0001-01-01"), section);
  if (r.empty()) return std::nullopt;
  return ImportMatchRow{r[0][0].c_str(), r[0][1].c_str()};
}

std::optional<S117Store::KnownPerson> S117Store::PersonByNhs(pqxx::transaction_base& tx,
                                                             const std::string& nhs) {
  auto r = Exec(tx, sql::kPersonByNhs, nhs);
  if (r.empty()) return std::nullopt;
  return KnownPerson{r[0][0].c_str(), r[0][1].c_str()};
}

std::optional<std::string> S117Store::CreatePerson(pqxx::transaction_base& tx,
                                                   const std::string& nhs,
                                                   const std::string& family_name,
                                                   const std::string& given_name, Date born,
                                                   const std::string& council,
                                                   const std::string& icb, const std::string& org) {
  auto r =
      Exec(tx, sql::kPersonCreate, nhs, family_name, given_name, FormatDate(born), council, icb,
           org);
  if (r.empty()) return std::nullopt;
  const std::string id = r[0][0].c_str();
  Changes::Append(tx, change::kPerson, id, id, change::kCreated, org);
  return id;
}

std::string S117Store::InsertServiceLine(pqxx::transaction_base& tx,
                                         const std::string& episode_id,
                                         const icr::v1::AftercareService& l,
                                         const std::string& org) {
  return Exec(tx, sql::kServiceInsert, episode_id, l.service_type(), l.description(), l.provider_name(),
       l.provider_code(), l.need_ref(), l.need_arises_from_mental_disorder(), l.is_s117(),
       l.start_date(), l.funder(), l.council_pct(), l.icb_pct(), l.split_override_reason(),
       l.weekly_cost_pence(), l.client_contribution_pence(), l.delivery_mode(), l.top_up_payer(),
       l.top_up_weekly_pence(), org)
      .at(0)[0]
      .c_str();
}

absl::Status S117Store::EndServiceLine(pqxx::transaction_base& tx, const std::string& episode_id,
                                       const icr::v1::EndAftercareServiceRequest& req) {
  auto r = Exec(tx, sql::kServiceGet, episode_id, req.service_line_id());
  if (r.empty()) {
    return absl::NotFoundError("service_line_id: no such service on this entitlement");
  }
  if (r[0][1].as<bool>()) return RefusedField("service_line_id", "already ended");
  if (req.end_date() < std::string(r[0][0].c_str())) {
    return RefusedField("end_date", "before the service started");
  }
  Exec(tx, sql::kServiceEnd, episode_id, req.service_line_id(), req.end_date(), req.end_reason(),
       req.moved_to_legal_basis());
  return absl::OkStatus();
}

int S117Store::EndOpenServiceLines(pqxx::transaction_base& tx, const std::string& episode_id,
                                   Date date, const std::string& reason, bool s117_only) {
  return static_cast<int>(
      Exec(tx, sql::kServiceEndOpen, episode_id, FormatDate(date), reason, s117_only).size());
}

std::vector<ServiceLineFacts> S117Store::ServiceLines(pqxx::transaction_base& tx,
                                                      const std::string& episode_id) {
  std::vector<ServiceLineFacts> out;
  for (const auto& r : Exec(tx, sql::kServiceFacts, episode_id)) {
    out.push_back({r[0].c_str(), r[1].as<bool>(), ParseDate(r[2].c_str()), r[3].c_str()});
  }
  return out;
}

void S117Store::InsertReview(pqxx::transaction_base& tx, const std::string& episode_id,
                             const icr::v1::S117Review& v, const std::string& org) {
  Exec(tx, sql::kReviewInsert, episode_id, v.review_date(), v.council_rep().name(),
       v.council_rep().role(), v.council_rep().organisation_code(), v.health_rep().name(),
       v.health_rep().role(), v.health_rep().organisation_code(), v.person_involvement(),
       v.others_present(), v.outcome(), v.summary(), v.next_review_due(), org,
       v.council_attendance(), v.health_attendance());
}

std::vector<ReviewFacts> S117Store::Reviews(pqxx::transaction_base& tx,
                                            const std::string& episode_id) {
  std::vector<ReviewFacts> out;
  for (const auto& r : Exec(tx, sql::kReviewFacts, episode_id)) {
    out.push_back({*ParseDate(r[0].c_str()), r[1].c_str(), r[2].as<bool>()});
  }
  return out;
}

void S117Store::InsertEndDecision(pqxx::transaction_base& tx, const std::string& episode_id,
                                  const icr::v1::S117EndDecision& d, const std::string& body_code,
                                  const std::string& org) {
  const nlohmann::json others(
      std::vector<std::string>(d.other_reasons().begin(), d.other_reasons().end()));
  Exec(tx, sql::kDecisionInsert, episode_id, d.body(), body_code, d.decider().name(),
       d.decider().role(), d.decision_date(), d.primary_reason(), others.dump(), d.reason_text(),
       d.person_involvement(), d.consulted(), d.other_care_after_discharge(), org, d.migrated());
}

std::vector<EndDecisionFacts> S117Store::EndDecisions(pqxx::transaction_base& tx,
                                                      const std::string& episode_id) {
  std::vector<EndDecisionFacts> out;
  for (const auto& r : Exec(tx, sql::kDecisionFacts, episode_id)) {
    out.push_back({r[0].c_str(), *ParseDate(r[1].c_str()), r[2].as<bool>()});
  }
  return out;
}

void S117Store::RescindEndDecisions(pqxx::transaction_base& tx, const std::string& episode_id) {
  Exec(tx, sql::kDecisionRescind, episode_id);
}

bool S117Store::RaiseTask(pqxx::transaction_base& tx, const std::string& episode_id,
                          const std::string& kind, const std::string& source_ref,
                          const std::string& detail) {
  return !Exec(tx, sql::kTaskRaise, episode_id, kind, source_ref, detail).empty();
}

int S117Store::CloseTasks(pqxx::transaction_base& tx, const std::string& episode_id,
                          const std::string& kind, const std::string& note) {
  return static_cast<int>(Exec(tx, sql::kTaskClose, episode_id, kind, note).size());
}

absl::Status S117Store::LoadEntitlement(pqxx::transaction_base& tx, const std::string& episode_id,
                                        bool include_history, icr::v1::Entitlement* out) {
  auto r = Exec(tx, sql::kEntitlement, episode_id, include_history);
  if (r.empty()) return absl::NotFoundError("entitlement_id: no such entitlement");
  out->Clear();
  return ParseJson(r[0][0].c_str(), out);
}

absl::StatusOr<std::vector<std::pair<std::string, icr::v1::RegisterRow>>> S117Store::ListRegister(
    pqxx::transaction_base& tx, const icr::v1::RegisterFilter& f,
    const access::RegisterScope& scope, const std::string& after_id, int limit) {
  const std::string as_of =
      f.review_overdue_as_of().empty() ? FormatDate(Today()) : f.review_overdue_as_of();
  auto r =
      Exec(tx, sql::kRegister, after_id.empty() ? kNoUuid : after_id, std::string(scope.mode()),
           scope.org_code, Text(f.council_code()), Text(f.icb_code()), Text(f.state()), as_of,
           !f.review_overdue_as_of().empty(), f.stale(), f.legal_determination_required(), limit);
  std::vector<std::pair<std::string, icr::v1::RegisterRow>> rows;
  for (const auto& row : r) {
    icr::v1::RegisterRow out;
    RETURN_IF_ERROR(ParseJson(row[1].c_str(), &out));
    rows.emplace_back(row[0].c_str(), std::move(out));
  }
  return rows;
}

absl::StatusOr<ChangeCursor> S117Store::LockCursor(pqxx::transaction_base& tx) {
  auto r = Exec(tx, sql::kCursorLock);
  if (r.empty()) return absl::FailedPreconditionError("s117.feed_cursor has no row for 's117'");
  return ChangeCursor{r[0][0].c_str(), r[0][1].as<int64_t>()};
}

void S117Store::SaveCursor(pqxx::transaction_base& tx, const ChangeCursor& cursor, int64_t lag_ms) {
  Exec(tx, sql::kCursorSave, cursor.txid, cursor.seq, lag_ms);
}

void S117Store::RecordFeedError(pqxx::transaction_base& tx, const ChangeRow& c,
                                const std::string& error) {
  Exec(tx, sql::kFeedError, c.cursor.txid, c.cursor.seq, c.change_type, c.entity_id, c.person_id,
       error);
}

absl::StatusOr<std::shared_ptr<const Policy>> PolicyCache::Get() {
  std::lock_guard lock(mu_);
  if (policy_) return policy_;
  absl::StatusOr<Policy> loaded;
  absl::Status s = db_.Read([&](pqxx::nontransaction& tx) {
    loaded = S117Store::LoadPolicy(tx);
    return loaded.status();
  });
  if (s.code() == absl::StatusCode::kInvalidArgument) {  // a bad row: the server's fault
    return absl::InternalError("S117 configuration: " + std::string(s.message()));
  }
  if (!s.ok()) return s;
  policy_ = std::make_shared<const Policy>(std::move(*loaded));
  return policy_;
}

}  // namespace icr::s117
