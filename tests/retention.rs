//! Retention and erasure (GDPR art. 5(1)(e)): `helhed retention run`, the real binary, against
//! real PostgreSQL, in both deployments — one role that owns everything, and the strict one where
//! an owner migrates and runs the job while the service runs as a role `migrate --grant-to`
//! granted. Cases reach every stage through the HTTP API, each with words of its own in every
//! text it can hold; then the test's admin connection makes some of them old.
//!
//! Making them old: `closed_at`, `referred_at` and `screened_at` live on the case row, which no
//! trigger guards, and are moved back with a plain UPDATE. Audit entries are append-only even
//! for their owner, so the test ages them as the superuser with `session_replication_role =
//! replica` (triggers off for that session): the only way past the triggers but the job's own,
//! and one no role of the service holds.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use chrono::{Duration, Utc};
use common::world::{
    World, ADMIN, ADULT_CW_SOC, ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR, COORDINATOR, REFERRER, YOUTH_LEADER_SOC,
    YOUTH_LEADER_Y,
};
use common::{Response, TestApp};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Array, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};

/// Days back for what is past the default retention (1825 days), and for what is not yet.
const OLD: i64 = 2000;
const NOT_YET: i64 = 1800;
const ADULT: i32 = 40;
const YOUTH: i32 = 22;

// ---------------------------------------------------------------------------------------------
// The deployments

/// Drops the schema and the roles of a strict deployment, also when the test fails.
struct Strict {
    schema: String,
    owner: String,
    service: String,
}

impl Drop for Strict {
    fn drop(&mut self) {
        let mut admin = common::admin_test_db_conn();
        let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        for role in [&self.service, &self.owner] {
            let _ = admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
        }
    }
}

struct Deployment {
    /// Dropped first: the service closes its pool before the schema goes.
    world: World,
    schema: String,
    /// The role that owns the tables: it migrates, and it runs the retention job.
    owner: String,
    owner_url: String,
    /// The strict deployment's service role, which owns nothing, and its URL.
    service: Option<String>,
    service_url: Option<String>,
    _strict: Option<Strict>,
}

impl Deployment {
    /// One role owns everything and runs the service (`scripts/serve`, docker compose).
    async fn single() -> Deployment {
        let app = Self::fresh_connections(TestApp::spawn().await);
        let schema = app.schema.clone().unwrap();
        let owner_url = app.db_url.clone();
        Deployment {
            world: World::on(app).await,
            schema,
            owner: common::APP_ROLE.to_string(),
            owner_url,
            service: None,
            service_url: None,
            _strict: None,
        }
    }

    /// An owner migrates and grants; the service runs as a role that owns nothing.
    async fn strict() -> Deployment {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let mut strict =
            Strict { schema: String::new(), owner: format!("helhed_own_{tag}"), service: format!("helhed_svc_{tag}") };
        let (owner, svc) = (strict.owner.clone(), strict.service.clone());
        common::admin_conn()
            .batch_execute(&format!(
                "CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; \
                 CREATE ROLE {svc} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;"
            ))
            .unwrap();
        let schema = common::fresh_schema_owned_by(&owner);
        strict.schema = schema.clone();
        let owner_url = common::url_in_schema(&owner, &schema);
        let service_url = common::url_in_schema(&svc, &schema);
        helhed::db::grant_service_role(&owner_url, &svc).expect("the owner grants the service role");
        let app = Self::fresh_connections(TestApp::spawn_on(None, service_url.clone()).await);
        Deployment {
            world: World::on(app).await,
            schema,
            owner,
            owner_url,
            service: Some(svc),
            service_url: Some(service_url),
            _strict: Some(strict),
        }
    }

    /// The test's runtime blocks for seconds at a time (the scans, the dumps): an idle
    /// keep-alive connection the server closes meanwhile would be reused and fail
    /// (IncompleteMessage), so the client keeps none.
    fn fresh_connections(mut app: TestApp) -> TestApp {
        app.client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        app
    }

    fn app(&self) -> &TestApp {
        &self.world.app
    }

    /// The superuser, in the deployment's schema.
    fn admin(&self) -> PgConnection {
        let mut conn = common::admin_test_db_conn();
        conn.batch_execute(&format!("SET search_path TO {}", self.schema)).unwrap();
        conn
    }

    fn owner_conn(&self) -> PgConnection {
        PgConnection::establish(&self.owner_url).unwrap()
    }

    /// A case closed long enough ago, erased by a run, and an active case; returns their ids.
    async fn erased_and_active(&self) -> (String, String) {
        let old = citizen(&self.world, ADULT).await;
        let erased = story(&self.world, &old, ADULT, Stage::Closed).await.case;
        age_case(self, &erased, OLD);
        let new = citizen(&self.world, ADULT).await;
        let active = story(&self.world, &new, ADULT, Stage::Active).await.case;
        let run = report(&retention(Some(&self.owner_url), &["--json"], &[]).await);
        assert_eq!(counts(&run)["cases"], 1, "{run}");
        (erased, active)
    }
}

// ---------------------------------------------------------------------------------------------
// The job, as the scheduler runs it

/// `helhed retention run <args>` with `DATABASE_URL` and the retention settings of `env` only.
/// The process runs on the blocking pool, so that the test's runtime goes on serving the
/// service's connections meanwhile (a blocked runtime left the HTTP client a connection the
/// server had closed).
async fn retention(url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helhed"));
    cmd.args(["retention", "run"])
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("HELHED_RETENTION_CASE_DAYS")
        .env_remove("HELHED_RETENTION_AUDIT_DAYS")
        .env("RUST_LOG", "info");
    if let Some(url) = url {
        cmd.env("DATABASE_URL", url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("the helhed binary runs")).await.unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON report of a run that must succeed.
fn report(out: &Output) -> Value {
    assert!(out.status.success(), "the run failed: {}\n{}", stdout(out), stderr(out));
    serde_json::from_str(stdout(out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// The counts of a report, kind by kind.
fn counts(report: &Value) -> BTreeMap<String, i64> {
    report["counts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap())).collect()
}

fn zero_counts(report: &Value) -> bool {
    counts(report).values().all(|n| *n == 0)
}

// ---------------------------------------------------------------------------------------------
// Looking into the database

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    needle: String,
}

/// Every text, varchar, char, json, jsonb and text-array column of every table of the schema,
/// from information_schema.
fn text_columns(conn: &mut PgConnection, schema: &str) -> Vec<Column> {
    diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name
           FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
            AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
                 OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar', '_bpchar', '_json', '_jsonb')))
          ORDER BY 1, 2",
    )
    .bind::<Text, _>(schema)
    .load(conn)
    .unwrap()
}

/// Where each needle occurs (case-insensitively) in any text column of any table: a set of
/// (`table.column`, needle).
fn scan(conn: &mut PgConnection, schema: &str, needles: &[String]) -> BTreeSet<(String, String)> {
    let columns = text_columns(conn, schema);
    assert!(columns.len() > 100, "the scan sees the schema: {} columns", columns.len());
    let mut hits = BTreeSet::new();
    for c in columns {
        let found: Vec<Found> = diesel::sql_query(format!(
            "SELECT n AS needle FROM unnest($1::text[]) n WHERE EXISTS (
                SELECT 1 FROM \"{schema}\".\"{t}\" r WHERE strpos(lower(r.\"{col}\"::text), lower(n)) > 0)",
            t = c.table_name,
            col = c.column_name
        ))
        .bind::<Array<Text>, _>(needles)
        .load(conn)
        .unwrap();
        for f in found {
            hits.insert((format!("{}.{}", c.table_name, c.column_name), f.needle));
        }
    }
    hits
}

#[derive(QueryableByName)]
struct Rows {
    #[diesel(sql_type = Text)]
    rows: String,
}

/// Every row of every table of the schema, as text, sorted: equal dumps, equal data.
fn dump(conn: &mut PgConnection, schema: &str) -> BTreeMap<String, String> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables
          WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .bind::<Text, _>(schema)
    .load(conn)
    .unwrap();
    assert!(tables.len() >= 19, "{} tables", tables.len());
    tables
        .into_iter()
        .map(|t| {
            let rows = diesel::sql_query(format!(
                "SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '') AS rows FROM \"{schema}\".\"{}\" r",
                t.name
            ))
            .get_result::<Rows>(conn)
            .unwrap()
            .rows;
            (t.name, rows)
        })
        .collect()
}

fn scalar(conn: &mut PgConnection, query: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({query})::bigint AS n")).get_result::<N>(conn).unwrap().n
}

fn fails(conn: &mut PgConnection, sql: &str) -> bool {
    conn.batch_execute(sql).is_err()
}

// ---------------------------------------------------------------------------------------------
// The world: cases at every stage, each holding words of its own

/// A tag of letters beyond hex, so that no uuid can hold it.
fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].bytes().map(|b| (b'g' + (b % 16)) as char).collect()
}

fn today() -> String {
    Utc::now().format("%Y-%m-%d").to_string()
}

struct Citizen {
    id: String,
    cpr: String,
    name: String,
}

impl Citizen {
    /// What only this citizen's row holds: name and CPR number.
    fn needles(&self) -> Vec<String> {
        vec![self.name.clone(), self.cpr.clone()]
    }

    /// The CPR number as people write it (DDMMYY-SSSS), which nothing stores but anything might.
    fn written_cpr(&self) -> String {
        format!("{}-{}", &self.cpr[..6], &self.cpr[6..])
    }
}

/// A case, and every word of it that no other case holds.
struct Story {
    case: String,
    words: Vec<String>,
}

enum Stage {
    Declined,
    Active,
    Closed,
}

/// A POST with an Idempotency-Key: its answer is stored, and can name the citizen.
async fn post_keyed(app: &TestApp, path: &str, token: &str, body: &Value) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

async fn citizen(world: &World, age: i32) -> Citizen {
    let t = tag();
    let cpr = common::world::cpr_for_age(age, 20);
    let name = format!("Borger{t} Efternavn{t}");
    let body = json!({"cpr": cpr, "name": name});
    let id = post_keyed(&world.app, "/api/v1/citizens", &world.token(REFERRER), &body).await.expect(201).id();
    Citizen { id, cpr, name }
}

/// A case of `citizen` taken to `stage` through the API, with its own words in the referral,
/// the screening, consents and their withdrawal, the agenda, the decision (views, plan, the
/// coordinator's name, phone and e-mail, the background group), an amendment, a participation
/// note, spends and a reversal, and the closure.
async fn story(world: &World, citizen: &Citizen, age: i32, stage: Stage) -> Story {
    let app = &world.app;
    let t = tag();
    let mut words = Vec::new();
    let mut w = |label: &str| {
        let word = format!("{label}{t}");
        words.push(word.clone());
        word
    };
    let referral = json!({
        "citizen_id": citizen.id,
        "problem_areas": ["mental_health", "homelessness"],
        "description": w("Description"),
        "involved_departments": ["social", "labour_market", "youth"],
        "involved_caseworkers": [{"sub": "rita", "name": w("Caseworker"), "department": "social"}],
        "current_interventions": [w("Current")],
        "citizen_view": w("Citizenview"),
        "exclusions": {}
    });
    let case = post_keyed(app, "/api/v1/cases", &world.token(REFERRER), &referral).await.expect(201).id();
    let screener = world.token(if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC });
    let screening = match stage {
        Stage::Declined => json!({"outcome": "declined", "reason": "other", "note": w("Declinenote")}),
        _ => json!({"outcome": "accepted", "note": w("Screennote")}),
    };
    app.post(&format!("/api/v1/cases/{case}/screening"), &screener, &screening).await.expect(200);
    if let Stage::Declined = stage {
        return Story { case, words };
    }

    let consents = format!("/api/v1/cases/{case}/consents");
    let plan_consent = json!({"kind": "plan", "given_by": "citizen", "form": "written", "given_on": today(),
                              "note": w("Consentnote")});
    app.post(&consents, &screener, &plan_consent).await.expect(201);
    let sharing = json!({"kind": "data_sharing", "given_by": "citizen", "form": "oral", "given_on": today(),
                         "departments": ["youth"], "note": w("Sharingnote")});
    let sharing = app.post(&consents, &screener, &sharing).await.expect(201).id();

    let leader = world.token(World::leader(age));
    let meeting = world.meeting(age).await;
    let agenda = json!({"case_id": case, "presenting_caseworkers":
        [{"sub": ADULT_CW_SOC.sub, "name": w("Presenter"), "department": ADULT_CW_SOC.dept}]});
    app.post(&format!("/api/v1/meetings/{meeting}/agenda"), &leader, &agenda).await.expect(201);
    let phone = format!("+45 {}", 10_000_000 + (uuid::Uuid::new_v4().as_u128() % 89_999_999) as u64);
    words.push(phone.clone());
    let mut w = |label: &str| {
        let word = format!("{label}{t}");
        words.push(word.clone());
        word
    };
    let decision = json!({
        "case_id": case,
        "kind": "initial",
        "members_present": World::quorum(age),
        "citizen_participation": {"took_part": true, "form": "meeting", "citizen_view": w("Decisionview")},
        "plan": {
            "citizen_goals": w("Citizengoals"),
            "goals": [{"area": "housing", "description": w("Goal")}],
            "interventions": [{"title": w("Intervention"), "responsible_department": "social",
                               "external_ref": w("Extref")}],
            "statutory_plans": [{"department": "labour_market", "system": w("System"), "reference": w("Reference")}]
        },
        "coordinator": {"sub": COORDINATOR.sub, "name": w("Coordinator"), "department": COORDINATOR.dept,
                        "phone": phone, "email": format!("{}@example.dk", w("Mail"))},
        "budget_frame_ore": 5_000_000,
        "follow_up_on": (Utc::now() + Duration::days(60)).format("%Y-%m-%d").to_string(),
        "background_group": [{"sub": "bea", "name": w("Background"), "department": "health_care", "side": "provider"}],
        "note": w("Decisionnote")
    });
    app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &leader, &decision).await.expect(201);

    let cora = world.token(COORDINATOR);
    let intervention = json!({"title": w("Added"), "responsible_department": "social", "note": w("Amendnote")});
    app.post(&format!("/api/v1/cases/{case}/plan/interventions"), &cora, &intervention).await.expect(201);
    let note = json!({"on": today(), "form": "phone", "citizen_view": w("Participationview")});
    app.post(&format!("/api/v1/cases/{case}/participation"), &cora, &note).await.expect(201);
    let spends = format!("/api/v1/cases/{case}/budget/spends");
    let spend = json!({"amount_ore": 25_000, "category": "transport", "description": w("Spend")});
    let entry =
        post_keyed(app, &spends, &cora, &spend).await.expect(201).body["entry"]["id"].as_str().unwrap().to_string();
    let reversal = json!({"reason": w("Reversal")});
    app.post(&format!("{spends}/{entry}/reversal"), &cora, &reversal).await.expect(201);
    let kept = json!({"amount_ore": 40_000, "category": "mentor_support", "description": w("Mentorspend")});
    app.post(&spends, &cora, &kept).await.expect(201);
    let withdrawal = json!({"on": today(), "note": w("Withdrawal")});
    app.post(&format!("{consents}/{sharing}/withdrawal"), &screener, &withdrawal).await.expect(200);
    if let Stage::Closed = stage {
        let closure = json!({"reason": "employment", "note": w("Closure")});
        app.post(&format!("/api/v1/cases/{case}/closure"), &cora, &closure).await.expect(200);
    }
    Story { case, words }
}

/// Moves a closed case's closure, or a declined case's referral and screening, `days` back.
fn age_case(d: &Deployment, case: &str, days: i64) {
    d.admin()
        .batch_execute(&format!(
            "UPDATE cases SET closed_at = closed_at - interval '{days} days' WHERE id = '{case}' AND status = 'closed';
             UPDATE cases SET referred_at = referred_at - interval '{days} days',
                              screened_at = screened_at - interval '{days} days'
              WHERE id = '{case}' AND status = 'declined';"
        ))
        .unwrap();
}

/// Moves the `n` oldest audit entries not yet moved `days` back, past the append-only trigger
/// (see the module's comment); returns their ids.
fn age_audit(d: &Deployment, n: i64, days: i64) -> Vec<i64> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let mut admin = d.admin();
    admin.batch_execute("SET session_replication_role = replica").unwrap();
    let ids: Vec<Id> = diesel::sql_query(format!(
        "UPDATE audit_log SET at = at - interval '{days} days'
          WHERE id IN (SELECT id FROM audit_log WHERE at > now() - interval '1 day' ORDER BY id LIMIT {n})
         RETURNING id"
    ))
    .load(&mut admin)
    .unwrap();
    ids.into_iter().map(|i| i.id).collect()
}

/// What the readers of a kept case see: the case, its plan, budget, consents and history.
async fn case_as_read(world: &World, case: &str) -> Vec<Value> {
    let leader = world.token(ADULT_LEADER_SOC);
    let mut out = Vec::new();
    for part in ["", "/plan", "/budget", "/consents", "/history"] {
        out.push(world.app.get(&format!("/api/v1/cases/{case}{part}"), &leader).await.expect(200).body);
    }
    out
}

/// `/stats/flow` as an admin (every case) and as two leaders (the cases they take part in).
async fn flow(world: &World) -> Vec<Value> {
    let mut out = Vec::new();
    for who in [ADMIN, ADULT_LEADER_SOC, ADULT_LEADER_LM, YOUTH_LEADER_Y] {
        out.push(world.app.get("/api/v1/stats/flow", &world.token(who)).await.expect(200).body);
    }
    out
}

/// Asserts that a run's output names no one: no name, no CPR number.
fn names_no_one(out: &Output, people: &[&Citizen]) {
    let text = format!("{}{}", stdout(out), stderr(out));
    for c in people {
        for needle in c.needles().into_iter().chain([c.written_cpr()]) {
            assert!(!text.contains(&needle), "the output names {needle}: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario, in each deployment

async fn erases_what_is_due_and_keeps_the_rest(d: Deployment) {
    let world = &d.world;
    let app = d.app();
    let schema = d.schema.clone();

    // Due: a closed adult case, a declined youth case, and an old closed case of a citizen who
    // has an active case too (the citizen stays, the old case's words go).
    let anna = citizen(world, ADULT).await;
    let closed_old = story(world, &anna, ADULT, Stage::Closed).await;
    let bo = citizen(world, YOUTH).await;
    let declined_old = story(world, &bo, YOUTH, Stage::Declined).await;
    let carl = citizen(world, ADULT + 5).await;
    let carl_old = story(world, &carl, ADULT + 5, Stage::Closed).await;
    let carl_active = story(world, &carl, ADULT + 5, Stage::Active).await;
    // Kept: closed 1800 days ago (not yet due), and active.
    let dora = citizen(world, ADULT + 10).await;
    let closed_recently = story(world, &dora, ADULT + 10, Stage::Closed).await;
    let eva = citizen(world, ADULT + 15).await;
    let active = story(world, &eva, ADULT + 15, Stage::Active).await;
    for case in [&closed_old.case, &declined_old.case, &carl_old.case] {
        age_case(&d, case, OLD);
    }
    age_case(&d, &closed_recently.case, NOT_YET);
    let old_audit = age_audit(&d, 10, OLD);
    let kept_audit = age_audit(&d, 5, NOT_YET);
    let erased = [&closed_old, &declined_old, &carl_old];
    let erased_ids: Vec<&str> = erased.iter().map(|s| s.case.as_str()).collect();
    let mut gone: Vec<String> = erased.iter().flat_map(|s| s.words.clone()).collect();
    gone.extend(anna.needles());
    gone.extend(bo.needles());
    let mut kept: Vec<String> =
        [&carl_active, &closed_recently, &active].iter().flat_map(|s| s.words.clone()).collect();
    for c in [&carl, &dora, &eva] {
        kept.extend(c.needles());
    }

    // The scan works: before the run it finds every word, in every kind of place.
    let mut admin = d.admin();
    let before = scan(&mut admin, &schema, &gone);
    let found: BTreeSet<&String> = before.iter().map(|(_, n)| n).collect();
    let missing: Vec<&String> = gone.iter().filter(|n| !found.contains(n)).collect();
    assert!(missing.is_empty(), "the scan misses {missing:?}");
    let tables: BTreeSet<&str> = before.iter().map(|(c, _)| c.split('.').next().unwrap()).collect();
    for t in [
        "cases",
        "citizens",
        "decisions",
        "plan_versions",
        "plan_amendments",
        "ledger_entries",
        "consents",
        "participation_notes",
        "background_members",
        "case_presenters",
        "agenda_items",
        "case_events",
        "idempotency_keys",
    ] {
        assert!(tables.contains(t), "the world puts personal data in {t}: {tables:?}");
    }
    let expected = |table: &str| {
        scalar(
            &mut d.admin(),
            &format!("SELECT count(*) FROM {table} WHERE case_id::text IN ('{}')", erased_ids.join("','")),
        )
    };
    let expect: BTreeMap<String, i64> = [
        ("cases".to_string(), 3),
        ("citizens".to_string(), 2),
        ("decisions".to_string(), expected("decisions")),
        ("plan_versions".to_string(), expected("plan_versions")),
        ("plan_amendments".to_string(), expected("plan_amendments")),
        ("ledger_entries".to_string(), expected("ledger_entries")),
        ("consents".to_string(), expected("consents")),
        ("participation_notes".to_string(), expected("participation_notes")),
        ("background_members".to_string(), expected("background_members")),
        ("case_presenters".to_string(), expected("case_presenters")),
        ("agenda_items".to_string(), expected("agenda_items")),
        ("case_events".to_string(), expected("case_events")),
        // the stored answers of the referrals and the first spends of the erased cases (a
        // citizen's registration stores no answer; carl's active case keeps its answers)
        ("idempotency_keys".to_string(), 5),
        ("audit_entries".to_string(), 10),
    ]
    .into_iter()
    .collect();
    assert_eq!(expect["decisions"], 2);
    assert_eq!(expect["ledger_entries"], 6);
    let stats_before = flow(world).await;
    let kept_before = [
        case_as_read(world, &carl_active.case).await,
        case_as_read(world, &closed_recently.case).await,
        case_as_read(world, &active.case).await,
    ];
    let carl_before = app.get(&format!("/api/v1/citizens/{}", carl.id), &world.token(REFERRER)).await.expect(200).body;

    // A dry run changes nothing and counts what a run erases; the settings move its cut-offs.
    let all = dump(&mut admin, &schema);
    let dry = retention(Some(&d.owner_url), &["--dry-run", "--json"], &[]).await;
    names_no_one(&dry, &[&anna, &bo, &carl, &dora, &eva]);
    let dry = report(&dry);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(counts(&dry), expect, "a dry run counts what is due");
    let lines = retention(Some(&d.owner_url), &["--dry-run"], &[]).await;
    assert!(lines.status.success(), "{}", stderr(&lines));
    assert!(stdout(&lines).contains("dry run, nothing changed"), "{}", stdout(&lines));
    assert!(stdout(&lines).lines().any(|l| l == "retention dry-run cases=3"), "{}", stdout(&lines));
    assert!(stdout(&lines).lines().any(|l| l == "retention dry-run citizens=2"), "{}", stdout(&lines));
    for (case_days, audit_days, expected) in [("1700", "1900", (4, 10)), ("1900", "1700", (3, 15))] {
        let settings = [("HELHED_RETENTION_CASE_DAYS", case_days), ("HELHED_RETENTION_AUDIT_DAYS", audit_days)];
        let wider = report(&retention(Some(&d.owner_url), &["--dry-run", "--json"], &settings).await);
        assert_eq!((counts(&wider)["cases"], counts(&wider)["audit_entries"]), expected, "{settings:?}: {wider}");
        assert_eq!(
            (wider["case_days"].as_i64(), wider["audit_days"].as_i64()),
            (case_days.parse().ok(), audit_days.parse().ok())
        );
    }
    assert_eq!(dump(&mut admin, &schema), all, "dry runs change nothing");

    // The run, as the owner.
    let out = retention(Some(&d.owner_url), &["--json"], &[]).await;
    names_no_one(&out, &[&anna, &bo, &carl, &dora, &eva]);
    let run = report(&out);
    assert_eq!(run["dry_run"], false);
    assert_eq!(counts(&run), expect, "{run}");

    // No text of any table holds a due citizen's name or CPR number, or an erased case's words.
    gone.extend([anna.written_cpr(), bo.written_cpr()]);
    let after = scan(&mut admin, &schema, &gone);
    assert!(after.is_empty(), "still held after the run: {after:?}");
    // Everything kept is still there.
    let still = scan(&mut admin, &schema, &kept);
    let found: BTreeSet<&String> = still.iter().map(|(_, n)| n).collect();
    let lost: Vec<&String> = kept.iter().filter(|n| !found.contains(n)).collect();
    assert!(lost.is_empty(), "the run erased what it must keep: {lost:?}");
    assert_eq!(
        [
            case_as_read(world, &carl_active.case).await,
            case_as_read(world, &closed_recently.case).await,
            case_as_read(world, &active.case).await,
        ],
        kept_before,
        "the cases kept read as before"
    );
    let carl_after = app.get(&format!("/api/v1/citizens/{}", carl.id), &world.token(REFERRER)).await.expect(200).body;
    assert_eq!(carl_after, carl_before, "a citizen with a case left stays");
    // The erased cases and their citizens are seen by no one.
    for case in &erased_ids {
        for who in [REFERRER, ADULT_LEADER_SOC, YOUTH_LEADER_SOC, COORDINATOR] {
            app.get(&format!("/api/v1/cases/{case}"), &world.token(who)).await.problem(404, "not_found");
        }
        app.get(&format!("/api/v1/cases/{case}/history"), &world.token(REFERRER)).await.problem(404, "not_found");
    }
    for c in [&anna, &bo] {
        app.get(&format!("/api/v1/citizens/{}", c.id), &world.token(REFERRER)).await.problem(404, "not_found");
        app.get(&format!("/api/v1/citizens/{}/export", c.id), &world.token(AUDITOR)).await.problem(404, "not_found");
    }
    let listed = app.get("/api/v1/cases?limit=200", &world.token(ADULT_LEADER_SOC)).await.expect(200).text;
    assert!(erased_ids.iter().all(|c| !listed.contains(c)), "no list shows an erased case");
    // What the statistics count stays, tied to no one.
    assert_eq!(flow(world).await, stats_before, "the flow statistics answer as before");
    assert_eq!(
        scalar(
            &mut admin,
            &format!(
                "SELECT count(*) FROM cases WHERE id::text IN ('{}') AND citizen_id IS NULL AND erased_at IS NOT NULL",
                erased_ids.join("','")
            )
        ),
        3
    );

    // Old audit entries are gone, recent ones kept, and the run is on record with its counts.
    let ids = |ids: &[i64]| ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(scalar(&mut admin, &format!("SELECT count(*) FROM audit_log WHERE id IN ({})", ids(&old_audit))), 0);
    assert_eq!(
        scalar(&mut admin, &format!("SELECT count(*) FROM audit_log WHERE id IN ({})", ids(&kept_audit))),
        kept_audit.len() as i64
    );
    let log = app.get(&format!("/api/v1/audit?actor={}", d.owner), &world.token(AUDITOR)).await.expect(200).body;
    let runs: Vec<&Value> = log["items"].as_array().unwrap().iter().filter(|e| e["purpose"] == "retention").collect();
    assert_eq!(runs.len(), 1, "one entry per real run, none for dry runs: {log}");
    assert_eq!((runs[0]["action"].as_str(), runs[0]["resource"].as_str()), (Some("delete"), Some("retention_run")));
    assert_eq!(runs[0]["filters"]["counts"], run["counts"], "{}", runs[0]);
    assert_eq!((runs[0]["case_id"].clone(), runs[0]["citizen_id"].clone()), (Value::Null, Value::Null));

    // The service role cannot run it, and changes nothing trying.
    let settled = dump(&mut admin, &schema);
    if let Some(service_url) = &d.service_url {
        let out = retention(Some(service_url), &[], &[]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("retention run refused") && err.contains("does not own the tables"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert_eq!(dump(&mut admin, &schema), settled, "a refused run changes nothing");
    }

    // A second run erases nothing more, and is on record with zero counts.
    let again = report(&retention(Some(&d.owner_url), &["--json"], &[]).await);
    assert!(zero_counts(&again), "{again}");
    let mut twice = dump(&mut admin, &schema);
    let mut settled = settled;
    assert_eq!(twice.remove("audit_log").is_some(), settled.remove("audit_log").is_some());
    assert_eq!(twice, settled, "the second run changed nothing but the audit log");
    assert_eq!(
        scalar(&mut admin, "SELECT count(*) FROM audit_log WHERE purpose = 'retention' AND action = 'delete'"),
        2
    );
    assert_eq!(
        scalar(
            &mut admin,
            "SELECT count(*) FROM audit_log WHERE purpose = 'retention' AND filters->'counts'->>'cases' = '0' \
             AND filters->'counts'->>'audit_entries' = '0'"
        ),
        1
    );
    assert_eq!(flow(world).await, stats_before);
    eprintln!("retention run: {run}");
}

#[tokio::test]
async fn single_role_deployment_erases_what_is_due_and_keeps_the_rest() {
    erases_what_is_due_and_keeps_the_rest(Deployment::single().await).await;
}

#[tokio::test]
async fn strict_deployment_erases_what_is_due_and_keeps_the_rest() {
    erases_what_is_due_and_keeps_the_rest(Deployment::strict().await).await;
}

// ---------------------------------------------------------------------------------------------
// The door through the append-only tables opens for the job alone

async fn the_door_opens_for_the_job_alone(d: Deployment) {
    let (erased, active) = d.erased_and_active().await;
    let schema = d.schema.clone();
    let mut admin = d.admin();
    let before = dump(&mut admin, &schema);
    let on = "SET LOCAL helhed.retention = 'on';";
    let tx = |body: &str| format!("BEGIN; {on} {body}; COMMIT;");

    // The owner, outside the job: the setting is off.
    let mut owner = d.owner_conn();
    for table in ["decisions", "plan_versions", "plan_amendments", "case_events"] {
        assert!(
            fails(&mut owner, &format!("UPDATE {table} SET case_id = case_id WHERE case_id = '{erased}'")),
            "{table}"
        );
    }
    // The owner with the setting on: only an erased case's rows, only UPDATE; the audit log
    // only DELETE; never TRUNCATE.
    for table in ["decisions", "plan_versions", "plan_amendments", "case_events"] {
        let _ = owner.batch_execute("ROLLBACK");
        assert!(
            fails(&mut owner, &tx(&format!("UPDATE {table} SET case_id = case_id WHERE case_id = '{active}'"))),
            "{table}"
        );
        let _ = owner.batch_execute("ROLLBACK");
        assert!(fails(&mut owner, &tx(&format!("DELETE FROM {table} WHERE case_id = '{erased}'"))), "{table}");
        let _ = owner.batch_execute("ROLLBACK");
        assert!(fails(&mut owner, &tx(&format!("TRUNCATE {table} CASCADE"))), "{table}");
        let _ = owner.batch_execute("ROLLBACK");
    }
    for sql in [
        "GRANT UPDATE ON ledger_entries TO CURRENT_USER; UPDATE ledger_entries SET amount_ore = 1 WHERE case_id = '{active}'",
        "GRANT DELETE ON ledger_entries TO CURRENT_USER; DELETE FROM ledger_entries WHERE case_id = '{erased}'",
        "GRANT UPDATE ON audit_log TO CURRENT_USER; UPDATE audit_log SET purpose = 'audit'",
        "GRANT TRUNCATE ON audit_log TO CURRENT_USER; TRUNCATE audit_log",
        "GRANT TRUNCATE ON ledger_entries TO CURRENT_USER; TRUNCATE ledger_entries",
    ] {
        let sql = sql.replace("{active}", &active).replace("{erased}", &erased);
        assert!(fails(&mut owner, &tx(&sql)), "{sql}");
        let _ = owner.batch_execute("ROLLBACK");
    }
    // …and the door is there for the job: an erased case's decision, inside the setting.
    owner
        .batch_execute(&format!("BEGIN; {on} UPDATE decisions SET note = NULL WHERE case_id = '{erased}'; ROLLBACK;"))
        .expect("the job's door");
    // The job gave back the rights it took: the owner holds no UPDATE on the ledger and no
    // DELETE on the audit log outside a run.
    assert_eq!(scalar(&mut owner, "SELECT count(*) FROM (SELECT 1 WHERE has_table_privilege('audit_log', 'DELETE') OR has_table_privilege('ledger_entries', 'UPDATE') OR has_table_privilege('audit_log', 'UPDATE')) x"), 0);

    // Not the owner: the superuser, which has every right, with the setting on.
    for sql in [
        format!("UPDATE decisions SET note = NULL WHERE case_id = '{erased}'"),
        format!("UPDATE case_events SET detail = '{{}}' WHERE case_id = '{erased}'"),
        "DELETE FROM audit_log".to_string(),
    ] {
        assert!(fails(&mut admin, &tx(&sql)), "superuser: {sql}");
        let _ = admin.batch_execute("ROLLBACK");
    }

    // The strict deployment's service role: no rights, and past rights the trigger still.
    if let Some(service_url) = &d.service_url {
        let mut svc = PgConnection::establish(service_url).unwrap();
        for sql in [
            format!("UPDATE decisions SET note = NULL WHERE case_id = '{erased}'"),
            format!("UPDATE ledger_entries SET description = '' WHERE case_id = '{erased}'"),
            format!("UPDATE case_events SET detail = '{{}}' WHERE case_id = '{erased}'"),
            format!("UPDATE plan_versions SET goals = '[]' WHERE case_id = '{erased}'"),
            "DELETE FROM audit_log".to_string(),
            // a role that owns nothing grants nothing (PostgreSQL only warns)
            "GRANT DELETE ON audit_log TO CURRENT_USER; DELETE FROM audit_log".to_string(),
        ] {
            assert!(fails(&mut svc, &tx(&sql)), "service: {sql}");
            let _ = svc.batch_execute("ROLLBACK");
        }
        // granted UPDATE by mistake, the service role is still not the owner
        let svc_role = d.service.clone().unwrap();
        d.owner_conn().batch_execute(&format!("GRANT UPDATE ON decisions TO {svc_role}")).unwrap();
        assert!(fails(&mut svc, &tx(&format!("UPDATE decisions SET note = NULL WHERE case_id = '{erased}'"))));
        let _ = svc.batch_execute("ROLLBACK");
        d.owner_conn().batch_execute(&format!("REVOKE UPDATE ON decisions FROM {svc_role}")).unwrap();
    }
    assert_eq!(dump(&mut admin, &schema), before, "no attempt changed anything");
}

#[tokio::test]
async fn single_role_deployment_the_door_opens_for_the_job_alone() {
    the_door_opens_for_the_job_alone(Deployment::single().await).await;
}

#[tokio::test]
async fn strict_deployment_the_door_opens_for_the_job_alone() {
    the_door_opens_for_the_job_alone(Deployment::strict().await).await;
}

// ---------------------------------------------------------------------------------------------
// Bad input changes nothing

#[tokio::test]
async fn a_bad_setting_stops_the_run_with_one_line_naming_it_and_changes_nothing() {
    let d = Deployment::single().await;
    let anna = citizen(&d.world, ADULT).await;
    let case = story(&d.world, &anna, ADULT, Stage::Closed).await.case;
    age_case(&d, &case, OLD);
    age_audit(&d, 3, OLD);
    let mut admin = d.admin();
    let before = dump(&mut admin, &d.schema);
    let url = d.owner_url.as_str();
    // (DATABASE_URL, arguments, settings, what the one line must name)
    type BadRun<'a> = (Option<&'a str>, Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<BadRun> = vec![
        (Some(url), vec![], vec![("HELHED_RETENTION_CASE_DAYS", "abc")], "HELHED_RETENTION_CASE_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_CASE_DAYS", "0")], "HELHED_RETENTION_CASE_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_CASE_DAYS", "-30")], "HELHED_RETENTION_CASE_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_CASE_DAYS", "1.5")], "HELHED_RETENTION_CASE_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_CASE_DAYS", "99999999999")], "HELHED_RETENTION_CASE_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_AUDIT_DAYS", "five years")], "HELHED_RETENTION_AUDIT_DAYS"),
        (Some(url), vec![], vec![("HELHED_RETENTION_AUDIT_DAYS", "36501")], "HELHED_RETENTION_AUDIT_DAYS"),
        (
            Some(url),
            vec!["--dry-run"],
            vec![("HELHED_RETENTION_CASE_DAYS", "30"), ("HELHED_RETENTION_AUDIT_DAYS", "0")],
            "HELHED_RETENTION_AUDIT_DAYS",
        ),
        (None, vec![], vec![], "DATABASE_URL"),
        (Some("mysql://helhed@127.0.0.1/helhed"), vec![], vec![], "DATABASE_URL"),
        (Some(url), vec!["--force"], vec![], "--force"),
    ];
    for (url, args, env, named) in cases {
        let out = retention(url, &args, &env).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert!(err.contains(named), "{args:?} {env:?} names {named}: {err}");
        if named != "--force" {
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        }
        names_no_one(&out, &[&anna]);
    }
    assert_eq!(dump(&mut admin, &d.schema), before, "no bad run changed anything");
    // and the world was due: a good run erases it
    let run = report(&retention(Some(url), &["--json"], &[("HELHED_RETENTION_CASE_DAYS", " 1825 ")]).await);
    assert_eq!((counts(&run)["cases"], counts(&run)["citizens"], counts(&run)["audit_entries"]), (1, 1, 3), "{run}");
}
