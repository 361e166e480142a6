// record show: the integrated record of one person as a readable multi-section summary.
#include <iostream>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "clients/icrctl/views.h"
#include "services/common/money.h"

namespace icrctl {
namespace {

using icr::v1::IntegratedRecord;

void Section(std::ostream& os, const std::string& title) { os << "\n" << title << "\n"; }

void None(std::ostream& os, const std::string& what = "none recorded") {
  os << "  " << what << "\n";
}

void Referrals(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Open referrals (" + std::to_string(r.open_referrals_size()) + ")");
  if (r.open_referrals().empty()) return None(os);
  out::Table t({"REFERRAL", "PROVIDER", "TEAM TYPE", "SERVICE AREA", "RECEIVED"});
  for (const auto& x : r.open_referrals()) {
    t.Row({x.referral_id(), x.provider_code(), x.team_type(), x.service_area(),
           x.received_date()});
  }
  t.Print(os, "  ");
}

void HospitalStay(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Hospital stay (current or most recent)");
  if (!r.has_hospital_stay()) return None(os);
  const auto& s = r.hospital_stay();
  out::Fields f;
  f.Add("Spell", s.spell_id());
  f.Add("Provider", s.provider_code());
  f.Add("Bed type", s.bed_type());
  f.Add("Admitted", out::Time(s.admitted_at()));
  if (s.has_discharged_at()) {
    f.Add("Discharged", out::Time(s.discharged_at()));
    f.Add("Discharge method", s.discharge_method());
    f.Add("Destination", s.discharge_destination());
  } else {
    f.Add("Discharged", "not yet: in hospital now");
  }
  f.Print(os);
}

void Detention(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Detention (current)");
  if (!r.has_current_detention()) return None(os, "not detained");
  const auto& d = r.current_detention();
  out::Fields f;
  f.Add("Legal status", view::Coded(d.legal_status_code(), d.legal_status_description()));
  f.Add("Since", out::Time(d.started_at()));
  if (d.has_ended_at()) f.Add("Ended", out::Time(d.ended_at()));
  f.Add("S117 qualifying", d.s117_qualifying() ? "yes" : "no");
  f.Add("Detention id", d.detention_id());
  f.Print(os);
}

void KeyWorker(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Key worker");
  if (!r.has_key_worker()) return None(os);
  const auto& k = r.key_worker();
  out::Fields f;
  f.Add("Name", k.key_worker().name());
  f.Add("Role", k.key_worker().role());
  f.Add("Organisation", k.key_worker().organisation_code());
  f.Add("Contact", k.key_worker().contact());
  f.Add("Since", k.start_date());
  f.Print(os);
}

void Observation(std::ostream& os, const std::string& title, bool present,
            const icr::v1::StatusObservation& s) {
  Section(os, title);
  if (!present) return None(os);
  out::Fields f;
  f.Add("Status", view::Coded(s.code(), s.description()));
  f.Add("Recorded", s.recorded_date() + (s.recorded_by().empty() ? "" : " by " + s.recorded_by()));
  f.Print(os);
}

// A weekly cost: "£1,036.00/wk" (exact pence, thousands separators); empty for 0.
std::string Weekly(int64_t pence) { return pence == 0 ? "" : icr::FormatPounds(pence) + "/wk"; }

void CareAct(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Care Act assessments and services");
  if (r.care_act_assessments().empty()) return None(os);
  out::Table t({"ID", "KIND", "COUNCIL", "START", "END", "OUTCOME / SERVICE", "DELIVERY", "COST"});
  for (const auto& c : r.care_act_assessments()) {
    std::string kind = icr::v1::CareActEvent::Kind_Name(c.kind());
    if (!c.assessment_type().empty()) kind += " (" + c.assessment_type() + ")";
    const std::string what = c.kind() == icr::v1::CareActEvent::SERVICE ? c.service_type()
                                                                         : c.outcome();
    t.Row({c.care_act_id(), kind, c.council_code(), c.start_date(), c.end_date(), what,
           c.delivery_mechanism(), Weekly(c.weekly_cost_pence())});
  }
  t.Print(os, "  ");
}

void Carers(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Carers");
  if (r.carers().empty()) return None(os);
  out::Table t({"CARER", "RELATIONSHIP", "COUNCIL", "OFFERED", "COMPLETED", "OUTCOME"});
  for (const auto& c : r.carers()) {
    t.Row({c.carer_name(), c.relationship(), c.council_code(), c.offered_date(),
           c.completed_date(), c.outcome()});
  }
  t.Print(os, "  ");
}

void CarePlan(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Care plan");
  if (!r.has_care_plan() || r.care_plan().plan_id().empty()) return None(os);
  const auto& p = r.care_plan();
  out::Fields f;
  f.Add("Plan", p.plan_id() + " (version " + std::to_string(p.version()) + ")");
  f.Add("Status", p.status());
  f.Add("Key worker", p.key_worker().name().empty()
                          ? ""
                          : p.key_worker().name() + ", " + p.key_worker().role() + ", " +
                                p.key_worker().organisation_code());
  f.Add("Next review", p.next_review_date());
  f.Add("S117 aftercare plan", p.is_s117_aftercare_plan() ? "yes" : "no");
  f.Print(os);
}

void S117(std::ostream& os, const IntegratedRecord& r) {
  Section(os, "Section 117 aftercare");
  if (!r.has_s117() || r.s117().entitlement_id().empty()) return None(os);
  const auto& s = r.s117();
  out::Fields f;
  f.Add("Entitlement", s.entitlement_id());
  f.Add("State", s.state());
  f.Add("Responsible council", s.responsible_council_code());
  f.Add("Responsible ICB", s.responsible_icb_code());
  f.Add("Next review due", s.next_review_due());
  std::string services;
  for (const auto& x : s.aftercare_services()) services += (services.empty() ? "" : "; ") + x;
  f.Add("Aftercare services", services);
  f.Print(os);
}

int Show(const Invocation& inv) {
  icr::v1::GetIntegratedRecordRequest req;
  req.set_nhs_number(inv.Positional(1, "one NHS number")[0]);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  IntegratedRecord rec;
  Check(client.record().GetIntegratedRecord(&ctx, req, &rec));
  if (inv.globals.json) {
    out::PrintJson(rec);
    return 0;
  }
  std::ostream& os = std::cout;
  if (rec.break_glass()) os << "*** BREAK-GLASS ACCESS: this read is audited and flagged ***\n\n";
  os << "Person\n";
  view::PrintPerson(os, rec.person(), "  ");
  Referrals(os, rec);
  HospitalStay(os, rec);
  Detention(os, rec);
  KeyWorker(os, rec);
  // The server may send an empty observation when none is recorded.
  Observation(os, "Employment", !rec.employment().code().empty(), rec.employment());
  Observation(os, "Accommodation", !rec.accommodation().code().empty(), rec.accommodation());
  CareAct(os, rec);
  Carers(os, rec);
  CarePlan(os, rec);
  S117(os, rec);
  return 0;
}

}  // namespace

void AddRecordCommands(std::vector<Command>& commands) {
  commands.push_back({{"record", "show"},
                      "show the integrated record of one person (audited)",
                      "NHS_NUMBER",
                      nullptr,
                      Show});
}

}  // namespace icrctl
