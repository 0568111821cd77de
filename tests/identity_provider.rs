//! Keys from the identity provider: an identity provider served by the test itself on
//! 127.0.0.1 (a JWK set and a discovery document) that rotates its keys, goes down, answers
//! slowly or with garbage while the service runs; and claim mapping for tokens shaped like
//! Entra ID's and Keycloak's.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use common::world::World;
use common::{key_pem, TestApp, AUDIENCE};
use helhed::auth::Issuers;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// How the provider answers.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    Serve,
    Status(u16),
    NotJson,
    NoUsableKey,
    Huge,
    Slow(Duration),
}

struct Provider {
    base: String,
    issuer: Mutex<String>,
    kids: Mutex<Vec<&'static str>>,
    mode: Mutex<Mode>,
    max_age: Mutex<Option<u64>>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
}

/// The test keys: ES256 under `e1`/`e2`, RS256 under `r1`.
fn encoding_key(kid: &str) -> (EncodingKey, Algorithm) {
    match kid {
        "e1" => (EncodingKey::from_ec_pem(&key_pem("es256-b.key")).unwrap(), Algorithm::ES256),
        "e2" => (EncodingKey::from_ec_pem(&key_pem("es256-c.key")).unwrap(), Algorithm::ES256),
        "r1" => (EncodingKey::from_rsa_pem(&key_pem("rs256.key")).unwrap(), Algorithm::RS256),
        other => panic!("no test key {other}"),
    }
}

fn jwk(kid: &str) -> Value {
    let (key, alg) = encoding_key(kid);
    let mut jwk = Jwk::from_encoding_key(&key, alg).unwrap();
    jwk.common.key_id = Some(kid.into());
    let mut value = serde_json::to_value(jwk).unwrap();
    value["use"] = json!("sig");
    value
}

impl Provider {
    async fn start(issuer: &str, kids: &[&'static str]) -> Arc<Provider> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let provider = Arc::new(Provider {
            base,
            issuer: Mutex::new(issuer.into()),
            kids: Mutex::new(kids.to_vec()),
            mode: Mutex::new(Mode::Serve),
            max_age: Mutex::new(None),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
        });
        let p = provider.clone();
        let server = HttpServer::new(move || {
            let (keys, discovery) = (p.clone(), p.clone());
            App::new()
                .route(
                    "/keys",
                    web::get().to(move || {
                        let p = keys.clone();
                        async move { p.answer_keys().await }
                    }),
                )
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let p = discovery.clone();
                        async move {
                            p.discovery_fetches.fetch_add(1, Ordering::SeqCst);
                            let issuer = p.issuer.lock().unwrap().clone();
                            HttpResponse::Ok().json(json!({"issuer": issuer, "jwks_uri": format!("{}/keys", p.base),
                                    "id_token_signing_alg_values_supported": ["RS256", "ES256"]}))
                        }
                    }),
                )
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        provider
    }

    async fn answer_keys(&self) -> HttpResponse {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        let mode = self.mode.lock().unwrap().clone();
        let set = json!({"keys": self.kids.lock().unwrap().iter().map(|k| jwk(k)).collect::<Vec<_>>()});
        let mut ok = HttpResponse::Ok();
        if let Some(age) = *self.max_age.lock().unwrap() {
            ok.insert_header(("Cache-Control", format!("public, max-age={age}")));
        }
        match mode {
            Mode::Serve => ok.json(set),
            Mode::Status(code) => HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish(),
            Mode::NotJson => ok.content_type("application/json").body("<html>maintenance</html>"),
            Mode::NoUsableKey => ok.json(json!({"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                {"kty": "RSA", "use": "enc", "kid": "enc", "n": "AQAB", "e": "AQAB"}]})),
            Mode::Huge => {
                // 10 MiB of valid JSON: the set, padded with one enormous member.
                let mut body = set.to_string();
                body.pop();
                body.push_str(r#", "padding": ""#);
                body.push_str(&"x".repeat(10 * 1024 * 1024));
                body.push_str(r#""}"#);
                ok.content_type("application/json").body(body)
            }
            Mode::Slow(wait) => {
                tokio::time::sleep(wait).await;
                ok.json(set)
            }
        }
    }

    fn set_kids(&self, kids: &[&'static str]) {
        *self.kids.lock().unwrap() = kids.to_vec();
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

/// An issuers file with these entries, loaded.
fn issuers(entries: &str) -> Result<Arc<Issuers>, String> {
    let dir = std::env::temp_dir().join(format!("helhed-idp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("issuers.toml");
    std::fs::write(&path, entries).unwrap();
    let loaded = Issuers::load(&path, AUDIENCE).map(Arc::new);
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

/// The tests' own HS256 issuer besides the provider, so that [`World`] can set up committees.
fn with_file_issuer(entries: &str) -> String {
    format!(
        "{entries}\n[[issuer]]\niss = \"{}\"\ndepartments = [\"labour_market\", \"youth\", \"social\", \"health_care\", \"school\"]\nalgorithm = \"HS256\"\nsecret = \"test-secret-test-secret-test-secret-0123456789\"\n",
        common::TEST_ISSUER
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A token signed with the test key `kid`, naming `header_kid` in its header.
fn token_named(kid: &str, header_kid: &str, claims: &Value) -> String {
    let (key, alg) = encoding_key(kid);
    let mut header = Header::new(alg);
    header.kid = Some(header_kid.into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn token(kid: &str, claims: &Value) -> String {
    token_named(kid, kid, claims)
}

fn caseworker(iss: &str) -> Value {
    json!({"iss": iss, "sub": "idp-caseworker", "aud": AUDIENCE, "exp": now() + 600, "iat": now(),
        "dept": "social", "roles": ["caseworker"]})
}

/// 200 or 401 for a read every principal may do; the 401's detail with it.
async fn call(app: &TestApp, token: &str) -> (u16, String) {
    let res = app.get("/api/v1/committees", token).await;
    (res.status.as_u16(), res.body["detail"].as_str().unwrap_or("").to_string())
}

async fn readiness(app: &TestApp, iss: &str) -> Value {
    let res = app.client.get(format!("{}/health/ready", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["issuers"].as_array().unwrap().iter().find(|i| i["iss"] == iss).cloned().expect("the issuer is listed")
}

async fn wait_loaded(app: &TestApp, iss: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let state = readiness(app, iss).await;
        if state["state"] == "loaded" && state["last_error"].is_null() {
            return state;
        }
        assert!(started.elapsed() < timeout, "keys of {iss} not loaded in {timeout:?}: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn jwks_issuer(iss: &str, provider: &Provider, algorithm: &str) -> String {
    format!(
        r#"
[[issuer]]
iss = "{iss}"
departments = ["social", "health_care"]
algorithm = "{algorithm}"
jwks_url = "{}/keys"
"#,
        provider.base
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotation_needs_no_restart() {
    let iss = "https://idp.test/rotating";
    let provider = Provider::start(iss, &["e1"]).await;
    let app = TestApp::spawn_with_issuers(issuers(&jwks_issuer(iss, &provider, "ES256")).unwrap()).await;
    let state = wait_loaded(&app, iss, Duration::from_secs(10)).await;
    assert_eq!((state["source"].as_str(), state["keys"].as_u64()), (Some("jwks_url"), Some(1)), "{state}");
    assert!(state["fetched_at"].is_string(), "{state}");
    // The same token twice: the second time it comes from the verified-token cache.
    let old = token("e1", &caseworker(iss));
    assert_eq!(call(&app, &old).await.0, 200);
    assert_eq!(call(&app, &old).await.0, 200);
    let fetched = provider.fetches();

    // The provider rotates: the new key is published, the old one withdrawn.
    provider.set_kids(&["e2"]);
    assert_eq!(call(&app, &token("e2", &caseworker(iss))).await.0, 200, "the new key's token passes at once");
    assert_eq!(provider.fetches(), fetched + 1, "one fetch for the unknown kid");
    // The withdrawn key's token fails, even the very token verified (and remembered) before.
    let (status, detail) = call(&app, &old).await;
    assert_eq!((status, detail.as_str()), (401, "the issuer holds no such key (kid)"), "the removed key's token fails");
    assert_eq!(readiness(&app, iss).await["keys"], 1);

    // A token signed with a key the provider never published, under a kid it does publish.
    assert_eq!(call(&app, &token_named("e1", "e2", &caseworker(iss))).await.0, 401);
    // Right after a fetch, another unknown kid waits for the minute to pass: no fetch.
    assert_eq!(call(&app, &token_named("e1", "e3", &caseworker(iss))).await.0, 401);
    assert_eq!(provider.fetches(), fetched + 1, "at most one fetch a minute for unknown kids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_set_is_kept_as_long_as_its_max_age_says_within_five_minutes_and_a_day() {
    for (max_age, kept) in [(Some(3600), 3600), (Some(1), 300), (Some(30 * 86_400), 86_400), (None, 300)] {
        let iss = "https://idp.test/max-age";
        let provider = Provider::start(iss, &["e1"]).await;
        *provider.max_age.lock().unwrap() = max_age;
        let app = TestApp::spawn_with_issuers(issuers(&jwks_issuer(iss, &provider, "ES256")).unwrap()).await;
        let state = wait_loaded(&app, iss, Duration::from_secs(10)).await;
        let at = |field: &str| chrono::DateTime::parse_from_rfc3339(state[field].as_str().unwrap()).unwrap();
        let seconds = (at("next_fetch_at") - at("fetched_at")).num_seconds();
        assert!((kept - 2..=kept).contains(&seconds), "max-age {max_age:?}: next fetch after {seconds} s: {state}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_random_kids_costs_the_provider_one_fetch() {
    let iss = "https://idp.test/flood";
    let provider = Provider::start(iss, &["e1"]).await;
    let app = TestApp::spawn_with_issuers(issuers(&jwks_issuer(iss, &provider, "ES256")).unwrap()).await;
    wait_loaded(&app, iss, Duration::from_secs(10)).await;
    let before = provider.fetches();
    let calls = (0..60).map(|_| {
        let kid = uuid::Uuid::new_v4().to_string();
        let (app, token) = (&app, token_named("e1", &kid, &caseworker(iss)));
        async move { call(app, &token).await.0 }
    });
    let statuses = futures_util::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(provider.fetches(), before + 1, "60 tokens with random kids: one fetch");
    assert_eq!(call(&app, &token("e1", &caseworker(iss))).await.0, 200, "the real key still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_starts_while_the_provider_is_down_and_picks_the_keys_up_later() {
    let iss = "https://idp.test/down-at-start";
    let provider = Provider::start(iss, &["e1"]).await;
    provider.set_mode(Mode::Status(503));
    let entries = with_file_issuer(&jwks_issuer(iss, &provider, "ES256"));
    let app = TestApp::spawn_with_issuers(issuers(&entries).unwrap()).await;
    let started = Instant::now();
    while provider.fetches() == 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "no fetch at start-up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let state = readiness(&app, iss).await;
    assert_eq!(state["state"], "not_loaded", "{state}");
    assert!(state["last_error"].as_str().unwrap().contains("answered 503"), "{state}");
    let res = app.get("/api/v1/committees", &token("e1", &caseworker(iss))).await;
    res.problem(401, "unauthorized");
    // The other issuers are not held up, and the instance is ready.
    assert_eq!(call(&app, &app.token("cw", "social", &["caseworker"])).await.0, 200);
    assert_eq!(readiness(&app, common::TEST_ISSUER).await["source"], "file");

    // The provider comes back; the refresher retries within seconds.
    provider.set_mode(Mode::Serve);
    wait_loaded(&app, iss, Duration::from_secs(15)).await;
    assert_eq!(call(&app, &token("e1", &caseworker(iss))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_answer_keeps_the_last_good_set() {
    for (mode, error) in [
        (Mode::Status(500), "answered 500"),
        (Mode::NotJson, "not a JWK set"),
        (Mode::NoUsableKey, "no usable key"),
        (Mode::Huge, "larger than"),
        (Mode::Slow(Duration::from_secs(8)), "timed out"),
    ] {
        let iss = "https://idp.test/bad-answer";
        let provider = Provider::start(iss, &["e1"]).await;
        let app = TestApp::spawn_with_issuers(issuers(&jwks_issuer(iss, &provider, "ES256")).unwrap()).await;
        wait_loaded(&app, iss, Duration::from_secs(10)).await;
        provider.set_kids(&["e1", "e2"]);
        provider.set_mode(mode.clone());
        let before = provider.fetches();
        let started = Instant::now();
        let (status, _) = call(&app, &token("e2", &caseworker(iss))).await;
        let waited = started.elapsed();
        assert_eq!(status, 401, "{mode:?}: the new key cannot be had");
        assert_eq!(provider.fetches(), before + 1, "{mode:?}: it was fetched for");
        assert!(waited < Duration::from_millis(6500), "{mode:?}: the request waited {waited:?}");
        let state = readiness(&app, iss).await;
        assert_eq!(state["state"], "loaded", "{mode:?}: {state}");
        assert!(state["last_error"].as_str().unwrap_or("").contains(error), "{mode:?}: {state}");
        assert_eq!(call(&app, &token("e1", &caseworker(iss))).await.0, 200, "{mode:?}: the last good set is kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discovery_names_the_set_and_must_name_the_issuer() {
    let iss = "https://idp.test/realms/municipality";
    let provider = Provider::start(iss, &["r1"]).await;
    let entry = |iss: &str| {
        format!(
            r#"
[[issuer]]
iss = "{iss}"
departments = ["social"]
algorithm = "RS256"
openid_configuration = "{}/.well-known/openid-configuration"
"#,
            provider.base
        )
    };
    let app = TestApp::spawn_with_issuers(issuers(&entry(iss)).unwrap()).await;
    let state = wait_loaded(&app, iss, Duration::from_secs(10)).await;
    assert_eq!(state["source"], "openid_configuration");
    assert!(provider.discovery_fetches.load(Ordering::SeqCst) >= 1);
    assert_eq!(call(&app, &token("r1", &caseworker(iss))).await.0, 200);
    drop(app);

    // A discovery document for another issuer is not trusted for this one.
    *provider.issuer.lock().unwrap() = "https://idp.test/realms/elsewhere".into();
    let app = TestApp::spawn_with_issuers(issuers(&entry(iss)).unwrap()).await;
    let started = Instant::now();
    let state = loop {
        let state = readiness(&app, iss).await;
        if state["last_error"].is_string() {
            break state;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(state["state"], "not_loaded", "{state}");
    assert!(state["last_error"].as_str().unwrap().contains("issuer"), "{state}");
    assert!(state["fetched_at"].is_null() && state["next_fetch_at"].is_string(), "{state}");
    let (status, detail) = call(&app, &token("r1", &caseworker(iss))).await;
    assert_eq!(status, 401);
    assert!(detail.contains("not loaded"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entra_id_token_works_with_claim_mapping() {
    // Entra ID: the stable user id in `oid` (`sub` is pairwise per application), app roles in
    // `roles`, no department claim: the issuer speaks for one department.
    let tenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let iss = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    let provider = Provider::start(&iss, &["r1"]).await;
    let entries = format!(
        r#"
[[issuer]]
iss = "{iss}"
algorithm = "RS256"
openid_configuration = "{}/.well-known/openid-configuration"
sub_claim = "oid"
department = "social"
"#,
        provider.base
    );
    let world = World::on(TestApp::spawn_with_issuers(issuers(&with_file_issuer(&entries)).unwrap()).await).await;
    let app = &world.app;
    wait_loaded(app, &iss, Duration::from_secs(10)).await;
    let oid = "00000000-0000-0000-66f3-3332eca7ea81";
    let claims = json!({
        "aud": AUDIENCE, "iss": iss, "iat": now(), "nbf": now(), "exp": now() + 3600,
        "aio": "AXQAi/8UAAAA", "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "azpacr": "0",
        "name": "Mette Sagsbehandler", "oid": oid, "preferred_username": "mette@kommune.dk",
        "rh": "I", "roles": ["caseworker"], "scp": "access_as_user",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": tenant, "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "2.0"
    });
    let entra = token("r1", &claims);
    let citizen = app
        .post("/api/v1/citizens", &entra, &json!({"cpr": common::world::cpr_for_age(40, 20), "name": "Test Borger"}))
        .await
        .expect(201)
        .id();
    let case = app.post("/api/v1/cases", &entra, &common::world::referral(&citizen)).await.expect(201);
    assert_eq!(case.body["referral"]["referred_by"]["sub"], oid, "the principal is the oid: {}", case.text);
    assert_eq!(case.body["referral"]["referred_by"]["department"], "social");
    assert_eq!(case.body["referral"]["referred_by"]["name"], "Mette Sagsbehandler");

    // The department is the issuer's: a dept claim in the token changes nothing.
    let mut other = claims.clone();
    other["dept"] = json!("health_care");
    let res = app.post("/api/v1/cases", &token("r1", &other), &common::world::referral(&citizen)).await.expect(201);
    assert_eq!(res.body["referral"]["referred_by"]["department"], "social");
    // Without the mapped claim, or with a role Helhed does not know, the token fails.
    let mut no_oid = claims.clone();
    no_oid.as_object_mut().unwrap().remove("oid");
    assert_eq!(call(app, &token("r1", &no_oid)).await.0, 401);
    // The app's other roles are passed over; without one of Helhed's the token fails.
    let mut other_roles = claims.clone();
    other_roles["roles"] = json!(["Task.Read", "caseworker"]);
    assert_eq!(call(app, &token("r1", &other_roles)).await.0, 200);
    other_roles["roles"] = json!(["Task.Write"]);
    let (status, detail) = call(app, &token("r1", &other_roles)).await;
    assert_eq!((status, detail.contains("none of Helhed's roles")), (401, true), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_keycloak_token_works_with_nested_claims() {
    let iss = "https://keycloak.test/realms/kommune";
    let provider = Provider::start(iss, &["r1"]).await;
    let entries = format!(
        r#"
[[issuer]]
iss = "{iss}"
departments = ["social", "health_care"]
algorithm = "RS256"
jwks_url = "{}/keys"
dept_claim = "department"
roles_claim = "resource_access.helhed.roles"
"#,
        provider.base
    );
    let world = World::on(TestApp::spawn_with_issuers(issuers(&with_file_issuer(&entries)).unwrap()).await).await;
    let app = &world.app;
    wait_loaded(app, iss, Duration::from_secs(10)).await;
    let claims = json!({"iss": iss, "aud": AUDIENCE, "exp": now() + 300, "sub": "f:1234", "typ": "Bearer",
        "preferred_username": "jens", "department": "health_care",
        "realm_access": {"roles": ["offline_access"]}, "resource_access": {"helhed": {"roles": ["leader"]}}});
    // An ID token of the same realm is no access token.
    let mut id_token = claims.clone();
    id_token["typ"] = json!("ID");
    assert_eq!(call(app, &token("r1", &id_token)).await, (401, "the token is an ID token, not an access token".into()));
    let citizen = app
        .post(
            "/api/v1/citizens",
            &token("r1", &claims),
            &json!({"cpr": common::world::cpr_for_age(40, 20), "name": "Test Borger"}),
        )
        .await
        .expect(201)
        .id();
    let case = app.post("/api/v1/cases", &token("r1", &claims), &common::world::referral(&citizen)).await.expect(201);
    assert_eq!(case.body["referral"]["referred_by"]["sub"], "f:1234", "Keycloak's sub is its immutable user id");
    assert_eq!(case.body["referral"]["referred_by"]["department"], "health_care");
    // The realm's own roles (Keycloak gives every user some) are passed over.
    let mut realm = claims.clone();
    realm["resource_access"]["helhed"]["roles"] = json!(["default-roles-kommune", "leader", "uma_authorization"]);
    assert_eq!(call(app, &token("r1", &realm)).await.0, 200);
    // A department outside the issuer's is refused as before.
    let mut school = claims.clone();
    school["department"] = json!("school");
    assert_eq!(call(app, &token("r1", &school)).await, (401, "the issuer may not speak for this department".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_provider_delays_no_other_and_what_it_says_is_cut_short() {
    let slow = Provider::start("https://idp.test/slow", &["e1"]).await;
    slow.set_mode(Mode::Slow(Duration::from_secs(30)));
    let chatty = Provider::start(&format!("https://idp.test/{}", "x".repeat(1_000_000)), &["e1"]).await;
    let good = Provider::start("https://idp.test/good", &["e1"]).await;
    let mut entries = String::new();
    for i in 0..4 {
        entries.push_str(&jwks_issuer(&format!("https://idp.test/slow{i}"), &slow, "ES256"));
    }
    entries.push_str(&format!(
        "[[issuer]]\niss = \"https://idp.test/chatty\"\ndepartments = [\"social\"]\nalgorithm = \"ES256\"\nopenid_configuration = \"{}/.well-known/openid-configuration\"\n",
        chatty.base
    ));
    entries.push_str(&jwks_issuer("https://idp.test/good", &good, "ES256"));
    let app = TestApp::spawn_with_issuers(issuers(&entries).unwrap()).await;
    // Four providers hanging for 30 s each hold up neither the good one nor each other.
    wait_loaded(&app, "https://idp.test/good", Duration::from_secs(3)).await;
    let started = Instant::now();
    let chatty_state = loop {
        let state = readiness(&app, "https://idp.test/chatty").await;
        if state["last_error"].is_string() {
            break state;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A discovery document naming a 1 MB issuer is refused in a short sentence.
    let error = chatty_state["last_error"].as_str().unwrap();
    assert!(error.contains("issuer") && error.chars().count() <= 301, "{} characters", error.len());
    tokio::time::sleep(Duration::from_secs(1)).await;
    for i in 0..4 {
        let state = readiness(&app, &format!("https://idp.test/slow{i}")).await;
        assert_eq!(state["state"], "not_loaded", "{state}");
    }
    // Stopping waits for the fetches under way together, not one after another.
    let stopping = Instant::now();
    drop(app);
    assert!(stopping.elapsed() < Duration::from_secs(8), "stopping took {:?}", stopping.elapsed());
}

#[test]
fn the_issuers_file_refuses_unsafe_or_contradictory_providers() {
    let refused = |entry: &str, why: &str| {
        let err = issuers(entry).err().unwrap_or_else(|| panic!("accepted: {entry}"));
        assert!(err.contains(why), "{err} (wanted {why:?})");
    };
    let head = "[[issuer]]\niss = \"x\"\ndepartments = [\"social\"]\n";
    refused(&format!("{head}algorithm = \"RS256\"\njwks_url = \"http://idp.example/keys\"\n"), "not loopback");
    refused(&format!("{head}algorithm = \"RS256\"\njwks_url = \"ftp://idp.example/keys\"\n"), "not an https URL");
    refused(&format!("{head}algorithm = \"RS256\"\njwks_url = \"https://u:p@idp.example/keys\"\n"), "user info");
    refused(&format!("{head}algorithm = \"HS256\"\njwks_url = \"https://idp.example/keys\"\n"), "not HS256");
    refused(
        &format!("{head}algorithm = \"RS256\"\njwks_url = \"https://a/k\"\nopenid_configuration = \"https://a/c\"\n"),
        "exactly one of",
    );
    refused(
        &format!("{head}algorithm = \"RS256\"\njwks_url = \"https://a/k\"\ndepartment = \"school\"\n"),
        "not among its departments",
    );
    refused(
        "[[issuer]]\niss = \"x\"\nalgorithm = \"RS256\"\njwks_url = \"https://a/k\"\ndepartment = \"social\"\ndept_claim = \"d\"\n",
        "not both",
    );
    refused("[[issuer]]\niss = \"x\"\nalgorithm = \"RS256\"\njwks_url = \"https://a/k\"\n", "departments is empty");
    refused(
        &format!("{head}algorithm = \"RS256\"\njwks_url = \"https://a/k\"\nsub_claim = \" \"\n"),
        "sub_claim is empty",
    );
    // A fixed department alone is enough.
    assert!(issuers(
        "[[issuer]]\niss = \"x\"\nalgorithm = \"RS256\"\njwks_url = \"https://a/k\"\ndepartment = \"social\"\n"
    )
    .is_ok());
}
