#include "services/s117/s117_service.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

#include "services/common/access.h"
#include "services/common/audit.h"
#include "services/common/change_types.h"
#include "services/common/changes.h"
#include "services/common/fact_dates.h"
#include "services/common/grpc_status.h"
#include "services/common/import_row.h"
#include "services/common/metrics.h"
#include "services/common/paging.h"
#include "services/s117/feed_position.h"
#include "services/s117/reconcile.h"

namespace icr::s117 {
namespace {
constexpr char kService[] = "icr.v1.S117RegisterService.";
constexpr char kNotVisible[] = "entitlement_id: no such entitlement visible to you";

// An id the register gave: INVALID_ARGUMENT naming `field` when empty or malformed.
absl::Status CheckRegisterId(const std::string& value, const std::string& field) {
  return CheckUuid(value, field, "an id given by the register");
}

absl::Status CheckFilter(const icr::v1::RegisterFilter& f) {
  if (!f.council_code().empty() && !IsGssCodeSyntax(f.council_code())) {
    return InvalidField("filter.council_code", "not a GSS code");
  }
  if (!f.icb_code().empty() && !IsOdsCodeSyntax(f.icb_code())) {
    return InvalidField("filter.icb_code", "not an ODS code");
  }
  if (!f.state().empty() && !ParseState(f.state())) {
    return InvalidField("filter.state", "not an entitlement state");
  }
  return OptionalDate(f.review_overdue_as_of(), "filter.review_overdue_as_of").status();
}

// Admin, or the S117 officer of a responsible body (a legal determination, a rescission, a
// record made in error).
absl::Status RequirePrivileged(const Caller& caller, const Episode& e, const std::string& what) {
  if (caller.role == Role::kAdmin || ResponsibleOfficer(caller, e)) return absl::OkStatus();
  return absl::PermissionDeniedError(what +
                                     " needs an admin or the s117_officer of the "
                                     "responsible council or ICB");
}

Actor ActorOf(const Caller& caller) { return {caller.org_code, RoleName(caller.role)}; }

// The digest of a register row's content (not its row number or dry_run): the same row loaded
// again is a duplicate.
std::string RowDigest(icr::v1::RegisterImportRow row) {
  row.set_row(0);
  row.set_dry_run(false);
  std::string bytes;
  google::protobuf::io::StringOutputStream out(&bytes);
  google::protobuf::io::CodedOutputStream coded(&out);
  coded.SetSerializationDeterministic(true);
  row.SerializeToCodedStream(&coded);
  coded.Trim();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : Sha256(bytes)) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

// The legal status code a register's qualifying section stands for (the first configured).
std::string LegalStatusOf(const Policy& policy, const std::string& section) {
  for (const auto& [code, s] : policy.sections) {
    if (s == section && section != "OTHER_CASE_DECISION") return code;
  }
  return "";
}

// A refusal of a migrated end decision, naming the import row's own column (end_date,
// end_reason) where the decision's field has one.
absl::Status RowField(const absl::Status& status) {
  const std::string field = FieldOf(status);
  for (const char* prefix : {"end.", "decision."}) {
    if (field == std::string(prefix) + "decision_date") {
      return RenameField(status, field, "end_date");
    }
    if (field == std::string(prefix) + "primary_reason") {
      return RenameField(status, field, "end_reason");
    }
  }
  return status;
}

}  // namespace

S117ServiceImpl::S117ServiceImpl(Database& db, Authenticator& auth,
                                 std::shared_ptr<const ReferenceData> ref,
                                 std::function<bool()> follow_while,
                                 std::chrono::seconds succession_every,
                                 std::function<bool()> succeed_while)
    : db_(db),
      auth_(auth),
      ref_(std::move(ref)),
      policy_(db),
      follower_(std::make_unique<FeedFollower>(db.url(), ref_)) {
  follower_->Start(std::chrono::milliseconds(200), std::chrono::seconds(1),
                   std::move(follow_while));
  if (succession_every.count() > 0) {
    successions_ =
        std::make_unique<SuccessionRunner>(db, succession_every, std::move(succeed_while));
  }
}

S117ServiceImpl::~S117ServiceImpl() = default;

absl::StatusOr<Caller> S117ServiceImpl::Admit(grpc::ServerContext* ctx, const char* rpc) {
  return Access::Admit(auth_, *ctx, std::string(kService) + rpc);
}

access::RegisterScope S117ServiceImpl::ScopeOf(const Caller& caller) const {
  const Organisation* org = ref_->FindOrganisation(caller.org_code);
  return access::RegisterScopeOf(caller, org ? org->kind : "");
}

absl::Status S117ServiceImpl::WriteEpisode(const Caller& caller, const std::string& rpc,
                                           const std::string& entitlement_id,
                                           int64_t expected_version, const Change& change,
                                           icr::v1::Entitlement* resp) {
  RETURN_IF_ERROR(CheckRegisterId(entitlement_id, "entitlement_id"));
  if (expected_version <= 0) {
    return InvalidField("expected_version", "required: the version last read");
  }
  RETURN_IF_ERROR(CheckVersion(expected_version, "expected_version"));
  ASSIGN_OR_RETURN(const auto policy, policy_.Get());
  const access::Write write =
      rpc == "SetResponsibleBodies" ? access::Write::kResponsibleBodies : access::Write::kEvent;
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto e = S117Store::LoadEpisode(tx, entitlement_id);
    const access::Facts facts =
        e ? Access::EntitlementFacts(tx, ScopeOf(caller), e->person_id, e->responsible_council_code,
                                     e->responsible_icb_code)
          : access::Facts{};
    const access::Decision d = access::DecideWrite(caller, write, facts, "entitlement_id");
    if (!d.ok()) {
      Access::AuditDecision(tx, caller, e ? e->person_id : "", rpc, d);
      refused = absl::IsNotFound(d.status) ? absl::NotFoundError(kNotVisible) : d.status;
      return absl::OkStatus();  // commit the audit of the refused attempt
    }
    if (e->version != expected_version) {
      return absl::AbortedError("expected_version: the entitlement is at version " +
                                std::to_string(e->version) + "; read it again");
    }
    Mutation m;
    RETURN_IF_ERROR(change(tx, *policy, *e, m));
    RETURN_IF_ERROR(S117Store::SaveEpisode(tx, *e, ActorOf(caller), m.action, m.reason));
    if (m.after_save) RETURN_IF_ERROR(m.after_save());
    Audit::Write(tx, caller, e->person_id, rpc, kAuditOk);
    return S117Store::LoadEntitlement(tx, e->episode_id, false, resp);
  });
}

absl::Status S117ServiceImpl::Get(const Caller& caller, const icr::v1::GetEntitlementRequest& req,
                                  icr::v1::Entitlement* resp) {
  std::string nhs;
  if (req.key_case() == icr::v1::GetEntitlementRequest::kNhsNumber) {
    ASSIGN_OR_RETURN(nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  } else {
    RETURN_IF_ERROR(CheckRegisterId(req.entitlement_id(), "entitlement_id"));
  }
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    std::string id = req.entitlement_id();
    if (!nhs.empty()) {
      auto person = Access::ResolvePerson(tx, caller, nhs, "GetEntitlement");
      if (!person.ok()) {
        refused = person.status();
        return absl::OkStatus();
      }
      auto current = S117Store::CurrentEpisodeId(tx, person->person_id);
      if (!current) {
        Audit::Write(tx, caller, person->person_id, "GetEntitlement", kAuditOk);
        refused = absl::NotFoundError("nhs_number: no S117 entitlement for this person");
        return absl::OkStatus();
      }
      id = *current;
    }
    auto loaded = S117Store::LoadEntitlement(tx, id, req.include_history(), resp);
    if (!loaded.ok() && loaded.code() != absl::StatusCode::kNotFound) return loaded;
    const access::Facts facts =
        loaded.ok() ? Access::EntitlementFacts(tx, ScopeOf(caller), resp->person_id(),
                                               resp->council().code(), resp->icb().code())
                    : access::Facts{};
    const access::Decision d = access::DecideRead(caller, facts, true, "entitlement_id");
    if (!d.ok()) {
      Access::AuditDecision(tx, caller, loaded.ok() ? resp->person_id() : "", "GetEntitlement", d);
      resp->Clear();
      refused = absl::NotFoundError(kNotVisible);
      return absl::OkStatus();
    }
    Audit::Write(tx, caller, resp->person_id(), "GetEntitlement", kAuditOk);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<icr::v1::RegisterRow>> S117ServiceImpl::RegisterPage(
    pqxx::work& tx, const Caller& caller, const icr::v1::RegisterFilter& filter,
    const std::string& after, int limit, const std::string& action) {
  ASSIGN_OR_RETURN(auto rows, S117Store::ListRegister(tx, filter, ScopeOf(caller), after, limit));
  std::vector<std::string> seen;
  std::vector<icr::v1::RegisterRow> page;
  for (auto& [person_id, row] : rows) {
    seen.push_back(person_id);
    page.push_back(std::move(row));
  }
  Audit::WriteMany(tx, caller, seen, action, kAuditOk);
  return page;
}

absl::Status S117ServiceImpl::List(const Caller& caller, const icr::v1::ListRegisterRequest& req,
                                   icr::v1::ListRegisterResponse* resp) {
  RETURN_IF_ERROR(CheckFilter(req.filter()));
  const std::string& token = req.page().page_token();
  if (!token.empty()) RETURN_IF_ERROR(CheckRegisterId(token, "page.page_token"));
  const int limit = PageSize(req.page());
  return db_.Write([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto page, RegisterPage(tx, caller, req.filter(), token, limit, "ListRegister"));
    for (auto& row : page) *resp->add_rows() = std::move(row);
    if (static_cast<int>(page.size()) == limit) {
      resp->mutable_page()->set_next_page_token(resp->rows(limit - 1).entitlement_id());
    }
    return absl::OkStatus();
  });
}

absl::Status S117ServiceImpl::Export(const Caller& caller,
                                     const icr::v1::ExportRegisterRequest& req,
                                     const std::function<bool()>& cancelled,
                                     const std::function<bool(const icr::v1::RegisterRow&)>& emit) {
  RETURN_IF_ERROR(CheckFilter(req.filter()));
  std::string after;
  while (!cancelled()) {
    std::vector<icr::v1::RegisterRow> page;
    // A page per transaction, each row audited before it is sent.
    RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) -> absl::Status {
      ASSIGN_OR_RETURN(page,
                       RegisterPage(tx, caller, req.filter(), after, kMaxPageSize, "ExportRegister"));
      return absl::OkStatus();
    }));
    for (const auto& row : page) {
      if (!emit(row)) return absl::CancelledError();
    }
    if (static_cast<int>(page.size()) < kMaxPageSize) return absl::OkStatus();
    after = page.back().entitlement_id();
  }
  return absl::CancelledError();
}

absl::Status S117ServiceImpl::Open(const Caller& caller, const icr::v1::OpenEntitlementRequest& req,
                                   icr::v1::Entitlement* resp) {
  ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(req.nhs_number(), "nhs_number"));
  ASSIGN_OR_RETURN(const auto policy, policy_.Get());
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person =
        Access::ResolvePersonForWrite(tx, caller, nhs, "OpenEntitlement", access::Write::kEvent);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();  // commit the audit of the refused attempt
    }
    Episode e;
    RETURN_IF_ERROR(OpenIn(tx, caller, *policy, req, person->person_id, e));
    Audit::Write(tx, caller, person->person_id, "OpenEntitlement", kAuditOk);
    return S117Store::LoadEntitlement(tx, e.episode_id, false, resp);
  });
}

absl::Status S117ServiceImpl::OpenIn(pqxx::work& tx, const Caller& caller, const Policy& policy,
                                     const icr::v1::OpenEntitlementRequest& req,
                                     const std::string& person_id, Episode& e,
                                     const std::string& source_ref, const std::string& digest) {
  Episode bodies;
  bodies.responsible_council_code = req.council().code();
  bodies.responsible_icb_code = req.icb().code();
  ASSIGN_OR_RETURN(e, EpisodeFromOpenRequest(req, person_id, *ref_, policy, caller.role, Today(),
                                             S117Store::ReviewIntervalMonths(tx, bodies, policy)));
  e.source_ref = source_ref;
  e.import_digest = digest;
  const absl::Status second = RefusedField(
      "nhs_number", "the person already has an open S117 entitlement (at most one is open)");
  if (S117Store::OpenEpisode(tx, person_id)) return second;
  try {
    S117Store::InsertEpisode(tx, e, ActorOf(caller), "s117_opened_by_hand", req.reason());
  } catch (const pqxx::unique_violation&) {
    return second;  // opened concurrently: the database's one-open-episode index
  }
  return absl::OkStatus();
}

absl::Status S117ServiceImpl::SetBodies(const Caller& caller,
                                        const icr::v1::SetResponsibleBodiesRequest& req,
                                        icr::v1::Entitlement* resp) {
  return WriteEpisode(
      caller, "SetResponsibleBodies", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work&, const Policy&, Episode& e, Mutation& m) {
        m.action = "s117_responsible_bodies_set";
        m.reason = req.reason();
        return s117::SetResponsibleBodies(e, req, *ref_, caller.role, Today());
      },
      resp);
}

absl::Status S117ServiceImpl::AddService(const Caller& caller,
                                         const icr::v1::AddAftercareServiceRequest& req,
                                         icr::v1::AddAftercareServiceResponse* resp) {
  return WriteEpisode(
      caller, "AddAftercareService", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy& policy, Episode& e, Mutation& m) {
        return AddServiceTo(tx, caller, policy, e, m, req.service(), "service",
                            resp->mutable_service_line_id());
      },
      resp->mutable_entitlement());
}

absl::Status S117ServiceImpl::AddServiceTo(pqxx::work& tx, const Caller& caller,
                                           const Policy& policy, Episode& e, Mutation& m,
                                           icr::v1::AftercareService line, const std::string& field,
                                           std::string* line_id) {
  const Date on = ParseDate(line.start_date()).value_or(Today());
  RETURN_IF_ERROR(ValidateServiceLine(line, policy, S117Store::DefaultSplit(tx, e, on), e,
                                      caller.role, Today(), field));
  *line_id = S117Store::InsertServiceLine(tx, e.episode_id, line, caller.org_code);
  m.action = "s117_service_added";
  m.reason = line.service_type() + " from " + line.start_date();
  return absl::OkStatus();
}

absl::Status S117ServiceImpl::EndService(const Caller& caller,
                                         const icr::v1::EndAftercareServiceRequest& req,
                                         icr::v1::Entitlement* resp) {
  RETURN_IF_ERROR(CheckRegisterId(req.service_line_id(), "service_line_id"));
  RETURN_IF_ERROR(CheckServiceEnd(caller, req, ""));
  return WriteEpisode(
      caller, "EndAftercareService", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy&, Episode& e, Mutation& m) {
        return EndServiceOf(tx, e, m, req, "");
      },
      resp);
}

absl::Status S117ServiceImpl::CheckServiceEnd(const Caller& caller,
                                              const icr::v1::EndAftercareServiceRequest& req,
                                              const std::string& prefix) {
  ASSIGN_OR_RETURN(const Date end, RequireDate(req.end_date(), prefix + "end_date"));
  RETURN_IF_ERROR(CheckFactDate(end, prefix + "end_date", caller.role, Today()));
  RETURN_IF_ERROR(CheckText(req.end_reason(), prefix + "end_reason", 500, true));
  return CheckText(req.moved_to_legal_basis(), prefix + "moved_to_legal_basis", 200, false);
}

absl::Status S117ServiceImpl::EndServiceOf(pqxx::work& tx, Episode& e, Mutation& m,
                                           const icr::v1::EndAftercareServiceRequest& req,
                                           const std::string& prefix) {
  if (e.state == State::kVoid) {
    return RefusedField("state", "the entitlement is VOID");
  }
  m.action = "s117_service_ended";
  m.reason = req.end_reason();
  const absl::Status ended = S117Store::EndServiceLine(tx, e.episode_id, req);
  return RenameField(ended, "", prefix);
}

absl::Status S117ServiceImpl::Review(const Caller& caller, const icr::v1::RecordReviewRequest& req,
                                     icr::v1::Entitlement* resp) {
  return WriteEpisode(
      caller, "RecordReview", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy& policy, Episode& e, Mutation& m) {
        return ReviewOf(tx, caller, policy, e, m, req.review(), "review", false);
      },
      resp);
}

absl::Status S117ServiceImpl::ReviewOf(pqxx::work& tx, const Caller& caller, const Policy& policy,
                                       Episode& e, Mutation& m, icr::v1::S117Review review,
                                       const std::string& field, bool migrated) {
  RETURN_IF_ERROR(ValidateReview(review, e, caller.role, Today(),
                                 S117Store::ReviewIntervalMonths(tx, e, policy), field, migrated));
  S117Store::InsertReview(tx, e.episode_id, review, caller.org_code);
  const Date date = *ParseDate(review.review_date());
  if (!e.last_review_date || date >= *e.last_review_date) {
    e.last_review_date = date;
    e.next_review_due = ParseDate(review.next_review_due());
  }
  S117Store::CloseTasks(tx, e.episode_id, "REVIEW_REFERRAL_CLOSED",
                        "reviewed on " + review.review_date());
  m.action = "s117_review_recorded";
  m.reason = review.outcome() + (review.joint() ? "" : " (single-agency)");
  return absl::OkStatus();
}

absl::Status S117ServiceImpl::EndDecision(const Caller& caller,
                                          const icr::v1::RecordEndDecisionRequest& req,
                                          icr::v1::Entitlement* resp) {
  {
    ASSIGN_OR_RETURN(const auto policy, policy_.Get());
    icr::v1::S117EndDecision d = req.decision();
    d.set_migrated(req.migrated());
    RETURN_IF_ERROR(ValidateEndDecision(d, *policy, caller.role, Today(), "decision"));
  }
  ASSIGN_OR_RETURN(const std::optional<Date> notified,
                   OptionalDate(req.notification_sent_date(), "notification_sent_date"));
  return WriteEpisode(
      caller, "RecordEndDecision", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy& policy, Episode& e, Mutation& m) {
        return EndDecisionOf(tx, caller, policy, e, m, req, notified);
      },
      resp);
}

absl::Status S117ServiceImpl::EndDecisionOf(pqxx::work& tx, const Caller& caller,
                                            const Policy& policy, Episode& e, Mutation& m,
                                            const icr::v1::RecordEndDecisionRequest& req,
                                            const std::optional<Date>& notified) {
  icr::v1::S117EndDecision d = req.decision();
  d.set_migrated(req.migrated());
  const bool council = d.body() == "COUNCIL";
  const std::string& body_code = council ? e.responsible_council_code : e.responsible_icb_code;
  if (req.migrated()) {
    // Carried over: the officer (or a system) records both bodies' decisions as they were taken.
    RETURN_IF_ERROR(CheckMayMigrate(caller, e, "migrated"));
    if (body_code.empty()) {
      return RefusedField("decision.body", std::string("no responsible ") +
                                               (council ? "council" : "ICB") + " is recorded");
    }
  } else if (body_code.empty() || caller.org_code != body_code) {
    return absl::PermissionDeniedError(
        "decision.body: only the responsible " + std::string(council ? "council" : "ICB") +
        (body_code.empty() ? "" : " (" + body_code + ")") + " records its own decision");
  }
  RETURN_IF_ERROR(CheckEndDecision(e, d, policy));
  auto decisions = S117Store::EndDecisions(tx, e.episode_id);
  for (const auto& existing : decisions) {
    if (existing.body == d.body()) {
      return absl::AlreadyExistsError("decision.body: the " + d.body() +
                                      " decision is already recorded");
    }
  }
  decisions.push_back({d.body(), *ParseDate(d.decision_date()), d.migrated()});
  S117Store::InsertEndDecision(tx, e.episode_id, d, body_code, caller.org_code);
  m.reason = d.primary_reason() + ": " + d.reason_text();
  m.action = "s117_end_decision_recorded";
  if (decisions.size() < 2 && !req.finalise()) return absl::OkStatus();
  // Both bodies have decided (or the caller asked to end now): every guard of T6.
  ASSIGN_OR_RETURN(const Date effective,
                   CheckJointEnd(e, decisions, S117Store::Reviews(tx, e.episode_id),
                                 S117Store::ServiceLines(tx, e.episode_id), notified, policy));
  const bool migrated = MigratedJointEnd(decisions);
  if (migrated) {
    // The old register's end: the s117 lines still open end with the entitlement.
    const int ended =
        S117Store::EndOpenServiceLines(tx, e.episode_id, effective, "entitlement ended", true);
    m.reason += "; migrated joint end on " + FormatDate(effective) + ", " + std::to_string(ended) +
                " s117 service line(s) ended with it";
  }
  EndDischarged(e, effective, notified, migrated);
  S117Store::CloseTasks(tx, e.episode_id, "", "aftercare ended by joint decision");
  m.action = "s117_discharged";
  return absl::OkStatus();
}

absl::Status S117ServiceImpl::LegalDecision(pqxx::work& tx, const Caller& caller,
                                            const Policy& policy,
                                            const icr::v1::RecordLegalEventRequest& req, Episode& e,
                                            Mutation& m) {
  RETURN_IF_ERROR(RequirePrivileged(caller, e, req.kind()));
  m.reason = req.decided_by().name() + " (" + req.decided_by().role() + "): " + req.rationale();
  if (req.kind() == "LEGAL_DETERMINATION_CONTINUE") {
    RETURN_IF_ERROR(ContinueAfterDetermination(e));
    S117Store::CloseTasks(tx, e.episode_id, "LEGAL_DETERMINATION_REQUIRED",
                          "continues: " + m.reason);
    return absl::OkStatus();
  }
  if (req.kind() == "DISCHARGE_RESCINDED") {
    m.reason += "; ICB: " + req.icb_decided_by().name() + " (" + req.icb_decided_by().role() + ")";
    const bool other_open = S117Store::OpenEpisode(tx, e.person_id).has_value();
    RETURN_IF_ERROR(RescindDischarge(e, *ParseDate(req.date()), other_open, policy,
                                     S117Store::ReviewIntervalMonths(tx, e, policy)));
    S117Store::RescindEndDecisions(tx, e.episode_id);
    return absl::OkStatus();
  }
  // LEGAL_DETERMINATION_NEW_DUTY: the pending detention starts a new duty (T5, then T1).
  if (!e.legal_determination_required || e.pending_detention_id.empty()) {
    return RefusedField("legal_determination_required",
                        "no detention is awaiting a determination");
  }
  auto detention = S117Store::Detention(tx, e.pending_detention_source_org, e.pending_detention_id);
  auto person = S117Store::Person(tx, e.person_id);
  if (!detention || !person) return RefusedField("detention", "no longer recorded");
  DetentionFacts d = detention->facts;
  d.qualifying = Qualifying::kYes;  // so determined
  RETURN_IF_ERROR(ContinueAfterDetermination(e));
  RETURN_IF_ERROR(Supersede(e, d.start));
  S117Store::CloseTasks(tx, e.episode_id, "LEGAL_DETERMINATION_REQUIRED", "new duty: " + m.reason);
  ASSIGN_OR_RETURN(auto next, OpenPlanned(d, *person, &e, policy));
  if (QualifyingOf(ref_->FindLegalStatus(d.legal_status_code)) == Qualifying::kCaseDecision) {
    next.case_decision_by = req.decided_by().name();
    next.case_decision_role = req.decided_by().role();
    next.case_decision_date = ParseDate(req.date());
    next.case_decision_rationale = req.rationale();
  }
  m.after_save = [&tx, &caller, next = std::move(next), d, reason = m.reason]() mutable {
    S117Store::InsertEpisode(tx, next, ActorOf(caller), "s117_opened", "determined: " + reason);
    S117Store::LinkDetention(tx, d, next.episode_id, "QUALIFYING");
    return absl::OkStatus();
  };
  return absl::OkStatus();
}

absl::Status S117ServiceImpl::LegalEvent(const Caller& caller,
                                         const icr::v1::RecordLegalEventRequest& req,
                                         icr::v1::Entitlement* resp) {
  RETURN_IF_ERROR(ValidateLegalEvent(req, Today()));
  const std::string action = LegalEventAction(req.kind());
  return WriteEpisode(
      caller, "RecordLegalEvent", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy& policy, Episode& e, Mutation& m) {
        m.action = action;
        if (!IsLegalDateEvent(req.kind())) return LegalDecision(tx, caller, policy, req, e, m);
        m.reason = req.rationale();
        return ApplyLegalDateEvent(e, req, S117Store::ReviewIntervalMonths(tx, e, policy));
      },
      resp);
}

absl::Status S117ServiceImpl::InError(const Caller& caller,
                                      const icr::v1::RecordInErrorRequest& req,
                                      icr::v1::Entitlement* resp) {
  RETURN_IF_ERROR(CheckText(req.reason(), "reason", 1000, true));
  return WriteEpisode(
      caller, "RecordInError", req.entitlement_id(), req.expected_version(),
      [&](pqxx::work& tx, const Policy&, Episode& e, Mutation& m) {
        RETURN_IF_ERROR(RequirePrivileged(caller, e, "RecordInError"));
        RETURN_IF_ERROR(MarkVoid(e, req.reason()));
        S117Store::CloseTasks(tx, e.episode_id, "", "recorded in error");
        m.action = "s117_voided";
        m.reason = req.reason();
        return absl::OkStatus();
      },
      resp);
}

icr::v1::ImportRowResult S117ServiceImpl::ImportRow(const Caller& caller,
                                                    const icr::v1::RegisterImportRow& row) {
  std::string id;
  bool duplicate = false;
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const std::string nhs, NormaliseNhsNumber(row.nhs_number(), "nhs_number"));
    RETURN_IF_ERROR(CheckText(row.source_ref(), "source_ref", 100, false));
    if (row.council().code().empty()) return InvalidField("council.code", "required");
    if (caller.role == Role::kS117Officer && caller.org_code != row.council().code()) {
      return absl::PermissionDeniedError(
          "council.code: an s117_officer imports only their own council's register");
    }
    ASSIGN_OR_RETURN(const auto policy, policy_.Get());
    const std::string digest = RowDigest(row);
    return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
      auto match = S117Store::ImportMatch(tx, row.council().code(), row.source_ref(), nhs,
                                          row.detention_start_date(), row.qualifying_section());
      if (match) {
        if (match->digest != digest) {
          return row.source_ref().empty()
                     ? RefusedField("detention_start_date",
                                    "this detention is already registered with other content")
                     : RefusedField("source_ref", "already imported with other content");
        }
        id = match->episode_id;
        duplicate = true;  // nothing changes
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(ImportInto(tx, caller, *policy, row, digest, refused, &id));
      if (refused.ok() && row.dry_run()) return DryRunRollback();
      return absl::OkStatus();
    });
  };
  const absl::Status status = run();  // before duplicate and id are read
  return ImportRowResultOf(row.row(), status, duplicate, id);
}

absl::Status S117ServiceImpl::ImportInto(pqxx::work& tx, const Caller& caller, const Policy& policy,
                                         const icr::v1::RegisterImportRow& row,
                                         const std::string& digest, absl::Status& refused,
                                         std::string* id) {
  const std::string nhs = *NormaliseNhsNumber(row.nhs_number(), "nhs_number");
  // The entitlement, as OpenEntitlement opens one.
  icr::v1::OpenEntitlementRequest open;
  open.set_nhs_number(nhs);
  open.set_legal_status_code(LegalStatusOf(policy, row.qualifying_section()));
  if (open.legal_status_code().empty()) {
    return InvalidField("qualifying_section", row.qualifying_section().empty()
                                                  ? "required"
                                                  : "not a qualifying section the register knows");
  }
  open.set_detention_start_date(row.detention_start_date());
  open.set_detaining_provider_code(row.detaining_provider_code());
  open.set_state(row.left_hospital_date().empty() ? "PLANNED" : "ACTIVE");
  open.set_ceased_detained_date(row.left_hospital_date());
  open.set_left_hospital_date(row.left_hospital_date());
  *open.mutable_council() = row.council();
  if (row.has_icb()) *open.mutable_icb() = row.icb();
  open.set_registered_on(row.registered_on());
  open.set_effective_from(row.effective_from());
  const std::string from =
      "migrated from " + (row.source_ref().empty() ? std::string("a register") : row.source_ref());
  open.set_reason(from);
  // The row's own checks before anything is written (a person is not created for a row whose
  // entitlement would be refused).
  RETURN_IF_ERROR(EpisodeFromOpenRequest(open, "", *ref_, policy, caller.role, Today(),
                                         policy.review_interval_months)
                      .status());
  std::string person_id;
  auto found = S117Store::PersonByNhs(tx, nhs);
  if (found) {
    auto person =
        Access::ResolvePersonForWrite(tx, caller, nhs, "ImportRegister", access::Write::kEvent);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();  // commit the audit of the refused attempt
    }
    if (!row.date_of_birth().empty() && row.date_of_birth() != found->date_of_birth) {
      return RefusedField("date_of_birth", "differs from the record's for this NHS number");
    }
    person_id = person->person_id;
  } else {
    // Not in the record yet: created from the register's names and date of birth, if the access
    // rule lets the caller create a person (system, clinician, social_worker). Anyone else is
    // refused as for a person the record does not hold.
    access::Decision d = access::DecideWrite(caller, access::Write::kCreatePerson,
                                             access::Facts{}, "nhs_number");
    if (!d.ok()) {
      d = {access::NotVisible("nhs_number"), access::kAuditNotFound};
      Access::AuditDecision(tx, caller, "", "ImportRegister", d);
      refused = d.status;
      return absl::OkStatus();  // commit the audit of the refused attempt
    }
    RETURN_IF_ERROR(CheckText(row.family_name(), "family_name", 100, true));
    RETURN_IF_ERROR(CheckText(row.given_name(), "given_name", 100, false));
    ASSIGN_OR_RETURN(const Date born, RequireDate(row.date_of_birth(), "date_of_birth"));
    if (born > Today()) return InvalidField("date_of_birth", "in the future");
    auto created = S117Store::CreatePerson(tx, nhs, row.family_name(), row.given_name(), born,
                                           row.council().code(), row.icb().code(), caller.org_code);
    if (!created) return absl::AbortedError("nhs_number: created concurrently; try again");
    person_id = *created;
  }

  Episode e;
  e.import_digest = digest;
  RETURN_IF_ERROR(OpenIn(tx, caller, policy, open, person_id, e, row.source_ref(), digest));
  const Actor actor = ActorOf(caller);
  auto then = [&](const std::function<absl::Status(Mutation&)>& change) -> absl::Status {
    Mutation m;
    RETURN_IF_ERROR(change(m));
    return S117Store::SaveEpisode(tx, e, actor, m.action, m.reason);
  };
  for (int i = 0; i < row.services_size(); ++i) {
    // A line that has ended is added, then ended, as the live calls would do it.
    const std::string field = "services[" + std::to_string(i) + "]";
    icr::v1::AftercareService line = row.services(i);
    icr::v1::EndAftercareServiceRequest end;
    end.set_end_date(line.end_date());
    end.set_end_reason(line.end_reason());
    end.set_moved_to_legal_basis(line.moved_to_legal_basis());
    line.clear_end_date();
    line.clear_end_reason();
    line.clear_moved_to_legal_basis();
    RETURN_IF_ERROR(then([&](Mutation& m) {
      return AddServiceTo(tx, caller, policy, e, m, line, field, end.mutable_service_line_id());
    }));
    if (end.end_date().empty() && end.end_reason().empty()) continue;
    RETURN_IF_ERROR(CheckServiceEnd(caller, end, field + "."));
    RETURN_IF_ERROR(then([&](Mutation& m) { return EndServiceOf(tx, e, m, end, field + "."); }));
  }
  if (!row.last_review_date().empty()) {
    icr::v1::S117Review review;
    review.set_review_date(row.last_review_date());
    review.set_next_review_due(row.next_review_due());
    review.set_council_attendance("NOT_RECORDED");
    review.set_health_attendance("NOT_RECORDED");
    review.set_person_involvement("NOT_RECORDED");
    review.set_outcome("CONTINUE");
    review.set_summary(from);
    RETURN_IF_ERROR(then([&](Mutation& m) {
      return ReviewOf(tx, caller, policy, e, m, review, "last_review", true);
    }));
  } else if (!row.next_review_due().empty()) {
    return InvalidField("next_review_due", "given only with last_review_date");
  }
  if (!row.end_date().empty() || !row.end_reason().empty()) {
    for (const char* body : {"COUNCIL", "ICB"}) {
      icr::v1::RecordEndDecisionRequest end;
      end.set_migrated(true);
      end.set_finalise(std::string(body) == "ICB");
      auto* d = end.mutable_decision();
      d->set_body(body);
      d->mutable_decider()->set_name(from);
      d->mutable_decider()->set_role("previous register");
      d->set_decision_date(row.end_date());
      d->set_primary_reason(row.end_reason());
      d->set_reason_text("joint end " + from);
      d->set_person_involvement("NOT_RECORDED");
      d->set_migrated(true);
      absl::Status valid = ValidateEndDecision(*d, policy, caller.role, Today(), "end");
      if (!valid.ok()) {
        // The row's own names for the decision's fields.
        const std::string field = FieldOf(valid);
        return RowField(valid);
      }
      RETURN_IF_ERROR(then([&](Mutation& m) {
        return RowField(EndDecisionOf(tx, caller, policy, e, m, end, std::nullopt));
      }));
    }
  }
  Audit::Write(tx, caller, person_id, "ImportRegister", kAuditOk);
  *id = e.episode_id;
  return absl::OkStatus();
}

// The RPCs: the caller admitted by the policy table, then the operation.

grpc::Status S117ServiceImpl::GetEntitlement(grpc::ServerContext* ctx,
                                             const icr::v1::GetEntitlementRequest* req,
                                             icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "GetEntitlement");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Get(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::ListRegister(grpc::ServerContext* ctx,
                                           const icr::v1::ListRegisterRequest* req,
                                           icr::v1::ListRegisterResponse* resp) {
  auto caller = Admit(ctx, "ListRegister");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(List(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::ExportRegister(grpc::ServerContext* ctx,
                                             const icr::v1::ExportRegisterRequest* req,
                                             grpc::ServerWriter<icr::v1::RegisterRow>* writer) {
  auto caller = Admit(ctx, "ExportRegister");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Export(
      *caller, *req, [&] { return ctx->IsCancelled(); },
      [&](const icr::v1::RegisterRow& row) { return writer->Write(row); }));
}

// ---- Placements ----

namespace {
// The placement `id` of person_id as stored, into resp.
absl::Status PlacementOf(pqxx::transaction_base& tx, const std::string& person_id,
                         const std::string& id, icr::v1::Placement* resp) {
  for (auto& row : S117Store::Placements(tx, person_id)) {
    if (row.placement.placement_id() == id) {
      *resp = std::move(row.placement);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("placement: not found after it was written");
}
}  // namespace

absl::Status S117ServiceImpl::AddPlacement(const Caller& caller,
                                           const icr::v1::RecordPlacementRequest& req,
                                           icr::v1::Placement* resp) {
  const icr::v1::Placement& p = req.placement();
  ASSIGN_OR_RETURN(const std::string nhs,
                   NormaliseNhsNumber(p.nhs_number(), "placement.nhs_number"));
  RETURN_IF_ERROR(ValidatePlacement(p, *ref_, caller.role, Today()));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto person =
        Access::ResolvePersonForWrite(tx, caller, nhs, "RecordPlacement", access::Write::kPlacement,
                                      p.placing_council_code() == caller.org_code);
    if (!person.ok()) {
      refused = person.status();
      return absl::OkStatus();  // commit the audit of the refused attempt
    }
    const std::string id = S117Store::InsertPlacement(tx, person->person_id, p, caller.org_code);
    Changes::Append(tx, change::kPlacement, id, person->person_id, change::kCreated,
                    caller.org_code);
    Audit::Write(tx, caller, person->person_id, "RecordPlacement", kAuditOk);
    return PlacementOf(tx, person->person_id, id, resp);
  });
}

absl::Status S117ServiceImpl::StopPlacement(const Caller& caller,
                                            const icr::v1::EndPlacementRequest& req,
                                            icr::v1::Placement* resp) {
  RETURN_IF_ERROR(CheckUuid(req.placement_id(), "placement_id", "a placement id"));
  return Access::InTransaction(db_, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto stored = S117Store::LoadPlacement(tx, req.placement_id());
    access::Facts facts;
    if (stored) {
      facts.exists = true;
      facts.sees = Access::CanSee(tx, stored->person_id, caller.org_code);
      facts.placing_council = stored->placing_council_code == caller.org_code;
    }
    const access::Decision d =
        access::DecideWrite(caller, access::Write::kPlacement, facts, "placement_id");
    if (!d.ok()) {
      Access::AuditDecision(tx, caller, stored ? stored->person_id : "", "EndPlacement", d);
      refused = absl::IsNotFound(d.status)
                    ? absl::NotFoundError("placement_id: no such placement visible to you")
                    : d.status;
      return absl::OkStatus();
    }
    if (stored->end) {
      return RefusedField("placement_id", "the placement ended on " + FormatDate(*stored->end));
    }
    ASSIGN_OR_RETURN(const Date end,
                     PlacementEnd(req.end_date(), stored->start, caller.role, Today()));
    S117Store::EndPlacement(tx, req.placement_id(), end, caller.org_code);
    Changes::Append(tx, change::kPlacement, req.placement_id(), stored->person_id, change::kUpdated,
                    caller.org_code);
    Audit::Write(tx, caller, stored->person_id, "EndPlacement", kAuditOk);
    return PlacementOf(tx, stored->person_id, req.placement_id(), resp);
  });
}

grpc::Status S117ServiceImpl::RecordPlacement(grpc::ServerContext* ctx,
                                              const icr::v1::RecordPlacementRequest* req,
                                              icr::v1::Placement* resp) {
  auto caller = Admit(ctx, "RecordPlacement");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(AddPlacement(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::EndPlacement(grpc::ServerContext* ctx,
                                           const icr::v1::EndPlacementRequest* req,
                                           icr::v1::Placement* resp) {
  auto caller = Admit(ctx, "EndPlacement");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(StopPlacement(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::ListPlacements(grpc::ServerContext* ctx,
                                             const icr::v1::ListPlacementsRequest* req,
                                             icr::v1::ListPlacementsResponse* resp) {
  auto caller = Admit(ctx, "ListPlacements");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto nhs = NormaliseNhsNumber(req->nhs_number(), "nhs_number");
  if (!nhs.ok()) return ToGrpc(nhs.status());
  return ToGrpc(Access::ReadPerson(db_, *caller, *nhs, "ListPlacements",
                                   [&](pqxx::work& tx, const PersonRef& person) {
                                     for (auto& row : S117Store::Placements(tx, person.person_id)) {
                                       *resp->add_placements() = std::move(row.placement);
                                     }
                                     return absl::OkStatus();
                                   }));
}

grpc::Status S117ServiceImpl::OpenEntitlement(grpc::ServerContext* ctx,
                                              const icr::v1::OpenEntitlementRequest* req,
                                              icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "OpenEntitlement");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Open(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::SetResponsibleBodies(grpc::ServerContext* ctx,
                                                   const icr::v1::SetResponsibleBodiesRequest* req,
                                                   icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "SetResponsibleBodies");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(SetBodies(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::AddAftercareService(grpc::ServerContext* ctx,
                                                  const icr::v1::AddAftercareServiceRequest* req,
                                                  icr::v1::AddAftercareServiceResponse* resp) {
  auto caller = Admit(ctx, "AddAftercareService");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(AddService(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::EndAftercareService(grpc::ServerContext* ctx,
                                                  const icr::v1::EndAftercareServiceRequest* req,
                                                  icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "EndAftercareService");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(EndService(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::RecordReview(grpc::ServerContext* ctx,
                                           const icr::v1::RecordReviewRequest* req,
                                           icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "RecordReview");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Review(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::RecordEndDecision(grpc::ServerContext* ctx,
                                                const icr::v1::RecordEndDecisionRequest* req,
                                                icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "RecordEndDecision");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(EndDecision(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::RecordLegalEvent(grpc::ServerContext* ctx,
                                               const icr::v1::RecordLegalEventRequest* req,
                                               icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "RecordLegalEvent");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(LegalEvent(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::RecordInError(grpc::ServerContext* ctx,
                                            const icr::v1::RecordInErrorRequest* req,
                                            icr::v1::Entitlement* resp) {
  auto caller = Admit(ctx, "RecordInError");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(InError(*caller, *req, resp));
}

grpc::Status S117ServiceImpl::GetFeedPosition(grpc::ServerContext* ctx,
                                              const icr::v1::GetFeedPositionRequest* req,
                                              icr::v1::FeedPosition* resp) {
  auto caller = Admit(ctx, "GetFeedPosition");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(FeedPosition(
      db_, *req, ctx->deadline(), [&] { return ctx->IsCancelled(); }, resp));
}

grpc::Status S117ServiceImpl::ReconcileRegister(
    grpc::ServerContext* ctx, const icr::v1::ReconcileRegisterRequest* req,
    grpc::ServerWriter<icr::v1::ReconciliationFinding>* writer) {
  auto caller = Admit(ctx, "ReconcileRegister");
  if (!caller.ok()) return ToGrpc(caller.status());
  auto findings = Reconcile(db_, *caller, ScopeOf(*caller), *req);
  if (!findings.ok()) return ToGrpc(findings.status());
  for (const auto& f : *findings) {
    if (!writer->Write(f)) return ToGrpc(absl::CancelledError());
  }
  return grpc::Status::OK;
}

grpc::Status S117ServiceImpl::ImportRegister(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<icr::v1::ImportRowResult, icr::v1::RegisterImportRow>* stream) {
  auto caller = Admit(ctx, "ImportRegister");
  if (!caller.ok()) return ToGrpc(caller.status());
  icr::v1::RegisterImportRow row;
  while (!ctx->IsCancelled() && stream->Read(&row)) {
    const auto result = ImportRow(*caller, row);
    metrics::CountImportRow("register", result.outcome());
    if (!stream->Write(result)) return grpc::Status::CANCELLED;
  }
  return ctx->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK;
}

}  // namespace icr::s117
