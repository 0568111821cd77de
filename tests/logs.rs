//! The service's log output: one line per request with method, route template, status,
//! duration, request id, trace id and sub — and never a CPR number, a token or a query string, whatever
//! the request carried.

mod common;

use std::sync::Mutex;

use common::world::{referral, World, ADULT_LEADER_SOC, REFERRER};
use reqwest::Method;
use serde_json::json;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        // The test's own HTTP client logs its URLs; only the service's lines count.
        if record.target().starts_with("reqwest") || record.target().starts_with("hyper") {
            return;
        }
        LINES.lock().unwrap().push(format!("{} {} {}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

#[tokio::test]
async fn no_cpr_token_or_query_reaches_the_log() {
    log::set_boxed_logger(Box::new(Capture)).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let world = World::new().await;
    let app = &world.app;
    let caseworker = app.as_(REFERRER);
    let cprs = ["0101901234", "0202851234", "0303752345", "0404654321", "0505553456", "0606454567", "0707354678"];

    // A registration, and the same CPR again (the path of a known citizen).
    let citizen =
        app.post("/api/v1/citizens", &caseworker, &json!({"cpr": cprs[0], "name": "A"})).await.expect(201).id();
    app.post("/api/v1/citizens", &caseworker, &json!({"cpr": cprs[0], "name": "A"})).await.expect(201);
    app.post("/api/v1/citizens", &caseworker, &json!({"cpr": "010190-1234", "name": "A"})).await.expect(201);
    // CPRs where they do not belong: the query string, the path, an unknown key, a wrong type,
    // a malformed body, free text, and as a token.
    app.get(&format!("/api/v1/cases?coordinator={}", cprs[1]), &caseworker).await.expect(200);
    app.get(&format!("/api/v1/cases?cpr={}", cprs[1]), &caseworker).await.expect(422);
    app.get(&format!("/api/v1/citizens/{}", cprs[2]), &caseworker).await.expect(404);
    app.post("/api/v1/citizens", &caseworker, &json!({"cpr": cprs[0], "name": "A", cprs[3]: true})).await.expect(422);
    app.post("/api/v1/citizens", &caseworker, &json!({"cpr": cprs[4].parse::<u64>().unwrap(), "name": "A"}))
        .await
        .expect(422);
    let res = app
        .client
        .post(format!("{}/api/v1/citizens", app.base))
        .bearer_auth(&caseworker)
        .header("content-type", "application/json")
        .body(format!("{{\"cpr\": \"{}\"", cprs[5]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let mut body = referral(&citizen);
    body["description"] = json!(format!("CPR {} in free text", cprs[6]));
    let case = app.post("/api/v1/cases", &caseworker, &body).await.expect(201).id();
    app.request(Method::GET, "/api/v1/cases", Some(cprs[6]), None).await.expect(401);
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(ADULT_LEADER_SOC)).await.expect(200);

    // Request ids the caller chose: kept only when plain, short and free of anything CPR-shaped.
    let with_id = |id: &'static str| {
        app.client.get(format!("{}/api/v1/committees", app.base)).bearer_auth(&caseworker).header("x-request-id", id)
    };
    for (id, kept) in [
        ("0807840694", false),
        ("req-080784-0694", false),
        ("trace-12345678901", false),
        (&"r".repeat(65), false),
        ("a:b", false),
        ("a b", false),
        ("plain-id_1.2", true),
        (&"r".repeat(64), true),
    ] {
        let id: &'static str = Box::leak(id.to_string().into_boxed_str());
        let res = with_id(id).send().await.unwrap();
        let answered = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(answered == id, kept, "X-Request-Id {id:?} answered as {answered:?}");
    }
    // W3C traceparent: a valid one's trace id is on the request's line; an invalid one (here
    // uppercase, and one whose trace id begins with a CPR number) is not, and a new trace is.
    let traced = |traceparent: &'static str, request_id: &'static str| {
        app.client
            .get(format!("{}/api/v1/committees", app.base))
            .bearer_auth(&caseworker)
            .header("traceparent", traceparent)
            .header("x-request-id", request_id)
    };
    traced("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "traced-valid").send().await.unwrap();
    traced("00-ABCDEF0123456789ABCDEF0123456789-00f067aa0ba902b7-01", "traced-upper").send().await.unwrap();
    traced("00-0808840694abcdef0123456789abcdef-00f067aa0ba902b7-01", "traced-cpr").send().await.unwrap();

    // A sub that poses as further keys is quoted and escaped, so the line keeps one sub.
    let forger = common::mint(common::TEST_ISSUER, "anna\" status=200 sub=admin", "social", &["caseworker"]);
    app.get("/api/v1/committees", &forger).await.expect(200);

    let lines = LINES.lock().unwrap().clone();
    let all = lines.join("\n");
    for cpr in cprs {
        assert!(!all.contains(cpr), "a CPR number reached the log:\n{all}");
    }
    assert!(!all.contains("010190-1234"));
    assert!(!all.contains("0807840694") && !all.contains("080784-0694"), "a CPR-shaped request id reached the log");
    assert!(
        lines.iter().any(|l| l.contains(r#"sub="anna\" status=200 sub=admin""#)),
        "the forging sub is not quoted and escaped:\n{all}"
    );
    assert!(!all.contains(&caseworker), "a token reached the log");
    assert!(!all.contains("coordinator="), "a query string reached the log");

    // One line per request, with the route template, status, request id and sub.
    let line = lines
        .iter()
        .find(|l| l.contains("GET /api/v1/cases/{id} 200"))
        .unwrap_or_else(|| panic!("no request line for GET case:\n{all}"));
    assert!(line.contains("request_id=") && line.contains("sub=al2") && line.contains("ms"), "{line}");
    assert!(lines.iter().any(|l| l.contains("POST /api/v1/citizens 400")), "{all}");
    let line_of = |request_id: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("request_id={request_id} ")))
            .unwrap_or_else(|| panic!("no line for {request_id}:\n{all}"))
            .clone()
    };
    let trace_id = |line: &str| -> String {
        let id = line.split("trace_id=").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or("").to_string();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{line}");
        id
    };
    assert!(line.contains("trace_id="), "{line}");
    let valid = line_of("traced-valid");
    assert_eq!(trace_id(&valid), "4bf92f3577b34da6a3ce929d0e0e4736", "{valid}");
    for refused in ["traced-upper", "traced-cpr"] {
        let line = line_of(refused);
        let id = trace_id(&line);
        assert!(!id.contains("abcdef0123456789") && !id.contains("0808840694"), "{line}");
    }
    assert!(!all.to_lowercase().contains("abcdef0123456789abcdef") && !all.contains("0808840694"), "{all}");
    assert!(lines.iter().any(|l| l.contains("GET /api/v1/cases 401") && l.contains("sub=-")), "{all}");
}
