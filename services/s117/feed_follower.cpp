#include "services/s117/feed_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/savepoint.h"
#include "services/common/status.h"

namespace icr::s117 {
namespace {

constexpr int kBatch = 200;
constexpr auto kMaxBackoff = std::chrono::seconds(5);

// One change being applied, with who caused it (the organisation that recorded the event).
class ChangeApplier {
 public:
  ChangeApplier(pqxx::transaction_base& tx, const Policy& policy, const ReferenceData& ref,
                const ChangeRow& change)
      : tx_(tx), policy_(policy), ref_(ref), change_(change) {}

  using Handler = absl::Status (ChangeApplier::*)();
  // What a change of this type means for the register; nullptr: nothing (passed over without a
  // savepoint).
  static Handler HandlerOf(const std::string& type) {
    if (type == change::kDetentionStarted) return &ChangeApplier::DetentionStarted;
    // A merge brings the superseded person's stays and detentions to the survivor (an unmerge
    // takes them back): each person's open entitlement is brought in line with the record.
    if (type == change::kDetentionEnded || type == change::kAdmitted ||
        type == change::kDischarged || type == change::kMerged || type == change::kUnmerged) {
      return &ChangeApplier::ReconcileChanged;
    }
    if (type == change::kReferralClosed) return &ChangeApplier::ReferralClosed;
    if (type == change::kCtoStarted || type == change::kCtoEnded ||
        type == change::kConditionalDischargeStarted ||
        type == change::kConditionalDischargeEnded) {
      return &ChangeApplier::LegalPeriodChanged;
    }
    if (type == change::kDied) return &ChangeApplier::Died;
    return nullptr;
  }
  static bool Concerns(const std::string& type) { return HandlerOf(type) != nullptr; }

  absl::Status Apply() {
    const Handler handler = HandlerOf(change_.change_type);
    return handler ? (this->*handler)() : absl::OkStatus();
  }

 private:
  Actor actor() const { return {change_.org_code, "system"}; }

  void AuditFeed(const std::string& person_id) {
    Caller caller;
    caller.org_code = change_.org_code;
    caller.role = Role::kSystem;
    caller.purpose_of_use = "s117_register_feed";
    caller.request_id = "change:" + EncodeCursor(change_.cursor);
    Audit::Write(tx_, caller, person_id, "S117Feed", kAuditOk);
  }

  absl::Status Save(Episode& e, const std::string& action, const std::string& reason) {
    RETURN_IF_ERROR(S117Store::SaveEpisode(tx_, e, actor(), action, reason));
    AuditFeed(e.person_id);
    return absl::OkStatus();
  }

  void Insert(Episode& e, const DetentionFacts& d) {
    S117Store::InsertEpisode(tx_, e, actor(), "s117_opened", "qualifying detention " + Ref(d));
    S117Store::LinkDetention(tx_, d, e.episode_id, "QUALIFYING");
    AuditFeed(e.person_id);
  }

  static std::string Ref(const DetentionFacts& d) { return d.source_org + "/" + d.detention_id; }

  absl::Status DetentionStarted() {
    // entity_id is "<recording org>/<detention id>".
    const std::string& id = change_.entity_id;
    const auto slash = id.find('/');
    if (slash == std::string::npos) return absl::InvalidArgumentError("entity_id: not org/id");
    const std::string org = id.substr(0, slash), detention_id = id.substr(slash + 1);
    if (S117Store::DetentionHandled(tx_, org, detention_id)) return absl::OkStatus();
    auto record = S117Store::Detention(tx_, org, detention_id);
    if (!record) return absl::NotFoundError("detention: not in core.detention");
    DetentionFacts& d = record->facts;
    d.qualifying = QualifyingOf(ref_.FindLegalStatus(d.legal_status_code));
    auto person = S117Store::Person(tx_, record->person_id);
    if (!person) return absl::NotFoundError("person: not in core.person");
    auto open = S117Store::OpenEpisode(tx_, record->person_id);
    switch (OnDetentionStarted(open ? &*open : nullptr, d, policy_)) {
      case DetentionAction::kNone:
        return absl::OkStatus();
      case DetentionAction::kInHospital:
        return Reconcile(record->person_id);
      case DetentionAction::kOpen: {
        auto e = OpenPlanned(d, *person, nullptr, policy_);
        if (!e.ok()) return e.status();
        Insert(*e, d);
        return absl::OkStatus();
      }
      case DetentionAction::kSectionChange:
        RETURN_IF_ERROR(ChangeSection(*open, d, *person, policy_));
        RETURN_IF_ERROR(Save(*open, "s117_section_changed", "detention " + Ref(d)));
        S117Store::LinkDetention(tx_, d, open->episode_id, "SECTION_CHANGE");
        return absl::OkStatus();
      case DetentionAction::kSupersede: {
        // T5 then T1: the council duty ceased; a new one arises for the new detention.
        RETURN_IF_ERROR(Supersede(*open, d.start));
        RETURN_IF_ERROR(Save(*open, "s117_superseded", "new qualifying detention " + Ref(d)));
        auto next = OpenPlanned(d, *person, &*open, policy_);
        if (!next.ok()) return next.status();
        Insert(*next, d);
        return absl::OkStatus();
      }
      case DetentionAction::kLegalDetermination:
        RETURN_IF_ERROR(RequireLegalDetermination(*open, d));
        S117Store::RaiseTask(tx_, open->episode_id, "LEGAL_DETERMINATION_REQUIRED",
                             "detention:" + Ref(d),
                             "Detained again (legal status " + d.legal_status_code +
                                 ") during a CTO, conditional discharge or under a section "
                                 "needing a case decision: decide whether the duty continues "
                                 "or a new one arises");
        RETURN_IF_ERROR(Save(*open, "s117_legal_determination_required", "detention " + Ref(d)));
        S117Store::LinkDetention(tx_, d, open->episode_id, "LEGAL_DETERMINATION");
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::Status ReconcileChanged() { return Reconcile(PersonNow()); }

  // The person a change is about, now: a change about a person since merged into another (and
  // not unmerged) is about the survivor, whose record holds what the change was about.
  std::string PersonNow() const {
    return S117Store::SurvivorOf(tx_, change_.person_id).value_or(change_.person_id);
  }

  // Brings the open episode in line with the record: the qualifying detention ended and the
  // person left hospital (T3), or an ACTIVE person went into or out of hospital (T4). Derived
  // from the record as it is now, so applying it twice changes nothing.
  absl::Status Reconcile(const std::string& person_id) {
    auto open = S117Store::OpenEpisode(tx_, person_id);
    if (!open) return absl::OkStatus();
    Episode e = *open;
    std::string action = "s117_in_hospital_changed";
    if (e.state == State::kPlanned) {
      if (e.detention_id.empty()) return absl::OkStatus();  // entered by hand
      auto d = S117Store::Detention(tx_, e.detention_source_org, e.detention_id);
      if (!d || !d->ended) return absl::OkStatus();  // still detained
      const Presence here = S117Store::HospitalPresence(tx_, person_id, *e.detention_start_date);
      if (here.in_hospital) {
        e.ceased_detained_date = d->ended;  // staying on informally: not yet in force
        action = "s117_detention_ceased";
      } else {
        // Left hospital on the last discharge, or on ceasing to be detained when already out.
        const Date left = std::max(*d->ended, here.last_discharge.value_or(*d->ended));
        RETURN_IF_ERROR(ActivateOnLeavingHospital(
            e, *d->ended, left, S117Store::ReviewIntervalMonths(tx_, e, policy_)));
        action = "s117_activated";
      }
    } else {
      const Presence here = S117Store::HospitalPresence(
          tx_, person_id, e.effective_from.value_or(*e.detention_start_date));
      SetInHospital(e, here.in_hospital);
    }
    if (e == *open) return absl::OkStatus();
    return Save(e, action, change_.change_type + " " + change_.entity_id);
  }

  // A CTO or conditional discharge started or ended in the record: the same dated legal event
  // an S117 officer records by hand (RecordLegalEvent). A start sets on_cto (conditionally
  // discharged) and brings a PLANNED entitlement into force from its date (T3); an end clears
  // the flag (the end of a conditional discharge is read as the absolute discharge: a recall
  // arrives as a detention). No open entitlement: nothing to do.
  absl::Status LegalPeriodChanged() {
    const std::string& id = change_.entity_id;  // "<recording org>/<id>"
    const auto slash = id.find('/');
    if (slash == std::string::npos) return absl::InvalidArgumentError("entity_id: not org/id");
    const bool cto = change_.entity == change::kCommunityTreatmentOrder;
    auto period = S117Store::LegalPeriodOf(tx_, cto, id.substr(0, slash), id.substr(slash + 1));
    if (!period) return absl::NotFoundError(change_.entity + ": not in the record");
    const bool started =
        change_.change_type == change::kCtoStarted ||
        change_.change_type == change::kConditionalDischargeStarted;
    if (!started && !period->end) return absl::OkStatus();  // ended, then corrected
    auto open = S117Store::OpenEpisode(tx_, change_.person_id);
    if (!open) return absl::OkStatus();
    icr::v1::RecordLegalEventRequest event;
    event.set_kind(cto ? (started ? "CTO_STARTED" : "CTO_ENDED")
                       : (started ? "CONDITIONALLY_DISCHARGED" : "ABSOLUTELY_DISCHARGED"));
    const Date date = started ? period->start : *period->end;
    event.set_date(FormatDate(date));
    if (LegalDateRecorded(*open, event.kind(), date)) return absl::OkStatus();  // by hand
    Episode e = *open;
    RETURN_IF_ERROR(
        ApplyLegalDateEvent(e, event, S117Store::ReviewIntervalMonths(tx_, e, policy_)));
    return Save(e, LegalEventAction(event.kind()), change_.change_type + " " + change_.entity_id);
  }

  // Invariant 5: a closed referral never ends the entitlement; it asks for a review.
  absl::Status ReferralClosed() {
    auto open = S117Store::OpenEpisode(tx_, PersonNow());
    if (!open) return absl::OkStatus();
    if (!S117Store::RaiseTask(tx_, open->episode_id, "REVIEW_REFERRAL_CLOSED",
                              "referral:" + change_.entity_id,
                              "A mental health referral closed; review the S117 aftercare "
                              "(closing a referral never ends the entitlement)")) {
      return absl::OkStatus();
    }
    return Save(*open, "s117_review_task_raised", "referral " + change_.entity_id + " closed");
  }

  absl::Status Died() {
    std::optional<Date> date_of_death;
    const std::string person_id = PersonNow();
    if (!S117Store::Person(tx_, person_id, &date_of_death) || !date_of_death) {
      return absl::OkStatus();
    }
    auto open = S117Store::OpenEpisode(tx_, person_id);
    if (!open) return absl::OkStatus();
    RETURN_IF_ERROR(EndOnDeath(*open, *date_of_death));
    S117Store::EndOpenServiceLines(tx_, open->episode_id, *date_of_death, "the person died");
    S117Store::CloseTasks(tx_, open->episode_id, "", "the person died");
    return Save(*open, "s117_deceased", "");
  }

  pqxx::transaction_base& tx_;
  const Policy& policy_;
  const ReferenceData& ref_;
  const ChangeRow& change_;
};

// Failures that say nothing about the change itself: the whole batch is tried again later.
bool RetryBatch(const std::exception& e) {
  return dynamic_cast<const pqxx::broken_connection*>(&e) ||
         dynamic_cast<const pqxx::in_doubt_error*>(&e) ||
         dynamic_cast<const pqxx::unique_violation*>(&e) ||
         dynamic_cast<const pqxx::serialization_failure*>(&e) ||
         dynamic_cast<const pqxx::deadlock_detected*>(&e);
}

}  // namespace

FeedFollower::FeedFollower(const std::string& database_url,
                           std::shared_ptr<const ReferenceData> ref)
    : db_(database_url, 1), ref_(std::move(ref)), policy_(db_) {}

FeedFollower::~FeedFollower() { Stop(); }

void FeedFollower::Start(std::chrono::milliseconds poll, std::chrono::milliseconds settle,
                         std::function<bool()> may_run) {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread(
      [this, poll, settle, may_run = std::move(may_run)] { Loop(poll, settle, may_run); });
}

void FeedFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int64_t> FeedFollower::CatchUp() {
  int64_t total = 0;
  for (;;) {
    auto n = Step(std::chrono::milliseconds(0));
    if (!n.ok()) return n.status();
    total += *n;
    if (*n == 0) return total;
  }
}

absl::StatusOr<int> FeedFollower::Step(std::chrono::milliseconds min_age) {
  std::lock_guard lock(step_mu_);
  auto policy = policy_.Get();
  if (!policy.ok()) return policy.status();
  int read = 0;
  absl::Status s = db_.Write([&](pqxx::work& tx) -> absl::Status {
    auto cursor = S117Store::LockCursor(tx);
    if (!cursor.ok()) return cursor.status();
    auto changes = Changes::Read(tx, *cursor, kBatch, std::nullopt);
    // lag_ms is measured by the database: the same clock for every writer.
    auto young = std::find_if(changes.begin(), changes.end(),
                              [&](const ChangeRow& c) { return c.lag_ms < min_age.count(); });
    changes.erase(young, changes.end());
    read = static_cast<int>(changes.size());
    for (const auto& change : changes) {
      if (change.entity == icr::change::kS117Episode) continue;  // our own
      if (!ChangeApplier::Concerns(change.change_type)) continue;
      // A savepoint per change: a change the rules refuse is recorded and passed over, never
      // allowed to stop the feed. A lost connection or a conflicting writer retries the batch.
      Savepoint savepoint(tx);
      absl::Status applied;
      try {
        applied = ChangeApplier(tx, **policy, *ref_, change).Apply();
      } catch (const std::exception& e) {
        if (RetryBatch(e)) throw;
        applied = StatusFromDbException(e);
      }
      if (applied.ok()) {
        savepoint.Release();
      } else {
        savepoint.Rollback();
        spdlog::warn("s117 feed: {} {} not applied: {}", change.change_type,
                     EncodeCursor(change.cursor), std::string(applied.message()));
        S117Store::RecordFeedError(tx, change, applied.ToString());
      }
    }
    if (!changes.empty()) S117Store::SaveCursor(tx, changes.back().cursor, changes.back().lag_ms);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return read;
}

void FeedFollower::Loop(std::chrono::milliseconds poll, std::chrono::milliseconds settle,
                        const std::function<bool()>& may_run) {
  bool failing = false;
  std::chrono::milliseconds wait = poll;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    }
    if (may_run && !may_run()) {  // another replica follows
      wait = poll;
      continue;
    }
    auto n = Step(settle);
    if (!n.ok()) {
      if (!failing) spdlog::warn("s117 feed: {}; retrying", std::string(n.status().message()));
      failing = true;
      wait = std::min<std::chrono::milliseconds>(wait * 2 + poll, kMaxBackoff);
      continue;
    }
    if (failing) spdlog::info("s117 feed: resumed");
    failing = false;
    wait = *n == kBatch ? std::chrono::milliseconds(0) : poll;
  }
}

}  // namespace icr::s117
