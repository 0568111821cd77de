//! Authentication (401) and the function-level role rules (403) of api.md, through real HTTP:
//! every refused token is a 401 problem with a `Bearer` challenge, each issuer's algorithm and
//! key (and each key of a rotating JWK set) is accepted, and a principal without the role for
//! an operation gets 403 `forbidden` with nothing written.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::world::{
    referral, Person, World, ADMIN, ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR, REFERRER, YOUTH_CW_SOC, YOUTH_LEADER_Y,
};
use common::{key_pem, Response, TestApp, TEST_ISSUER};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

/// A path any authenticated principal with a case role may read.
const PROBE: &str = "/api/v1/committees";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims of `iss`, as JSON to be bent into an invalid token.
fn claims(iss: &str, dept: &str, roles: &[&str]) -> Value {
    serde_json::to_value(common::claims(iss, "anna", dept, roles)).unwrap()
}

/// A caseworker's valid claims for `iss`, with `f` applied to them.
fn claims_with(iss: &str, dept: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut c = claims(iss, dept, &["caseworker"]);
    f(c.as_object_mut().unwrap());
    c
}

fn header(alg: Algorithm, kid: Option<&str>) -> Header {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_string);
    h
}

fn ec_key(file: &str) -> EncodingKey {
    EncodingKey::from_ec_pem(&key_pem(file)).unwrap()
}

/// The algorithm and private key each test issuer really signs with (`social-system`: key `k1`).
fn signer(iss: &str) -> (Header, EncodingKey) {
    match iss {
        TEST_ISSUER => (header(Algorithm::HS256, None), common::test_secret()),
        "labour-system" => (header(Algorithm::ES256, None), ec_key("es256-a.key")),
        "youth-system" => (header(Algorithm::RS256, None), EncodingKey::from_rsa_pem(&key_pem("rs256.key")).unwrap()),
        "health-system" => (header(Algorithm::EdDSA, None), EncodingKey::from_ed_pem(&key_pem("ed25519.key")).unwrap()),
        "social-system" => (header(Algorithm::ES256, Some("k1")), ec_key("es256-b.key")),
        other => panic!("no test issuer {other}"),
    }
}

/// Signs `claims` as `iss` would, with the issuer's own algorithm and key.
fn signed_by(iss: &str, claims: &Value) -> String {
    let (header, key) = signer(iss);
    common::sign(header, claims, &key)
}

/// A request with the Authorization header given verbatim (or none).
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let mut req = app.client.request(method, format!("{}{}", app.base, path));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    TestApp::read(req.send().await.expect("request sent")).await
}

/// What is wrong with a response that should be a 401 problem with a Bearer challenge; `secret`
/// (the token) must not be echoed.
fn unauthorized_mismatch(res: &Response, secret: Option<&str>) -> Option<String> {
    let mut wrong = vec![];
    if res.status.as_u16() != 401 {
        wrong.push(format!("status {}", res.status));
    }
    if res.header("content-type") != Some("application/problem+json") {
        wrong.push(format!("content-type {:?}", res.header("content-type")));
    }
    if res.code() != "unauthorized" || res.body["status"] != 401 {
        wrong.push("problem code/status".to_string());
    }
    let challenge = res.header("www-authenticate").unwrap_or("");
    if challenge.split([' ', ',']).next() != Some("Bearer") {
        wrong.push(format!("WWW-Authenticate {challenge:?}"));
    }
    if let Some(secret) = secret.filter(|s| s.len() > 8) {
        if res.text.contains(secret) {
            wrong.push("the body echoes the token".to_string());
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {}", wrong.join(", "), res.text))
}

fn assert_unauthorized(res: &Response, secret: Option<&str>) {
    if let Some(wrong) = unauthorized_mismatch(res, secret) {
        panic!("expected a 401 Bearer problem: {wrong}");
    }
}

// ---------------------------------------------------------------------------------------------
// 401: no credentials, or credentials that are not a bearer token

#[tokio::test]
async fn a_request_without_a_bearer_token_is_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let valid = app.as_(REFERRER);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("Basic scheme", Some(format!("Basic {}", URL_SAFE_NO_PAD.encode("rita:secret")))),
        ("a valid token under the Basic scheme", Some(format!("Basic {valid}"))),
        ("a bare token without a scheme", Some(valid.clone())),
        ("Bearer without a token", Some("Bearer".to_string())),
        ("Bearer with an empty token", Some("Bearer ".to_string())),
        ("garbage token", Some("Bearer not-a-jwt".to_string())),
        ("three garbage segments", Some("Bearer aaa.bbb.ccc".to_string())),
    ];
    let mut failures = vec![];
    for (name, authorization) in &cases {
        let res = call(&app, Method::GET, PROBE, authorization.as_deref(), None).await;
        if let Some(wrong) = unauthorized_mismatch(&res, Some(&valid)) {
            failures.push(format!("{name}: {wrong}"));
        }
    }
    assert!(failures.is_empty(), "not refused as specified:\n{}", failures.join("\n"));

    // the same on every /api/v1 path, and a refused write stores nothing
    for path in ["/api/v1/cases", "/api/v1/audit", "/api/v1/committees", "/api/v1/nowhere"] {
        assert_unauthorized(&call(&app, Method::GET, path, None, None).await, None);
    }
    let before = app.count("SELECT count(*) FROM citizens");
    let body = json!({"cpr": "0101901234", "name": "A"});
    let res = call(&app, Method::POST, "/api/v1/citizens", None, Some(&body)).await;
    assert_unauthorized(&res, None);
    let res = call(&app, Method::POST, "/api/v1/citizens", Some("Bearer not-a-jwt"), Some(&body)).await;
    assert_unauthorized(&res, None);
    assert_eq!(app.count("SELECT count(*) FROM citizens"), before, "a refused write stored a citizen");

    // the control: the same valid token as a Bearer token passes
    call(&app, Method::GET, PROBE, Some(&format!("Bearer {valid}")), None).await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 401: every token api.md refuses

#[tokio::test]
async fn every_token_the_contract_refuses_is_401() {
    let app = TestApp::spawn().await;
    let t = now();
    let hs = Header::new(Algorithm::HS256);
    let lm = "labour_market";

    // alg none: header.payload. with an empty signature
    let none_token = {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(TEST_ISSUER, "social", &["caseworker"])).unwrap());
        format!("{h}.{p}.")
    };
    // algorithm confusion: HS256 keyed with labour-system's public ES256 key, claiming labour-system
    let confused = common::sign(
        hs.clone(),
        &claims("labour-system", lm, &["caseworker"]),
        &EncodingKey::from_secret(&key_pem("es256-a.pem")),
    );

    let cases: Vec<(&str, String)> = vec![
        ("alg none", none_token),
        (
            "HS256 signed with another secret",
            common::sign(
                hs.clone(),
                &claims(TEST_ISSUER, "social", &["caseworker"]),
                &EncodingKey::from_secret(b"another-secret-another-secret-another-secret-0"),
            ),
        ),
        ("HS256 keyed with the ES256 public key PEM (alg confusion)", confused),
        (
            "ES256 signed with another EC key, claiming labour-system",
            common::sign(
                header(Algorithm::ES256, None),
                &claims("labour-system", lm, &["caseworker"]),
                &ec_key("es256-b.key"),
            ),
        ),
        (
            "RS256 (youth-system's key) claiming labour-system",
            common::sign(
                header(Algorithm::RS256, None),
                &claims("labour-system", lm, &["caseworker"]),
                &EncodingKey::from_rsa_pem(&key_pem("rs256.key")).unwrap(),
            ),
        ),
        (
            "ES256 claiming the HS256 issuer helhed-test",
            common::sign(
                header(Algorithm::ES256, None),
                &claims(TEST_ISSUER, "social", &["caseworker"]),
                &ec_key("es256-a.key"),
            ),
        ),
        ("a tampered payload (valid signature of other claims)", {
            let good = signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "social", &["caseworker"]));
            let parts: Vec<&str> = good.split('.').collect();
            let forged =
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(TEST_ISSUER, "social", &["admin"])).unwrap());
            format!("{}.{forged}.{}", parts[0], parts[2])
        }),
        (
            "expired 120 s ago (beyond the 60 s leeway)",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.insert("exp".into(), json!(t - 120));
                    c.insert("iat".into(), json!(t - 3600));
                }),
            ),
        ),
        (
            "nbf 120 s in the future",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.insert("nbf".into(), json!(t + 120));
                }),
            ),
        ),
        (
            "wrong aud",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.insert("aud".into(), json!("another-service"));
                }),
            ),
        ),
        (
            "missing aud",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("aud");
                }),
            ),
        ),
        (
            "unknown iss (signed with the test secret)",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.insert("iss".into(), json!("rogue-system"));
                }),
            ),
        ),
        (
            "missing iss",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("iss");
                }),
            ),
        ),
        (
            "labour-system speaking for social",
            signed_by("labour-system", &claims("labour-system", "social", &["caseworker"])),
        ),
        (
            "youth-system speaking for health_care",
            signed_by("youth-system", &claims("youth-system", "health_care", &["leader"])),
        ),
        ("unknown dept", signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "finance", &["caseworker"]))),
        (
            "missing dept",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("dept");
                }),
            ),
        ),
        ("empty roles", signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "social", &[]))),
        ("an unknown role", signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "social", &["superuser"]))),
        (
            "a known and an unknown role",
            signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "social", &["caseworker", "root"])),
        ),
        (
            "missing roles",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("roles");
                }),
            ),
        ),
        (
            "no exp",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("exp");
                }),
            ),
        ),
        (
            "missing sub",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.remove("sub");
                }),
            ),
        ),
        (
            "empty sub",
            signed_by(
                TEST_ISSUER,
                &claims_with(TEST_ISSUER, "social", |c| {
                    c.insert("sub".into(), json!(""));
                }),
            ),
        ),
        (
            "social-system: unknown kid k3",
            common::sign(
                header(Algorithm::ES256, Some("k3")),
                &claims("social-system", "social", &["caseworker"]),
                &ec_key("es256-b.key"),
            ),
        ),
        (
            "social-system: no kid (the set holds two keys)",
            common::sign(
                header(Algorithm::ES256, None),
                &claims("social-system", "social", &["caseworker"]),
                &ec_key("es256-b.key"),
            ),
        ),
    ];

    let mut failures = vec![];
    for (name, token) in &cases {
        let res = app.get(PROBE, token).await;
        if let Some(wrong) = unauthorized_mismatch(&res, Some(token)) {
            failures.push(format!("{name}: {wrong}"));
        }
    }
    assert!(failures.is_empty(), "tokens not refused as specified:\n{}", failures.join("\n"));

    // the control: the unbent claims, signed the same way, pass
    app.get(PROBE, &signed_by(TEST_ISSUER, &claims(TEST_ISSUER, "social", &["caseworker"]))).await.expect(200);
    app.get(PROBE, &signed_by("labour-system", &claims("labour-system", lm, &["caseworker"]))).await.expect(200);
}

#[tokio::test]
async fn the_60_second_leeway_accepts_slightly_expired_or_early_tokens() {
    let app = TestApp::spawn().await;
    let t = now();
    let expired_30s = signed_by(
        TEST_ISSUER,
        &claims_with(TEST_ISSUER, "social", |c| {
            c.insert("exp".into(), json!(t - 30));
            c.insert("iat".into(), json!(t - 3600));
        }),
    );
    let not_before_in_30s = signed_by(
        TEST_ISSUER,
        &claims_with(TEST_ISSUER, "social", |c| {
            c.insert("nbf".into(), json!(t + 30));
        }),
    );
    let not_before_past = signed_by(
        TEST_ISSUER,
        &claims_with(TEST_ISSUER, "social", |c| {
            c.insert("nbf".into(), json!(t - 30));
        }),
    );
    app.get(PROBE, &expired_30s).await.expect(200);
    app.get(PROBE, &not_before_in_30s).await.expect(200);
    app.get(PROBE, &not_before_past).await.expect(200);
    // and the same claims just beyond the leeway are refused
    let expired_120s = signed_by(
        TEST_ISSUER,
        &claims_with(TEST_ISSUER, "social", |c| {
            c.insert("exp".into(), json!(t - 120));
        }),
    );
    assert_unauthorized(&app.get(PROBE, &expired_120s).await, Some(&expired_120s));
}

// ---------------------------------------------------------------------------------------------
// acceptance: each issuer with its own algorithm and key

#[tokio::test]
async fn each_issuer_is_accepted_with_its_own_algorithm_and_key() {
    let app = TestApp::spawn().await;
    for (iss, alg, dept) in [
        (TEST_ISSUER, "HS256", "social"),
        ("labour-system", "ES256", "labour_market"),
        ("youth-system", "RS256", "youth"),
        ("youth-system", "RS256", "school"),
        ("health-system", "EdDSA", "health_care"),
    ] {
        let sub = format!("sub-{iss}-{dept}");
        let token = common::mint(iss, &sub, dept, &["caseworker"]);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg, "{iss} mints with its own algorithm");
        app.get(PROBE, &token).await.expect(200);

        // the principal is the verified token's: a write is recorded under its iss, sub and dept
        let cpr = common::world::cpr_for_age(40, 10);
        app.post("/api/v1/citizens", &token, &json!({"cpr": cpr, "name": "Test Borger"})).await.expect(201);
        let recorded = app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE actor_iss = '{iss}' AND actor_sub = '{sub}' AND actor_dept = '{dept}'"
        ));
        assert_eq!(recorded, 1, "{iss}/{dept}: the registration is audited under the token's principal");
    }
}

#[tokio::test]
async fn a_rotating_jwk_set_accepts_each_key_by_its_kid_and_nothing_else() {
    let app = TestApp::spawn().await;
    let claims = claims("social-system", "social", &["caseworker"]);
    let sign = |kid: Option<&str>, key: &str| common::sign(header(Algorithm::ES256, kid), &claims, &ec_key(key));

    // the old and the new key are both trusted during the rotation
    app.get(PROBE, &sign(Some("k1"), "es256-b.key")).await.expect(200);
    app.get(PROBE, &sign(Some("k2"), "es256-c.key")).await.expect(200);

    let refused = [
        ("kid k1 signed with k2's key", sign(Some("k1"), "es256-c.key")),
        ("kid k2 signed with k1's key", sign(Some("k2"), "es256-b.key")),
        ("kid k3 (not in the set)", sign(Some("k3"), "es256-b.key")),
        ("no kid, two keys in the set", sign(None, "es256-b.key")),
        ("kid k1 signed with labour-system's key", sign(Some("k1"), "es256-a.key")),
    ];
    let mut failures = vec![];
    for (name, token) in &refused {
        if let Some(wrong) = unauthorized_mismatch(&app.get(PROBE, token).await, Some(token)) {
            failures.push(format!("{name}: {wrong}"));
        }
    }
    assert!(failures.is_empty(), "rotation tokens not refused:\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 403: the operation table

#[tokio::test]
async fn registering_a_citizen_is_for_caseworkers_leaders_and_systems() {
    let app = TestApp::spawn().await;
    let count = || app.count("SELECT count(*) FROM citizens");
    let table: &[(&str, &[&str], u16)] = &[
        ("social", &["admin"], 403),
        ("social", &["auditor"], 403),
        ("labour_market", &["admin"], 403),
        ("social", &["caseworker"], 201),
        ("youth", &["leader"], 201),
        ("health_care", &["system"], 201),
        ("school", &["admin", "caseworker"], 201),
    ];
    for (i, (dept, roles, expected)) in table.iter().enumerate() {
        let token = app.token(&format!("p{i}"), dept, roles);
        let cpr = common::world::cpr_for_age(40, 10);
        let before = count();
        let res = app.post("/api/v1/citizens", &token, &json!({"cpr": cpr, "name": "Test Borger"})).await;
        if *expected == 403 {
            res.problem(403, "forbidden");
            assert_eq!(count(), before, "{roles:?} stored a citizen");
        } else {
            res.expect(*expected);
            assert_eq!(count(), before + 1, "{roles:?}");
        }
    }
    // a known CPR: the same answer with the existing citizen for each referring role, still 403 for the others
    let cpr = common::world::cpr_for_age(40, 11);
    let body = json!({"cpr": cpr, "name": "Test Borger"});
    let first = app.post("/api/v1/citizens", &app.as_(REFERRER), &body).await.expect(201).id();
    let before = count();
    for roles in [&["caseworker"][..], &["leader"], &["system"]] {
        let res = app.post("/api/v1/citizens", &app.token("again", "social", roles), &body).await.expect(201);
        assert_eq!(res.id(), first, "{roles:?}");
    }
    for roles in [&["admin"][..], &["auditor"]] {
        app.post("/api/v1/citizens", &app.token("again", "social", roles), &body).await.problem(403, "forbidden");
    }
    assert_eq!(count(), before);
}

#[tokio::test]
async fn referring_a_case_is_for_caseworkers_leaders_and_systems() {
    let world = World::new().await;
    let app = &world.app;
    let cases = || app.count("SELECT count(*) FROM cases");
    let events = || app.count("SELECT count(*) FROM case_events");
    let table: &[(Person, u16)] = &[
        (ADMIN, 403),
        (AUDITOR, 403),
        (Person { sub: "sys", dept: "labour_market", roles: &["admin", "auditor"] }, 403),
        (REFERRER, 201),
        (ADULT_LEADER_SOC, 201),
        (Person { sub: "jobcentre-sync", dept: "labour_market", roles: &["system"] }, 201),
    ];
    for (who, expected) in table {
        let citizen = world.citizen(40).await;
        let (before, events_before) = (cases(), events());
        let res = app.post("/api/v1/cases", &app.as_(*who), &referral(&citizen)).await;
        if *expected == 403 {
            res.problem(403, "forbidden");
            assert_eq!((cases(), events()), (before, events_before), "{who:?}: a refused referral wrote");
        } else {
            let res = res.expect(*expected);
            assert_eq!(res.body["status"], "referred", "{who:?}");
            assert_eq!(cases(), before + 1, "{who:?}");
        }
    }
}

#[tokio::test]
async fn committees_are_created_and_staffed_by_admins_only() {
    // creating: on a service without committees, so the admin's control can succeed
    let app = TestApp::spawn().await;
    let body = json!({"name": "Voksne", "track": "adult", "departments": ["labour_market", "social", "health_care"]});
    let committees = || app.count("SELECT count(*) FROM committees");
    for who in [
        ADULT_LEADER_LM,
        REFERRER,
        AUDITOR,
        Person { sub: "sys", dept: "social", roles: &["system"] },
        Person { sub: "boss", dept: "social", roles: &["leader", "caseworker", "system"] },
    ] {
        app.post("/api/v1/committees", &app.as_(who), &body).await.problem(403, "forbidden");
        assert_eq!(committees(), 0, "{who:?} created a committee");
    }
    app.post("/api/v1/committees", &app.as_(ADMIN), &body).await.expect(201);
    assert_eq!(committees(), 1);

    // setting members: a valid new composition, refused for all but the admin
    let world = World::new().await;
    let app = &world.app;
    let path = format!("/api/v1/committees/{}/members", world.adult_committee);
    let seat = |sub: &str, dept: &str, role: &str| json!({"sub": sub, "name": sub, "department": dept, "role": role});
    let members = json!([
        seat("new-l1", "labour_market", "leader"),
        seat("new-l2", "social", "leader"),
        seat("new-c1", "labour_market", "caseworker"),
        seat("new-c2", "social", "caseworker"),
        seat("new-f", "health_care", "fixed_staff"),
    ]);
    let state = || {
        (
            app.count("SELECT count(*) FROM committee_members"),
            app.count("SELECT count(*) FROM committee_members WHERE sub LIKE 'new-%'"),
            app.count(&format!("SELECT version FROM committees WHERE id = '{}'", world.adult_committee)),
        )
    };
    let before = state();
    for who in
        [ADULT_LEADER_LM, ADULT_LEADER_SOC, REFERRER, AUDITOR, Person { sub: "s", dept: "social", roles: &["system"] }]
    {
        app.put(&path, &app.as_(who), &members).await.problem(403, "forbidden");
        assert_eq!(state(), before, "{who:?} changed the members");
    }
    app.put(&path, &app.as_(ADMIN), &members).await.expect(200);
    assert_eq!(app.count("SELECT count(*) FROM committee_members WHERE sub LIKE 'new-%'"), 5);
}

#[tokio::test]
async fn the_audit_log_is_for_auditors_only() {
    let app = TestApp::spawn().await;
    let table: &[(&[&str], u16)] = &[
        (&["caseworker"], 403),
        (&["leader"], 403),
        (&["admin"], 403),
        (&["system"], 403),
        (&["leader", "admin", "system", "caseworker"], 403),
        (&["auditor"], 200),
        (&["auditor", "caseworker"], 200),
    ];
    for (roles, expected) in table {
        let res = app.get("/api/v1/audit", &app.token("someone", "social", roles)).await;
        if *expected == 403 {
            res.problem(403, "forbidden");
        } else {
            let res = res.expect(*expected);
            assert!(res.body["items"].is_array(), "{roles:?}: {}", res.text);
        }
    }
}

#[tokio::test]
async fn a_bare_auditor_reads_the_audit_log_and_nothing_else() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.referred(40).await;
    let citizen = app.get(&format!("/api/v1/cases/{case}"), &app.as_(REFERRER)).await.expect(200).body["citizen"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let auditor = app.as_(AUDITOR);
    let committee = &world.adult_committee;
    for path in [
        "/api/v1/cases".to_string(),
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{case}/history"),
        "/api/v1/committees".to_string(),
        format!("/api/v1/committees/{committee}"),
        format!("/api/v1/citizens/{citizen}"),
    ] {
        app.get(&path, &auditor).await.problem(403, "forbidden");
    }
    let before = app.count("SELECT count(*) FROM cases WHERE status <> 'referred'");
    app.post(&format!("/api/v1/cases/{case}/screening"), &auditor, &json!({"outcome": "accepted"}))
        .await
        .problem(403, "forbidden");
    assert_eq!(app.count("SELECT count(*) FROM cases WHERE status <> 'referred'"), before);
    app.get("/api/v1/audit", &auditor).await.expect(200);
}

#[tokio::test]
async fn screening_is_for_a_leader_whose_department_is_on_the_cases_committee() {
    let world = World::new().await;
    let app = &world.app;
    let youth_case = world.referred(20).await;
    let adult_case = world.referred(40).await;
    let screen = |case: &str| format!("/api/v1/cases/{case}/screening");
    let snapshot = |case: &str| {
        (
            app.count(&format!(
                "SELECT count(*) FROM cases WHERE id = '{case}' AND status = 'referred' AND screener_sub IS NULL AND version = 1"
            )),
            app.count(&format!("SELECT count(*) FROM case_events WHERE case_id = '{case}'")),
        )
    };
    let accepted = json!({"outcome": "accepted"});

    // a labour-market leader sees the youth case (labour_market is involved, and the citizen's
    // data_sharing consent names it) ...
    world.data_sharing(&youth_case, 20, &["labour_market"]).await;
    app.get(&format!("/api/v1/cases/{youth_case}"), &app.as_(ADULT_LEADER_LM)).await.expect(200);
    let before = snapshot(&youth_case);
    assert_eq!(before.0, 1, "the case starts referred, unscreened, at version 1");
    // ... but labour_market is not on the youth committee: 403, nothing written
    let refused: &[(&str, Person)] = &[
        ("a labour_market leader on a youth case", ADULT_LEADER_LM),
        ("a caseworker on the case's committee", YOUTH_CW_SOC),
        ("the referring caseworker", REFERRER),
        ("a system account of a committee department", Person { sub: "sys", dept: "social", roles: &["system"] }),
    ];
    for (name, who) in refused {
        app.post(&screen(&youth_case), &app.as_(*who), &accepted).await.problem(403, "forbidden");
        assert_eq!(snapshot(&youth_case), before, "{name}: a refused screening wrote");
    }
    // the control: a youth leader of the youth committee screens it
    let res = app.post(&screen(&youth_case), &app.as_(YOUTH_LEADER_Y), &accepted).await.expect(200);
    assert_eq!(res.body["status"], "awaiting_committee");

    // the adult committee's third (fixed-staff) department is on the committee too
    let health_leader = Person { sub: "hl", dept: "health_care", roles: &["leader"] };
    let youth_leader = Person { sub: "yl9", dept: "youth", roles: &["leader"] };
    let before = snapshot(&adult_case);
    // a youth leader does not see the adult case at all (404), or may not screen it (403)
    let res = app.post(&screen(&adult_case), &app.as_(youth_leader), &accepted).await;
    assert!(matches!(res.status.as_u16(), 403 | 404), "{}", res.text);
    assert_eq!(snapshot(&adult_case), before);
    let res = app.post(&screen(&adult_case), &app.as_(health_leader), &accepted).await.expect(200);
    assert_eq!(res.body["status"], "awaiting_committee");
}
