mod common;

// The most frequent statements stay in each connection's prepared-statement cache, so that
// PostgreSQL parses and plans them once per connection rather than on every request (at a
// million cases planning the event feed took 2.5 ms, running it 0.4 ms: docs/performance.md).
// diesel's `sql()` takes every statement it is part of out of that cache; `helhed::db::fixed`
// does not. This runs the statements of GET case (for a person and for a department, whose
// visibility rule reads today's consents) and of the event feed on one connection, as the
// service's pool would, and asks PostgreSQL which of them it kept prepared, and whether it
// settled on a generic plan for them, rather than planning each execution afresh.

use common::world::{referral, World, ADULT_LEADER_SOC, REFERRER};
use common::TEST_ISSUER;
use diesel::{QueryableByName, RunQueryDsl};
use helhed::auth::Principal;
use helhed::domain::{Department, Role};
use helhed::{access, audit, store};
use serde_json::json;
use uuid::Uuid;

fn principal(sub: &str, dept: Department, role: Role) -> Principal {
    Principal {
        iss: TEST_ISSUER.to_string(),
        sub: sub.to_string(),
        dept,
        roles: vec![role],
        name: None,
        request_id: "prepared".to_string(),
        trace: None,
    }
}

#[derive(QueryableByName, Debug)]
struct Prepared {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

fn prepared(conn: &mut diesel::PgConnection) -> Vec<Prepared> {
    diesel::sql_query("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        .load::<Prepared>(conn)
        .unwrap()
}

#[tokio::test]
async fn the_reads_of_a_case_and_the_event_feed_are_prepared_and_planned_once_per_connection() {
    let world = World::new().await;
    let app = &world.app;
    let rita = app.as_(REFERRER);
    let citizen = app
        .post("/api/v1/citizens", &rita, &json!({"cpr": common::world::cpr_for_age(40, 20), "name": "Test Borger"}))
        .await
        .expect(201)
        .id();
    let case: Uuid = app.post("/api/v1/cases", &rita, &referral(&citizen)).await.expect(201).id().parse().unwrap();
    let other: Uuid = app.post("/api/v1/cases", &rita, &referral(&citizen)).await.expect(201).id().parse().unwrap();

    let person = principal(REFERRER.sub, Department::Social, Role::Caseworker);
    let leader = principal(ADULT_LEADER_SOC.sub, Department::Social, Role::Leader);
    let system = principal("social-sys", Department::Social, Role::System);
    let mut conn = app.conn();
    // Many consents that are not current sharing consents (of another case), as a municipality
    // collects them: the partial index `consents_current_sharing` leaves them out, and a generic
    // plan can use it only if the statement names the kind as a literal. Otherwise PostgreSQL
    // finds the generic plan (a scan of every consent) dearer than planning afresh and keeps
    // doing that on every request.
    diesel::sql_query(format!(
        "INSERT INTO consents (id, case_id, kind, given_by, form, given_on, recorded_by_sub, recorded_by_dept, \
         recorded_at) SELECT gen_random_uuid(), '{other}', 'plan', 'citizen', 'written', DATE '2026-01-01', 'rita', \
         'social', now() FROM generate_series(1, 20000)"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("ANALYZE consents").execute(&mut conn).unwrap();
    // The feed shows an event once every older transaction on the server has ended, and other
    // tests' transactions share the server: wait (bounded) until the referral's event shows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store::events::feed(&mut conn, access::feed_cases(&system), (0, 0), 10).unwrap().is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // PostgreSQL plans a prepared statement afresh five times, then keeps a generic plan if it
    // is not dearer than those: eight rounds show which it chose.
    for _ in 0..8 {
        for p in [&person, &leader] {
            let whole = audit::read_whole_case(&mut conn, p, case).unwrap();
            assert_eq!(whole.map(|w| w.case.id), Some(case), "{} sees the case", p.sub);
        }
        let feed = store::events::feed(&mut conn, access::feed_cases(&system), (0, 0), 10).unwrap();
        assert!(!feed.is_empty(), "the social department's feed carries the referral");
        // the page as GET /events reads it, recording itself
        let filters = json!({"after": null, "limit": 10});
        let read = audit::read_feed_page(&mut conn, &system, filters, (0, 0), 10).unwrap();
        assert_eq!(read.len(), feed.len(), "the recorded read answers the same page");
    }
    let statements = prepared(&mut conn);
    let reads: Vec<&Prepared> =
        statements.iter().filter(|s| s.statement.starts_with(r#"WITH "seen" AS (INSERT INTO "audit_log""#)).collect();
    // one for the person's visibility rule, one for the department's
    assert_eq!(reads.len(), 2, "GET case kept prepared for both kinds of caller: {statements:#?}");
    assert!(
        reads.iter().any(|s| s.statement.contains("CURRENT_DATE")),
        "the department's rule, with today's consents: {reads:#?}"
    );
    let feeds: Vec<&Prepared> = statements.iter().filter(|s| s.statement.contains("pg_snapshot_xmin")).collect();
    assert_eq!(feeds.len(), 2, "the event feed kept prepared, plain and recorded: {statements:#?}");
    // The feed's page runs under its generic plan from the first run on (`store::events::FEED_PLAN`):
    // PostgreSQL, left to choose, plans it afresh for every cursor at 1 000 cases and more.
    for s in &feeds {
        assert_eq!(s.custom_plans, 0, "the feed is never planned for its cursor: {s:#?}");
    }
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        plan_cache_mode: String,
    }
    let mode = diesel::sql_query("SHOW plan_cache_mode").get_result::<Setting>(&mut conn).unwrap();
    assert_eq!(mode.plan_cache_mode, "auto", "the setting ends with the feed's transaction");
    for s in reads.iter().chain(&feeds) {
        assert!(
            s.generic_plans >= 3,
            "PostgreSQL settled on one generic plan ({} generic, {} custom): {}",
            s.generic_plans,
            s.custom_plans,
            s.statement
        );
    }
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM audit_log WHERE request_id = 'prepared' AND case_id = '{case}'")),
        16,
        "each read of the case recorded once"
    );
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(column_name = "QUERY PLAN", sql_type = diesel::sql_types::Text)]
    line: String,
}

// The feed's generic plan reckons with every event, and PostgreSQL would put a Memoize cache in
// front of its look-ups in `cases`, sized for as many cases as `work_mem` allows, and zero it on
// every run for the page's few cases: at a million cases that tripled the time of a page
// (docs/performance.md). The page is planned without one (`store::events::FEED_PLAN`), whatever
// `work_mem` the connection has.
#[tokio::test]
async fn the_feeds_page_is_planned_without_a_memoize_cache() {
    let world = World::new().await;
    let app = &world.app;
    let rita = app.as_(REFERRER);
    let citizen = app
        .post("/api/v1/citizens", &rita, &json!({"cpr": common::world::cpr_for_age(40, 20), "name": "Test Borger"}))
        .await
        .expect(201)
        .id();
    let case: Uuid = app.post("/api/v1/cases", &rita, &referral(&citizen)).await.expect(201).id().parse().unwrap();
    let system = principal("social-sys", Department::Social, Role::System);
    let mut conn = app.conn();
    // Some thousands of cases (copies of this one) with several events each, and room for a
    // large cache: what makes Memoize attractive, as in the benchmark's municipality.
    diesel::sql_query(format!(
        "INSERT INTO cases SELECT (jsonb_populate_record(c, jsonb_build_object('id', gen_random_uuid()))).* \
         FROM cases c CROSS JOIN generate_series(1, 3000) WHERE c.id = '{case}'"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO case_events (case_id, type, actor_iss, actor_sub, actor_dept) \
         SELECT id, 'plan_updated', 'test', 'rita', 'social' FROM cases CROSS JOIN generate_series(1, 4)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("ANALYZE case_events").execute(&mut conn).unwrap();
    diesel::sql_query("ANALYZE cases").execute(&mut conn).unwrap();
    diesel::sql_query("SET work_mem = '64MB'").execute(&mut conn).unwrap();
    store::events::feed(&mut conn, access::feed_cases(&system), (0, 0), 10).unwrap();

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let feed = diesel::sql_query(
        "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%pg_snapshot_xmin%' \
         AND statement NOT LIKE '%audit_log%'",
    )
    .get_result::<Name>(&mut conn)
    .unwrap();
    // The plan the page runs with, under the page's own settings: the one the connection keeps,
    // or, where PostgreSQL dropped it (an ANALYZE, or other tests' DDL on this shared server
    // overflowing its invalidation queue), the one it makes afresh at the page's next run. Shown
    // under this connection's settings instead, a dropped plan showed a Memoize cache (a CI run
    // failed so), one the page itself never runs with.
    let plan = helhed::db::with_local_settings(&mut conn, store::events::FEED_PLAN, |conn| {
        diesel::sql_query(format!(
            "EXPLAIN EXECUTE {}(0, 0, 0, '{{social}}', 'social', '{{social}}', '{{social}}', 10)",
            feed.name
        ))
        .load::<PlanLine>(conn)
    })
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect::<Vec<_>>()
    .join("\n");
    assert!(plan.contains("case_events_feed"), "the page walks the feed's index in order:\n{plan}");
    assert!(!plan.contains("Memoize"), "no Memoize cache to set up on every run:\n{plan}");
}

/// The text of a case read that records itself, for `p`.
fn case_read_text(p: &Principal) -> String {
    use diesel::query_builder::{QueryBuilder, QueryFragment};
    use diesel::QueryDsl;
    use helhed::schema::cases;
    let inner = cases::table.select(cases::id).filter(audit::recorded_case()).into_boxed::<diesel::pg::Pg>();
    let read = audit::case_read(p, Uuid::nil(), inner);
    let mut builder = diesel::pg::PgQueryBuilder::default();
    read.to_sql(&mut builder, &diesel::pg::Pg).unwrap();
    builder.finish()
}

/// Every set of roles in every department, under two names, each with a request id of its own:
/// the callers a keyed statement's text must not depend on (beyond what its key says).
fn every_caller() -> Vec<Principal> {
    let mut callers = Vec::new();
    for mask in 1u32..(1 << Role::ALL.len()) {
        let roles: Vec<Role> =
            Role::ALL.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, r)| *r).collect();
        for dept in Department::ALL {
            for sub in ["rita", "social-sys"] {
                let mut p = principal(sub, *dept, roles[0]);
                p.roles = roles.clone();
                p.request_id = format!("req-{mask}-{sub}");
                callers.push(p);
            }
        }
    }
    callers
}

/// GET case's statement is cached under a key per kind of caller (`audit::CaseReadKind`), not by
/// its text: two callers of one kind must get the same text, or one would run the other's
/// access rule. Every set of roles in every department, under two names each.
#[test]
fn a_case_reads_text_depends_on_the_callers_kind_alone() {
    let mut by_kind: std::collections::HashMap<audit::CaseReadKind, String> = Default::default();
    for p in every_caller() {
        let text = case_read_text(&p);
        let kind = audit::CaseReadKind::of(&p);
        let first = by_kind.entry(kind).or_insert_with(|| text.clone());
        assert_eq!(*first, text, "{kind:?}: {:?} in {:?} as {}", p.roles, p.dept, p.sub);
    }
    let texts: std::collections::HashSet<&String> = by_kind.values().collect();
    assert_eq!(texts.len(), 3, "three kinds, three texts: {by_kind:#?}");
}

/// GET events' statement is cached under one key (`audit::read_feed_page`), not by its text:
/// every caller, in every department, on every page, must get the same text, or one would read
/// another's page. Every set of roles in every department, under two names, at three cursors
/// and limits each.
#[test]
fn the_feeds_text_is_the_same_for_every_caller_and_page() {
    use diesel::query_builder::{QueryBuilder, QueryFragment};
    let mut texts = std::collections::HashSet::new();
    for p in every_caller() {
        for (after, limit) in [((0, 0), 1), ((17, 4), 50), ((i64::MAX, i64::MAX), 1000)] {
            let filters = json!({"after": format!("{after:?}"), "limit": limit});
            let page = store::events::feed_page(access::feed_cases(&p), after, limit);
            let read = audit::feed_read(&p, filters, page);
            let mut builder = diesel::pg::PgQueryBuilder::default();
            read.to_sql(&mut builder, &diesel::pg::Pg).unwrap();
            texts.insert(builder.finish());
        }
    }
    assert_eq!(texts.len(), 1, "one text for every caller and page: {texts:#?}");
}

/// The debug builds' guard of `db::Keyed`: two texts under one key panic.
#[test]
#[should_panic(expected = "two statements with different texts under the key")]
fn one_key_with_two_texts_panics() {
    struct Key;
    let person = principal("rita", Department::Social, Role::Caseworker);
    let leader = principal("lene", Department::Social, Role::Leader);
    for p in [&person, &leader] {
        use diesel::QueryDsl;
        use helhed::schema::cases;
        let inner = cases::table.select(cases::id).filter(audit::recorded_case()).into_boxed::<diesel::pg::Pg>();
        let _ = helhed::db::Keyed::<_, Key>::new(audit::case_read(p, Uuid::nil(), inner));
    }
}
