// s117 list | show | export | review | end-decision | services list|add|end | bodies |
// placements list|add|end | reconcile | wait: the Section 117 aftercare register through
// S117RegisterService.
#include <functional>
#include <iostream>
#include <map>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/csv.h"

namespace icrctl {

void AddS117SyncCommands(std::vector<Command>& commands);  // at the end of this file

namespace {

using icr::v1::Entitlement;
using icr::v1::S117RegisterService;
using Stub = S117RegisterService::Stub;

// "50/50" for a joint line, "100% COUNCIL" style otherwise.
std::string Split(const icr::v1::AftercareService& s) {
  auto pct = [](double p) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%g", p);
    return std::string(buf);
  };
  return pct(s.council_pct()) + "/" + pct(s.icb_pct());
}

// Flags that set fields of a request when given: flag name and what to do with its value.
using FlagSetters = std::vector<std::pair<const char*, std::function<void(const std::string&)>>>;

void ApplyFlags(const Invocation& inv, const FlagSetters& setters) {
  for (const auto& [flag, set] : setters) {
    if (inv.Has(flag)) set(inv.Str(flag));
  }
}

double Percent(const Invocation& inv, const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  FailUsage(inv.name + ": --" + flag + ": '" + text + "' is not a number");
}

void PrintServices(std::ostream& os, const Entitlement& e, const std::string& indent) {
  out::Table t({"LINE ID", "TYPE", "PROVIDER", "S117", "FUNDER", "COUNCIL/ICB %", "WEEKLY",
                "DELIVERY", "START", "END", "END REASON"});
  for (const auto& s : e.services()) {
    t.Row({s.service_line_id(), s.service_type(), s.provider_name(), Yes(s.is_s117()), s.funder(),
           Split(s), Pounds(s.weekly_cost_pence()), s.delivery_mode(), s.start_date(), s.end_date(),
           s.end_reason()});
  }
  t.Print(os, indent);
}

void PrintEntitlement(std::ostream& os, const Entitlement& e) {
  out::Fields f;
  f.Add("Entitlement id", e.entitlement_id());
  f.Add("NHS number", out::NhsDisplay(e.nhs_number()));
  f.Add("State", e.state());
  f.Add("Version", std::to_string(e.version()));
  f.Add("Qualifying section",
        e.qualifying_section() + " (legal status " + e.legal_status_code() + ")");
  f.Add("Detention", e.detention_start_date() + " at " + e.detaining_provider_code() +
                         (e.detention_id().empty()
                              ? ""
                              : " (" + e.detention_source_org() + " " + e.detention_id() + ")"));
  f.Add("Left hospital", e.left_hospital_date());
  f.Add("Effective from", e.effective_from());
  f.Add("Registered on", e.registered_on());
  if (!e.source_ref().empty()) f.Add("Imported from", e.source_ref());
  std::string status;
  for (const auto& [on, what] : std::vector<std::pair<bool, std::string>>{
           {e.in_hospital(), "in hospital"},
           {e.on_cto(), "on CTO from " + e.cto_start_date()},
           {e.conditionally_discharged(),
            "conditionally discharged " + e.conditional_discharge_date()},
           {e.legal_determination_required(), "legal determination required"}}) {
    if (on) status += (status.empty() ? "" : "; ") + what;
  }
  f.Add("Status", status);
  const auto& c = e.council();
  f.Add("Council", c.code().empty()
                       ? ""
                       : c.code() + " " + c.basis() + (c.provisional() ? " (provisional)" : ""));
  f.Add("Council evidence", c.evidence());
  f.Add("ICB", e.icb().code().empty() ? "" : e.icb().code() + " " + e.icb().basis());
  f.Add("OR dispute", e.or_dispute_status());
  f.Add("Last review", e.last_review_date());
  f.Add("Next review due", e.next_review_due());
  f.Add("Ended on", e.ended_on() + (e.end_migrated() ? " (joint end carried over)" : ""));
  if (!e.predecessor_episode_id().empty()) f.Add("Predecessor", e.predecessor_episode_id());
  if (!e.successor_episode_id().empty()) f.Add("Successor", e.successor_episode_id());
  if (!e.void_reason().empty()) f.Add("Void reason", e.void_reason());
  f.Print(os, "");
  if (!e.services().empty()) {
    os << "\nServices\n";
    PrintServices(os, e, "  ");
  }
  if (!e.reviews().empty()) {
    os << "\nReviews\n";
    out::Table t({"DATE", "OUTCOME", "JOINT", "COUNCIL", "COUNCIL REP", "HEALTH", "HEALTH REP",
                  "PERSON", "NEXT DUE", "BY"});
    for (const auto& r : e.reviews()) {
      t.Row({r.review_date(), r.outcome(), r.joint() ? "yes" : "no", r.council_attendance(),
             StaffText(r.council_rep()), r.health_attendance(), StaffText(r.health_rep()),
             r.person_involvement(), r.next_review_due(), r.recorded_by_org()});
    }
    t.Print(os, "  ");
  }
  if (!e.end_decisions().empty()) {
    os << "\nEnd decisions\n";
    out::Table t({"BODY", "CODE", "DECIDER", "DATE", "PRIMARY REASON", "PERSON", "MIGRATED"});
    for (const auto& d : e.end_decisions()) {
      t.Row({d.body(), d.body_code(), StaffText(d.decider()), d.decision_date(), d.primary_reason(),
             d.person_involvement(), d.migrated() ? "yes" : ""});
    }
    t.Print(os, "  ");
  }
  if (!e.tasks().empty()) {
    os << "\nTasks\n";
    out::Table t({"KIND", "STATUS", "DETAIL", "CREATED", "CLOSED"});
    for (const auto& k : e.tasks()) {
      t.Row({k.kind(), k.status(), k.detail(), k.created_at(), k.closed_at()});
    }
    t.Print(os, "  ");
  }
  if (!e.detentions().empty()) {
    os << "\nDetentions\n";
    out::Table t({"ROLE", "LEGAL STATUS", "STARTED", "SOURCE", "ID"});
    for (const auto& d : e.detentions()) {
      t.Row({d.role(), d.legal_status_code(), d.started_on(), d.source_org(), d.detention_id()});
    }
    t.Print(os, "  ");
  }
  if (!e.history().empty()) {
    os << "\nHistory\n";
    out::Table t({"VERSION", "AT", "BY", "ACTION", "REASON"});
    for (const auto& h : e.history()) {
      t.Row({std::to_string(h.version()), h.at(), h.actor_org() + " " + h.actor_role(), h.action(),
             h.reason()});
    }
    t.Print(os, "  ");
  }
}

Entitlement Get(const Invocation& inv) {
  icr::v1::GetEntitlementRequest req;
  if (inv.Has("entitlement") == inv.Has("nhs")) {
    FailUsage(inv.name + ": give one of --entitlement or --nhs");
  }
  if (inv.Has("entitlement")) req.set_entitlement_id(inv.Str("entitlement"));
  if (inv.Has("nhs")) req.set_nhs_number(inv.Str("nhs"));
  req.set_include_history(inv.Has("history"));
  return CallOnce(inv, &Stub::GetEntitlement, req);
}

// ---- The register ----

icr::v1::RegisterFilter Filter(const Invocation& inv) {
  icr::v1::RegisterFilter f;
  f.set_council_code(inv.Str("council"));
  f.set_icb_code(inv.Str("icb"));
  f.set_state(EnumName(inv.Str("state")));
  f.set_review_overdue_as_of(inv.Str("overdue-as-of"));
  f.set_stale(inv.Has("stale"));
  f.set_legal_determination_required(inv.Has("legal-determination"));
  return f;
}

out::Table RegisterTable() {
  return out::Table({"ENTITLEMENT", "NHS NUMBER", "NAME", "STATE", "SECTION", "COUNCIL", "ICB",
                     "EFFECTIVE", "ENDED", "LAST REVIEW", "NEXT REVIEW", "OVERDUE", "SERVICES",
                     "WEEKLY", "DISPUTE", "NOTES", "WHY THIS COUNCIL"});
}

void AddRow(out::Table& t, const icr::v1::RegisterRow& r) {
  std::string notes;
  for (const auto& [on, what] : std::vector<std::pair<bool, const char*>>{
           {r.in_hospital(), "in hospital"},
           {r.on_cto(), "CTO"},
           {r.conditionally_discharged(), "conditional discharge"},
           {r.legal_determination_required(), "legal determination"},
           {r.council_provisional(), "council provisional"}}) {
    if (on) notes += std::string(notes.empty() ? "" : ", ") + what;
  }
  if (r.open_tasks())
    notes += (notes.empty() ? "" : ", ") + std::to_string(r.open_tasks()) + " task(s)";
  t.Row({r.entitlement_id(), out::NhsDisplay(r.nhs_number()),
         r.given_name() + " " + r.family_name(), r.state(), r.qualifying_section(),
         r.responsible_council_code(), r.responsible_icb_code(), r.effective_from(), r.ended_on(),
         r.last_review_date(), r.next_review_due(), Yes(r.review_overdue()),
         r.open_services() ? std::to_string(r.open_services()) : "", Pounds(r.weekly_cost_pence()),
         r.or_dispute_status() == "NONE" ? ""
         : r.or_dispute_opened_on().empty()
             ? r.or_dispute_status()
             : r.or_dispute_status() + " since " + r.or_dispute_opened_on(),
         notes, r.council_reason()});
}

int List(const Invocation& inv) {
  icr::v1::ListRegisterRequest req;
  *req.mutable_filter() = Filter(inv);
  *req.mutable_page() = PageOf(inv);
  const auto resp = CallOnce(inv, &Stub::ListRegister, req);
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  auto t = RegisterTable();
  for (const auto& r : resp.rows()) AddRow(t, r);
  t.Print(std::cout);
  PrintCount(resp.rows_size(), "entitlement", "entitlements", resp.page());
  return 0;
}

// Every field of the row in .proto order, by reflection, so a new field reaches the CSV.
std::string CsvLine(const google::protobuf::Message& m, bool header) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  std::string line;
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    std::string v;
    if (header) {
      v = f->name();
    } else {
      switch (f->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          v = r->GetString(m, f);
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
          v = r->GetBool(m, f) ? "true" : "false";
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
          v = std::to_string(r->GetInt32(m, f));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
          v = std::to_string(r->GetInt64(m, f));
          break;
        default:
          break;
      }
    }
    line += (i ? "," : "") + icr::CsvField(v);
  }
  return line + "\r\n";
}

int Export(const Invocation& inv) {
  icr::v1::ExportRegisterRequest req;
  *req.mutable_filter() = Filter(inv);
  const bool csv = inv.Has("csv");
  Client client(inv.globals);
  auto stub = S117RegisterService::NewStub(client.channel());
  grpc::ClientContext ctx;
  client.Prepare(ctx, kNoDeadline);
  auto reader = stub->ExportRegister(&ctx, req);
  icr::v1::RegisterRow row;
  if (csv) std::cout << CsvLine(row, true);
  auto table = RegisterTable();
  int n = 0;
  while (reader->Read(&row)) {
    ++n;
    if (csv) {
      std::cout << CsvLine(row, false);
    } else if (inv.globals.json) {
      out::PrintJsonLine(row);
    } else {
      AddRow(table, row);
    }
  }
  std::cout.flush();
  Check(reader->Finish());
  if (!csv && !inv.globals.json) {
    table.Print(std::cout);
    PrintCount(n, "entitlement", "entitlements", {});
  }
  return 0;
}

// ---- Writes ----

int Review(const Invocation& inv) {
  icr::v1::RecordReviewRequest req;
  req.set_entitlement_id(Required(inv, "entitlement"));
  req.set_expected_version(ExpectedVersion(inv));
  auto* r = req.mutable_review();
  ReadFileFlag(inv, r);
  ApplyFlags(
      inv, {{"date", [&](auto v) { r->set_review_date(v); }},
            {"outcome", [&](auto v) { r->set_outcome(EnumName(v)); }},
            {"council-rep", [&](auto v) { r->mutable_council_rep()->set_name(v); }},
            {"council-rep-role", [&](auto v) { r->mutable_council_rep()->set_role(v); }},
            {"health-rep", [&](auto v) { r->mutable_health_rep()->set_name(v); }},
            {"health-rep-role", [&](auto v) { r->mutable_health_rep()->set_role(v); }},
            {"health-rep-org", [&](auto v) { r->mutable_health_rep()->set_organisation_code(v); }},
            {"involvement", [&](auto v) { r->set_person_involvement(EnumName(v)); }},
            {"others-present", [&](auto v) { r->set_others_present(v); }},
            {"summary", [&](auto v) { r->set_summary(v); }},
            {"next-review-due", [&](auto v) { r->set_next_review_due(v); }}});
  return PrintResult(inv, CallOnce(inv, &Stub::RecordReview, req), PrintEntitlement);
}

int EndDecision(const Invocation& inv) {
  icr::v1::RecordEndDecisionRequest req;
  req.set_entitlement_id(Required(inv, "entitlement"));
  req.set_expected_version(ExpectedVersion(inv));
  auto* d = req.mutable_decision();
  ReadFileFlag(inv, d);
  ApplyFlags(inv, {{"body", [&](auto v) { d->set_body(EnumName(v)); }},
                   {"decider", [&](auto v) { d->mutable_decider()->set_name(v); }},
                   {"decider-role", [&](auto v) { d->mutable_decider()->set_role(v); }},
                   {"date", [&](auto v) { d->set_decision_date(v); }},
                   {"primary-reason", [&](auto v) { d->set_primary_reason(EnumName(v)); }},
                   {"reason-text", [&](auto v) { d->set_reason_text(v); }},
                   {"involvement", [&](auto v) { d->set_person_involvement(EnumName(v)); }},
                   {"consulted", [&](auto v) { d->set_consulted(v); }},
                   {"other-care", [&](auto v) { d->set_other_care_after_discharge(v); }},
                   {"notification-sent-date", [&](auto v) { req.set_notification_sent_date(v); }}});
  if (inv.Has("other-reason")) {
    for (const auto& v : inv.args["other-reason"].as<std::vector<std::string>>()) {
      d->add_other_reasons(EnumName(v));
    }
  }
  req.set_finalise(inv.Has("finalise"));
  return PrintResult(inv, CallOnce(inv, &Stub::RecordEndDecision, req), PrintEntitlement);
}

int ServicesList(const Invocation& inv) {
  const Entitlement e = Get(inv);
  if (inv.globals.json) {
    Entitlement lines;
    lines.set_entitlement_id(e.entitlement_id());
    lines.set_version(e.version());
    *lines.mutable_services() = e.services();
    out::PrintJson(lines);
    return 0;
  }
  PrintServices(std::cout, e, "");
  int open = 0;
  for (const auto& s : e.services()) open += s.end_date().empty() ? 1 : 0;
  std::cout << e.services_size() << " service line(s), " << open << " open; entitlement "
            << e.entitlement_id() << " is at version " << e.version() << "\n";
  return 0;
}

void PrintAddedService(std::ostream& os, const icr::v1::AddAftercareServiceResponse& r) {
  os << "service line " << r.service_line_id() << " added\n";
  PrintEntitlement(os, r.entitlement());
}

int ServicesAdd(const Invocation& inv) {
  icr::v1::AddAftercareServiceRequest req;
  req.set_entitlement_id(Required(inv, "entitlement"));
  req.set_expected_version(ExpectedVersion(inv));
  auto* s = req.mutable_service();
  ReadFileFlag(inv, s);
  if (!inv.Has("file")) {  // from flags alone: an s117 service unless --not-s117
    s->set_is_s117(true);
    s->set_need_arises_from_mental_disorder(true);
  }
  if (inv.Has("not-s117")) {
    s->set_is_s117(false);
    s->set_need_arises_from_mental_disorder(false);
  }
  ApplyFlags(inv,
             {{"type", [&](auto v) { s->set_service_type(EnumName(v)); }},
              {"description", [&](auto v) { s->set_description(v); }},
              {"provider", [&](auto v) { s->set_provider_name(v); }},
              {"provider-code", [&](auto v) { s->set_provider_code(v); }},
              {"need-ref", [&](auto v) { s->set_need_ref(v); }},
              {"start", [&](auto v) { s->set_start_date(v); }},
              {"funder", [&](auto v) { s->set_funder(EnumName(v)); }},
              {"council-pct", [&](auto v) { s->set_council_pct(Percent(inv, "council-pct", v)); }},
              {"icb-pct", [&](auto v) { s->set_icb_pct(Percent(inv, "icb-pct", v)); }},
              {"split-reason", [&](auto v) { s->set_split_override_reason(v); }},
              {"weekly-cost-pence",
               [&](auto) { s->set_weekly_cost_pence(inv.Int("weekly-cost-pence", 0, INT64_MAX)); }},
              {"delivery-mode", [&](auto v) { s->set_delivery_mode(EnumName(v)); }},
              {"top-up-payer", [&](auto v) { s->set_top_up_payer(v); }},
              {"top-up-weekly-pence", [&](auto) {
                 s->set_top_up_weekly_pence(inv.Int("top-up-weekly-pence", 0, INT64_MAX));
               }}});
  return PrintResult(inv, CallOnce(inv, &Stub::AddAftercareService, req), PrintAddedService);
}

int ServicesEnd(const Invocation& inv) {
  icr::v1::EndAftercareServiceRequest req;
  req.set_entitlement_id(Required(inv, "entitlement"));
  req.set_expected_version(ExpectedVersion(inv));
  req.set_service_line_id(Required(inv, "line"));
  req.set_end_date(Required(inv, "end-date"));
  req.set_end_reason(Required(inv, "reason"));
  req.set_moved_to_legal_basis(inv.Str("moved-to"));
  return PrintResult(inv, CallOnce(inv, &Stub::EndAftercareService, req), PrintEntitlement);
}

int Bodies(const Invocation& inv) {
  icr::v1::SetResponsibleBodiesRequest req;
  req.set_entitlement_id(Required(inv, "entitlement"));
  req.set_expected_version(ExpectedVersion(inv));
  if (inv.Has("council")) {
    auto* c = req.mutable_council();
    c->set_code(inv.Str("council"));
    c->set_basis(EnumName(Required(inv, "council-basis")));
    c->set_evidence(inv.Str("council-evidence"));
    c->set_provisional(inv.Has("council-provisional"));
  }
  if (inv.Has("icb")) {
    auto* i = req.mutable_icb();
    i->set_code(inv.Str("icb"));
    i->set_basis(EnumName(Required(inv, "icb-basis")));
    i->set_gp_practice_at_application(inv.Str("gp-practice"));
  }
  req.set_or_dispute_status(EnumName(inv.Str("dispute")));
  req.set_or_dispute_opened_on(inv.Str("dispute-opened"));
  req.set_reason(inv.Str("reason"));
  return PrintResult(inv, CallOnce(inv, &Stub::SetResponsibleBodies, req), PrintEntitlement);
}

// ---- Placements ----

void PrintPlacement(std::ostream& os, const icr::v1::Placement& p) {
  os << p.placement_id() << "  placed by " << p.placing_council_code() << " in "
     << p.placed_in_council_code() << "  " << p.accommodation_type() << " (" << p.legal_basis()
     << ")  from " << p.start_date() << (p.end_date().empty() ? "" : " to " + p.end_date())
     << (p.provider_name().empty() ? "" : "  " + p.provider_name()) << "\n";
}

void PrintPlacements(std::ostream& os, const icr::v1::ListPlacementsResponse& r) {
  for (const auto& p : r.placements()) PrintPlacement(os, p);
  os << r.placements_size() << " placement(s)\n";
}

int PlacementsList(const Invocation& inv) {
  icr::v1::ListPlacementsRequest req;
  req.set_nhs_number(Required(inv, "nhs"));
  return PrintResult(inv, CallOnce(inv, &Stub::ListPlacements, req), PrintPlacements);
}

int PlacementsAdd(const Invocation& inv) {
  icr::v1::RecordPlacementRequest req;
  auto* p = req.mutable_placement();
  p->set_nhs_number(Required(inv, "nhs"));
  p->set_placing_council_code(Required(inv, "placing"));
  p->set_placed_in_council_code(Required(inv, "placed-in"));
  p->set_accommodation_type(EnumName(Required(inv, "type")));
  p->set_legal_basis(Required(inv, "basis"));
  p->set_start_date(Required(inv, "start"));
  p->set_end_date(inv.Str("end"));
  p->set_provider_name(inv.Str("provider"));
  return PrintResult(inv, CallOnce(inv, &Stub::RecordPlacement, req), PrintPlacement);
}

int PlacementsEnd(const Invocation& inv) {
  icr::v1::EndPlacementRequest req;
  req.set_placement_id(Required(inv, "placement"));
  req.set_end_date(inv.Str("end-date"));
  return PrintResult(inv, CallOnce(inv, &Stub::EndPlacement, req), PrintPlacement);
}

// ---- Flags ----

void KeyFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("entitlement", "entitlement id", cxxopts::value<std::string>())
    ("nhs", "the person's NHS number (their open entitlement, else the latest)", cxxopts::value<std::string>());
  // clang-format on
}

void WriteFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("entitlement", "entitlement id", cxxopts::value<std::string>())
    ("expected-version", "the version last read; a stale one is refused (ABORTED)", cxxopts::value<std::string>());
  // clang-format on
}

void FilterFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("council", "responsible council (GSS code)", cxxopts::value<std::string>())
    ("icb", "responsible ICB (ODS code)", cxxopts::value<std::string>())
    ("state", "PLANNED, ACTIVE, ENDED_DISCHARGED, ENDED_SUPERSEDED, ENDED_DECEASED or VOID (default: all but VOID)", cxxopts::value<std::string>())
    ("overdue-as-of", "ACTIVE entitlements whose review is overdue on this date (YYYY-MM-DD)", cxxopts::value<std::string>())
    ("stale", "ACTIVE with no open referral and no review in the policy period")
    ("legal-determination", "a legal determination is required");
  // clang-format on
}

}  // namespace

void AddS117Commands(std::vector<Command>& commands) {
  commands.push_back({{"s117", "list"},
                      "list the S117 register visible to you",
                      "",
                      [](cxxopts::Options& o) {
                        FilterFlags(o);
                        AddPageFlags(o);
                      },
                      List});
  commands.push_back(
      {{"s117", "show"},
       "show one entitlement: bodies, services, reviews, decisions, tasks",
       "",
       [](cxxopts::Options& o) {
         KeyFlags(o);
         o.add_options()("history", "with every version's change");
       },
       [](const Invocation& inv) { return PrintResult(inv, Get(inv), PrintEntitlement); }});
  commands.push_back({{"s117", "export"},
                      "stream the whole register (table, JSON lines with --json, or --csv)",
                      "",
                      [](cxxopts::Options& o) {
                        FilterFlags(o);
                        o.add_options()("csv", "CSV with a header row (RFC 4180)");
                      },
                      Export});
  commands.push_back(
      {{"s117", "review"},
       "record a joint review of an ACTIVE entitlement",
       "",
       [](cxxopts::Options& o) {
         WriteFlags(o);
         AddFileFlag(o, "an icr.v1.S117Review", true);
         // clang-format off
         o.add_options()
           ("date", "review date, YYYY-MM-DD", cxxopts::value<std::string>())
           ("outcome", "CONTINUE, MODIFY or RECOMMEND_DISCHARGE", cxxopts::value<std::string>())
           ("council-rep", "who took part for the council", cxxopts::value<std::string>())
           ("council-rep-role", "their role", cxxopts::value<std::string>())
           ("health-rep", "who took part for health", cxxopts::value<std::string>())
           ("health-rep-role", "their role", cxxopts::value<std::string>())
           ("health-rep-org", "their organisation (default: the responsible ICB)", cxxopts::value<std::string>())
           ("involvement", "ATTENDED, CONSULTED, DECLINED or LACKS_CAPACITY_CONSULTED_OTHERS", cxxopts::value<std::string>())
           ("others-present", "carer, advocate, ...", cxxopts::value<std::string>())
           ("summary", "what was decided", cxxopts::value<std::string>())
           ("next-review-due", "default: the review date plus the review interval", cxxopts::value<std::string>());
         // clang-format on
       },
       Review});
  commands.push_back(
      {{"s117", "end-decision"},
       "record the council's or the ICB's decision that aftercare is no longer needed",
       "",
       [](cxxopts::Options& o) {
         WriteFlags(o);
         AddFileFlag(o, "an icr.v1.S117EndDecision", true);
         // clang-format off
         o.add_options()
           ("body", "COUNCIL or ICB (yours)", cxxopts::value<std::string>())
           ("decider", "who decided", cxxopts::value<std::string>())
           ("decider-role", "their role", cxxopts::value<std::string>())
           ("date", "decision date, YYYY-MM-DD", cxxopts::value<std::string>())
           ("primary-reason", "end reason code, e.g. NO_LONGER_NEEDS_AFTERCARE", cxxopts::value<std::string>())
           ("other-reason", "further end reason code (repeatable)", cxxopts::value<std::vector<std::string>>())
           ("reason-text", "how the decision was reached", cxxopts::value<std::string>())
           ("involvement", "ATTENDED, CONSULTED, DECLINED or LACKS_CAPACITY_CONSULTED_OTHERS", cxxopts::value<std::string>())
           ("consulted", "who was consulted (when the person lacks capacity)", cxxopts::value<std::string>())
           ("other-care", "care after discharge from s117", cxxopts::value<std::string>())
           ("notification-sent-date", "the person was told of the joint end on this date", cxxopts::value<std::string>())
           ("finalise", "this decision must end the entitlement now, or nothing is recorded");
         // clang-format on
       },
       EndDecision});
  commands.push_back({{"s117", "services", "list"},
                      "list an entitlement's aftercare service lines",
                      "",
                      KeyFlags,
                      ServicesList});
  commands.push_back(
      {{"s117", "services", "add"},
       "add an aftercare service line and who pays for it",
       "",
       [](cxxopts::Options& o) {
         WriteFlags(o);
         AddFileFlag(o, "an icr.v1.AftercareService", true);
         // clang-format off
         o.add_options()
           ("type", "service type, e.g. HOME_CARE, SUPPORTED_ACCOMMODATION", cxxopts::value<std::string>())
           ("description", "what the service is", cxxopts::value<std::string>())
           ("provider", "provider name", cxxopts::value<std::string>())
           ("provider-code", "provider ODS or GSS code", cxxopts::value<std::string>())
           ("need-ref", "the care plan need it meets", cxxopts::value<std::string>())
           ("not-s117", "not provided under s117 (e.g. a Care Act service)")
           ("start", "start date, YYYY-MM-DD", cxxopts::value<std::string>())
           ("funder", "COUNCIL, ICB or JOINT", cxxopts::value<std::string>())
           ("council-pct", "JOINT: the council's share", cxxopts::value<std::string>())
           ("icb-pct", "JOINT: the ICB's share", cxxopts::value<std::string>())
           ("split-reason", "why a JOINT split differs from the funding agreement", cxxopts::value<std::string>())
           ("weekly-cost-pence", "weekly cost in pence", cxxopts::value<std::string>())
           ("delivery-mode", "COMMISSIONED, DIRECT_PAYMENT, PHB or IN_HOUSE", cxxopts::value<std::string>())
           ("top-up-payer", "preferred accommodation only: who pays the top-up", cxxopts::value<std::string>())
           ("top-up-weekly-pence", "the weekly top-up in pence", cxxopts::value<std::string>());
         // clang-format on
       },
       ServicesAdd});
  commands.push_back({{"s117", "services", "end"},
                      "end an aftercare service line",
                      "",
                      [](cxxopts::Options& o) {
                        WriteFlags(o);
                        // clang-format off
                        o.add_options()
                          ("line", "service line id", cxxopts::value<std::string>())
                          ("end-date", "YYYY-MM-DD", cxxopts::value<std::string>())
                          ("reason", "why it ends", cxxopts::value<std::string>())
                          ("moved-to", "the legal basis it continues under, e.g. Care Act 2014 s18", cxxopts::value<std::string>());
                        // clang-format on
                      },
                      ServicesEnd});
  commands.push_back(
      {{"s117", "bodies"},
       "set the responsible council or ICB, or the ordinary-residence dispute status",
       "",
       [](cxxopts::Options& o) {
         WriteFlags(o);
         // clang-format off
         o.add_options()
           ("council", "responsible council (GSS code)", cxxopts::value<std::string>())
           ("council-basis", "OR_ENGLAND_S117_3A, OR_WALES_S117_3B, NOT_OR_RESIDENT_OR_SENT_S117_3C or PRE_2015_RESIDENCE_TEST", cxxopts::value<std::string>())
           ("council-evidence", "address or placement before detention, who decided", cxxopts::value<std::string>())
           ("council-provisional", "the council is provisional")
           ("icb", "responsible ICB (ODS code)", cxxopts::value<std::string>())
           ("icb-basis", "CORE_GP_REGISTRATION, CORE_USUAL_RESIDENCE, CARRIED_FROM_ORIGINATING_ICB, NHSE_COMMISSIONED or LEGACY_RULE", cxxopts::value<std::string>())
           ("gp-practice", "GP practice at the time of the application", cxxopts::value<std::string>())
           ("dispute", "NONE, DISPUTED, REFERRED_TO_SOS or DETERMINED", cxxopts::value<std::string>())
           ("dispute-opened", "with DISPUTED or REFERRED_TO_SOS: the day the dispute was raised (YYYY-MM-DD; default today)", cxxopts::value<std::string>())
           ("reason", "why", cxxopts::value<std::string>());
         // clang-format on
       },
       Bodies});
  commands.push_back(
      {{"s117", "placements", "list"},
       "list a person's placements (accommodation a council arranged, perhaps out of area)",
       "",
       [](cxxopts::Options& o) {
         o.add_options()("nhs", "the person's NHS number", cxxopts::value<std::string>());
       },
       PlacementsList});
  commands.push_back(
      {{"s117", "placements", "add"},
       "record a placement your council made (the facts of the Mental Health Act 2025 s46 rule)",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("nhs", "the person's NHS number", cxxopts::value<std::string>())
           ("placing", "the placing council (GSS code): your own", cxxopts::value<std::string>())
           ("placed-in", "the council whose area the accommodation is in (GSS code)", cxxopts::value<std::string>())
           ("type", "CARE_HOME, SHARED_LIVES, SUPPORTED_LIVING or OTHER", cxxopts::value<std::string>())
           ("basis", "care_act, s117 or other", cxxopts::value<std::string>())
           ("start", "YYYY-MM-DD", cxxopts::value<std::string>())
           ("end", "YYYY-MM-DD, when it has ended", cxxopts::value<std::string>())
           ("provider", "the accommodation's provider", cxxopts::value<std::string>());
         // clang-format on
       },
       PlacementsAdd});
  commands.push_back(
      {{"s117", "placements", "end"},
       "end a placement your council made",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
                        o.add_options()
                          ("placement", "placement id", cxxopts::value<std::string>())
                          ("end-date", "YYYY-MM-DD (default today)", cxxopts::value<std::string>());
         // clang-format on
       },
       PlacementsEnd});
  AddS117SyncCommands(commands);
}

// ---- The register against the record: s117 reconcile, s117 wait ----

namespace {

// icrctl s117 reconcile [--as-of DATE]: a table of findings and a count per kind (--json: one
// icr.v1.ReconciliationFinding per line).
int Reconcile(const Invocation& inv) {
  icr::v1::ReconcileRegisterRequest req;
  req.set_as_of(inv.Str("as-of"));
  Client client(inv.globals);
  auto stub = S117RegisterService::NewStub(client.channel());
  grpc::ClientContext ctx;
  client.Prepare(ctx, kNoDeadline);
  auto reader = stub->ReconcileRegister(&ctx, req);
  out::Table table({"KIND", "NHS NUMBER", "ENTITLEMENT", "DETAIL"});
  std::map<std::string, int> per_kind;
  icr::v1::ReconciliationFinding f;
  while (reader->Read(&f)) {
    ++per_kind[f.kind()];
    if (inv.globals.json) {
      out::PrintJsonLine(f);
    } else {
      table.Row({f.kind(), f.nhs_number(), f.entitlement_id(), f.detail()});
    }
  }
  std::cout.flush();
  Check(reader->Finish());
  if (inv.globals.json) return 0;
  table.Print(std::cout);
  int n = 0;
  for (const auto& [kind, count] : per_kind) n += count;
  PrintCount(n, "finding", "findings", {});
  for (const auto& [kind, count] : per_kind) std::cout << "  " << kind << ": " << count << "\n";
  return 0;
}

// icrctl s117 wait --cursor C [--wait-ms N]: waits until the register has applied a write's
// change cursor; exits 0 when it has, 1 (with a one-line reason) when not within the wait.
int Wait(const Invocation& inv) {
  icr::v1::GetFeedPositionRequest req;
  req.set_cursor(inv.Str("cursor"));
  req.set_wait_ms(static_cast<int>(inv.Has("wait-ms") ? inv.Int("wait-ms", 0, 30000) : 30000));
  const auto resp = CallOnce(inv, &Stub::GetFeedPosition, req);
  if (inv.globals.json) {
    out::PrintJson(resp);
  } else {
    std::cout << "applied up to " << resp.applied_cursor() << "\n";
  }
  if (resp.applied()) return 0;
  std::cerr << "icrctl: the register has not applied " << req.cursor() << " within "
            << req.wait_ms() << " ms\n";
  return 1;
}

}  // namespace

void AddS117SyncCommands(std::vector<Command>& commands) {
  commands.push_back({{"s117", "reconcile"},
                      "findings of your council's or ICB's register against the record",
                      "",
                      [](cxxopts::Options& o) {
                        o.add_options()("as-of", "YYYY-MM-DD (default today)",
                                        cxxopts::value<std::string>());
                      },
                      Reconcile});
  commands.push_back({{"s117", "wait"},
                      "wait until the register has applied a write's change cursor",
                      "",
                      [](cxxopts::Options& o) {
                        o.add_options()("cursor", "the change_cursor a write returned",
                                        cxxopts::value<std::string>())(
                            "wait-ms", "at most this long, 0 to 30000 (default 30000)",
                            cxxopts::value<std::string>());
                      },
                      Wait});
}

}  // namespace icrctl
