#include "services/record/record_rules.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "services/common/status.h"

namespace icr::record {
namespace {
using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Sender references (referral, spell, detention ids): short, printable.
absl::Status CheckRef(const std::string& value, const std::string& field) {
  return CheckText(value, field, 64, true);
}

absl::Status CheckNotFuture(Date d, Date today, const std::string& field) {
  if (d > today) return InvalidField(field, "is in the future");
  return absl::OkStatus();
}

absl::Status CheckPastDate(const std::string& value, const std::string& field, Date today,
                           bool required = true) {
  if (value.empty() && !required) return absl::OkStatus();
  auto d = RequireDate(value, field);
  if (!d.ok()) return d.status();
  return CheckNotFuture(*d, today, field);
}

absl::Status CheckTimestamp(const Timestamp& ts, bool present, const std::string& field,
                            Date today) {
  if (!present) return InvalidField(field, "required");
  if (ts.nanos() < 0 || ts.nanos() > 999999999 || ts.seconds() < -3786825600 /* 1850 */) {
    return InvalidField(field, "not a valid timestamp");
  }
  // One day of slack for clocks and time zones.
  const auto day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds{std::chrono::seconds{ts.seconds()}});
  if (day > today + std::chrono::days{1}) return InvalidField(field, "is in the future");
  return absl::OkStatus();
}

Date DayOf(const Timestamp& ts) {
  return std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds{std::chrono::seconds{ts.seconds()}});
}

}  // namespace

absl::Status ValidatePerson(icr::v1::Person& p, const ReferenceData& ref, const std::string& f,
                            Date today) {
  auto nhs = NormaliseNhsNumber(p.nhs_number(), f + ".nhs_number");
  if (!nhs.ok()) return nhs.status();
  p.set_nhs_number(*nhs);
  RETURN_IF_ERROR(CheckText(p.family_name(), f + ".family_name", 100, true));
  RETURN_IF_ERROR(CheckText(p.given_name(), f + ".given_name", 100, false));
  auto dob = RequireDate(p.date_of_birth(), f + ".date_of_birth");
  if (!dob.ok()) return dob.status();
  RETURN_IF_ERROR(CheckNotFuture(*dob, today, f + ".date_of_birth"));
  if (p.sex().empty()) p.set_sex("0");
  RETURN_IF_ERROR(ref.CheckCode("sex", p.sex(), f + ".sex"));
  if (p.ethnic_category().empty()) p.set_ethnic_category("99");
  p.set_ethnic_category(Upper(p.ethnic_category()));
  RETURN_IF_ERROR(ref.CheckCode("ethnic_category", p.ethnic_category(), f + ".ethnic_category"));
  p.set_postcode(Upper(p.postcode()));
  RETURN_IF_ERROR(CheckText(p.postcode(), f + ".postcode", 8, false));
  p.set_gp_practice_code(Upper(p.gp_practice_code()));
  if (!p.gp_practice_code().empty() && !IsOdsCodeSyntax(p.gp_practice_code())) {
    return InvalidField(f + ".gp_practice_code", "not an ODS code");
  }
  RETURN_IF_ERROR(ref.CheckCouncil(p.council_code(), f + ".council_code", false));
  RETURN_IF_ERROR(ref.CheckOrganisation(p.icb_code(), f + ".icb_code", {"icb"}, false));
  if (!p.date_of_death().empty()) {
    return InvalidField(f + ".date_of_death", "recorded by a death event, not by UpsertPerson");
  }
  for (int i = 0; i < p.local_identifiers_size(); ++i) {
    const auto& id = p.local_identifiers(i);
    const std::string path = f + ".local_identifiers[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckText(id.system(), path + ".system", 64, true));
    RETURN_IF_ERROR(CheckText(id.value(), path + ".value", 64, true));
  }
  return absl::OkStatus();
}

absl::Status ValidateEvent(icr::v1::Event& e, const ReferenceData& ref, const std::string& f,
                           Date today) {
  RETURN_IF_ERROR(CheckEnums(e, f));
  RETURN_IF_ERROR(CheckText(e.event_id(), f + ".event_id", 100, true));
  auto nhs = NormaliseNhsNumber(e.nhs_number(), f + ".nhs_number");
  if (!nhs.ok()) return nhs.status();
  e.set_nhs_number(*nhs);
  using K = icr::v1::Event::KindCase;
  switch (e.kind_case()) {
    case K::kReferralOpened: {
      const auto& r = e.referral_opened();
      const std::string p = f + ".referral_opened";
      RETURN_IF_ERROR(CheckRef(r.referral_id(), p + ".referral_id"));
      RETURN_IF_ERROR(ref.CheckOrganisation(r.provider_code(), p + ".provider_code", {"trust"},
                                            true, ParseDate(r.received_date())));
      RETURN_IF_ERROR(ref.CheckCode("team_type", r.team_type(), p + ".team_type"));
      RETURN_IF_ERROR(ref.CheckCode("service_area", r.service_area(), p + ".service_area"));
      RETURN_IF_ERROR(CheckPastDate(r.received_date(), p + ".received_date", today));
      return CheckText(r.source_of_referral(), p + ".source_of_referral", 64, false);
    }
    case K::kReferralClosed: {
      const auto& r = e.referral_closed();
      const std::string p = f + ".referral_closed";
      RETURN_IF_ERROR(CheckRef(r.referral_id(), p + ".referral_id"));
      RETURN_IF_ERROR(CheckPastDate(r.closed_date(), p + ".closed_date", today));
      return CheckText(r.reason(), p + ".reason", 200, false);
    }
    case K::kAdmission: {
      const auto& a = e.admission();
      const std::string p = f + ".admission";
      RETURN_IF_ERROR(CheckRef(a.spell_id(), p + ".spell_id"));
      RETURN_IF_ERROR(ref.CheckOrganisation(a.provider_code(), p + ".provider_code", {"trust"}));
      RETURN_IF_ERROR(
          CheckTimestamp(a.admitted_at(), a.has_admitted_at(), p + ".admitted_at", today));
      RETURN_IF_ERROR(ref.CheckCode("bed_type", a.bed_type(), p + ".bed_type"));
      RETURN_IF_ERROR(CheckText(a.admission_method(), p + ".admission_method", 8, false));
      return CheckText(a.referral_id(), p + ".referral_id", 64, false);
    }
    case K::kDischarge: {
      const auto& d = e.discharge();
      const std::string p = f + ".discharge";
      RETURN_IF_ERROR(CheckRef(d.spell_id(), p + ".spell_id"));
      RETURN_IF_ERROR(
          CheckTimestamp(d.discharged_at(), d.has_discharged_at(), p + ".discharged_at", today));
      RETURN_IF_ERROR(
          ref.CheckCode("discharge_method", d.discharge_method(), p + ".discharge_method"));
      return ref.CheckCode("discharge_destination", d.discharge_destination(),
                           p + ".discharge_destination", false);
    }
    case K::kDetentionStart: {
      const auto& d = e.detention_start();
      const std::string p = f + ".detention_start";
      RETURN_IF_ERROR(CheckRef(d.detention_id(), p + ".detention_id"));
      std::string code = d.legal_status_code();
      if (code.size() == 1) code = "0" + code;  // one- and two-digit forms appear in source data
      e.mutable_detention_start()->set_legal_status_code(code);
      const LegalStatus* ls = ref.FindLegalStatus(code);
      if (!ls)
        return InvalidField(p + ".legal_status_code", "unknown legal status code '" + code + "'");
      if (ls->s117_qualifying == "invalid" || code == "01") {
        return InvalidField(p + ".legal_status_code", "'" + code + "' is not a detention");
      }
      RETURN_IF_ERROR(CheckTimestamp(d.started_at(), d.has_started_at(), p + ".started_at", today));
      RETURN_IF_ERROR(ref.CheckOrganisation(d.provider_code(), p + ".provider_code", {"trust"}));
      return CheckText(d.spell_id(), p + ".spell_id", 64, false);
    }
    case K::kDetentionEnd: {
      const auto& d = e.detention_end();
      const std::string p = f + ".detention_end";
      RETURN_IF_ERROR(CheckRef(d.detention_id(), p + ".detention_id"));
      RETURN_IF_ERROR(CheckTimestamp(d.ended_at(), d.has_ended_at(), p + ".ended_at", today));
      return CheckText(d.end_reason(), p + ".end_reason", 64, false);
    }
    case K::kCareContact: {
      const auto& c = e.care_contact();
      const std::string p = f + ".care_contact";
      RETURN_IF_ERROR(CheckRef(c.contact_id(), p + ".contact_id"));
      RETURN_IF_ERROR(CheckText(c.referral_id(), p + ".referral_id", 64, false));
      RETURN_IF_ERROR(CheckPastDate(c.contact_date(), p + ".contact_date", today));
      RETURN_IF_ERROR(
          ref.CheckCode("attend_status", c.attend_status(), p + ".attend_status", false));
      if (!c.attend_status().empty()) {
        const bool attended =
            ref.FindCode("attend_status", c.attend_status())->group_code == "attended";
        if (attended != c.attended()) {
          return InvalidField(p + ".attended", "contradicts attend_status");
        }
      }
      RETURN_IF_ERROR(ref.CheckCode("consultation_mechanism", c.consultation_mechanism(),
                                    p + ".consultation_mechanism"));
      return ref.CheckCode("team_type", c.team_type(), p + ".team_type", false);
    }
    case K::kKeyWorkerAssigned: {
      const auto& k = e.key_worker_assigned();
      const std::string p = f + ".key_worker_assigned";
      RETURN_IF_ERROR(CheckRef(k.assignment_id(), p + ".assignment_id"));
      RETURN_IF_ERROR(CheckText(k.key_worker().name(), p + ".key_worker.name", 100, true));
      RETURN_IF_ERROR(CheckText(k.key_worker().role(), p + ".key_worker.role", 100, true));
      RETURN_IF_ERROR(CheckText(k.key_worker().contact(), p + ".key_worker.contact", 100, false));
      RETURN_IF_ERROR(ref.CheckOrganisation(k.key_worker().organisation_code(),
                                            p + ".key_worker.organisation_code",
                                            {"trust", "council"}));
      return CheckPastDate(k.start_date(), p + ".start_date", today);
    }
    case K::kKeyWorkerEnded: {
      const auto& k = e.key_worker_ended();
      const std::string p = f + ".key_worker_ended";
      RETURN_IF_ERROR(CheckRef(k.assignment_id(), p + ".assignment_id"));
      return CheckPastDate(k.end_date(), p + ".end_date", today);
    }
    case K::kEmploymentStatus: {
      const auto& s = e.employment_status();
      const std::string p = f + ".employment_status";
      RETURN_IF_ERROR(ref.CheckCode("employment_status", s.code(), p + ".code"));
      if (s.weekly_hours() < 0 || s.weekly_hours() > 100) {
        return InvalidField(p + ".weekly_hours", "must be between 0 and 100");
      }
      return CheckPastDate(s.recorded_date(), p + ".recorded_date", today);
    }
    case K::kAccommodationStatus: {
      const auto& s = e.accommodation_status();
      const std::string p = f + ".accommodation_status";
      RETURN_IF_ERROR(ref.CheckCode("accommodation_status", s.code(), p + ".code"));
      return CheckPastDate(s.recorded_date(), p + ".recorded_date", today);
    }
    case K::kCareAct: {
      const auto& c = e.care_act();
      const std::string p = f + ".care_act";
      RETURN_IF_ERROR(CheckRef(c.care_act_id(), p + ".care_act_id"));
      if (c.kind() == icr::v1::CareActEvent::KIND_UNSPECIFIED)
        return InvalidField(p + ".kind", "required");
      RETURN_IF_ERROR(
          ref.CheckCouncil(c.council_code(), p + ".council_code", true, ParseDate(c.start_date())));
      auto start = RequireDate(c.start_date(), p + ".start_date");
      if (!start.ok()) return start.status();
      RETURN_IF_ERROR(CheckNotFuture(*start, today, p + ".start_date"));
      auto end = OptionalDate(c.end_date(), p + ".end_date");
      if (!end.ok()) return end.status();
      if (*end && **end < *start) return InvalidField(p + ".end_date", "before start_date");
      RETURN_IF_ERROR(ref.CheckCode("care_act_delivery_mechanism", c.delivery_mechanism(),
                                    p + ".delivery_mechanism", false));
      RETURN_IF_ERROR(CheckPence(c.weekly_cost_pence(), p + ".weekly_cost_pence"));
      RETURN_IF_ERROR(CheckText(c.outcome(), p + ".outcome", 100, false));
      RETURN_IF_ERROR(CheckText(c.assessment_type(), p + ".assessment_type", 32, false));
      RETURN_IF_ERROR(CheckText(c.service_type(), p + ".service_type", 100, false));
      return CheckText(c.primary_support_reason(), p + ".primary_support_reason", 100, false);
    }
    case K::kCarerAssessment: {
      const auto& c = e.carer_assessment();
      const std::string p = f + ".carer_assessment";
      RETURN_IF_ERROR(CheckRef(c.carer_assessment_id(), p + ".carer_assessment_id"));
      RETURN_IF_ERROR(CheckText(c.carer_name(), p + ".carer_name", 100, true));
      RETURN_IF_ERROR(CheckText(c.relationship(), p + ".relationship", 64, false));
      RETURN_IF_ERROR(ref.CheckCouncil(c.council_code(), p + ".council_code"));
      RETURN_IF_ERROR(CheckPastDate(c.offered_date(), p + ".offered_date", today, false));
      RETURN_IF_ERROR(CheckPastDate(c.completed_date(), p + ".completed_date", today, false));
      if (!c.offered_date().empty() && !c.completed_date().empty() &&
          c.completed_date() < c.offered_date()) {
        return InvalidField(p + ".completed_date", "before offered_date");
      }
      return CheckText(c.outcome(), p + ".outcome", 100, false);
    }
    case K::kDeath: {
      return CheckPastDate(e.death().date_of_death(), f + ".death.date_of_death", today);
    }
    case K::kCtoStart: {
      const auto& c = e.cto_start();
      const std::string p = f + ".cto_start";
      RETURN_IF_ERROR(CheckRef(c.cto_id(), p + ".cto_id"));
      RETURN_IF_ERROR(CheckText(c.detention_id(), p + ".detention_id", 64, false));
      RETURN_IF_ERROR(CheckPastDate(c.start_date(), p + ".start_date", today));
      // The statutory expiry may lie ahead; it is never before the start.
      auto expiry = OptionalDate(c.expiry_date(), p + ".expiry_date");
      if (!expiry.ok()) return expiry.status();
      if (*expiry && FormatDate(**expiry) < c.start_date()) {
        return InvalidField(p + ".expiry_date", "before start_date");
      }
      return ref.CheckOrganisation(c.provider_code(), p + ".provider_code", {"trust"}, true,
                                   ParseDate(c.start_date()));
    }
    case K::kCtoEnd: {
      const auto& c = e.cto_end();
      const std::string p = f + ".cto_end";
      RETURN_IF_ERROR(CheckRef(c.cto_id(), p + ".cto_id"));
      RETURN_IF_ERROR(CheckPastDate(c.end_date(), p + ".end_date", today));
      return CheckText(c.end_reason(), p + ".end_reason", 64, false);
    }
    case K::kConditionalDischargeStart: {
      const auto& c = e.conditional_discharge_start();
      const std::string p = f + ".conditional_discharge_start";
      RETURN_IF_ERROR(CheckRef(c.conditional_discharge_id(), p + ".conditional_discharge_id"));
      RETURN_IF_ERROR(CheckText(c.detention_id(), p + ".detention_id", 64, false));
      RETURN_IF_ERROR(CheckPastDate(c.start_date(), p + ".start_date", today));
      return ref.CheckOrganisation(c.provider_code(), p + ".provider_code", {"trust"}, true,
                                   ParseDate(c.start_date()));
    }
    case K::kConditionalDischargeEnd: {
      const auto& c = e.conditional_discharge_end();
      const std::string p = f + ".conditional_discharge_end";
      RETURN_IF_ERROR(CheckRef(c.conditional_discharge_id(), p + ".conditional_discharge_id"));
      RETURN_IF_ERROR(CheckPastDate(c.end_date(), p + ".end_date", today));
      RETURN_IF_ERROR(CheckText(c.end_reason(), p + ".end_reason", 64, false));
      return CheckText(c.absolute_discharge_responsible(),
                       p + ".absolute_discharge_responsible", 64, false);
    }
    case K::KIND_NOT_SET:
      break;
  }
  return InvalidField(f, "event has no kind (referral_opened, admission, ...)");
}

absl::Status ValidateQuery(icr::v1::FindPeopleRequest& query) {
  const std::string& token = query.page().page_token();
  if (!token.empty() && !IsUuid(token)) {
    return InvalidField("page.page_token", "not a token returned by FindPeople");
  }
  switch (query.query_case()) {
    case icr::v1::FindPeopleRequest::kNameAndBirth: {
      const auto& q = query.name_and_birth();
      RETURN_IF_ERROR(CheckText(q.family_name(), "name_and_birth.family_name", 100, true));
      return RequireDate(q.date_of_birth(), "name_and_birth.date_of_birth").status();
    }
    case icr::v1::FindPeopleRequest::kPostcode:
      query.set_postcode(Upper(query.postcode()));
      return CheckText(query.postcode(), "postcode", 8, true);
    case icr::v1::FindPeopleRequest::kLocalIdentifier:
      RETURN_IF_ERROR(
          CheckText(query.local_identifier().system(), "local_identifier.system", 64, true));
      return CheckText(query.local_identifier().value(), "local_identifier.value", 64, true);
    case icr::v1::FindPeopleRequest::QUERY_NOT_SET:
      break;
  }
  return InvalidField("query", "one of name_and_birth, postcode or local_identifier");
}

std::string EventKind(const icr::v1::Event& e) {
  const auto* field = e.GetDescriptor()->FindFieldByNumber(static_cast<int>(e.kind_case()));
  return field ? field->name() : "unknown";
}

std::optional<Date> EventDate(const icr::v1::Event& e) {
  using K = icr::v1::Event::KindCase;
  auto date = [](const std::string& s) { return ParseDate(s); };
  switch (e.kind_case()) {
    case K::kReferralOpened:
      return date(e.referral_opened().received_date());
    case K::kReferralClosed:
      return date(e.referral_closed().closed_date());
    case K::kAdmission:
      return DayOf(e.admission().admitted_at());
    case K::kDischarge:
      return DayOf(e.discharge().discharged_at());
    case K::kDetentionStart:
      return DayOf(e.detention_start().started_at());
    case K::kDetentionEnd:
      return DayOf(e.detention_end().ended_at());
    case K::kCareContact:
      return date(e.care_contact().contact_date());
    case K::kKeyWorkerAssigned:
      return date(e.key_worker_assigned().start_date());
    case K::kEmploymentStatus:
      return date(e.employment_status().recorded_date());
    case K::kAccommodationStatus:
      return date(e.accommodation_status().recorded_date());
    case K::kCareAct:
      return date(e.care_act().start_date());
    case K::kCtoStart:
      return date(e.cto_start().start_date());
    case K::kConditionalDischargeStart:
      return date(e.conditional_discharge_start().start_date());
    default:
      return std::nullopt;  // closing records may follow a death
  }
}

std::string CanonicalJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

access::Write EventWrite(const icr::v1::Event& event, const std::string& org,
                         std::string* names_other) {
  using K = icr::v1::Event;
  std::string code, field;
  bool opening = false;
  switch (event.kind_case()) {
    case K::kReferralOpened:
      code = event.referral_opened().provider_code();
      field = "referral_opened.provider_code";
      opening = true;
      break;
    case K::kAdmission:
      code = event.admission().provider_code();
      field = "admission.provider_code";
      opening = true;
      break;
    case K::kDetentionStart:
      code = event.detention_start().provider_code();
      field = "detention_start.provider_code";
      opening = true;
      break;
    case K::kCtoStart:  // like a detention start (the order's responsible provider)
      code = event.cto_start().provider_code();
      field = "cto_start.provider_code";
      opening = true;
      break;
    case K::kConditionalDischargeStart:
      code = event.conditional_discharge_start().provider_code();
      field = "conditional_discharge_start.provider_code";
      opening = true;
      break;
    case K::kCareAct:
      code = event.care_act().council_code();
      field = "care_act.council_code";
      opening = event.care_act().kind() == icr::v1::CareActEvent::REQUEST;
      break;
    case K::kCarerAssessment:
      code = event.carer_assessment().council_code();
      field = "carer_assessment.council_code";
      opening = true;
      break;
    case K::kDeath:
      return access::Write::kDeath;
    default:
      return access::Write::kEvent;
  }
  if (!code.empty() && code != org) {
    *names_other = field;
    return access::Write::kEvent;
  }
  return opening && !code.empty() ? access::Write::kOpenRelationship : access::Write::kEvent;
}

bool ChangesDemographics(const icr::v1::Person& stored, const icr::v1::Person& incoming) {
  return stored.family_name() != incoming.family_name() ||
         stored.given_name() != incoming.given_name() ||
         stored.date_of_birth() != incoming.date_of_birth() || stored.sex() != incoming.sex() ||
         stored.ethnic_category() != incoming.ethnic_category() ||
         stored.postcode() != incoming.postcode() ||
         stored.gp_practice_code() != incoming.gp_practice_code() ||
         stored.council_code() != incoming.council_code() ||
         stored.icb_code() != incoming.icb_code();
}

namespace {

// A closing event's refusals, by the field they name (after the item's prefix).
struct ClosingText {
  const char* id_field;
  const char* what;
  const char* closed;
  const char* date_field;
  const char* early;
};

ClosingText TextOf(Closing closing) {
  switch (closing) {
    case Closing::kReferralClosed:
      return {".referral_closed.referral_id", "referral", "already closed",
              ".referral_closed.closed_date", "before the referral was received"};
    case Closing::kDischarge:
      return {".discharge.spell_id", "hospital admission", "already discharged",
              ".discharge.discharged_at", "before the admission"};
    case Closing::kDetentionEnd:
      return {".detention_end.detention_id", "detention", "already ended",
              ".detention_end.ended_at", "before the detention started"};
    case Closing::kKeyWorkerEnded:
      return {".key_worker_ended.assignment_id", "key worker assignment", "already ended",
              ".key_worker_ended.end_date", "before the assignment started"};
    case Closing::kCtoEnd:
      return {".cto_end.cto_id", "community treatment order", "already ended",
              ".cto_end.end_date", "before the community treatment order started"};
    case Closing::kConditionalDischargeEnd:
      return {".conditional_discharge_end.conditional_discharge_id", "conditional discharge",
              "already ended", ".conditional_discharge_end.end_date",
              "before the conditional discharge started"};
  }
  return {"", "row", "already closed", "", "before it started"};
}

}  // namespace

absl::Status CheckNotAfterDeath(const icr::v1::Event& event, const std::string& date_of_death,
                                const std::string& field) {
  if (date_of_death.empty()) return absl::OkStatus();
  const auto when = EventDate(event);
  if (when && FormatDate(*when) > date_of_death) {
    return RefusedField(field, "dated after the person's death");
  }
  return absl::OkStatus();
}

absl::Status CheckDeath(const std::string& date_of_death, const icr::v1::Person& person,
                        const std::optional<std::string>& latest_activity,
                        const std::string& field) {
  const std::string f = field + ".death.date_of_death";
  if (date_of_death < person.date_of_birth()) return RefusedField(f, "before the date of birth");
  if (!person.date_of_death().empty() && person.date_of_death() != date_of_death) {
    return RefusedField(f, "a different date of death is already recorded");
  }
  if (latest_activity && date_of_death < *latest_activity) {
    return RefusedField(f, "before activity already recorded");
  }
  return absl::OkStatus();
}

absl::Status CloseRefusal(Closing closing, const std::optional<ClosedRowFacts>& row,
                          const std::string& field) {
  const ClosingText text = TextOf(closing);
  const std::string id_field = field + text.id_field;
  if (!row)
    return RefusedField(id_field, std::string("no ") + text.what + " with this id for this person");
  if (row->closed) return RefusedField(id_field, text.closed);
  if (row->before_start) return RefusedField(field + text.date_field, text.early);
  return absl::AbortedError(id_field + ": changed by a concurrent call; send again");
}

absl::StatusOr<std::optional<Date>> ResidenceFrom(const std::string& value,
                                                  const icr::v1::Person& person, Date today,
                                                  const std::string& field) {
  if (value.empty()) return std::optional<Date>();
  auto from = ParseDate(value);
  if (!from) return InvalidField(field, "not a date (YYYY-MM-DD)");
  if (*from > today) return InvalidField(field, "after today");
  auto born = ParseDate(person.date_of_birth());
  if (born && *from < *born) return InvalidField(field, "before the person's date of birth");
  return from;
}

absl::StatusOr<ResidenceChange> PlanResidence(const std::optional<CurrentResidence>& current,
                                              const icr::v1::Person& person,
                                              const std::optional<Date>& residence_from, Date today,
                                              const std::string& field) {
  using Kind = ResidenceChange::Kind;
  if (!current) {
    if (person.postcode().empty() && person.council_code().empty() && person.icb_code().empty()) {
      return ResidenceChange{};
    }
    return ResidenceChange{Kind::kOpenFirst, residence_from};
  }
  if (current->postcode == person.postcode() && current->council_code == person.council_code() &&
      current->icb_code == person.icb_code()) {
    return ResidenceChange{};
  }
  const Date from = residence_from.value_or(today);
  if (current->from && from <= *current->from) {
    return RefusedField(field, "the current residence began on " + FormatDate(*current->from) +
                                   ": a move takes effect after it");
  }
  return ResidenceChange{Kind::kMove, from};
}

}  // namespace icr::record
