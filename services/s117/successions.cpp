#include "services/s117/successions.h"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "services/careplan/store.h"
#include "services/common/access_rule.h"
#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/status.h"
#include "services/s117/sql/statements.h"
#include "services/s117/store.h"

namespace icr::s117 {
namespace {

constexpr char kAction[] = "ApplySuccessions";
constexpr char kServer[] = "icr-server";

// Who makes the moves of one succession, and on what date.
struct Mover {
  Caller caller;           // the history, change feed and audit rows' organisation and role
  std::string applied_by;  // core.succession_move.applied_by
  std::string from, to, role;
  Date on;
  std::string work_id;  // a work item's resolution; "" for a one-to-one succession
  std::string Reason() const {
    return from + " succeeded by " + to + " on " + FormatDate(on) +
           (work_id.empty() ? "" : " (work item " + work_id + ")");
  }
};

void RecordMove(pqxx::work& tx, const Mover& m, const std::string& entity,
                const std::string& entity_id, const std::string& person_id) {
  Exec(tx, sql::kSuccessionMoveInsert, entity, entity_id, person_id, m.role, m.from, m.to,
       FormatDate(m.on), m.applied_by, m.work_id);
}

// Each mover returns whether it moved something (the entity may no longer name the old body).
absl::StatusOr<bool> MoveEpisode(pqxx::work& tx, const Mover& m, const std::string& id) {
  auto e = S117Store::LoadEpisode(tx, id);
  if (!e || !MoveEntitlement(*e, m.role, m.from, m.to)) return false;
  RETURN_IF_ERROR(S117Store::SaveEpisode(tx, *e, {m.caller.org_code, RoleName(m.caller.role)},
                                         "s117_succession", m.Reason()));
  RecordMove(tx, m, change::kS117Episode, id, e->person_id);
  return true;
}

absl::StatusOr<bool> MovePlan(pqxx::work& tx, const Mover& m, const std::string& id) {
  using careplan::CarePlanStore;
  auto row = CarePlanStore::FindPlan(tx, id, m.caller.org_code, true);
  if (!row || row->status == icr::v1::CarePlan::CLOSED) return false;
  auto content = CarePlanStore::LoadVersion(tx, id, row->current_version);
  if (!content) return false;
  std::string* body = m.role == "council" ? content->mutable_acting_for_council_code()
                                          : content->mutable_acting_for_icb_code();
  if (*body != m.from) return false;
  *body = m.to;
  const careplan::NewVersion version{row->status, &*content,           change::kSuccession,
                                     m.Reason(),  row->signed_version, std::nullopt};
  RETURN_IF_ERROR(
      CarePlanStore::AppendVersion(tx, *row, row->current_version, version, m.caller).status());
  Changes::Append(tx, change::kCarePlan, id, row->person_id, change::kSuccession,
                  m.caller.org_code);
  RecordMove(tx, m, change::kCarePlan, id, row->person_id);
  return true;
}

absl::StatusOr<bool> MovePerson(pqxx::work& tx, const Mover& m, const std::string& id) {
  if (Exec(tx, sql::kSuccessionPersonMove, id, m.role, m.to, m.from).empty()) return false;
  Changes::Append(tx, change::kPerson, id, id, change::kUpdated, m.caller.org_code);
  RecordMove(tx, m, change::kPerson, id, id);
  return true;
}

absl::StatusOr<bool> Move(pqxx::work& tx, const Mover& m, const std::string& entity,
                          const std::string& id) {
  if (entity == change::kS117Episode) return MoveEpisode(tx, m, id);
  if (entity == change::kCarePlan) return MovePlan(tx, m, id);
  return MovePerson(tx, m, id);
}

// What names an organisation in a role (succession_named.sql).
struct Named {
  std::string entity, entity_id, person_id, postcode;
};
std::vector<Named> NamedBy(pqxx::work& tx, const std::string& code, const std::string& role) {
  std::vector<Named> out;
  for (const auto& r : Exec(tx, sql::kSuccessionNamed, code, role)) {
    out.push_back({r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str()});
  }
  return out;
}

void Count(icr::v1::SuccessionApplied& out, const std::string& entity) {
  if (entity == change::kS117Episode) out.set_entitlements(out.entitlements() + 1);
  if (entity == change::kCarePlan) out.set_care_plans(out.care_plans() + 1);
  if (entity == change::kPerson) out.set_people(out.people() + 1);
}

absl::Status ApplyOneToOne(pqxx::work& tx, Mover& m, icr::v1::SuccessionApplied& out,
                           std::set<std::string>& people) {
  if (!m.role.empty()) {
    for (const auto& n : NamedBy(tx, m.from, m.role)) {
      ASSIGN_OR_RETURN(const bool moved, Move(tx, m, n.entity, n.entity_id));
      if (!moved) continue;
      Count(out, n.entity);
      people.insert(n.person_id);
    }
    const auto agreements =
        Exec(tx, sql::kSuccessionAgreements, m.from, m.to, m.role, FormatDate(m.on));
    out.set_agreements(static_cast<int>(agreements.size()));
  }
  const auto tokens =
      Exec(tx, sql::kSuccessionTokens, m.from, m.to, FormatDate(m.on), m.applied_by);
  out.set_tokens(static_cast<int>(tokens.size()));
  return absl::OkStatus();
}

void ListSplit(pqxx::work& tx, const Succession& s, const std::string& role,
               icr::v1::SuccessionApplied& out) {
  if (role.empty()) return;  // nothing of a trust's or district's is listed; tokens stay
  std::map<std::string, std::string> areas;
  for (const auto& r : Exec(tx, sql::kSuccessionAreas, s.predecessor, FormatDate(s.on))) {
    areas[r[0].c_str()] = r[1].c_str();
  }
  for (const auto& n : NamedBy(tx, s.predecessor, role)) {
    const std::string district = PostcodeDistrict(n.postcode);
    const Proposal p = ProposeSuccessor(s, district, areas);
    if (!Exec(tx, sql::kSuccessionWorkInsert, s.predecessor, FormatDate(s.on), role, n.entity,
              n.entity_id, n.person_id, district, p.code, p.basis)
             .empty()) {
      out.set_work_items(out.work_items() + 1);
    }
  }
}

// The caller an automatic run acts as: a system of the successor body.
Caller ServerCaller(const std::string& successor) {
  Caller c;
  c.org_code = successor;
  c.role = Role::kSystem;
  c.purpose_of_use = "organisation_succession";
  c.request_id = kServer;
  return c;
}

icr::v1::SuccessionWorkItem ItemOf(const pqxx::row& r) {
  icr::v1::SuccessionWorkItem item;
  item.set_work_id(r[0].c_str());
  item.set_predecessor_code(r[1].c_str());
  item.set_effective_on(r[2].c_str());
  item.set_entity(r[3].c_str());
  item.set_entity_id(r[4].c_str());
  item.set_role(r[5].c_str());
  item.set_nhs_number(r[6].c_str());
  item.set_postcode_district(r[7].c_str());
  auto successors = r[8].as_array();
  for (auto p = successors.get_next(); p.first != pqxx::array_parser::juncture::done;
       p = successors.get_next()) {
    if (p.first == pqxx::array_parser::juncture::string_value) item.add_successor_codes(p.second);
  }
  item.set_proposed_code(r[9].c_str());
  item.set_proposal_basis(r[10].c_str());
  item.set_status(r[11].c_str());
  item.set_resolved_code(r[12].c_str());
  item.set_resolved_by(r[13].c_str());
  item.set_resolved_on(r[14].c_str());
  return item;
}

constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

}  // namespace

absl::StatusOr<icr::v1::ApplySuccessionsResponse> Successions::Apply(
    pqxx::work& tx, const std::optional<Caller>& caller, Date as_of) {
  std::vector<SuccessionLink> links;
  std::map<std::string, std::string> kinds;
  for (const auto& r : Exec(tx, sql::kSuccessionLinks)) {
    links.push_back({r[0].c_str(), r[1].c_str(), *ParseDate(r[2].c_str())});
    kinds[r[0].c_str()] = r[3].c_str();
  }
  icr::v1::ApplySuccessionsResponse resp;
  for (const Succession& s : DueSuccessions(links, as_of)) {
    icr::v1::SuccessionApplied out;
    out.set_predecessor_code(s.predecessor);
    for (const auto& code : s.successors) out.add_successor_codes(code);
    out.set_effective_on(FormatDate(s.on));
    out.set_kind(s.kind());
    const std::string role = RoleOfKind(kinds[s.predecessor]);
    if (s.split()) {
      ListSplit(tx, s, role, out);
    } else {
      const Caller who = caller ? *caller : ServerCaller(s.successors[0]);
      Mover m{who, caller ? caller->org_code : kServer, s.predecessor, s.successors[0], role, s.on,
              ""};
      std::set<std::string> people;
      RETURN_IF_ERROR(ApplyOneToOne(tx, m, out, people));
      Audit::WriteMany(tx, who, {people.begin(), people.end()}, kAction, kAuditOk);
      if (out.entitlements() + out.care_plans() + out.people() + out.tokens() + out.agreements() >
          0) {
        Changes::Append(tx, change::kOrganisation, s.predecessor, "", change::kSuccession,
                        s.successors[0]);
      }
    }
    if (out.entitlements() + out.care_plans() + out.people() + out.tokens() + out.agreements() +
            out.work_items() >
        0) {
      *resp.add_successions() = std::move(out);
    }
  }
  return resp;
}

absl::Status Successions::List(pqxx::work& tx, const Caller& caller,
                               const icr::v1::ListSuccessionWorkRequest& req, int limit,
                               icr::v1::ListSuccessionWorkResponse* resp) {
  const std::string after = req.page().page_token().empty() ? kNoUuid : req.page().page_token();
  std::vector<std::string> people;
  for (const auto& r : Exec(tx, sql::kSuccessionWork, after, req.include_resolved(),
                            caller.org_code, req.body_code(), limit, std::string())) {
    *resp->add_items() = ItemOf(r);
    people.push_back(r[15].c_str());
  }
  Audit::WriteMany(tx, caller, people, "ListSuccessionWork", kAuditOk);
  if (resp->items_size() == limit) {
    resp->mutable_page()->set_next_page_token(resp->items(limit - 1).work_id());
  }
  return absl::OkStatus();
}

absl::Status Successions::Resolve(pqxx::work& tx, const Caller& caller,
                                  const icr::v1::ResolveSuccessionWorkRequest& req,
                                  icr::v1::SuccessionWorkItem* resp, absl::Status& refused) {
  constexpr char kResolve[] = "ResolveSuccessionWork";
  Exec(tx, sql::kSuccessionWorkLock, req.work_id());
  auto r =
      Exec(tx, sql::kSuccessionWork, kNoUuid, true, std::string(), std::string(), 1, req.work_id());
  icr::v1::SuccessionWorkItem item = r.empty() ? icr::v1::SuccessionWorkItem() : ItemOf(r[0]);
  const std::string person_id = r.empty() ? "" : r[0][15].c_str();
  if (r.empty() ||
      !access::WorksOnSuccession(caller.org_code, item.predecessor_code(),
                                 {item.successor_codes().begin(), item.successor_codes().end()})) {
    Audit::Write(tx, caller, person_id, kResolve,
                 r.empty() ? std::string(access::kAuditNotFound) : kAuditDenied);
    refused = absl::NotFoundError("work_id: no such work item visible to you");
    return absl::OkStatus();  // commit the audit of the refused attempt
  }
  if (item.status() != "OPEN") {
    return absl::FailedPreconditionError("work_id: already resolved to " + item.resolved_code());
  }
  ASSIGN_OR_RETURN(const std::string to,
                   ResolvedSuccessor({item.successor_codes().begin(), item.successor_codes().end()},
                                     item.proposed_code(), req.successor_code()));
  Mover m{caller,
          caller.org_code,
          item.predecessor_code(),
          to,
          item.role(),
          *ParseDate(item.effective_on()),
          item.work_id()};
  RETURN_IF_ERROR(Move(tx, m, item.entity(), item.entity_id()).status());
  Exec(tx, sql::kSuccessionWorkResolve, item.work_id(), to, caller.org_code, RoleName(caller.role));
  Audit::Write(tx, caller, person_id, kResolve, kAuditOk);
  auto after =
      Exec(tx, sql::kSuccessionWork, kNoUuid, true, std::string(), std::string(), 1, req.work_id());
  *resp = ItemOf(after.at(0));
  return absl::OkStatus();
}

SuccessionRunner::SuccessionRunner(Database& db, std::chrono::seconds every,
                                   std::function<bool()> may_run)
    : db_(db), every_(every), may_run_(std::move(may_run)) {
  thread_ = std::thread([this] { Loop(); });
}

SuccessionRunner::~SuccessionRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

absl::StatusOr<icr::v1::ApplySuccessionsResponse> SuccessionRunner::RunOnce(Date as_of) {
  icr::v1::ApplySuccessionsResponse resp;
  RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(resp, Successions::Apply(tx, std::nullopt, as_of));
    return absl::OkStatus();
  }));
  for (const auto& s : resp.successions()) {
    std::string successors;
    for (const auto& code : s.successor_codes())
      successors += (successors.empty() ? "" : "/") + code;
    spdlog::info(
        "successions: {} -> {} ({}, {}): {} entitlements, {} care plans, {} people, {} tokens, "
        "{} agreements moved, {} work items listed",
        s.predecessor_code(), successors, s.kind(), s.effective_on(), s.entitlements(),
        s.care_plans(), s.people(), s.tokens(), s.agreements(), s.work_items());
  }
  return resp;
}

void SuccessionRunner::Loop() {
  // The first run soon after start (a server started on 1 April applies that day's), then
  // every every_; a replica not holding the work checks again shortly.
  std::chrono::seconds wait{1};
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    }
    if (may_run_ && !may_run_()) {
      wait = std::chrono::seconds(1);
      continue;
    }
    auto done = RunOnce(Today());
    if (!done.ok()) {
      spdlog::warn("successions: {}; retrying", std::string(done.status().message()));
      wait = std::chrono::seconds(60);
      continue;
    }
    wait = every_;
  }
}

}  // namespace icr::s117
