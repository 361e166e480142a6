#include "clients/demo/followup.h"

#include <algorithm>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "clients/icrctl/client.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/grpc_status.h"

namespace icrctl::demo {
namespace {

using icr::Date;
using icr::v1::CarePlan;
using icr::v1::Entitlement;
using icr::v1::RegisterRow;
using std::chrono::days;
using PlanStub = icr::v1::CarePlanService::Stub;
using RegisterStub = icr::v1::S117RegisterService::Stub;

// ---- Deterministic choices ----

// A number in [0, 1) that depends only on the seed, the NHS number and what it decides.
double Draw(uint64_t seed, const std::string& nhs, const std::string& what) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : nhs + "/" + what) h = (h ^ c) * 1099511628211ULL;
  return static_cast<double>(SplitMix64(h ^ seed) >> 11) * 0x1.0p-53;
}

// A whole number in [lo, hi] drawn the same way.
int DrawInt(uint64_t seed, const std::string& nhs, const std::string& what, int lo, int hi) {
  return lo + static_cast<int>(Draw(seed, nhs, what) * (hi - lo + 1));
}

template <class T>
const T& DrawFrom(uint64_t seed, const std::string& nhs, const std::string& what,
                  const std::vector<T>& items) {
  return items[static_cast<size_t>(Draw(seed, nhs, what) * static_cast<double>(items.size()))];
}

std::string Day(Date d) { return icr::FormatDate(d); }

using Facts = PersonFacts;

bool Is(const grpc::Status& s, grpc::StatusCode code) { return s.error_code() == code; }

// ---- The run ----

class Followup {
 public:
  Followup(Principals& who, const FollowupOptions& o, const Seeded& seeded)
      : o_(o),
        seed_(o.population.seed),
        as_of_(o.population.as_of),
        later_(seeded.later),
        people_(seeded.people),
        who_(who) {}

  FollowupSummary Run();

 private:
  // Records a failed step and carries on; true when the call succeeded.
  bool Ok(const grpc::Status& s, const std::string& what) {
    if (s.ok()) return true;
    errors_.push_back(what + ": " + icr::FromGrpc(s).ToString());
    return false;
  }
  void Wrote(const std::string& what) { ++summary_.writes[what]; }

  std::vector<RegisterRow> ListAll(const icr::v1::RegisterFilter& filter);
  // The register once it holds something (when anything was detained), every person in
  // `expected` has at least that many entitlements and the count has stopped changing.
  std::vector<RegisterRow> SettledRegister(const std::map<std::string, int>& expected);
  // What the register needs once the later events are in: one more entitlement for each later
  // detention under a legal status that gave the same person one in `rows` (the register
  // decides what qualifies, from the reference data; the demo does not restate it).
  std::map<std::string, int> ExpectedAfterLater(const std::vector<RegisterRow>& rows);
  void RecordLater();
  const Facts* FactsOf(const std::string& nhs) const {
    auto it = people_.find(nhs);
    return it == people_.end() ? nullptr : &it->second;
  }
  // The person's trust, which records their care (the caller without a tokens file).
  Actor& TrustOf(const std::string& nhs) {
    const Facts* f = FactsOf(nhs);
    return who_.ForOrGiven(f ? f->trust : "", icr::Role::kSystem);
  }
  // Who reads the register and the care plans: the trusts of the population, which see their
  // people (the caller alone without a tokens file).
  std::vector<Actor*> Readers() {
    std::vector<Actor*> readers;
    for (const auto& [nhs, f] : people_) {
      Actor* a = &TrustOf(nhs);
      if (std::find(readers.begin(), readers.end(), a) == readers.end()) readers.push_back(a);
    }
    if (readers.empty()) readers.push_back(&who_.given());
    return readers;
  }

  // S117 register.
  bool GetEntitlement(Actor& actor, const std::string& id, Entitlement* e);
  template <class Req, class Resp>
  bool WriteEntitlement(Actor& actor,
                        grpc::Status (RegisterStub::*method)(grpc::ClientContext*, const Req&,
                                                             Resp*),
                        Req req, Entitlement* e, const std::string& what);
  icr::v1::AftercareService Line(const RegisterRow& row, const std::string& kind) const;
  icr::v1::S117Review Review(const Facts& f, Date date, const std::string& outcome) const;
  icr::v1::S117EndDecision EndDecision(const std::string& body, Date date) const;
  void JointDischarge(const std::vector<RegisterRow>& rows);
  void Dispute(const std::vector<RegisterRow>& rows);
  void ServicesAndReviews(const std::vector<RegisterRow>& rows);

  // Care plans.
  enum class Target { kDraft, kAgreed, kOverdue };
  // The real-world days of a person's plan: started, discussed with them, signed for health,
  // agreed (the social care sign-off, or the health one alone), and a review: for an overdue
  // plan an early one whose next date has passed, for a plan agreed more than ten months ago
  // its yearly one (yearly_review), which keeps it current.
  struct PlanDays {
    Date started, discussed, health_signed, agreed, reviewed, review_next;
    bool yearly_review = false;
  };
  PlanDays PlanDaysOf(const Facts& f, bool s117_plan, Target target) const;
  CarePlan PlanContent(const Facts& f, const RegisterRow* s117, const PlanDays& d) const;
  icr::v1::CarePlanReview PlanReview(const Facts& f, const RegisterRow* s117,
                                     const PlanDays& d) const;
  void CarePlanFor(const Facts& f, const RegisterRow* s117, Target target);
  void CarePlans(const std::vector<RegisterRow>& rows);

  void Summarise();

  FollowupOptions o_;
  uint64_t seed_;
  Date as_of_;
  std::vector<icr::v1::Event> later_;
  std::map<std::string, Facts> people_;
  Principals& who_;
  std::string discharge_id_;  // the entitlement chosen for the joint discharge
  FollowupSummary summary_;
  std::vector<std::string> errors_;
};

std::vector<RegisterRow> Followup::ListAll(const icr::v1::RegisterFilter& filter) {
  std::vector<RegisterRow> rows;
  std::set<std::string> seen;  // an entitlement two readers see is listed once
  for (Actor* reader : Readers()) {
    icr::v1::ListRegisterRequest req;
    *req.mutable_filter() = filter;
    req.mutable_page()->set_page_size(500);
    do {
      icr::v1::ListRegisterResponse resp;
      auto s = TryCall(reader->client, *reader->register_, &RegisterStub::ListRegister, req, &resp);
      if (Is(s, grpc::StatusCode::UNIMPLEMENTED)) {
        throw Failure(
            "demo seed: the server does not serve S117RegisterService; start icr-server "
            "with --services all, or pass --import-only");
      }
      Check(s);
      for (const auto& r : resp.rows()) {
        if (seen.insert(r.entitlement_id()).second) rows.push_back(r);
      }
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    } while (!req.page().page_token().empty());
  }
  return rows;
}

std::map<std::string, int> Followup::ExpectedAfterLater(const std::vector<RegisterRow>& rows) {
  std::map<std::string, int> expected;
  std::map<std::string, std::set<std::string>> qualifying;  // by person: codes that gave one
  for (const auto& r : rows) {
    const Facts* f = FactsOf(r.nhs_number());
    if (!f || f->later_detention_codes.empty()) continue;
    Entitlement e;
    if (!GetEntitlement(TrustOf(f->nhs), r.entitlement_id(), &e)) continue;
    const auto& later = f->later_detention_ids;
    if (std::find(later.begin(), later.end(), e.detention_id()) != later.end()) continue;
    ++expected[f->nhs];  // from the imported events
    qualifying[f->nhs].insert(e.legal_status_code());
  }
  for (auto& [nhs, n] : expected) {
    for (const auto& code : people_.at(nhs).later_detention_codes) n += qualifying[nhs].count(code);
  }
  return expected;
}

std::vector<RegisterRow> Followup::SettledRegister(const std::map<std::string, int>& expected) {
  const auto deadline = std::chrono::steady_clock::now() + o_.register_timeout;
  const bool detained = std::any_of(people_.begin(), people_.end(), [](const auto& p) {
    return !p.second.detention_codes.empty();
  });
  // The feed follower applies changes in commit order; the count unchanged over two polls
  // (4 s, while it catches up every 200 ms) is taken as caught up.
  size_t last = SIZE_MAX;
  int unchanged = 0;
  while (true) {
    auto rows = ListAll({});
    std::map<std::string, int> registered;
    for (const auto& r : rows) ++registered[r.nhs_number()];
    size_t missing = detained && rows.empty() ? 1 : 0;
    for (const auto& [nhs, n] : expected) missing += registered[nhs] >= n ? 0 : 1;
    unchanged = rows.size() == last ? unchanged + 1 : 0;
    if (missing == 0 && unchanged >= 2) return rows;
    if (std::chrono::steady_clock::now() > deadline) {
      throw Failure("demo seed: the S117 register has not settled after " +
                    std::to_string(o_.register_timeout.count()) + " s (" +
                    std::to_string(rows.size()) + " entitlements; " + std::to_string(missing) +
                    " people still to register); is icr-server's S117 feed follower running? "
                    "Run demo seed again to finish");
    }
    last = rows.size();
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

// Records the events that follow the import (the re-detention); already recorded: DUPLICATE.
void Followup::RecordLater() {
  std::vector<std::pair<Actor*, icr::v1::RecordEventsRequest>> by_trust;
  for (const auto& e : later_) {
    Actor* trust = &TrustOf(e.nhs_number());
    auto it = std::find_if(by_trust.begin(), by_trust.end(),
                           [&](const auto& x) { return x.first == trust; });
    if (it == by_trust.end()) it = by_trust.insert(by_trust.end(), {trust, {}});
    *it->second.add_events() = e;
  }
  for (const auto& [trust, req] : by_trust) {
    icr::v1::RecordEventsResponse resp;
    if (!Ok(TryCall(trust->client, trust->client.record(),
                    &icr::v1::RecordService::Stub::RecordEvents, req, &resp),
            "RecordEvents (re-detention)")) {
      continue;
    }
    for (const auto& outcome : resp.outcomes()) {
      if (outcome.result() == icr::v1::EventOutcome::STORED) Wrote("re-detention events recorded");
    }
  }
}

// ---- S117 register ----

bool Followup::GetEntitlement(Actor& actor, const std::string& id, Entitlement* e) {
  icr::v1::GetEntitlementRequest req;
  req.set_entitlement_id(id);
  return Ok(TryCall(actor.client, *actor.register_, &RegisterStub::GetEntitlement, req, e),
            "GetEntitlement " + id);
}

// A write naming the version read; a stale version (the feed follower was there first) is read
// again and the write retried.
// The entitlement a register write returns (AddAftercareService returns it with the new line).
const Entitlement& EntitlementOf(const Entitlement& e) { return e; }
const Entitlement& EntitlementOf(const icr::v1::AddAftercareServiceResponse& r) {
  return r.entitlement();
}

template <class Req, class Resp>
bool Followup::WriteEntitlement(Actor& actor,
                                grpc::Status (RegisterStub::*method)(grpc::ClientContext*,
                                                                     const Req&, Resp*),
                                Req req, Entitlement* e, const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    req.set_entitlement_id(e->entitlement_id());
    req.set_expected_version(e->version());
    Resp after;
    auto s = TryCall(actor.client, *actor.register_, method, req, &after);
    if (s.ok()) {
      *e = EntitlementOf(after);
      Wrote(what);
      return true;
    }
    if (!Is(s, grpc::StatusCode::ABORTED) || attempt == 2) {
      return Ok(s, what + " " + out::NhsDisplay(e->nhs_number()));
    }
    if (!GetEntitlement(actor, e->entitlement_id(), e)) return false;
  }
}

// A service line of `kind`: "joint" (50:50 home care), "council" (supported accommodation) or
// "direct_payment" (a personal assistant the council pays for by direct payment).
icr::v1::AftercareService Followup::Line(const RegisterRow& row, const std::string& kind) const {
  const std::string& nhs = row.nhs_number();
  icr::v1::AftercareService l;
  l.set_need_ref("n1");
  l.set_need_arises_from_mental_disorder(true);
  l.set_is_s117(true);
  const Date from = *icr::ParseDate(row.effective_from());
  l.set_start_date(
      Day(std::min(from + days(DrawInt(seed_, nhs, "line start", 0, 28)), as_of_ - days(1))));
  if (kind == "joint") {
    l.set_service_type("HOME_CARE");
    l.set_description("Daily visits to support meals, medication and the home");
    l.set_provider_name("Community Home Support CIC");
    l.set_funder("JOINT");
    l.set_council_pct(50);
    l.set_icb_pct(50);
    l.set_weekly_cost_pence(DrawInt(seed_, nhs, "line cost", 250, 600) * 100);
    l.set_delivery_mode("COMMISSIONED");
  } else if (kind == "council") {
    l.set_service_type("SUPPORTED_ACCOMMODATION");
    l.set_description("Supported tenancy with 24-hour staff");
    l.set_provider_name("Housing and Recovery Trust");
    l.set_funder("COUNCIL");
    l.set_weekly_cost_pence(DrawInt(seed_, nhs, "line cost", 700, 1400) * 100);
    l.set_delivery_mode("COMMISSIONED");
  } else {
    l.set_service_type("HOME_CARE");
    l.set_description("Personal assistant employed by the person");
    l.set_provider_name("The person (direct payment)");
    l.set_funder("COUNCIL");
    l.set_weekly_cost_pence(DrawInt(seed_, nhs, "line cost", 150, 350) * 100);
    l.set_delivery_mode("DIRECT_PAYMENT");
  }
  return l;
}

icr::v1::S117Review Followup::Review(const Facts& f, Date date, const std::string& outcome) const {
  icr::v1::S117Review r;
  r.set_review_date(Day(date));
  r.mutable_council_rep()->set_name(
      DrawFrom(seed_, f.nhs, "council rep",
               std::vector<std::string>{"Sam Patel", "Jo Reid", "Kim Foster", "Femi Grant"}));
  r.mutable_council_rep()->set_role("Social worker");
  r.mutable_health_rep()->set_name(f.key_worker.name().empty() ? "Dr Ama Osei"
                                                               : f.key_worker.name());
  r.mutable_health_rep()->set_role(f.key_worker.name().empty() ? "Consultant psychiatrist"
                                                               : "Care coordinator");
  r.mutable_health_rep()->set_organisation_code(f.trust);
  r.set_person_involvement(Draw(seed_, f.nhs, "involvement") < 0.8 ? "ATTENDED" : "CONSULTED");
  // Most reviews are joint; about one in seven the health representative was invited and did
  // not come (named all the same: who was invited). A review recommending discharge is joint.
  r.set_council_attendance("ATTENDED");
  r.set_health_attendance(outcome != "RECOMMEND_DISCHARGE" &&
                                  Draw(seed_, f.nhs, "health attended") < 0.15
                              ? "INVITED_ABSENT"
                              : "ATTENDED");
  r.set_outcome(outcome);
  r.set_summary(outcome == "RECOMMEND_DISCHARGE"
                    ? "Well and working for a year without after-care; recommend a joint end"
                    : "Joint review with the person; services meet their needs");
  return r;
}

icr::v1::S117EndDecision Followup::EndDecision(const std::string& body, Date date) const {
  icr::v1::S117EndDecision d;
  d.set_body(body);
  d.mutable_decider()->set_name(body == "ICB" ? "Dr Ama Osei" : "Pat Lee");
  d.mutable_decider()->set_role(body == "ICB" ? "Mental health commissioner" : "Head of S117");
  d.set_decision_date(Day(date));
  d.set_primary_reason("NO_LONGER_NEEDS_AFTERCARE");
  d.add_other_reasons("WELL_AND_SETTLED");
  d.set_reason_text(
      "Reassessed at a joint review: no after-care need remains; GP follow-up agreed");
  d.set_person_involvement("ATTENDED");
  d.set_other_care_after_discharge("GP and the primary care mental health team");
  return d;
}

// One entitlement ended jointly: a service line, a review recommending discharge, every s117
// line ended, then the council's and the ICB's decisions.
void Followup::JointDischarge(const std::vector<RegisterRow>& rows) {
  const RegisterRow* chosen = nullptr;
  double best = 2;
  for (const auto& r : rows) {
    if (r.state() == "ENDED_DISCHARGED" && FactsOf(r.nhs_number())) {
      discharge_id_ = r.entitlement_id();
      return;  // done by an earlier run
    }
    const auto from = icr::ParseDate(r.effective_from());
    if (r.state() != "ACTIVE" || !FactsOf(r.nhs_number()) || r.in_hospital() || r.on_cto() ||
        r.legal_determination_required() || r.responsible_council_code().empty() ||
        r.responsible_icb_code().empty() || !from || *from > as_of_ - days(120)) {
      continue;
    }
    const double d = Draw(seed_, r.nhs_number(), "discharge");
    if (d < best) best = d, chosen = &r;
  }
  if (!chosen) return summary_.notes.push_back("joint discharge: no ACTIVE entitlement qualifies");
  discharge_id_ = chosen->entitlement_id();
  Actor* council = who_.For(chosen->responsible_council_code(), icr::Role::kS117Officer);
  Actor* icb = who_.For(chosen->responsible_icb_code(), icr::Role::kS117Officer);
  if (!council || !icb) {
    return summary_.notes.push_back(
        "joint discharge: skipped (the council's and the ICB's decisions need a --tokens file)");
  }
  const Facts& f = *FactsOf(chosen->nhs_number());
  Actor& trust = TrustOf(f.nhs);
  Entitlement e;
  if (!GetEntitlement(trust, discharge_id_, &e)) return;
  if (e.services().empty()) {
    icr::v1::AddAftercareServiceRequest add;
    *add.mutable_service() = Line(*chosen, "joint");
    if (!WriteEntitlement(trust, &RegisterStub::AddAftercareService, add, &e,
                          "service lines added"))
      return;
  }
  const bool recommended = std::any_of(e.reviews().begin(), e.reviews().end(), [](const auto& r) {
    return r.outcome() == "RECOMMEND_DISCHARGE";
  });
  if (!recommended) {
    icr::v1::RecordReviewRequest review;
    *review.mutable_review() = Review(f, as_of_ - days(30), "RECOMMEND_DISCHARGE");
    if (!WriteEntitlement(trust, &RegisterStub::RecordReview, review, &e, "S117 reviews recorded"))
      return;
  }
  std::vector<std::string> open;
  for (const auto& s : e.services()) {
    if (s.is_s117() && s.end_date().empty()) open.push_back(s.service_line_id());
  }
  for (const auto& id : open) {
    icr::v1::EndAftercareServiceRequest end;
    end.set_service_line_id(id);
    end.set_end_date(Day(as_of_ - days(10)));
    end.set_end_reason("No longer needed: joint decision to end s117 after-care");
    if (!WriteEntitlement(trust, &RegisterStub::EndAftercareService, end, &e,
                          "service lines ended"))
      return;
  }
  for (const auto& [body, actor, on] : {std::tuple{"COUNCIL", council, as_of_ - days(7)},
                                        std::tuple{"ICB", icb, as_of_ - days(5)}}) {
    const bool decided = std::any_of(e.end_decisions().begin(), e.end_decisions().end(),
                                     [&](const auto& d) { return d.body() == body; });
    if (decided) continue;
    icr::v1::RecordEndDecisionRequest req;
    *req.mutable_decision() = EndDecision(body, on);
    if (!WriteEntitlement(*actor, &RegisterStub::RecordEndDecision, req, &e,
                          "S117 end decisions recorded"))
      return;
  }
}

// One ACTIVE entitlement whose ordinary residence another council disputes.
void Followup::Dispute(const std::vector<RegisterRow>& rows) {
  const RegisterRow* chosen = nullptr;
  double best = 2;
  for (const auto& r : rows) {
    if (!FactsOf(r.nhs_number())) continue;
    if (r.or_dispute_status() == "DISPUTED") return;  // done by an earlier run
    if (r.state() != "ACTIVE" || r.entitlement_id() == discharge_id_) continue;
    const double d = Draw(seed_, r.nhs_number(), "dispute");
    if (d < best) best = d, chosen = &r;
  }
  if (!chosen) return summary_.notes.push_back("OR dispute: no ACTIVE entitlement");
  std::string other;
  for (const auto& p : AllPlacements()) {
    if (p.council != chosen->responsible_council_code() && other.empty()) other = p.council;
  }
  // Only a responsible council or ICB changes the responsible bodies.
  Actor* council = who_.For(chosen->responsible_council_code(), icr::Role::kS117Officer);
  if (!council) {
    return summary_.notes.push_back(
        "OR dispute: skipped (the council's record needs a --tokens file)");
  }
  Entitlement e;
  if (!GetEntitlement(*council, chosen->entitlement_id(), &e)) return;
  icr::v1::SetResponsibleBodiesRequest req;
  req.set_or_dispute_status("DISPUTED");
  req.set_reason("Council " + other +
                 " is said to be the council of ordinary residence: the person "
                 "was placed there in supported housing before the detention; " +
                 chosen->responsible_council_code() + " disputes responsibility");
  WriteEntitlement(*council, &RegisterStub::SetResponsibleBodies, req, &e, "OR disputes recorded");
}

// Service lines for about half of the ACTIVE entitlements (the first of them by NHS number a
// direct payment) and a recent joint review for about 45%; the rest stay unreviewed.
void Followup::ServicesAndReviews(const std::vector<RegisterRow>& rows) {
  bool direct_payment = true;  // the first entitlement with services gets the direct payment
  for (const auto& r : rows) {
    const Facts* f = FactsOf(r.nhs_number());
    if (!f || r.state() != "ACTIVE" || r.entitlement_id() == discharge_id_) continue;
    const auto from = icr::ParseDate(r.effective_from());
    if (!from) continue;
    const bool services = Draw(seed_, r.nhs_number(), "services") < 0.5;
    const bool review = Draw(seed_, r.nhs_number(), "review") < 0.45;
    std::string kind;
    if (services) {
      kind = direct_payment                                   ? "direct_payment"
             : Draw(seed_, r.nhs_number(), "line kind") < 0.6 ? "joint"
                                                              : "council";
      direct_payment = false;
    }
    const bool add_line = services && r.open_services() == 0;
    const Date review_date =
        std::max(*from, as_of_ - days(DrawInt(seed_, r.nhs_number(), "review day", 7, 330)));
    const bool add_review = review && r.last_review_date().empty() && review_date <= icr::Today();
    if (!add_line && !add_review) continue;
    Entitlement e;
    e.set_entitlement_id(r.entitlement_id());
    e.set_nhs_number(r.nhs_number());
    e.set_version(r.version());
    if (add_line) {
      icr::v1::AddAftercareServiceRequest req;
      *req.mutable_service() = Line(r, kind);
      if (!WriteEntitlement(TrustOf(f->nhs), &RegisterStub::AddAftercareService, req, &e,
                            "service lines added"))
        continue;
    }
    if (add_review) {
      icr::v1::RecordReviewRequest req;
      const bool modify = Draw(seed_, r.nhs_number(), "review outcome") < 0.2;
      *req.mutable_review() = Review(*f, review_date, modify ? "MODIFY" : "CONTINUE");
      WriteEntitlement(TrustOf(f->nhs), &RegisterStub::RecordReview, req, &e,
                       "S117 reviews recorded");
    }
  }
}

// ---- Care plans ----

// Someone who took part in a meeting.
void AddParticipant(google::protobuf::RepeatedPtrField<icr::v1::CarePlanParticipant>* to,
                    const std::string& name, const std::string& role, const std::string& org,
                    icr::v1::CarePlanParticipant::Kind kind) {
  auto* x = to->Add();
  x->set_name(name);
  x->set_role(role);
  x->set_organisation_code(org);
  x->set_kind(kind);
  x->set_method(icr::v1::CarePlanParticipant::MEETING);
}

// Agreed 1 to 10 months before the as-of date (an overdue plan 5 to 10; a current plan that is
// not an S117 plan up to two years), started 1 to 6 weeks before, health signing up to 6 days
// before the council; the agreement sets the next review 11 months on. An overdue plan had an
// early review 3 to 8 weeks after agreement that set a next review 2 to 3 months on, since
// passed; a current plan agreed more than 10 months ago had its yearly review 1 to 8 months
// ago, setting the next one 11 to 12 months on.
Followup::PlanDays Followup::PlanDaysOf(const Facts& f, bool s117_plan, Target target) const {
  const std::string& nhs = f.nhs;
  PlanDays d;
  const int oldest = target == Target::kAgreed && !s117_plan ? 700 : 300;
  d.agreed = as_of_ - days(target == Target::kOverdue ? DrawInt(seed_, nhs, "agreed", 160, 300)
                                                      : DrawInt(seed_, nhs, "agreed", 7, oldest));
  d.started = d.agreed - days(DrawInt(seed_, nhs, "plan started", 7, 42));
  d.discussed = d.started + (d.agreed - d.started) / 2;
  d.health_signed =
      std::max(d.discussed, d.agreed - days(DrawInt(seed_, nhs, "health signed", 0, 6)));
  if (target == Target::kAgreed && as_of_ - d.agreed > days(300)) {
    d.yearly_review = true;
    d.reviewed = std::max(d.agreed + days(30),
                          as_of_ - days(DrawInt(seed_, nhs, "yearly review", 30, 240)));
    d.review_next = d.reviewed + days(DrawInt(seed_, nhs, "yearly review next", 330, 360));
    return d;
  }
  d.reviewed = d.agreed + days(DrawInt(seed_, nhs, "early review", 20, 60));
  d.review_next = d.reviewed + days(DrawInt(seed_, nhs, "early review next", 60, 90));
  return d;
}

CarePlan Followup::PlanContent(const Facts& f, const RegisterRow* s117,
                               const PlanDays& days_) const {
  using icr::v1::AdultOutcome;
  using icr::v1::CarePlanIntervention;
  using icr::v1::CarePlanParticipant;
  const std::string& nhs = f.nhs;
  const bool care_act = s117 || Draw(seed_, nhs, "care act") < 0.6;
  const std::string council = s117 ? s117->responsible_council_code() : f.council;
  CarePlan p;
  p.set_is_nhs_pcsp(true);
  p.set_is_care_act_plan(care_act);
  p.set_is_s117_aftercare_plan(s117 != nullptr);
  p.set_acting_for_council_code(council);
  p.set_acting_for_icb_code(s117 ? s117->responsible_icb_code() : f.icb);
  if (f.key_worker.name().empty()) {
    p.mutable_key_worker()->set_name("Duty care coordinator");
    p.mutable_key_worker()->set_role("Care coordinator");
    p.mutable_key_worker()->set_organisation_code(f.trust);
  } else {
    *p.mutable_key_worker() = f.key_worker;
  }
  const icr::v1::StaffRef& kw = p.key_worker();
  p.mutable_about_me()->set_what_matters_to_me(DrawFrom(
      seed_, nhs, "what matters",
      std::vector<std::string>{
          "Keeping my flat and getting back to work.", "Seeing my children every weekend.",
          "Getting back to my allotment and seeing my sister.", "Going to college in September.",
          "Staying out of hospital and walking my dog every day.",
          "Cooking for myself and going to the mosque on Fridays.",
          "Playing football again on Sundays."}));
  p.mutable_about_me()->set_preferred_name(f.given_name);

  struct NeedShape {
    AdultOutcome::Code first, second;
    const char* need;
    const char* goal;
    const char* support;
  };
  static const std::vector<NeedShape> kNeeds = {
      {AdultOutcome::NUTRITION, AdultOutcome::HABITABLE_HOME, "Managing meals and keeping the home",
       "I want to cook for myself again.", "Home support with meals and the home"},
      {AdultOutcome::PERSONAL_HYGIENE, AdultOutcome::HOME_SAFETY,
       "Personal care and staying safe at home", "I want to manage my mornings on my own.",
       "Morning visits for personal care"},
      {AdultOutcome::RELATIONSHIPS, AdultOutcome::COMMUNITY_FACILITIES_TRANSPORT,
       "Keeping in touch with family and getting out", "I want to see my family every week.",
       "Community support worker two afternoons a week"},
      {AdultOutcome::WORK_EDUCATION_VOLUNTEERING, AdultOutcome::COMMUNITY_FACILITIES_TRANSPORT,
       "Getting back to work or study", "I want a part-time job by the summer.",
       "Employment support worker"}};
  const NeedShape& shape = DrawFrom(seed_, nhs, "need", kNeeds);
  auto* n1 = p.add_needs();
  n1->set_need_id("n1");
  n1->set_description(shape.need);
  n1->set_care_act_outcome(shape.first);
  n1->set_arises_from_mental_disorder(true);
  if (care_act) {
    n1->set_care_act_eligible(icr::v1::CarePlanNeed::ELIGIBLE);
    auto* d = n1->mutable_determination();
    d->set_subject(icr::v1::EligibilityDetermination::ADULT);
    d->set_arises_from_impairment_or_illness(true);
    for (auto code : {shape.first, shape.second}) {
      auto* u = d->add_unable_outcomes();
      u->set_adult_outcome(code);
      u->add_reasons(icr::v1::UnableOutcome::NEEDS_ASSISTANCE);
    }
    d->set_significant_impact_on_wellbeing(true);
    d->set_determined_on(Day(days_.started));
    d->mutable_determined_by()->set_role("Social worker");
    d->mutable_determined_by()->set_organisation_code(f.council);
  }
  auto* n2 = p.add_needs();
  n2->set_need_id("n2");
  n2->set_description("Staying well: medication and early signs of relapse");
  n2->set_arises_from_mental_disorder(true);
  auto* g = p.add_goals();
  g->set_goal_id("g1");
  g->set_in_my_words(shape.goal);
  g->add_need_ids("n1");

  auto* i1 = p.add_interventions();
  i1->set_intervention_id("i1");
  i1->set_description(shape.support);
  i1->add_need_ids("n1");
  i1->add_goal_ids("g1");
  i1->mutable_responsible()->set_role("Support worker");
  i1->mutable_responsible()->set_organisation_code(council);
  i1->set_funder(s117 ? CarePlanIntervention::JOINT : CarePlanIntervention::COUNCIL);
  i1->set_delivery_mode(CarePlanIntervention::COMMISSIONED);
  i1->set_is_s117(s117 != nullptr);
  i1->set_frequency("three times a week");
  auto* i2 = p.add_interventions();
  i2->set_intervention_id("i2");
  i2->set_description("Care coordination and a medication review every three months");
  i2->add_need_ids("n2");
  *i2->mutable_responsible() = kw;
  i2->set_funder(CarePlanIntervention::ICB);
  i2->set_delivery_mode(CarePlanIntervention::IN_HOUSE);
  i2->set_is_s117(s117 != nullptr);
  i2->set_frequency("fortnightly");
  if (care_act) {
    auto* b = p.mutable_personal_budget();
    b->set_amount_pence(DrawInt(seed_, nhs, "budget", 90, 320) * 100);
    b->set_period(icr::v1::CarePlanBudget::WEEKLY);
    p.set_advice_and_prevention(
        "Local directory of services, peer support group, welfare benefits advice.");
  }
  auto* crisis = p.mutable_crisis_plan();
  crisis->add_warning_signs("Not sleeping for two nights");
  crisis->add_warning_signs("Stopping medication or missing appointments");
  crisis->set_what_i_can_do("Call my sister and use the breathing exercises.");
  auto* contact = crisis->add_contacts();
  contact->set_name("Crisis resolution and home treatment team");
  contact->set_organisation_code(f.trust);
  contact->set_telephone("0300 555 0" + std::to_string(DrawInt(seed_, nhs, "phone", 100, 999)));
  contact->set_hours(icr::v1::CrisisContact::ANY_TIME);

  auto* a = p.mutable_agreement();
  auto* who = a->mutable_participants();
  AddParticipant(who, f.given_name + " " + f.family_name, "", "", CarePlanParticipant::PERSON);
  AddParticipant(who, kw.name(), kw.role(), kw.organisation_code(),
                 CarePlanParticipant::PROFESSIONAL);
  if (s117)
    AddParticipant(who, "Sam Patel", "Social worker", council, CarePlanParticipant::PROFESSIONAL);
  a->set_person_agrees(icr::v1::CarePlanAgreement::YES);
  a->set_discussed_on(Day(days_.discussed));
  // Agreement needs the next review after it and within 12 months (and after today).
  p.mutable_review()->set_next_review_date(Day(days_.agreed + days(340)));
  p.mutable_review()->add_review_triggers("Admission or crisis");
  if (s117) p.mutable_review()->add_review_triggers("Change in S117 after-care");
  p.mutable_sharing()->set_legal_basis("UK GDPR 6(1)(e) and 9(2)(h): direct care");
  p.mutable_sharing()->set_consent_recorded(true);
  return p;
}

// A review after agreement on d.reviewed setting the next one for d.review_next: an early review
// whose next date has since passed (the plan is overdue), or a yearly one (it is current).
icr::v1::CarePlanReview Followup::PlanReview(const Facts& f, const RegisterRow* s117,
                                             const PlanDays& d) const {
  using icr::v1::CarePlanParticipant;
  icr::v1::CarePlanReview r;
  r.set_review_date(Day(d.reviewed));
  r.set_next_review_date(Day(d.review_next));
  r.set_outcome(icr::v1::CarePlanReview::CONTINUE);
  r.set_notes("Plan still meets the person's needs; no change");
  auto* who = r.mutable_participants();
  AddParticipant(who, f.given_name + " " + f.family_name, "", "", CarePlanParticipant::PERSON);
  AddParticipant(who, f.key_worker.name().empty() ? "Duty care coordinator" : f.key_worker.name(),
                 "Care coordinator", f.trust, CarePlanParticipant::PROFESSIONAL);
  AddParticipant(who, "Sam Patel", "Social worker",
                 s117 ? s117->responsible_council_code() : f.council,
                 CarePlanParticipant::PROFESSIONAL);
  return r;
}

// Brings the person's plan to `target`, from whatever state an earlier run left it in.
void Followup::CarePlanFor(const Facts& f, const RegisterRow* s117, Target target) {
  Actor& trust = TrustOf(f.nhs);  // the trust creates the plan and signs for health
  const std::string who = out::NhsDisplay(f.nhs);
  const PlanDays d = PlanDaysOf(f, s117 != nullptr, target);
  CarePlan plan;
  icr::v1::GetCarePlanRequest get;
  get.set_nhs_number(f.nhs);
  auto s = TryCall(trust.client, *trust.plans, &PlanStub::GetCarePlan, get, &plan);
  if (Is(s, grpc::StatusCode::UNIMPLEMENTED)) {
    throw Failure(
        "demo seed: the server does not serve CarePlanService; start icr-server with "
        "--services all, or pass --import-only");
  }
  if (Is(s, grpc::StatusCode::NOT_FOUND)) {
    icr::v1::CreateCarePlanRequest create;
    create.set_nhs_number(f.nhs);
    create.set_started_on(Day(d.started));
    *create.mutable_plan() = PlanContent(f, s117, d);
    if (!Ok(TryCall(trust.client, *trust.plans, &PlanStub::CreateCarePlan, create, &plan),
            "CreateCarePlan " + who))
      return;
    Wrote("care plans created");
  } else if (!Ok(s, "GetCarePlan " + who)) {
    return;
  }
  if (target == Target::kDraft) return;

  if (plan.status() == CarePlan::DRAFT) {
    auto signed_for = [&](icr::v1::CarePlanSignOff::Agency a) {
      return std::any_of(plan.signoffs().begin(), plan.signoffs().end(), [&](const auto& x) {
        return x.agency() == a && x.version() == plan.version();
      });
    };
    // An S117 plan is signed by both agencies, and so is about half of the others (a joint
    // plan: agreed on the council's sign-off); the rest by health alone.
    const bool both = s117 || Draw(seed_, f.nhs, "joint plan") < 0.5;
    Actor* council = !both ? nullptr
                           : who_.For(s117 ? s117->responsible_council_code() : f.council,
                                      icr::Role::kS117Officer);
    std::vector<
        std::tuple<Actor*, icr::v1::CarePlanSignOff::Agency, std::string, std::string, Date>>
        signers = {{&trust, icr::v1::CarePlanSignOff::HEALTH, "Dr Ama Osei",
                    "Consultant psychiatrist", council ? d.health_signed : d.agreed}};
    if (council) {
      signers.emplace_back(council, icr::v1::CarePlanSignOff::SOCIAL_CARE, "Pat Lee",
                           "Team manager, adult social care", d.agreed);
    }
    for (const auto& [actor, agency, name, role, on] : signers) {
      if (plan.status() != CarePlan::DRAFT || signed_for(agency)) continue;
      icr::v1::AgreeCarePlanRequest agree;
      agree.set_plan_id(plan.plan_id());
      agree.set_expected_version(plan.version());
      agree.set_agency(agency);
      agree.set_signed_by(name);
      agree.set_signer_role(role);
      agree.set_signed_on(Day(on));
      agree.set_joint(council != nullptr);
      if (!Ok(TryCall(actor->client, *actor->plans, &PlanStub::AgreeCarePlan, agree, &plan),
              "AgreeCarePlan " + who))
        return;
      Wrote("care plan sign-offs");
    }
  }
  const bool review = target == Target::kOverdue || d.yearly_review;
  if (!review || !plan.last_review().review_date().empty()) return;
  if (plan.status() == CarePlan::AGREED) {
    icr::v1::StartCarePlanReviewRequest start;
    start.set_plan_id(plan.plan_id());
    start.set_expected_version(plan.version());
    start.set_trigger(icr::v1::StartCarePlanReviewRequest::SCHEDULED);
    if (!Ok(TryCall(trust.client, *trust.plans, &PlanStub::StartReview, start, &plan),
            "StartReview " + who))
      return;
  }
  if (plan.status() != CarePlan::UNDER_REVIEW) return;
  icr::v1::RecordCarePlanReviewRequest record;
  record.set_plan_id(plan.plan_id());
  record.set_expected_version(plan.version());
  *record.mutable_review() = PlanReview(f, s117, d);
  if (Ok(TryCall(trust.client, *trust.plans, &PlanStub::RecordReview, record, &plan),
         "RecordReview " + who)) {
    Wrote("care plan reviews recorded");
  }
}

// S117 aftercare plans for about 60% of people with an ACTIVE entitlement; NHS PCSP / Care Act
// plans for about 15% of the living people in services without one. About 60% are agreed, a
// quarter of those with a lapsed review date, and the rest left as drafts.
void Followup::CarePlans(const std::vector<RegisterRow>& rows) {
  std::map<std::string, const RegisterRow*> active;
  std::set<std::string> registered;
  for (const auto& r : rows) {
    registered.insert(r.nhs_number());
    if (r.state() == "ACTIVE" && r.entitlement_id() != discharge_id_) active[r.nhs_number()] = &r;
  }
  if (!who_.has_tokens()) {
    summary_.notes.push_back(
        "S117 aftercare plans: left DRAFT with the health sign-off only (the council's sign-off "
        "needs a --tokens file)");
  }
  for (const auto& [nhs, f] : people_) {
    if (!f.alive) continue;
    auto it = active.find(nhs);
    const RegisterRow* s117 = it == active.end() ? nullptr : it->second;
    const double share = s117 ? 0.6 : (!registered.count(nhs) && f.open_referral) ? 0.15 : 0;
    if (Draw(seed_, nhs, "care plan") >= share) continue;
    const double x = Draw(seed_, nhs, "care plan state");
    CarePlanFor(f, s117, x < 0.45 ? Target::kAgreed : x < 0.6 ? Target::kOverdue : Target::kDraft);
  }
}

void Followup::Summarise() {
  const std::string today = Day(icr::Today());
  for (const auto& r : ListAll({})) {
    if (!FactsOf(r.nhs_number())) continue;
    ++summary_.entitlements_by_state[r.state()];
    summary_.with_open_services += r.open_services() > 0 ? 1 : 0;
    summary_.reviewed += r.last_review_date().empty() ? 0 : 1;
    summary_.disputed += r.or_dispute_status() == "DISPUTED" ? 1 : 0;
  }
  icr::v1::RegisterFilter overdue;
  overdue.set_review_overdue_as_of(today);
  summary_.reviews_overdue = static_cast<int>(ListAll(overdue).size());
  icr::v1::RegisterFilter stale;
  stale.set_stale(true);
  summary_.stale = static_cast<int>(ListAll(stale).size());

  std::set<std::string> seen;  // a plan two readers see is counted once
  for (Actor* reader : Readers()) {
    icr::v1::ListCarePlansRequest req;
    req.mutable_page()->set_page_size(500);
    do {
      const auto resp = Call(reader->client, *reader->plans, &PlanStub::ListCarePlans, req);
      for (const auto& h : resp.plans()) {
        if (!FactsOf(h.nhs_number()) || !seen.insert(h.plan_id()).second) continue;
        ++summary_.plans_by_status[CarePlan::Status_Name(h.status())];
        summary_.s117_plans += h.is_s117_aftercare_plan() ? 1 : 0;
        summary_.plans_review_overdue +=
            !h.next_review_date().empty() && h.next_review_date() < today;
      }
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    } while (!req.page().page_token().empty());
  }
}

FollowupSummary Followup::Run() {
  const auto expected = ExpectedAfterLater(SettledRegister({}));
  RecordLater();
  auto rows = SettledRegister(expected);
  // By NHS number, so choices made in order (the one direct payment) do not depend on ids.
  std::sort(rows.begin(), rows.end(), [](const RegisterRow& a, const RegisterRow& b) {
    return std::tie(a.nhs_number(), a.effective_from(), a.entitlement_id()) <
           std::tie(b.nhs_number(), b.effective_from(), b.entitlement_id());
  });
  JointDischarge(rows);
  Dispute(rows);
  ServicesAndReviews(rows);
  CarePlans(rows);
  Summarise();
  if (!errors_.empty()) {
    throw Failure("demo seed: " + std::to_string(errors_.size()) +
                  " follow-up step(s) failed; first: " + errors_.front());
  }
  return summary_;
}

}  // namespace

FollowupSummary RunFollowup(Principals& who, const FollowupOptions& options, const Seeded& seeded) {
  return Followup(who, options, seeded).Run();
}

}  // namespace icrctl::demo
