//! The event feed: complete, in order, resumable, scoped to the department, without personal data.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::world::{referral, World, REFERRER};
use common::TestApp;
use futures_util::future::join_all;
use serde_json::{json, Value};

/// Polls until at least `n` events come (other tests' transactions on the shared server can
/// hold the feed's safe point back for a moment).
async fn page_of_at_least(app: &TestApp, token: &str, after: Option<&str>, n: usize) -> (Vec<Value>, Option<String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (items, next) = page(app, token, after).await;
        if items.len() >= n || std::time::Instant::now() > deadline {
            return (items, next);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn page(app: &TestApp, token: &str, after: Option<&str>) -> (Vec<Value>, Option<String>) {
    let path = match after {
        Some(cursor) => format!("/api/v1/events?limit=7&after={cursor}"),
        None => "/api/v1/events?limit=7".to_string(),
    };
    let res = app.get(&path, token).await.expect(200);
    (res.body["items"].as_array().unwrap().clone(), res.body["next_cursor"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_sees_every_committed_event_once_while_eight_writers_commit() {
    let world = World::new().await;
    let app = &world.app;
    let system = app.token("social-system-account", "social", &["system"]);
    let done = std::sync::atomic::AtomicBool::new(false);

    let writers = join_all((0..8).map(|w| {
        let world = &world;
        async move {
            for _ in 0..6 {
                let case = world.referred(if w % 2 == 0 { 24 } else { 44 }).await;
                let body = json!({"description": format!("writer {w}")});
                world.app.patch(&format!("/api/v1/cases/{case}"), &world.token(REFERRER), &body).await.expect(200);
            }
        }
    }));
    // 8 writers × 6 cases × (referral + edit) events; the reader polls while they write and
    // stops once it has them all, or after a generous deadline (then the count check fails).
    let expected = 96;
    let reader = async {
        let (mut seen, mut cursor) = (Vec::<i64>::new(), None::<String>);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let (items, next) = page(app, &system, cursor.as_deref()).await;
            seen.extend(items.iter().map(|e| e["id"].as_str().unwrap().parse::<i64>().unwrap()));
            if next.is_some() {
                cursor = next;
            }
            if items.is_empty() {
                if done.load(std::sync::atomic::Ordering::SeqCst) && seen.len() >= expected {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        seen
    };
    let writing = async {
        writers.await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let ((), seen) = tokio::join!(writing, reader);

    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was seen twice");
    let committed = app.count("SELECT count(*) FROM case_events");
    assert_eq!(seen.len() as i64, committed, "every committed event is seen (social is on both committees)");
    // 48 referrals, 48 edits
    assert_eq!(app.count("SELECT count(*) FROM case_events WHERE type IN ('case.referred', 'case.updated')"), 96);
    // and in the feed's order, a second reader from the start gets the same sequence
    let (mut again, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let (items, next) = page(app, &system, cursor.as_deref()).await;
        if items.is_empty() {
            break;
        }
        again.extend(items.iter().map(|e| e["id"].as_str().unwrap().parse::<i64>().unwrap()));
        cursor = next;
    }
    assert_eq!(again, seen);
}

#[tokio::test]
async fn the_feed_is_the_departments_and_carries_no_personal_data() {
    let world = World::new().await;
    let app = &world.app;
    let youth_case = world.referred(22).await;
    let adult_case = world.referred(45).await;
    // school sits on the youth committee only; the referral involves social and labour_market,
    // and labour_market (not on the youth committee) by the citizen's data_sharing consent
    world.data_sharing(&youth_case, 22, &["labour_market"]).await;
    let school = app.token("school-system", "school", &["system"]);
    let labour = app.token("labour-system", "labour_market", &["admin"]);
    page_of_at_least(app, &labour, None, 3).await; // two referrals and the consent
    let res = app.get("/api/v1/events", &school).await.expect(200);
    let cases: HashSet<&str> =
        res.body["items"].as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap()).collect();
    assert_eq!(cases, HashSet::from([youth_case.as_str()]));
    let res = app.get("/api/v1/events", &labour).await.expect(200);
    let cases: HashSet<&str> =
        res.body["items"].as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap()).collect();
    assert_eq!(cases, HashSet::from([youth_case.as_str(), adult_case.as_str()]), "labour_market is involved in both");
    for event in res.body["items"].as_array().unwrap() {
        let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["data", "datacontenttype", "id", "source", "specversion", "subject", "time", "type"]);
        assert_eq!((&event["specversion"], &event["source"]), (&json!("1.0"), &json!("urn:helhed:test")));
        assert_eq!(event["data"], json!({"case_id": event["subject"]}), "the data names the case, nothing more");
    }
    assert!(!res.text.contains("Test Borger"));

    // only systems and admins read the feed
    for roles in [&["caseworker"][..], &["leader"], &["auditor"]] {
        app.get("/api/v1/events", &app.token("x", "social", roles)).await.problem(403, "forbidden");
    }
    app.get("/api/v1/events?after=garbage", &school).await.problem(422, "invalid_cursor");
    // a cursor at the end gives nothing new, and itself back
    let cursor = res.body["next_cursor"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/events?after={cursor}"), &labour).await.expect(200);
    assert_eq!(res.body["items"], json!([]));
    assert_eq!(res.body["next_cursor"], cursor);
    // a new event appears after it
    let citizen = world.citizen(50).await;
    app.post("/api/v1/cases", &app.as_(REFERRER), &referral(&citizen)).await.expect(201);
    let mut res = app.get(&format!("/api/v1/events?after={cursor}"), &labour).await.expect(200);
    for _ in 0..100 {
        if !res.body["items"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        res = app.get(&format!("/api/v1/events?after={cursor}"), &labour).await.expect(200);
    }
    assert_eq!(res.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(res.body["items"][0]["type"], "case.referred");
}

/// Sequence values are not committed in order: an event whose transaction commits late must
/// not be skipped by a reader that has already seen later ids.
#[tokio::test]
async fn an_event_whose_transaction_commits_late_is_not_skipped() {
    use diesel::connection::SimpleConnection;
    let world = World::new().await;
    let app = &world.app;
    let system = app.token("social-system-account", "social", &["system"]);
    let first = world.referred(40).await;
    let (items, mut cursor) = page_of_at_least(app, &system, None, 1).await;
    assert_eq!(items.len(), 1);

    // A slow transaction takes an event id now and commits later.
    let mut slow = app.conn();
    slow.batch_execute(&format!(
        "BEGIN; INSERT INTO case_events (case_id, type, actor_iss, actor_sub, actor_dept) \
         VALUES ('{first}', 'case.updated', 'test', 'slow', 'social');"
    ))
    .unwrap();
    // Meanwhile other events commit with higher ids, and the reader polls.
    world.referred(41).await;
    let (items, next) = page(app, &system, cursor.as_deref()).await;
    assert!(items.is_empty(), "events behind a running transaction are held back: {items:?}");
    cursor = next.or(cursor);
    slow.batch_execute("COMMIT").unwrap();

    let (items, _) = page_of_at_least(app, &system, cursor.as_deref(), 2).await;
    let types: Vec<(&str, &str)> =
        items.iter().map(|e| (e["type"].as_str().unwrap(), e["subject"].as_str().unwrap())).collect();
    assert_eq!(types.len(), 2, "{types:?}");
    assert!(types.contains(&("case.updated", first.as_str())), "the late event is delivered: {types:?}");
}

/// A page of the feed is read and recorded in one statement (`audit::feed_read`): one audit row
/// per page, naming exactly the cases of the events on it (in order, each once), with the
/// cursor and limit asked for; an empty page is on record too.
#[tokio::test]
async fn each_page_of_the_feed_is_recorded_with_the_cases_on_it() {
    let world = World::new().await;
    let app = &world.app;
    let cases = [world.referred(45).await, world.referred(46).await, world.referred(47).await];
    let system = app.token("social-system-account", "social", &["system"]);
    let (all, _) = page_of_at_least(app, &system, None, 3).await;
    assert_eq!(all.len(), 3, "one referral event per case: {all:?}");

    let read = |path: String, rid: &'static str| {
        let req = app.client.get(format!("{}{path}", app.base)).bearer_auth(&system).header("x-request-id", rid);
        async move { TestApp::read(req.send().await.expect("request sent")).await.expect(200) }
    };
    let recorded = |rid: &str, case_ids: &[&str], filters: Value| {
        app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE request_id = '{rid}' AND action = 'read' AND resource = 'events' \
             AND resource_id IS NULL AND case_id IS NULL AND citizen_id IS NULL AND purpose = 'integration' \
             AND status = 200 AND actor_sub = 'social-system-account' AND actor_dept = 'social' \
             AND case_ids = '{{{}}}'::uuid[] AND citizen_ids = '{{}}' AND filters = '{filters}'::jsonb",
            case_ids.join(",")
        ))
    };
    let subjects = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap().to_string()).collect()
    };

    let first = read("/api/v1/events?limit=2".into(), "feed-first").await.body;
    let on_first = subjects(&first);
    let mut named: Vec<&str> = on_first.iter().map(String::as_str).collect();
    named.sort();
    named.dedup();
    assert_eq!(named.len(), 2, "{first:#}");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE request_id = 'feed-first'"), 1, "one row per page");
    assert_eq!(recorded("feed-first", &named, json!({"after": null, "limit": 2})), 1, "the first page's row");

    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let rest = read(format!("/api/v1/events?limit=200&after={cursor}"), "feed-rest").await.body;
    let on_rest = subjects(&rest);
    assert_eq!(on_rest.len(), 1, "{rest:#}");
    assert!(cases.contains(&on_rest[0]));
    assert_eq!(recorded("feed-rest", &[&on_rest[0]], json!({"after": cursor, "limit": 200})), 1);

    let end = rest["next_cursor"].as_str().unwrap().to_string();
    let empty = read(format!("/api/v1/events?after={end}"), "feed-empty").await.body;
    assert_eq!(subjects(&empty), Vec::<String>::new());
    assert_eq!(empty["next_cursor"], json!(end), "the cursor stays where it was");
    assert_eq!(recorded("feed-empty", &[], json!({"after": end, "limit": 50})), 1, "an empty page is recorded too");
}
