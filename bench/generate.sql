-- Loads a synthetic municipality straight into PostgreSQL, reproducibly from a seed:
--   psql -v cases=100000 -v seed=0.42 -f bench/generate.sql
-- Two committees with members; :cases citizens and cases across every status (10 % referred,
-- 10 % awaiting the committee, 5 % declined, 60 % active, 15 % closed); for decided cases a
-- meeting, an initial decision and plan version 1; case history, ledger entries and audit rows
-- as a working system accumulates them. Everything is fictional. bench_cases numbers the cases
-- 1..n so load generators can pick one at random; bench_spend_cases lists active cases whose
-- coordinator is the benchmark's coordinator, with frames large enough never to run out.

\set ON_ERROR_STOP on
SELECT setseed(:seed);
BEGIN;

INSERT INTO committees (id, name, track, departments) VALUES
  ('00000000-0000-7000-8000-000000000001', 'Unge (bench)', 'youth', '{youth,social,school}'),
  ('00000000-0000-7000-8000-000000000002', 'Voksne (bench)', 'adult', '{labour_market,social,health_care}');
INSERT INTO committee_members (committee_id, sub, name, department, role, position) VALUES
  ('00000000-0000-7000-8000-000000000001', 'yl1', 'Youth leader', 'youth', 'leader', 0),
  ('00000000-0000-7000-8000-000000000001', 'bench.leader', 'Social leader', 'social', 'leader', 1),
  ('00000000-0000-7000-8000-000000000001', 'yc1', 'Youth caseworker', 'youth', 'caseworker', 2),
  ('00000000-0000-7000-8000-000000000001', 'yc2', 'Social caseworker', 'social', 'caseworker', 3),
  ('00000000-0000-7000-8000-000000000001', 'yf', 'School staff', 'school', 'fixed_staff', 4),
  ('00000000-0000-7000-8000-000000000002', 'al1', 'Labour leader', 'labour_market', 'leader', 0),
  ('00000000-0000-7000-8000-000000000002', 'bench.leader', 'Social leader', 'social', 'leader', 1),
  ('00000000-0000-7000-8000-000000000002', 'ac1', 'Labour caseworker', 'labour_market', 'caseworker', 2),
  ('00000000-0000-7000-8000-000000000002', 'ac2', 'Social caseworker', 'social', 'caseworker', 3),
  ('00000000-0000-7000-8000-000000000002', 'af', 'Health staff', 'health_care', 'fixed_staff', 4);

CREATE TABLE bench_cases (n integer PRIMARY KEY, case_id uuid NOT NULL, citizen_id uuid NOT NULL, status text NOT NULL);

-- Citizens and cases: uuids in creation order, as the service's UUIDv7 ids are.
INSERT INTO bench_cases (n, case_id, citizen_id, status)
SELECT n,
       ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       gen_random_uuid(),
       CASE WHEN r < 0.10 THEN 'referred' WHEN r < 0.20 THEN 'awaiting_committee' WHEN r < 0.25 THEN 'declined'
            WHEN r < 0.85 THEN 'active' ELSE 'closed' END
FROM (SELECT n, random() AS r FROM generate_series(1, :cases) AS n) s;

INSERT INTO citizens (id, cpr, name, birth_date)
SELECT citizen_id, lpad(n::text, 10, '0'), 'Borger ' || n, date '1950-01-01' + (random() * 25000)::int
FROM bench_cases;

INSERT INTO cases (id, citizen_id, track, committee_id, status, age_at_referral, problem_areas, description,
                   involved_departments, involved_caseworkers, current_interventions, citizen_view, exclusions,
                   referred_at, referrer_iss, referrer_sub, referrer_dept, referrer_name,
                   screened_at, screener_sub, screener_dept, screener_name, screening_outcome, screening_reason,
                   coordinator_sub, coordinator_dept, coordinator_name, follow_up_on, frame_ore, spent_ore,
                   closed_at, closure_reason, created_at, updated_at)
SELECT b.case_id, b.citizen_id, t.track,
       CASE t.track WHEN 'youth' THEN '00000000-0000-7000-8000-000000000001'::uuid ELSE '00000000-0000-7000-8000-000000000002'::uuid END,
       b.status, CASE t.track WHEN 'youth' THEN 18 + (b.n % 12) ELSE 30 + (b.n % 35) END,
       '{mental_health,homelessness}', 'Komplekse og sammensatte problemer (syntetisk).',
       CASE WHEN b.n % 3 = 0 THEN '{social,labour_market}'::text[] WHEN b.n % 3 = 1 THEN '{social,youth}'::text[] ELSE '{social,health_care}'::text[] END,
       '[]', '{Bostøtte}', 'Ønsker én kontaktperson.', '{}',
       t.referred_at, 'helhed-bench', 'cw' || (b.n % 200), (ARRAY['social','labour_market','youth','health_care','school'])[1 + b.n % 5], 'Caseworker',
       CASE WHEN b.status <> 'referred' THEN t.referred_at + interval '1 day' * (1 + random() * 20) END,
       CASE WHEN b.status <> 'referred' THEN 'bench.leader' END,
       CASE WHEN b.status <> 'referred' THEN 'social' END,
       CASE WHEN b.status <> 'referred' THEN 'Social leader' END,
       CASE WHEN b.status = 'declined' THEN 'declined' WHEN b.status <> 'referred' THEN 'accepted' END,
       CASE WHEN b.status = 'declined' THEN 'not_complex_enough' END,
       CASE WHEN b.status IN ('active', 'closed') THEN
            CASE WHEN b.n % 10 = 0 THEN 'bench.coordinator' ELSE 'co' || (b.n % 300) END END,
       CASE WHEN b.status IN ('active', 'closed') THEN
            CASE WHEN b.n % 10 = 0 THEN 'social' ELSE (ARRAY['social','labour_market','youth','health_care'])[1 + b.n % 4] END END,
       CASE WHEN b.status IN ('active', 'closed') THEN 'Coordinator' END,
       CASE WHEN b.status = 'active' THEN current_date + (random() * 120)::int - 20 END,
       CASE WHEN b.status IN ('active', 'closed') THEN 5000000 ELSE 0 END,
       CASE WHEN b.status IN ('active', 'closed') THEN 150000 ELSE 0 END,
       CASE WHEN b.status = 'closed' THEN t.referred_at + interval '200 days' END,
       CASE WHEN b.status = 'closed' THEN 'employment' END,
       t.referred_at, t.referred_at
FROM bench_cases b
CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.4 THEN 'youth' ELSE 'adult' END AS track,
                           now() - interval '1 day' * (random() * 1000) AS referred_at) t;

-- Meetings (one per 20 decided cases), initial decisions and plan version 1 for decided cases.
INSERT INTO meetings (id, committee_id, scheduled_at, created_by_sub, created_by_dept)
SELECT gen_random_uuid(), c.committee_id, min(c.screened_at) + interval '10 days', 'bench.leader', 'social'
FROM (SELECT b.n / 20 AS g, c.committee_id, c.screened_at FROM bench_cases b JOIN cases c ON c.id = b.case_id
      WHERE b.status IN ('active', 'closed')) c
GROUP BY c.g, c.committee_id;

CREATE TEMP TABLE decided AS
SELECT b.case_id, gen_random_uuid() AS decision_id,
       (SELECT m.id FROM meetings m WHERE m.committee_id = c.committee_id LIMIT 1) AS meeting_id,
       c.screened_at + interval '10 days' AS decided_at, c.track, b.n
FROM bench_cases b JOIN cases c ON c.id = b.case_id WHERE b.status IN ('active', 'closed');

INSERT INTO decisions (id, meeting_id, case_id, kind, members_present, took_part, participation_form, reason_not,
                       recorded_at, recorded_by_iss, recorded_by_sub, recorded_by_dept, plan_version,
                       coordinator, budget_frame_ore, follow_up_on)
SELECT decision_id, meeting_id, case_id, 'initial', '{bench.leader,ac2,af}', n % 7 <> 0,
       CASE WHEN n % 7 <> 0 THEN 'meeting' END, CASE WHEN n % 7 = 0 THEN 'indlagt' END,
       decided_at, 'helhed-bench', 'bench.leader', 'social', 1,
       '{"sub": "co", "name": "Coordinator", "department": "social"}', 5000000, current_date + 60
FROM decided;

INSERT INTO plan_versions (case_id, version, kind, adopted_at, decision_id, citizen_goals, goals, interventions, statutory_plans)
SELECT case_id, 1, CASE track WHEN 'youth' THEN 'ungeplan' ELSE 'indsatsplan' END, decided_at, decision_id,
       'Egen bolig og et job.',
       jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'area', 'housing', 'description', 'Egen bolig', 'target_date', null)),
       jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'title', 'Bostøtte', 'offer_id', null,
            'responsible_department', 'social', 'start_on', null, 'end_on', null, 'status', 'active',
            'cost_estimate_ore', 1200000, 'external_ref', null)),
       '[]'
FROM decided;

-- The citizen's plan consent, given before the initial decision (spends need it current).
INSERT INTO consents (id, case_id, kind, given_by, form, given_on, recorded_by_sub, recorded_by_dept, recorded_at)
SELECT gen_random_uuid(), case_id, 'plan', 'citizen', 'written', (decided_at - interval '1 day')::date,
       'bench.leader', 'social', decided_at - interval '1 day'
FROM decided;
-- and, for a citizen under 18, a custody holder's too, without which the plan does not hold and
-- a spend is refused (`consent_withdrawn`): some birth dates fall after 2008.
INSERT INTO consents (id, case_id, kind, given_by, form, given_on, recorded_by_sub, recorded_by_dept, recorded_at)
SELECT gen_random_uuid(), d.case_id, 'plan', 'custody_holder', 'written', (d.decided_at - interval '1 day')::date,
       'bench.leader', 'social', d.decided_at - interval '1 day'
FROM decided d JOIN cases c ON c.id = d.case_id JOIN citizens z ON z.id = c.citizen_id
WHERE z.birth_date > current_date - interval '18 years';

-- History, ledger and audit: what a working system has accumulated.
INSERT INTO case_events (case_id, type, at, actor_iss, actor_sub, actor_dept, detail)
SELECT b.case_id, e.type, c.referred_at + interval '1 day' * e.k, 'helhed-bench', 'cw', 'social', '{}'
FROM bench_cases b JOIN cases c ON c.id = b.case_id
CROSS JOIN LATERAL (VALUES (0, 'case.referred'), (1, 'case.updated'), (2, 'case.screened'), (3, 'decision.recorded')) AS e(k, type)
WHERE e.k < CASE b.status WHEN 'referred' THEN 2 WHEN 'awaiting_committee' THEN 3 WHEN 'declined' THEN 3 ELSE 4 END;

INSERT INTO ledger_entries (id, case_id, kind, amount_ore, category, description, recorded_at, actor_iss, actor_sub, actor_dept)
SELECT gen_random_uuid(), b.case_id, 'spend', 50000, 'transport', 'Buskort', now() - interval '1 day' * k, 'helhed-bench', 'co', 'social'
FROM bench_cases b CROSS JOIN generate_series(1, 3) AS k WHERE b.status IN ('active', 'closed');

INSERT INTO audit_log (at, actor_iss, actor_sub, actor_dept, action, resource, resource_id, case_id, citizen_id, purpose, status, request_id)
SELECT now() - interval '1 hour' * ((k * b.n) % 20000), 'helhed-bench', 'cw' || (b.n % 200), 'social',
       (ARRAY['create','read','read','update','read'])[k], 'case', b.case_id, b.case_id, b.citizen_id,
       (ARRAY['referral','screening','committee','coordination','coordination'])[k], 200, 'bench'
FROM bench_cases b CROSS JOIN generate_series(1, 5) AS k;

CREATE TABLE bench_spend_cases AS
SELECT row_number() OVER (ORDER BY b.n)::integer AS n, b.case_id
FROM bench_cases b JOIN cases c ON c.id = b.case_id
WHERE c.status = 'active' AND c.coordinator_sub = 'bench.coordinator';
ALTER TABLE bench_spend_cases ADD PRIMARY KEY (n);
-- Frames the benchmark's spends never exhaust.
UPDATE cases SET frame_ore = 9000000000000000 WHERE id IN (SELECT case_id FROM bench_spend_cases);

COMMIT;
VACUUM ANALYZE;
