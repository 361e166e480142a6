-- The integrated record of person $1 as the protobuf JSON of icr.v1.IntegratedRecord (nulls
-- stripped; timestamps in RFC 3339 UTC, whole seconds, as protobuf writes them), with its version
-- (migration 0013) read in the same snapshot: the key under which the body may be kept. One CTE
-- per part of the record. Every table read here must carry the record-stamp triggers of migration
-- 0010 (reference tables: the cache-clearing trigger), or kept bodies would miss its changes.
WITH person AS (
  SELECT json_build_object(
    'person_id', p.person_id, 'nhs_number', p.nhs_number, 'family_name', p.family_name,
    'given_name', p.given_name, 'date_of_birth', p.date_of_birth, 'sex', p.sex,
    'ethnic_category', p.ethnic_category, 'postcode', p.postcode,
    'gp_practice_code', p.gp_practice_code, 'council_code', p.council_code,
    'icb_code', p.icb_code, 'date_of_death', p.date_of_death, 'version', p.version,
    'local_identifiers', (
      SELECT json_agg(json_build_object('system', i.system, 'value', i.value)
                      ORDER BY i.system, i.value)
      FROM core.person_identifier i
      WHERE i.person_id = p.person_id)) AS j
  FROM core.person p
  WHERE p.person_id = $1::uuid
),
open_referrals AS (
  SELECT json_agg(json_build_object(
    'referral_id', r.referral_id, 'provider_code', r.provider_code, 'team_type', r.team_type,
    'service_area', r.service_area, 'received_date', r.received_date)
    ORDER BY r.received_date DESC, r.referral_id) AS j
  FROM core.referral r
  WHERE r.person_id = $1::uuid AND r.closed_date IS NULL
),
-- The open spell, else the latest.
hospital_stay AS (
  SELECT json_build_object(
    'spell_id', s.spell_id, 'provider_code', s.provider_code,
    'admitted_at', to_char(s.admitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'discharged_at', to_char(s.discharged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'bed_type', s.bed_type, 'discharge_method', s.discharge_method,
    'discharge_destination', s.discharge_destination) AS j
  FROM core.hospital_spell s
  WHERE s.person_id = $1::uuid
  ORDER BY (s.discharged_at IS NULL) DESC, s.admitted_at DESC
  LIMIT 1
),
current_detention AS (
  SELECT json_build_object(
    'detention_id', d.detention_id, 'legal_status_code', d.legal_status_code,
    'legal_status_description', l.description, 's117_qualifying', l.s117_qualifying = 'yes',
    'started_at', to_char(d.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) AS j
  FROM core.detention d
  JOIN core.mha_legal_status l ON l.code = d.legal_status_code
  WHERE d.person_id = $1::uuid AND d.ended_at IS NULL
  ORDER BY d.started_at DESC
  LIMIT 1
),
-- The community treatment order in force, else the latest; the same for a conditional discharge.
cto AS (
  SELECT json_build_object(
    'cto_id', c.cto_id, 'detention_id', nullif(c.detention_id, ''),
    'provider_code', c.provider_code, 'start_date', c.start_date, 'expiry_date', c.expiry_date,
    'end_date', c.end_date, 'end_reason', nullif(c.end_reason, '')) AS j
  FROM core.community_treatment_order c
  WHERE c.person_id = $1::uuid
  ORDER BY (c.end_date IS NULL) DESC, c.start_date DESC, c.cto_id
  LIMIT 1
),
conditional_discharge AS (
  SELECT json_build_object(
    'conditional_discharge_id', c.conditional_discharge_id,
    'detention_id', nullif(c.detention_id, ''), 'provider_code', c.provider_code,
    'start_date', c.start_date, 'end_date', c.end_date,
    'end_reason', nullif(c.end_reason, ''),
    'absolute_discharge_responsible', nullif(c.absolute_discharge_responsible, '')) AS j
  FROM core.conditional_discharge c
  WHERE c.person_id = $1::uuid
  ORDER BY (c.end_date IS NULL) DESC, c.start_date DESC, c.conditional_discharge_id
  LIMIT 1
),
key_worker AS (
  SELECT json_build_object(
    'assignment_id', k.assignment_id,
    'key_worker', json_build_object('name', k.worker_name, 'role', k.worker_role,
                                    'organisation_code', k.worker_org_code,
                                    'contact', k.worker_contact),
    'start_date', k.start_date) AS j
  FROM core.key_worker k
  WHERE k.person_id = $1::uuid AND k.end_date IS NULL
  ORDER BY k.start_date DESC
  LIMIT 1
),
-- The latest observation of each status list.
status AS (
  SELECT DISTINCT ON (o.list_name) o.list_name,
    json_build_object('code', o.code, 'description', c.description,
                      'recorded_date', o.recorded_date, 'recorded_by', o.recording_org) AS j
  FROM core.status_observation o
  LEFT JOIN core.code_list c ON c.list_name = o.list_name AND c.code = o.code
  WHERE o.person_id = $1::uuid
    AND o.list_name IN ('employment_status', 'accommodation_status')
  ORDER BY o.list_name, o.recorded_date DESC, o.obs_pk DESC
),
-- Assessments, and services not ended: the 20 latest.
care_act_assessments AS (
  SELECT json_agg(x.j ORDER BY x.start_date DESC) AS j
  FROM (
    SELECT e.start_date, json_build_object(
      'care_act_id', e.care_act_id, 'kind', upper(e.kind), 'council_code', e.council_code,
      'start_date', e.start_date, 'end_date', e.end_date, 'outcome', e.outcome,
      'assessment_type', e.assessment_type, 'service_type', e.service_type,
      'delivery_mechanism', e.delivery_mechanism,
      'primary_support_reason', e.primary_support_reason,
      'weekly_cost_pence', e.weekly_cost_pence) AS j
    FROM core.social_care_event e
    WHERE e.person_id = $1::uuid
      AND (e.kind = 'assessment'
           OR (e.kind = 'service' AND (e.end_date IS NULL OR e.end_date >= current_date)))
    ORDER BY e.start_date DESC
    LIMIT 20) x
),
carers AS (
  SELECT json_agg(json_build_object(
    'carer_assessment_id', ca.carer_assessment_id, 'carer_name', ca.carer_name,
    'relationship', ca.relationship, 'council_code', ca.council_code,
    'offered_date', ca.offered_date, 'completed_date', ca.completed_date,
    'outcome', ca.outcome) ORDER BY ca.carer_name) AS j
  FROM core.carer_assessment ca
  WHERE ca.person_id = $1::uuid
),
-- Where the person lived (core.residence), newest first.
residence_history AS (
  SELECT json_agg(json_build_object(
    'postcode', r.postcode, 'council_code', r.council_code, 'icb_code', r.icb_code,
    'from_date', r.from_date, 'to_date', r.to_date, 'source', r.source,
    'recorded_by', r.recorded_by)
    ORDER BY r.to_date DESC NULLS FIRST, r.from_date DESC NULLS LAST, r.residence_id DESC) AS j
  FROM core.residence r
  WHERE r.person_id = $1::uuid
),
-- The person's open care plan (careplan schema, CarePlanService).
care_plan AS (
  SELECT json_build_object(
    'plan_id', cp.plan_id, 'version', cp.current_version, 'status', cp.status,
    'key_worker', json_build_object('name', v.content->'key_worker'->>'name',
                                    'role', v.content->'key_worker'->>'role',
                                    'organisation_code', cp.key_worker_org,
                                    'contact', v.content->'key_worker'->>'contact'),
    'next_review_date', cp.next_review_date,
    'is_s117_aftercare_plan', cp.is_s117_aftercare_plan) AS j
  FROM careplan.plan cp
  JOIN careplan.plan_version v ON v.plan_id = cp.plan_id AND v.version = cp.current_version
  WHERE cp.person_id = $1::uuid AND cp.status <> 'CLOSED'
  LIMIT 1
),
-- The S117 entitlement (s117 schema): the open one, else the most recent, with its open S117
-- aftercare services.
s117 AS (
  SELECT json_build_object(
    'entitlement_id', e.episode_id, 'state', e.state,
    'responsible_council_code', e.responsible_council_code,
    'responsible_icb_code', e.responsible_icb_code, 'next_review_due', e.next_review_due,
    'aftercare_services', (
      SELECT json_agg(coalesce(nullif(sl.description, ''), st.description)
                      ORDER BY coalesce(nullif(sl.description, ''), st.description))
      FROM s117.service_line sl
      LEFT JOIN s117.service_type st ON st.code = sl.service_type
      WHERE sl.episode_id = e.episode_id
        AND sl.is_s117
        AND (sl.end_date IS NULL OR sl.end_date > current_date))) AS j
  FROM s117.episode e
  WHERE e.person_id = $1::uuid AND e.state <> 'VOID'
  ORDER BY e.state IN ('PLANNED', 'ACTIVE') DESC, e.created_at DESC
  LIMIT 1
)
SELECT json_strip_nulls(json_build_object(
    'person', (SELECT j FROM person),
    'open_referrals', (SELECT j FROM open_referrals),
    'hospital_stay', (SELECT j FROM hospital_stay),
    'current_detention', (SELECT j FROM current_detention),
    'community_treatment_order', (SELECT j FROM cto),
    'conditional_discharge', (SELECT j FROM conditional_discharge),
    'key_worker', (SELECT j FROM key_worker),
    'employment', (SELECT j FROM status WHERE list_name = 'employment_status'),
    'accommodation', (SELECT j FROM status WHERE list_name = 'accommodation_status'),
    'care_act_assessments', (SELECT j FROM care_act_assessments),
    'carers', (SELECT j FROM carers),
    'care_plan', (SELECT j FROM care_plan),
    's117', (SELECT j FROM s117),
    'residence_history', (SELECT j FROM residence_history)))::text,
  (SELECT core.record_version(s.txid, e.n, current_date)
   FROM core.record_epoch e
   LEFT JOIN core.record_stamp s ON s.person_id = $1::uuid)
