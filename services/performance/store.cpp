#include "services/performance/store.h"

#include <algorithm>

namespace icr::perf {
namespace {

// Every unit query takes $1 = period start, $2 = period end and returns the columns
// provider_code, icb_code, council_code, eth_code (the NHS ethnic category; AggregateSql maps it
// to the upper group), age_band, sex, in_num, in_den, amount, and
// a query with a detail breakdown (UnitQuery::detail_breakdown) also `detail`.
#define PERSON_DIMS                                                       \
  "p.icb_code AS icb_code, p.council_code AS council_code, "              \
  "p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS " \
  "age_band, p.sex AS sex "

// For S117 measures the council and ICB are the entitlement's responsible bodies.
#define S117_DIMS                                                                    \
  "e.responsible_icb_code AS icb_code, e.responsible_council_code AS council_code, " \
  "p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "            \
  "age_band, p.sex AS sex "

// The S117 indicators about entitlements are also broken down by the entitlement's qualifying
// section ("s3", "s37/41", ..., perf.qualifying_section_label).
#define S117_SECTION "perf.qualifying_section_label(e.qualifying_section) AS detail "

// Detail breakdowns: an indicator's own breakdown beyond the common ones (the values of
// perf.kpi_result.breakdown besides none, ethnicity, age_band and sex).
constexpr char kOverdueBand[] = "overdue_band";
constexpr char kEndReason[] = "end_reason";
constexpr char kQualifyingSection[] = "qualifying_section";

// True when `code` is in group `grp` of code list `list` on the period end $2 (versioned
// reference data). The code list is read once per query (an uncorrelated sub-select), not once
// per row; a NULL code is in no group.
#define IN_GROUP(list, code, grp) \
  "coalesce(" code " = ANY ((SELECT perf.group_codes('" list "', '" grp "', $2))::text[]), false)"

struct UnitQuery {
  const char* indicator_id;
  const char* sql;
  // The indicator's own breakdown, whose value for each row is the query's column `detail`;
  // nullptr when it has none (and then no `detail` column).
  const char* detail_breakdown = nullptr;
};

const UnitQuery kUnitQueries[] = {
    // 72-hour follow-up (FU-02): days, not hours; day 0 contacts do not count.
    {"FU72",
     "SELECT s.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM core.care_contact c WHERE c.person_id = s.person_id "
     "         AND c.attended AND c.contact_date > perf.local_date(s.discharged_at) "
     "         AND c.contact_date <= perf.local_date(s.discharged_at) + 3 "
     "         AND " IN_GROUP(
         "consultation_mechanism", "c.consultation_mechanism",
         "follow_up") ") "
                      "    OR EXISTS (SELECT 1 FROM core.hospital_spell r WHERE r.person_id = "
                      "s.person_id "
                      "         AND perf.local_date(r.admitted_at) > "
                      "perf.local_date(s.discharged_at) "
                      "         AND perf.local_date(r.admitted_at) <= "
                      "perf.local_date(s.discharged_at) + 3) "
                      "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
                      "FROM core.hospital_spell s JOIN core.person p USING (person_id) "
                      "WHERE perf.local_date(s.discharged_at) BETWEEN $1::date - 4 AND $2::date - "
                      "4 "
                      "  AND " IN_GROUP(
                          "bed_type", "s.bed_type",
                          "adult_acute") " "
                                         "  AND coalesce(s.discharge_method, '') NOT IN ('4', '5') "
                                         "  AND NOT " IN_GROUP(
                                             "discharge_destination",
                                             "coalesce(s.discharge_destination, '')",
                                             "fu72_excluded") " "
                                                              "  AND (p.date_of_death IS NULL OR "
                                                              "p.date_of_death > "
                                                              "perf.local_date(s.discharged_at) + "
                                                              "3)"},
    {"KEYWORKER",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM core.key_worker k WHERE k.person_id = o.person_id "
     "         AND k.start_date <= $2 AND (k.end_date IS NULL OR k.end_date > $2)) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
     "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
     "WHERE p.date_of_death IS NULL OR p.date_of_death > $2"},
    // New detentions: not short-term holds, guardianship or informal, and not following on
    // from another (non short-term) detention that was still in force.
    {"DETENTIONS",
     "SELECT d.provider_code AS provider_code, " PERSON_DIMS ", 1 AS in_num, NULL::int AS in_den, "
     "  NULL::numeric AS amount "
     "FROM core.detention d JOIN core.person p USING (person_id) "
     "JOIN core.mha_legal_status l ON l.code = d.legal_status_code "
     "WHERE perf.local_date(d.started_at) BETWEEN $1 AND $2 AND NOT l.short_term_hold "
     "  AND d.legal_status_code NOT IN ('01', '35', '36', '98', '99') "
     "  AND NOT EXISTS (SELECT 1 FROM core.detention e JOIN core.mha_legal_status el "
     "        ON el.code = e.legal_status_code "
     "      WHERE e.person_id = d.person_id AND NOT el.short_term_hold "
     "        AND e.started_at < d.started_at "
     "        AND (e.ended_at IS NULL OR e.ended_at >= d.started_at - interval '1 day'))"},
    // ASCOF employment and accommodation: latest status in the 12 months to period end.
    {"EMPLOYMENT",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN " IN_GROUP(
         "employment_status", "st.code",
         "paid") " THEN 1 ELSE 0 END AS in_num, "
                 "  1 AS in_den, NULL::numeric AS amount "
                 "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
                 "LEFT JOIN LATERAL (SELECT s.code FROM core.status_observation s "
                 "  WHERE s.person_id = o.person_id AND s.list_name = 'employment_status' "
                 "    AND s.recorded_date > ($2::date - interval '12 months')::date AND "
                 "s.recorded_date <= $2 "
                 "  ORDER BY s.recorded_date DESC, s.obs_pk DESC LIMIT 1) st ON true "
                 "WHERE perf.age_at(p.date_of_birth, $2) BETWEEN 18 AND 69 "
                 "  AND (p.date_of_death IS NULL OR p.date_of_death > $2)"},
    {"ACCOMMODATION",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN " IN_GROUP(
         "accommodation_status", "st.code",
         "settled") " THEN 1 ELSE 0 END "
                    "  AS in_num, 1 AS in_den, NULL::numeric AS amount "
                    "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
                    "LEFT JOIN LATERAL (SELECT s.code FROM core.status_observation s "
                    "  WHERE s.person_id = o.person_id AND s.list_name = 'accommodation_status' "
                    "    AND s.recorded_date > ($2::date - interval '12 months')::date AND "
                    "s.recorded_date <= $2 "
                    "  ORDER BY s.recorded_date DESC, s.obs_pk DESC LIMIT 1) st ON true "
                    "WHERE perf.age_at(p.date_of_birth, $2) BETWEEN 18 AND 69 "
                    "  AND (p.date_of_death IS NULL OR p.date_of_death > $2)"},
    {"EMPLOYMENT_RECORDED",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM core.status_observation s "
     "    WHERE s.person_id = o.person_id AND s.list_name = 'employment_status' "
     "      AND s.recorded_date > ($2::date - interval '12 months')::date AND s.recorded_date <= "
     "$2) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
     "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
     "WHERE perf.age_at(p.date_of_birth, $2) BETWEEN 18 AND 69 "
     "  AND (p.date_of_death IS NULL OR p.date_of_death > $2)"},
    {"ACCOMMODATION_RECORDED",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM core.status_observation s "
     "    WHERE s.person_id = o.person_id AND s.list_name = 'accommodation_status' "
     "      AND s.recorded_date > ($2::date - interval '12 months')::date AND s.recorded_date <= "
     "$2) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
     "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
     "WHERE perf.age_at(p.date_of_birth, $2) BETWEEN 18 AND 69 "
     "  AND (p.date_of_death IS NULL OR p.date_of_death > $2)"},
    // Long-term community support for mental health open at period end (one per person).
    {"SELF_DIRECTED",
     "SELECT NULL::text AS provider_code, p.icb_code AS icb_code, s.council_code AS council_code, "
     "  p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "
     "  age_band, p.sex AS sex, "
     "  CASE WHEN " IN_GROUP("care_act_delivery_mechanism", "s.delivery_mechanism",
                             "self_directed") " THEN 1 ELSE 0 END AS in_num, "
                                              "  1 AS in_den, NULL::numeric AS amount "
                                              "FROM perf.mh_community_support($2) s JOIN "
                                              "core.person p USING (person_id)"},
    {"DIRECT_PAYMENTS",
     "SELECT NULL::text AS provider_code, p.icb_code AS icb_code, s.council_code AS council_code, "
     "  p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "
     "  age_band, p.sex AS sex, "
     "  CASE WHEN s.delivery_mechanism = 'direct_payment' THEN 1 ELSE 0 END AS in_num, "
     "  1 AS in_den, NULL::numeric AS amount "
     "FROM perf.mh_community_support($2) s JOIN core.person p USING (person_id)"},
    {"CARE_ACT_ASSESSMENTS",
     "SELECT NULL::text AS provider_code, p.icb_code AS icb_code, a.council_code AS council_code, "
     "  p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "
     "  age_band, p.sex AS sex, 1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount "
     "FROM core.social_care_event a JOIN core.person p USING (person_id) "
     "WHERE a.kind = 'assessment' AND a.end_date BETWEEN $1 AND $2"},
    {"CARE_ACT_DAYS",
     "SELECT NULL::text AS provider_code, p.icb_code AS icb_code, a.council_code AS council_code, "
     "  p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "
     "  age_band, p.sex AS sex, 1 AS in_num, NULL::int AS in_den, "
     "  (a.end_date - rq.start_date)::numeric AS amount "
     "FROM core.social_care_event a JOIN core.person p USING (person_id) "
     "JOIN LATERAL (SELECT r.start_date FROM core.social_care_event r "
     "  WHERE r.person_id = a.person_id AND r.council_code = a.council_code "
     "    AND r.kind = 'request' AND r.start_date <= a.end_date "
     "  ORDER BY r.start_date DESC LIMIT 1) rq ON true "
     "WHERE a.kind = 'assessment' AND a.end_date BETWEEN $1 AND $2"},
    {"CARERS_ASSESSED",
     "SELECT NULL::text AS provider_code, p.icb_code AS icb_code, c.council_code AS council_code, "
     "  p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS "
     "  age_band, p.sex AS sex, 1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount "
     "FROM core.carer_assessment c JOIN core.person p USING (person_id) "
     "WHERE c.completed_date BETWEEN $1 AND $2"},
    // Care plan agreed or reviewed in the 12 months to period end (CC-02 pattern).
    {"PLAN12",
     "SELECT o.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM careplan.plan cp JOIN careplan.plan_version v USING "
     "(plan_id) "
     "         WHERE cp.person_id = o.person_id AND v.change = 'agreed' "
     "           AND perf.local_date(v.created_at) > ($2::date - interval '12 months')::date "
     "           AND perf.local_date(v.created_at) <= $2) "
     "    OR EXISTS (SELECT 1 FROM careplan.review r WHERE r.person_id = o.person_id "
     "           AND r.review_date > ($2::date - interval '12 months')::date AND r.review_date <= "
     "$2) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
     "FROM perf.open_adult_mh($2) o JOIN core.person p USING (person_id) "
     "WHERE o.received_date <= ($2::date - interval '12 months')::date "
     "  AND (p.date_of_death IS NULL OR p.date_of_death > $2)"},
    // S117 register: council and ICB scopes are the responsible bodies, provider the detaining one.
    {"S117_ACTIVE",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id)",
     kQualifyingSection},
    {"S117_REGISTERED_28D",
     "SELECT s.provider_code AS provider_code, " PERSON_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM s117.episode e WHERE e.person_id = s.person_id "
     "         AND e.state <> 'VOID' AND e.detention_start_date <= "
     "perf.local_date(s.discharged_at) "
     "         AND perf.local_date(e.created_at) <= perf.local_date(s.discharged_at) + 28) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount "
     "FROM core.hospital_spell s JOIN core.person p USING (person_id) "
     "WHERE perf.local_date(s.discharged_at) BETWEEN $1 AND $2 "
     "  AND EXISTS (SELECT 1 FROM core.detention d JOIN core.mha_legal_status l "
     "        ON l.code = d.legal_status_code AND l.s117_qualifying = 'yes' "
     "      WHERE d.person_id = s.person_id AND d.started_at <= s.discharged_at "
     "        AND (d.ended_at IS NULL OR d.ended_at >= s.admitted_at))"},
    {"S117_JOINT_PLAN",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM careplan.plan cp "
     "         JOIN careplan.plan_version v ON v.plan_id = cp.plan_id AND v.version = "
     "cp.agreed_version "
     "         WHERE cp.person_id = e.person_id AND cp.agreed_s117 "
     "           AND perf.local_date(cp.agreed_at) <= $2 "
     "           AND greatest(perf.local_date(cp.agreed_at), cp.last_review_date) "
     "               > ($2::date - interval '12 months')::date "
     "           AND (SELECT count(DISTINCT so.agency) FROM careplan.signoff so "
     "                 WHERE so.plan_id = cp.plan_id AND so.version = cp.signed_version) = 2 "
     "           AND NOT EXISTS (SELECT 1 FROM "
     "jsonb_array_elements(coalesce(v.content->'interventions', '[]')) i "
     "                 WHERE coalesce((i->>'is_s117')::boolean, false) "
     "                   AND coalesce(i->>'funder', 'FUNDER_UNSPECIFIED') IN "
     "('FUNDER_UNSPECIFIED', 'SELF'))) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "WHERE e.effective_from <= $2::date - 28",
     kQualifyingSection},
    {"S117_PLAN_AT_DISCHARGE",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM careplan.plan cp JOIN careplan.plan_version v USING "
     "(plan_id) "
     "         WHERE cp.person_id = e.person_id AND v.change = 'agreed' "
     "           AND coalesce((v.content->>'is_s117_aftercare_plan')::boolean, false) "
     "           AND perf.local_date(v.created_at) <= e.effective_from) "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM s117.episode e JOIN core.person p USING (person_id) "
     "WHERE e.state <> 'VOID' AND e.effective_from BETWEEN $1 AND $2",
     kQualifyingSection},
    {"S117_REVIEWED_12M",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", "
     "  CASE WHEN EXISTS (SELECT 1 FROM s117.review r WHERE r.episode_id = e.episode_id "
     "         AND r.review_date > ($2::date - interval '12 months')::date AND r.review_date <= $2 "
     "         AND r.council_rep_name <> '' AND r.health_rep_name <> '') "
     "  THEN 1 ELSE 0 END AS in_num, 1 AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "WHERE e.effective_from <= ($2::date - interval '12 months')::date",
     kQualifyingSection},
    // Next review due: from the latest review on or before period end, else 12 months after
    // the entitlement came into force; overdue when that is before period end by more than the
    // S117 policy's review_overdue_tolerance_days (as the register's overdue filter). Banded
    // by how long overdue (perf.overdue_band), each band including its upper edge: "0-3
    // months" = due on or after period end minus 3 months, "3-6 months" = due on or after
    // period end minus 6 months and before minus 3, "6-12 months" = on or after minus 12 and
    // before minus 6, "Over 12 months" = before period end minus 12 months (calendar months, as
    // PostgreSQL's date - interval: 31 October minus 6 months is 30 April).
    {"S117_OVERDUE",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, perf.overdue_band(nr.due, $2) AS detail "
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "CROSS JOIN LATERAL (SELECT coalesce((SELECT r.next_review_due FROM s117.review r "
     "    WHERE r.episode_id = e.episode_id AND r.review_date <= $2 "
     "    ORDER BY r.review_date DESC LIMIT 1), "
     "  (e.effective_from + interval '12 months')::date) AS due) nr "
     "WHERE nr.due + coalesce((SELECT t.value::int FROM s117.policy t "
     "    WHERE t.key = 'review_overdue_tolerance_days'), 0) < $2",
     kOverdueBand},
    // By reason: the end state (VOID, recorded in error, is not an end).
    {"S117_ENDED",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, "
     "  CASE e.state WHEN 'ENDED_DISCHARGED' THEN 'Joint discharge' "
     "    WHEN 'ENDED_SUPERSEDED' THEN 'Superseded by re-detention' "
     "    WHEN 'ENDED_DECEASED' THEN 'Died' END AS detail "
     "FROM s117.episode e JOIN core.person p USING (person_id) "
     "WHERE e.state IN ('ENDED_DISCHARGED', 'ENDED_SUPERSEDED', 'ENDED_DECEASED') "
     "  AND e.ended_on BETWEEN $1 AND $2",
     kEndReason},
    {"S117_END_EXCEPTIONS",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM s117.episode e JOIN core.person p USING (person_id) "
     "WHERE e.state = 'ENDED_DISCHARGED' AND e.ended_on BETWEEN $1 AND $2 "
     "  AND (SELECT count(DISTINCT d.body) FROM s117.end_decision d "
     "        WHERE d.episode_id = e.episode_id AND d.rescinded_at IS NULL) < 2",
     kQualifyingSection},
    {"S117_STALE",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "WHERE NOT EXISTS (SELECT 1 FROM core.referral r WHERE r.person_id = e.person_id "
     "        AND r.received_date <= $2 AND (r.closed_date IS NULL OR r.closed_date > $2)) "
     "  AND NOT EXISTS (SELECT 1 FROM s117.review r WHERE r.episode_id = e.episode_id "
     "        AND r.review_date > ($2::date - interval '12 months')::date AND r.review_date <= $2)",
     kQualifyingSection},
    {"S117_COST_COUNCIL",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, l.weekly_cost_pence * l.council_pct / 10000.0 AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "JOIN s117.service_line l ON l.episode_id = e.episode_id AND l.is_s117 "
     "  AND l.start_date <= $2 AND (l.end_date IS NULL OR l.end_date > $2)",
     kQualifyingSection},
    {"S117_COST_ICB",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, l.weekly_cost_pence * l.icb_pct / 10000.0 AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "JOIN s117.service_line l ON l.episode_id = e.episode_id AND l.is_s117 "
     "  AND l.start_date <= $2 AND (l.end_date IS NULL OR l.end_date > $2)",
     kQualifyingSection},
    {"S117_SELF_DIRECTED",
     "SELECT e.detaining_provider_code AS provider_code, " S117_DIMS ", 1 AS in_num, "
     "  NULL::int AS in_den, NULL::numeric AS amount, " S117_SECTION
     "FROM perf.s117_in_force($2) e JOIN core.person p USING (person_id) "
     "WHERE EXISTS (SELECT 1 FROM s117.service_line l WHERE l.episode_id = e.episode_id "
     "  AND l.is_s117 AND l.delivery_mode IN ('DIRECT_PAYMENT', 'PHB') "
     "  AND l.start_date <= $2 AND (l.end_date IS NULL OR l.end_date > $2))",
     kQualifyingSection},
};

// Aggregates a unit query ($1 start, $2 end, $3 indicator id, $4 kind) for every scope and
// breakdown: England (all), each provider, ICB and council, each crossed with no breakdown,
// ethnicity, age band, sex and the query's detail breakdown if it has one. Rows come out in
// perf.kpi_result's column order.
std::string AggregateSql(const UnitQuery& q) {
  // The detail breakdown's name is a constant of this file, never input.
  const std::string detail = q.detail_breakdown ? q.detail_breakdown : "";
  const std::string detail_name =
      detail.empty() ? "" : "       WHEN GROUPING(detail) = 0 THEN '" + detail + "' ";
  const std::string detail_value =
      detail.empty() ? "" : "       WHEN GROUPING(detail) = 0 THEN detail ";
  const std::string detail_sets = detail.empty()
                                      ? ""
                                      : ", (detail), (provider_code, detail), (icb_code, detail), "
                                        "(council_code, detail)";
  return std::string(
             "SELECT $3::text, $1::text, scope_type, scope_code, breakdown, breakdown_value, "
             "  num::text, den::text, "
             "  CASE $4 WHEN 'ratio' THEN CASE WHEN den > 0 THEN round(100.0 * num / den, 2) END "
             "          WHEN 'count' THEN num WHEN 'sum' THEN total ELSE median END::text "
             "FROM (SELECT "
             "  CASE WHEN GROUPING(provider_code) = 0 THEN 'provider' "
             "       WHEN GROUPING(icb_code) = 0 THEN 'icb' "
             "       WHEN GROUPING(council_code) = 0 THEN 'council' ELSE 'all' END AS scope_type, "
             "  coalesce(CASE WHEN GROUPING(provider_code) = 0 THEN provider_code "
             "       WHEN GROUPING(icb_code) = 0 THEN icb_code "
             "       WHEN GROUPING(council_code) = 0 THEN council_code ELSE '' END, '') AS "
             "scope_code, "
             "  CASE WHEN GROUPING(eth_group) = 0 THEN 'ethnicity' "
             "       WHEN GROUPING(age_band) = 0 THEN 'age_band' "
             "       WHEN GROUPING(sex) = 0 THEN 'sex' ") +
         detail_name +
         "ELSE 'none' END AS breakdown, "
         "  coalesce(CASE WHEN GROUPING(eth_group) = 0 THEN eth_group "
         "       WHEN GROUPING(age_band) = 0 THEN age_band "
         "       WHEN GROUPING(sex) = 0 THEN sex " +
         detail_value +
         "ELSE '' END, 'Unknown') AS breakdown_value, "
         "  coalesce(sum(in_num), 0) AS num, sum(in_den) AS den, round(sum(amount), 2) AS total, "
         "  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY amount))::numeric, 1) AS median "
         "FROM (SELECT u.*, coalesce(m.group_code, 'Unknown') AS eth_group FROM (" +
         q.sql +
         ") u LEFT JOIN perf.ethnic_upper_group m ON m.code = u.eth_code) u "
         "GROUP BY GROUPING SETS ((), (eth_group), (age_band), (sex), "
         "(provider_code), (provider_code, eth_group), (provider_code, age_band), (provider_code, "
         "sex), "
         "(icb_code), (icb_code, eth_group), (icb_code, age_band), (icb_code, sex), "
         "(council_code), (council_code, eth_group), (council_code, age_band), (council_code, "
         "sex)" +
         detail_sets + ")) g WHERE scope_type = 'all' OR scope_code <> ''";
}

struct Compiled {
  std::vector<std::string> names, sqls;  // kept alive for Statement's const char*
  std::vector<Statement> statements;
};

const Statement kIndicators{
    "perf_indicators",
    "SELECT indicator_id, version, name, owner, grp, definition, unit, kind, direction, "
    "target::float8 FROM perf.indicator WHERE active ORDER BY display_order, indicator_id"};
const Statement kSharedPolicy{
    "perf_shared_policy",
    "SELECT coalesce((SELECT value FROM perf.setting WHERE key = 'shared_disclosure_policy'), "
    "'mhsds')"};
// For this transaction: no JIT (compiling the indicator queries took about a second each, more
// than running them over 100,000 people) and room to sort in memory.
const Statement kComputeSettings{
    "perf_compute_settings",
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"};
const Statement kDeleteMonth{"perf_delete_month",
                             "DELETE FROM perf.kpi_result WHERE period_start = $1::date"};
const Statement kKinds{"perf_kinds", "SELECT indicator_id, kind FROM perf.indicator WHERE active"};
#define FIGURE_COLUMNS                                                                        \
  "indicator_id, period_start::text, breakdown_value, numerator::float8, "                    \
  "denominator::float8, value::float8, (extract(epoch FROM computed_at) * 1000000)::bigint, " \
  "(SELECT kind FROM perf.indicator i WHERE i.indicator_id = r.indicator_id) "
const Statement kFigures{"perf_figures",
                         "SELECT " FIGURE_COLUMNS
                         "FROM perf.kpi_result r WHERE period_start = $1::date "
                         "AND scope_type = $2 AND scope_code = $3 AND breakdown = $4 "
                         "ORDER BY indicator_id, breakdown_value"};
const Statement kTotals{"perf_totals",
                        "SELECT " FIGURE_COLUMNS
                        "FROM perf.kpi_result r WHERE period_start BETWEEN $1::date AND "
                        "$2::date AND scope_type = $3 AND scope_code = $4 AND breakdown = 'none' "
                        "AND ($5 = '' OR indicator_id = $5) ORDER BY indicator_id, period_start"};
const Statement kAll{"perf_all_figures",
                     "SELECT " FIGURE_COLUMNS
                     ", breakdown FROM perf.kpi_result r WHERE period_start BETWEEN "
                     "$1::date AND $2::date AND scope_type = $3 AND scope_code = $4 "
                     "ORDER BY period_start, indicator_id, breakdown, breakdown_value"};

const Compiled& Compile() {
  static const Compiled* compiled = [] {
    auto* c = new Compiled();
    for (const auto& q : kUnitQueries) {
      c->names.push_back(std::string("perf_compute_") + q.indicator_id);
      c->sqls.push_back(AggregateSql(q));
    }
    for (size_t i = 0; i < c->names.size(); ++i) {
      c->statements.push_back({c->names[i].c_str(), c->sqls[i].c_str()});
    }
    for (const auto& s : {kIndicators, kSharedPolicy, kComputeSettings, kDeleteMonth, kKinds,
                          kFigures, kTotals, kAll}) {
      c->statements.push_back(s);
    }
    return c;
  }();
  return *compiled;
}

std::optional<double> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

StoredFigure FigureFromRow(const pqxx::row& r) {
  StoredFigure f;
  f.indicator_id = r[0].c_str();
  f.period_start = r[1].c_str();
  f.breakdown_value = r[2].c_str();
  f.raw.numerator = Opt(r[3]);
  f.raw.denominator = Opt(r[4]);
  f.raw.value = Opt(r[5]);
  f.computed_at_us = r[6].as<int64_t>();
  f.raw.kind = r[7].c_str();
  return f;
}

}  // namespace

const std::vector<Statement>& PerformanceStore::Statements() { return Compile().statements; }

const std::vector<std::string>& PerformanceStore::Breakdowns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"none", "ethnicity", "age_band", "sex"};
    for (const auto& q : kUnitQueries) {
      if (q.detail_breakdown &&
          std::find(out.begin(), out.end(), q.detail_breakdown) == out.end()) {
        out.push_back(q.detail_breakdown);
      }
    }
    return out;
  }();
  return names;
}

std::vector<IndicatorDef> PerformanceStore::Indicators(pqxx::transaction_base& tx) {
  std::vector<IndicatorDef> out;
  for (const auto& r : tx.exec_prepared(kIndicators.name)) {
    IndicatorDef d;
    d.id = r[0].c_str();
    d.version = r[1].as<int>();
    d.name = r[2].c_str();
    d.owner = r[3].c_str();
    d.group = r[4].c_str();
    d.definition = r[5].c_str();
    d.unit = r[6].c_str();
    d.kind = r[7].c_str();
    d.direction = r[8].c_str();
    d.target = Opt(r[9]);
    for (const auto& q : kUnitQueries) {
      if (d.id == q.indicator_id && q.detail_breakdown) d.detail_breakdown = q.detail_breakdown;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string PerformanceStore::SharedPolicy(pqxx::transaction_base& tx) {
  return tx.exec_prepared1(kSharedPolicy.name)[0].c_str();
}

std::vector<ResultRow> PerformanceStore::ComputeMonth(pqxx::transaction_base& tx,
                                                      const Month& month) {
  tx.exec_prepared(kComputeSettings.name);
  std::map<std::string, std::string> kinds;
  for (const auto& r : tx.exec_prepared(kKinds.name)) kinds[r[0].c_str()] = r[1].c_str();
  std::vector<ResultRow> rows;
  for (const auto& q : kUnitQueries) {
    auto kind = kinds.find(q.indicator_id);
    if (kind == kinds.end()) continue;  // retired indicator
    for (const auto& r :
         tx.exec_prepared(std::string("perf_compute_") + q.indicator_id, FormatDate(month.first()),
                          FormatDate(month.last()), q.indicator_id, kind->second)) {
      auto opt = [&](int i) {
        return r[i].is_null() ? std::optional<std::string>() : std::string(r[i].c_str());
      };
      rows.emplace_back(r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str(),
                        r[5].c_str(), opt(6), opt(7), opt(8));
    }
  }
  return rows;
}

int64_t PerformanceStore::ReplaceMonth(pqxx::transaction_base& tx, const Month& month,
                                       const std::vector<ResultRow>& rows) {
  tx.exec_prepared(kDeleteMonth.name, FormatDate(month.first()));
  pqxx::stream_to out(tx, "perf.kpi_result",
                      std::vector<std::string>{"indicator_id", "period_start", "scope_type",
                                               "scope_code", "breakdown", "breakdown_value",
                                               "numerator", "denominator", "value"});
  for (const auto& row : rows) out << row;
  out.complete();
  return static_cast<int64_t>(rows.size());
}

std::vector<StoredFigure> PerformanceStore::Figures(pqxx::transaction_base& tx, const Month& month,
                                                    const std::string& scope_type,
                                                    const std::string& scope_code,
                                                    const std::string& breakdown) {
  std::vector<StoredFigure> out;
  for (const auto& r : tx.exec_prepared(kFigures.name, FormatDate(month.first()), scope_type,
                                        scope_code, breakdown)) {
    out.push_back(FigureFromRow(r));
  }
  return out;
}

std::vector<StoredFigure> PerformanceStore::Totals(pqxx::transaction_base& tx, const Month& from,
                                                   const Month& to, const std::string& scope_type,
                                                   const std::string& scope_code,
                                                   const std::string& indicator_id) {
  std::vector<StoredFigure> out;
  for (const auto& r :
       tx.exec_prepared(kTotals.name, FormatDate(from.first()), FormatDate(to.first()), scope_type,
                        scope_code, indicator_id)) {
    out.push_back(FigureFromRow(r));
  }
  return out;
}

std::vector<std::pair<std::string, StoredFigure>> PerformanceStore::AllFigures(
    pqxx::transaction_base& tx, const Month& from, const Month& to, const std::string& scope_type,
    const std::string& scope_code) {
  std::vector<std::pair<std::string, StoredFigure>> out;
  for (const auto& r : tx.exec_prepared(kAll.name, FormatDate(from.first()), FormatDate(to.first()),
                                        scope_type, scope_code)) {
    out.emplace_back(r[8].c_str(), FigureFromRow(r));
  }
  return out;
}

}  // namespace icr::perf
