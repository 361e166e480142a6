// careplan create | show | update | agree | review start | review record | close | history |
// list: the person's integrated care plan (PCSP, Care Act s25 and S117 aftercare plan) through
// CarePlanService.
#include <iostream>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/careplan.grpc.pb.h"

namespace icrctl {
namespace {

using icr::v1::CarePlan;
using icr::v1::CarePlanService;
using Stub = CarePlanService::Stub;

template <class T>
std::string Joined(const T& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + std::string(i);
  return out;
}

// An enum value's name, empty for the unspecified zero.
std::string Code(int value, const google::protobuf::EnumDescriptor* type) {
  const auto* v = type->FindValueByNumber(value);
  return value == 0 ? "" : v ? v->name() : std::to_string(value);
}

std::string LegalBasis(const CarePlan& p) {
  std::vector<std::string> bases;
  if (p.is_nhs_pcsp()) bases.push_back("NHS PCSP");
  if (p.is_care_act_plan()) bases.push_back("Care Act s25");
  if (p.is_s117_aftercare_plan()) bases.push_back("S117 aftercare");
  return Joined(bases);
}

std::string AgencyName(icr::v1::CarePlanSignOff::Agency a) {
  return a == icr::v1::CarePlanSignOff::HEALTH        ? "health"
         : a == icr::v1::CarePlanSignOff::SOCIAL_CARE ? "social_care"
                                                      : "";
}

void PrintSignoffs(std::ostream& os,
                   const google::protobuf::RepeatedPtrField<icr::v1::CarePlanSignOff>& signoffs) {
  out::Table t({"AGENCY", "ORG", "SIGNED BY", "ROLE", "SIGNED ON", "RECORDED", "VERSION"});
  for (const auto& s : signoffs) {
    t.Row({AgencyName(s.agency()), s.organisation_code(), s.signed_by(), s.role(), s.signed_on(),
           out::Time(s.signed_at()), std::to_string(s.version())});
  }
  t.Print(os, "  ");
}

void PrintPlan(std::ostream& os, const CarePlan& p) {
  out::Fields f;
  f.Add("Plan id", p.plan_id());
  f.Add("NHS number", out::NhsDisplay(p.nhs_number()));
  f.Add("Version", std::to_string(p.version()) +
                       (p.current_version() != p.version()
                            ? " (current " + std::to_string(p.current_version()) + ")"
                            : ""));
  f.Add("Status", CarePlan::Status_Name(p.status()));
  f.Add("Change", p.change() + (p.change_reason().empty() ? "" : ": " + p.change_reason()));
  f.Add("Version created", out::Time(p.version_created_at()) + " by " + p.version_created_by());
  f.Add("Legal basis", LegalBasis(p));
  std::vector<std::string> acting_for;
  for (const auto& code : {p.acting_for_council_code(), p.acting_for_icb_code()}) {
    if (!code.empty()) acting_for.push_back(code);
  }
  f.Add("Acting for", Joined(acting_for));
  f.Add("Started", p.started_on());
  f.Add("Imported from", p.source_ref());
  f.Add("Key worker", StaffText(p.key_worker()));
  f.Add("Agreed", p.agreed_version()
                      ? "version " + std::to_string(p.agreed_version()) + " on " + p.agreed_on() +
                            (p.jointly_agreed() ? ", jointly" : "") + " (recorded " +
                            out::Time(p.agreed_at()) + ")"
                      : "");
  f.Add("Next review", p.review().next_review_date());
  f.Add("Light-touch review", p.review().light_touch_review_date());
  const auto& r = p.last_review();
  f.Add("Last review", r.review_date().empty()
                           ? ""
                           : r.review_date() + " " +
                                 icr::v1::CarePlanReview::Outcome_Name(r.outcome()) + " by " +
                                 r.recorded_by_organisation());
  f.Add("What matters to me", p.about_me().what_matters_to_me());
  if (p.personal_budget().amount_pence()) {
    f.Add("Personal budget",
          Pounds(p.personal_budget().amount_pence()) + " " +
              Code(p.personal_budget().period(), icr::v1::CarePlanBudget::Frequency_descriptor()));
  }
  f.Add("Person agrees",
        Code(p.agreement().person_agrees(), icr::v1::CarePlanAgreement::PersonAgrees_descriptor()));
  f.Add("Crisis warning signs", Joined(p.crisis_plan().warning_signs()));
  f.Print(os, "");
  if (!p.signoffs().empty()) {
    os << "\nSign-offs\n";
    PrintSignoffs(os, p.signoffs());
  }
  if (!p.needs().empty()) {
    os << "\nNeeds\n";
    out::Table t({"ID", "DESCRIPTION", "CARE ACT OUTCOME", "MENTAL DISORDER", "ELIGIBLE"});
    for (const auto& n : p.needs()) {
      t.Row({n.need_id(), n.description(),
             Code(n.care_act_outcome(), icr::v1::AdultOutcome::Code_descriptor()),
             Yes(n.arises_from_mental_disorder()),
             Code(n.care_act_eligible(), icr::v1::CarePlanNeed::Eligibility_descriptor())});
    }
    t.Print(os, "  ");
  }
  if (!p.goals().empty()) {
    os << "\nGoals\n";
    out::Table t({"ID", "IN MY WORDS", "NEEDS", "TARGET"});
    for (const auto& g : p.goals()) {
      t.Row({g.goal_id(), g.in_my_words(), Joined(g.need_ids()), g.target_date()});
    }
    t.Print(os, "  ");
  }
  if (!p.interventions().empty()) {
    os << "\nInterventions\n";
    out::Table t({"ID", "DESCRIPTION", "RESPONSIBLE", "FUNDER", "DELIVERY", "S117", "NEEDS"});
    for (const auto& v : p.interventions()) {
      t.Row({v.intervention_id(), v.description(), StaffText(v.responsible()),
             Code(v.funder(), icr::v1::CarePlanIntervention::Funder_descriptor()),
             Code(v.delivery_mode(), icr::v1::CarePlanIntervention::DeliveryMode_descriptor()),
             Yes(v.is_s117()), Joined(v.need_ids())});
    }
    t.Print(os, "  ");
  }
}

CarePlan PlanFromFile(const Invocation& inv) {
  CarePlan plan;
  ReadMessage(Required(inv, "file"), &plan);
  return plan;
}

int Create(const Invocation& inv) {
  icr::v1::CreateCarePlanRequest req;
  req.set_nhs_number(Required(inv, "nhs"));
  *req.mutable_plan() = PlanFromFile(inv);
  return PrintResult(inv, CallOnce(inv, &Stub::CreateCarePlan, req), PrintPlan);
}

int Show(const Invocation& inv) {
  icr::v1::GetCarePlanRequest req;
  if (inv.Has("plan") == inv.Has("nhs")) FailUsage(inv.name + ": give one of --plan or --nhs");
  if (inv.Has("plan")) req.set_plan_id(inv.Str("plan"));
  if (inv.Has("nhs")) req.set_nhs_number(inv.Str("nhs"));
  req.set_version(inv.Int("version", 0, INT64_MAX));
  return PrintResult(inv, CallOnce(inv, &Stub::GetCarePlan, req), PrintPlan);
}

int Update(const Invocation& inv) {
  icr::v1::UpdateCarePlanRequest req;
  req.set_plan_id(Required(inv, "plan"));
  req.set_expected_version(ExpectedVersion(inv));
  *req.mutable_plan() = PlanFromFile(inv);
  req.set_change_reason(inv.Str("reason"));
  return PrintResult(inv, CallOnce(inv, &Stub::UpdateCarePlan, req), PrintPlan);
}

int Agree(const Invocation& inv) {
  icr::v1::AgreeCarePlanRequest req;
  req.set_plan_id(Required(inv, "plan"));
  req.set_expected_version(ExpectedVersion(inv));
  req.set_signed_by(Required(inv, "signed-by"));
  req.set_signer_role(Required(inv, "role"));
  if (inv.Has("agency")) {
    req.set_agency(
        EnumFlag(inv, "agency", &icr::v1::CarePlanSignOff::Agency_Parse, "health, social_care"));
  }
  return PrintResult(inv, CallOnce(inv, &Stub::AgreeCarePlan, req), PrintPlan);
}

int StartReview(const Invocation& inv) {
  using Request = icr::v1::StartCarePlanReviewRequest;
  Request req;
  req.set_plan_id(Required(inv, "plan"));
  req.set_expected_version(ExpectedVersion(inv));
  Required(inv, "trigger");
  req.set_trigger(EnumFlag(inv, "trigger", &Request::Trigger_Parse,
                           "scheduled, requested_by_person, requested_by_carer, "
                           "requested_by_professional, admission, discharge, crisis, s117_change"));
  req.set_reason(inv.Str("reason"));
  return PrintResult(inv, CallOnce(inv, &Stub::StartReview, req), PrintPlan);
}

int RecordReview(const Invocation& inv) {
  icr::v1::RecordCarePlanReviewRequest req;
  req.set_plan_id(Required(inv, "plan"));
  req.set_expected_version(ExpectedVersion(inv));
  ReadMessage(Required(inv, "file"), req.mutable_review());
  return PrintResult(inv, CallOnce(inv, &Stub::RecordReview, req), PrintPlan);
}

int Close(const Invocation& inv) {
  icr::v1::CloseCarePlanRequest req;
  req.set_plan_id(Required(inv, "plan"));
  req.set_expected_version(ExpectedVersion(inv));
  req.set_reason(Required(inv, "reason"));
  return PrintResult(inv, CallOnce(inv, &Stub::CloseCarePlan, req), PrintPlan);
}

int History(const Invocation& inv) {
  icr::v1::ListCarePlanVersionsRequest req;
  req.set_plan_id(Required(inv, "plan"));
  *req.mutable_page() = PageOf(inv);
  const auto resp = CallOnce(inv, &Stub::ListCarePlanVersions, req);
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  out::Table t({"VERSION", "STATUS", "CHANGE", "REASON", "CREATED", "BY", "SIGNED"});
  for (const auto& v : resp.versions()) {
    std::vector<std::string> signed_by;
    for (const auto& s : v.signoffs())
      signed_by.push_back(AgencyName(s.agency()) + " " + s.organisation_code());
    t.Row({std::to_string(v.version()), CarePlan::Status_Name(v.status()), v.change(),
           v.change_reason(), out::Time(v.created_at()),
           v.created_by_organisation() +
               (v.created_by_role().empty() ? "" : " " + v.created_by_role()),
           Joined(signed_by)});
  }
  t.Print(std::cout);
  PrintCount(resp.versions_size(), "version", "versions", resp.page());
  return 0;
}

int List(const Invocation& inv) {
  icr::v1::ListCarePlansRequest req;
  req.set_nhs_number(inv.Str("nhs"));
  req.set_key_worker_organisation_code(inv.Str("key-worker-org"));
  req.set_review_due_before(inv.Str("review-due-before"));
  req.set_include_closed(inv.Has("include-closed"));
  *req.mutable_page() = PageOf(inv);
  const auto resp = CallOnce(inv, &Stub::ListCarePlans, req);
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  out::Table t({"PLAN ID", "NHS NUMBER", "STATUS", "VERSION", "AGREED", "S117", "CARE ACT",
                "KEY WORKER", "LAST REVIEW", "NEXT REVIEW"});
  for (const auto& h : resp.plans()) {
    t.Row({h.plan_id(), out::NhsDisplay(h.nhs_number()), CarePlan::Status_Name(h.status()),
           std::to_string(h.current_version()),
           h.agreed_version() ? std::to_string(h.agreed_version()) : "",
           Yes(h.is_s117_aftercare_plan()), Yes(h.is_care_act_plan()), StaffText(h.key_worker()),
           h.last_review_date(), h.next_review_date()});
  }
  t.Print(std::cout);
  PrintCount(resp.plans_size(), "plan", "plans", resp.page());
  return 0;
}

// Flag sets, each a function so commands can combine them.
void PlanFlag(cxxopts::Options& o) {
  o.add_options()("plan", "care plan id", cxxopts::value<std::string>());
}
void VersionedFlags(cxxopts::Options& o) {
  PlanFlag(o);
  o.add_options()("expected-version", "the version last read; a stale one is refused (ABORTED)",
                  cxxopts::value<std::string>());
}
}  // namespace

void AddCarePlanCommands(std::vector<Command>& commands) {
  commands.push_back({{"careplan", "create"},
                      "create a person's care plan (version 1, DRAFT) from a JSON file",
                      "",
                      [](cxxopts::Options& o) {
                        o.add_options()("nhs", "the person's NHS number",
                                        cxxopts::value<std::string>());
                        AddFileFlag(o, "an icr.v1.CarePlan", false);
                      },
                      Create});
  commands.push_back({{"careplan", "show"},
                      "show a care plan by id or the person's open plan",
                      "",
                      [](cxxopts::Options& o) {
                        PlanFlag(o);
                        // clang-format off
                        o.add_options()
                          ("nhs", "the person's NHS number (their open plan)", cxxopts::value<std::string>())
                          ("version", "this version (default: the current one)", cxxopts::value<std::string>());
                        // clang-format on
                      },
                      Show});
  commands.push_back({{"careplan", "update"},
                      "replace a plan's content: a new DRAFT version",
                      "",
                      [](cxxopts::Options& o) {
                        VersionedFlags(o);
                        AddFileFlag(o, "an icr.v1.CarePlan", false);
                        o.add_options()("reason", "why it changes", cxxopts::value<std::string>());
                      },
                      Update});
  commands.push_back(
      {{"careplan", "agree"},
       "sign a DRAFT off for your agency; AGREED once the sign-offs its type needs are present",
       "",
       [](cxxopts::Options& o) {
         VersionedFlags(o);
         // clang-format off
         o.add_options()
           ("signed-by", "name of the person signing", cxxopts::value<std::string>())
           ("role", "their role, e.g. Team manager", cxxopts::value<std::string>())
           ("agency", "health or social_care (default: your organisation's)", cxxopts::value<std::string>());
         // clang-format on
       },
       Agree});
  commands.push_back(
      {{"careplan", "review", "start"},
       "open a review of an AGREED plan",
       "",
       [](cxxopts::Options& o) {
         VersionedFlags(o);
         // clang-format off
         o.add_options()
           ("trigger", "scheduled, requested_by_person, requested_by_carer, requested_by_professional, admission, discharge, crisis or s117_change", cxxopts::value<std::string>())
           ("reason", "what prompted it", cxxopts::value<std::string>());
         // clang-format on
       },
       StartReview});
  commands.push_back({{"careplan", "review", "record"},
                      "record the outcome of the open review from a JSON file",
                      "",
                      [](cxxopts::Options& o) {
                        VersionedFlags(o);
                        AddFileFlag(o, "an icr.v1.CarePlanReview", false);
                      },
                      RecordReview});
  commands.push_back({{"careplan", "close"},
                      "close a plan (not an S117 plan while the entitlement is open)",
                      "",
                      [](cxxopts::Options& o) {
                        VersionedFlags(o);
                        o.add_options()("reason", "why, e.g. discharged from services",
                                        cxxopts::value<std::string>());
                      },
                      Close});
  commands.push_back({{"careplan", "history"},
                      "list a plan's versions with their changes and sign-offs",
                      "",
                      [](cxxopts::Options& o) {
                        PlanFlag(o);
                        AddPageFlags(o);
                      },
                      History});
  commands.push_back(
      {{"careplan", "list"},
       "list the care plans visible to you, by next review date",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("nhs", "one person's plans", cxxopts::value<std::string>())
           ("key-worker-org", "plans whose key worker is at this organisation", cxxopts::value<std::string>())
           ("review-due-before", "plans whose next review is before this date (YYYY-MM-DD)", cxxopts::value<std::string>())
           ("include-closed", "closed plans too");
         // clang-format on
         AddPageFlags(o);
       },
       List});
}

}  // namespace icrctl
