// The register's store: the statements of services/s117/sql/ over s117.* (and reads of core.*),
// composed by the handlers and the feed follower into one transaction each. Every change to an
// episode writes its history row and a core.changes row in the caller's transaction.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/s117.pb.h"
#include "services/common/access_rule.h"
#include "services/common/changes.h"
#include "services/common/db.h"
#include "services/s117/entitlement.h"

namespace icr::s117 {

// Who made a change, for the history.
struct Actor {
  std::string org_code;
  std::string role;
};

// The recorded state of the detention and hospital stays behind an episode.
struct DetentionRecord {
  DetentionFacts facts;
  std::string person_id;
  std::optional<Date> ended;
};
// A community treatment order or conditional discharge as the record holds it.
struct LegalPeriod {
  Date start;
  std::optional<Date> end;
};
struct Presence {
  bool in_hospital = false;            // an open hospital spell or detention
  std::optional<Date> last_discharge;  // latest discharge on or after a given date
};

class S117Store {
 public:
  // Configuration: s117.policy and the code tables.
  static absl::StatusOr<Policy> LoadPolicy(pqxx::transaction_base& tx);
  // The agreement's default split for a JOINT line on `date`, if any.
  static std::optional<Split> DefaultSplit(pqxx::transaction_base& tx, const Episode& e, Date date);
  // The longest gap between reviews for the episode's council and ICB.
  static int ReviewIntervalMonths(pqxx::transaction_base& tx, const Episode& e,
                                  const Policy& policy);

  // Episodes, locked for update.
  static std::optional<Episode> LoadEpisode(pqxx::transaction_base& tx, const std::string& id);
  static std::optional<Episode> OpenEpisode(pqxx::transaction_base& tx,
                                            const std::string& person_id);
  // The person a person merged into another (core.person_merge, not unmerged) is now part of,
  // following later merges of the survivor; nullopt for a person not merged away.
  static std::optional<std::string> SurvivorOf(pqxx::transaction_base& tx,
                                               const std::string& person_id);
  // The open episode, else the most recent one that is not VOID.
  static std::optional<std::string> CurrentEpisodeId(pqxx::transaction_base& tx,
                                                     const std::string& person_id);
  // Stores a new episode (version 1) and sets its id.
  static void InsertEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                            const std::string& action, const std::string& reason);
  // Stores a changed episode as the next version; ABORTED when someone else changed it first.
  static absl::Status SaveEpisode(pqxx::transaction_base& tx, Episode& e, const Actor& actor,
                                  const std::string& action, const std::string& reason);

  // Detentions the register has acted on.
  static bool DetentionHandled(pqxx::transaction_base& tx, const std::string& source_org,
                               const std::string& detention_id);
  static void LinkDetention(pqxx::transaction_base& tx, const DetentionFacts& d,
                            const std::string& episode_id, const std::string& role);

  // Facts from the record.
  static std::optional<DetentionRecord> Detention(pqxx::transaction_base& tx,
                                                  const std::string& source_org,
                                                  const std::string& detention_id);
  static std::optional<PersonFacts> Person(pqxx::transaction_base& tx, const std::string& person_id,
                                           std::optional<Date>* date_of_death = nullptr);
  static Presence HospitalPresence(pqxx::transaction_base& tx, const std::string& person_id,
                                   Date since);
  // The CTO (cto = true) or conditional discharge `id` recorded by `source_org`.
  static std::optional<LegalPeriod> LegalPeriodOf(pqxx::transaction_base& tx, bool cto,
                                                  const std::string& source_org,
                                                  const std::string& id);

  // Placements (s117.placement): a person's, newest first, as the proto and as the rule's facts.
  struct PlacementRow {
    icr::v1::Placement placement;
    PlacementFacts facts;
  };
  static std::vector<PlacementRow> Placements(pqxx::transaction_base& tx,
                                              const std::string& person_id);
  // Returns the new placement's id.
  static std::string InsertPlacement(pqxx::transaction_base& tx, const std::string& person_id,
                                     const icr::v1::Placement& placement, const std::string& org);
  struct StoredPlacement {
    std::string person_id;
    std::string placing_council_code;
    Date start;
    std::optional<Date> end;
  };
  // Locked for update.
  static std::optional<StoredPlacement> LoadPlacement(pqxx::transaction_base& tx,
                                                      const std::string& placement_id);
  static void EndPlacement(pqxx::transaction_base& tx, const std::string& placement_id, Date end,
                           const std::string& org);

  // ImportRegister: the entitlement a register row is already registered as (by council and
  // source_ref, else by the person's detention start and section), the person by NHS number,
  // and a person created from the register's names.
  struct ImportMatchRow {
    std::string episode_id;
    std::string digest;  // empty: not imported
  };
  static std::optional<ImportMatchRow> ImportMatch(
      pqxx::transaction_base& tx, const std::string& council, const std::string& source_ref,
      const std::string& nhs, const std::string& detention_start, const std::string& section);
  struct KnownPerson {
    std::string person_id;
    std::string date_of_birth;
  };
  static std::optional<KnownPerson> PersonByNhs(pqxx::transaction_base& tx, const std::string& nhs);
  // The new person's id (nullopt: someone created them first); on the change feed.
  static std::optional<std::string> CreatePerson(pqxx::transaction_base& tx, const std::string& nhs,
                                                 const std::string& family_name,
                                                 const std::string& given_name, Date born,
                                                 const std::string& council, const std::string& icb,
                                                 const std::string& org);

  // Service lines, reviews, end decisions and tasks of an episode.
  // Returns the new line's id.
  static std::string InsertServiceLine(pqxx::transaction_base& tx, const std::string& episode_id,
                                       const icr::v1::AftercareService& line,
                                       const std::string& org);
  static absl::Status EndServiceLine(pqxx::transaction_base& tx, const std::string& episode_id,
                                     const icr::v1::EndAftercareServiceRequest& req);
  // Ends the lines still open on `date` (only the s117 ones when s117_only); returns how many.
  static int EndOpenServiceLines(pqxx::transaction_base& tx, const std::string& episode_id,
                                 Date date, const std::string& reason, bool s117_only = false);
  static std::vector<ServiceLineFacts> ServiceLines(pqxx::transaction_base& tx,
                                                    const std::string& episode_id);
  static void InsertReview(pqxx::transaction_base& tx, const std::string& episode_id,
                           const icr::v1::S117Review& review, const std::string& org);
  static std::vector<ReviewFacts> Reviews(pqxx::transaction_base& tx,
                                          const std::string& episode_id);
  static void InsertEndDecision(pqxx::transaction_base& tx, const std::string& episode_id,
                                const icr::v1::S117EndDecision& decision,
                                const std::string& body_code, const std::string& org);
  static std::vector<EndDecisionFacts> EndDecisions(pqxx::transaction_base& tx,
                                                    const std::string& episode_id);
  static void RescindEndDecisions(pqxx::transaction_base& tx, const std::string& episode_id);
  // True when the task is new (raising the same task again changes nothing).
  static bool RaiseTask(pqxx::transaction_base& tx, const std::string& episode_id,
                        const std::string& kind, const std::string& source_ref,
                        const std::string& detail);
  // Closes open tasks of `kind` (empty: every kind); returns how many.
  static int CloseTasks(pqxx::transaction_base& tx, const std::string& episode_id,
                        const std::string& kind, const std::string& note);

  // Reads for responses.
  static absl::Status LoadEntitlement(pqxx::transaction_base& tx, const std::string& episode_id,
                                      bool include_history, icr::v1::Entitlement* out);
  // Register rows after `after_id` (keyset), with each row's person_id for the audit.
  static absl::StatusOr<std::vector<std::pair<std::string, icr::v1::RegisterRow>>> ListRegister(
      pqxx::transaction_base& tx, const icr::v1::RegisterFilter& filter,
      const access::RegisterScope& scope, const std::string& after_id, int limit);

  // The change-feed follower's cursor (locked: one follower at a time) and its failures.
  static absl::StatusOr<ChangeCursor> LockCursor(pqxx::transaction_base& tx);
  static void SaveCursor(pqxx::transaction_base& tx, const ChangeCursor& cursor, int64_t lag_ms);
  static void RecordFeedError(pqxx::transaction_base& tx, const ChangeRow& change,
                              const std::string& error);
};

// The policy, loaded from the database on first use and kept; a failed load is retried.
class PolicyCache {
 public:
  explicit PolicyCache(Database& db) : db_(db) {}
  absl::StatusOr<std::shared_ptr<const Policy>> Get();

 private:
  Database& db_;
  std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
};

}  // namespace icr::s117
