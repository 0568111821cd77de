//! The test harness: every test gets its own schema, migrated from scratch, in one shared test
//! database, and its own instance of the real service on a random port of 127.0.0.1, reached
//! over HTTP. Schemas rather than databases: creating and dropping a database costs PostgreSQL a
//! checkpoint (and the fsync of every file of the new database), which made a parallel suite
//! wait on the disk; a schema costs a few milliseconds and drops without a checkpoint.
#![allow(dead_code)]

pub mod proxy;
pub mod world;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use helhed::auth::{Claims, Issuers};
use helhed::db::Db;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The role the service runs as in tests: it owns its schema, and it is no superuser.
pub const APP_ROLE: &str = "helhed_test_app";
/// The database every test's schema lives in.
pub const TEST_DB: &str = "helhed_tests";
/// The issuer most tests mint their tokens with (HS256, speaks for every department).
pub const TEST_ISSUER: &str = "helhed-test";
pub const AUDIENCE: &str = "helhed";

/// A server URL with rights to create roles, databases and schemas.
pub fn admin_url() -> String {
    helhed::db::init_native(); // before the process's first libpq connection
    std::env::var("HELHED_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The same server, as `role`, on database `db`.
pub fn url_for(role: &str, db: &str) -> String {
    let admin = admin_url();
    let rest = admin.split_once("://").map(|(_, r)| r).unwrap_or(&admin);
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host = host.split('/').next().unwrap_or(host);
    format!("postgres://{role}@{host}/{db}")
}

/// The test database, as `role`, with `schema` first on the search path.
pub fn url_in_schema(role: &str, schema: &str) -> String {
    format!("{}?options=-c%20search_path%3D{schema}", url_for(role, TEST_DB))
}

/// Where the test PostgreSQL listens ("host:port").
pub fn db_host_port() -> String {
    let admin = admin_url();
    let rest = admin.split_once("://").map(|(_, r)| r).unwrap_or(&admin);
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host = host.split('/').next().unwrap_or(host);
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

/// The test database through a proxy on `port`, as `role`, in `schema`.
pub fn url_via(port: u16, role: &str, schema: &str) -> String {
    format!("postgres://{role}@127.0.0.1:{port}/{TEST_DB}?options=-c%20search_path%3D{schema}")
}

pub fn admin_conn() -> PgConnection {
    PgConnection::establish(&admin_url()).expect("the test PostgreSQL is reachable (HELHED_TEST_DATABASE_URL)")
}

/// The admin, connected to the test database.
pub fn admin_test_db_conn() -> PgConnection {
    shared_database();
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    PgConnection::establish(&format!("{base}/{TEST_DB}")).expect("the test database is reachable")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
}

pub fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture key")
}

/// Creates the app role and the shared test database once; concurrent test processes wait for
/// each other on an advisory lock.
fn shared_database() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let mut conn = admin_conn();
        conn.batch_execute("SELECT pg_advisory_lock(727274)").unwrap();
        if !exists(&mut conn, &format!("SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}'")) {
            conn.batch_execute(&format!("CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")).unwrap();
        }
        if !exists(&mut conn, &format!("SELECT 1 FROM pg_database WHERE datname = '{TEST_DB}'")) {
            conn.batch_execute(&format!("CREATE DATABASE {TEST_DB} OWNER {APP_ROLE}")).unwrap();
        }
        conn.batch_execute("SELECT pg_advisory_unlock(727274)").unwrap();
    });
}

fn exists(conn: &mut PgConnection, query: &str) -> bool {
    use diesel::RunQueryDsl;
    diesel::sql_query(query).execute(conn).unwrap() > 0
}

/// A fresh schema for one test, owned by `owner` and migrated by it; returns its name.
pub fn fresh_schema_owned_by(owner: &str) -> String {
    shared_database();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    admin_test_db_conn().batch_execute(&format!("CREATE SCHEMA {name} AUTHORIZATION {owner}")).unwrap();
    helhed::db::migrate(&url_in_schema(owner, &name)).expect("migrations run as the schema's owner");
    name
}

/// A fresh schema for one test, owned by the app role.
pub fn fresh_schema() -> String {
    fresh_schema_owned_by(APP_ROLE)
}

/// Drops a test's schema (cheap: no checkpoint).
pub fn drop_schema(name: &str) {
    let _ = admin_test_db_conn().batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
}

/// The issuers file of the tests, with one issuer per algorithm and a rotating JWK set.
fn issuers_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("helhed-test-issuers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut set = JwkSet { keys: vec![] };
        for (kid, key) in [("k1", "es256-b.key"), ("k2", "es256-c.key")] {
            let mut jwk =
                Jwk::from_encoding_key(&EncodingKey::from_ec_pem(&key_pem(key)).unwrap(), Algorithm::ES256).unwrap();
            jwk.common.key_id = Some(kid.into());
            set.keys.push(jwk);
        }
        std::fs::write(dir.join("rotating.jwks.json"), serde_json::to_vec(&set).unwrap()).unwrap();
        let keys = fixture("");
        let toml = format!(
            r#"
[[issuer]]
iss = "{TEST_ISSUER}"
departments = ["labour_market", "youth", "social", "health_care", "school"]
algorithm = "HS256"
secret = "test-secret-test-secret-test-secret-0123456789"

[[issuer]]
iss = "labour-system"
departments = ["labour_market"]
algorithm = "ES256"
public_key_pem = "{keys}/es256-a.pem"
private_key_pem = "{keys}/es256-a.key"

[[issuer]]
iss = "youth-system"
departments = ["youth", "school"]
algorithm = "RS256"
public_key_pem = "{keys}/rs256.pem"
private_key_pem = "{keys}/rs256.key"

[[issuer]]
iss = "health-system"
departments = ["health_care"]
algorithm = "EdDSA"
public_key_pem = "{keys}/ed25519.pem"
private_key_pem = "{keys}/ed25519.key"

[[issuer]]
iss = "social-system"
departments = ["social"]
algorithm = "ES256"
jwks = "rotating.jwks.json"
"#,
            keys = keys.display()
        );
        let path = dir.join("issuers.toml");
        std::fs::write(&path, toml).unwrap();
        path
    })
}

pub fn issuers() -> Arc<Issuers> {
    static ISSUERS: OnceLock<Arc<Issuers>> = OnceLock::new();
    ISSUERS.get_or_init(|| Arc::new(Issuers::load(issuers_file(), AUDIENCE).expect("test issuers load"))).clone()
}

/// `HELHED_WEBHOOK_ALLOW` of the tests: the test receivers listen on 127.0.0.1.
pub fn webhook_allow() -> helhed::webhooks::destination::Allow {
    helhed::webhooks::destination::Allow::parse("127.0.0.1/32").unwrap()
}

pub struct TestApp {
    pub base: String,
    /// The test's own schema, dropped with the app.
    pub schema: Option<String>,
    pub db_url: String,
    pub client: reqwest::Client,
    server: actix_web::dev::ServerHandle,
    worker: Option<helhed::webhooks::Worker>,
    /// The refresher of the identity providers' key sets, if the issuers have any.
    keys: Option<helhed::auth::keys::Refresher>,
    /// The service's pool, closed on drop: the process must not exit while an actix worker
    /// thread closes pooled connections (the exit-time crash in OpenSSL, see helhed::db::init_native).
    pub db: Db,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The webhook worker first: it may hold a row of the schema.
        drop(self.worker.take());
        drop(self.keys.take());
        let closed = self.db.close(std::time::Duration::from_secs(5));
        if !closed && !std::thread::panicking() {
            panic!("a pooled connection was still checked out when the test app was dropped");
        }
        if let Some(schema) = &self.schema {
            drop_schema(schema);
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Fails with the whole response when the status is not `expected`.
    pub fn expect(self, expected: u16) -> Self {
        assert_eq!(self.status.as_u16(), expected, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn problem(self, status: u16, code: &str) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        assert_eq!(self.body["status"], status, "body: {}", self.text);
        self
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_string()
    }

    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    /// The service on a fresh schema.
    pub async fn spawn() -> TestApp {
        let schema = fresh_schema();
        let db_url = url_in_schema(APP_ROLE, &schema);
        Self::spawn_on(Some(schema), db_url).await
    }

    /// The service on a given database URL (e.g. as another role, or unreachable); `schema`, if
    /// given, is dropped with the app.
    pub async fn spawn_on(schema: Option<String>, db_url: String) -> TestApp {
        Self::spawn_on_allowing(schema, db_url, webhook_allow()).await
    }

    /// The service on a fresh schema with its own `HELHED_WEBHOOK_ALLOW`.
    pub async fn spawn_allowing(allow: &str) -> TestApp {
        let schema = fresh_schema();
        let db_url = url_in_schema(APP_ROLE, &schema);
        let allow = helhed::webhooks::destination::Allow::parse(allow).unwrap();
        Self::spawn_on_allowing(Some(schema), db_url, allow).await
    }

    /// [`TestApp::spawn_on`] with a given `HELHED_WEBHOOK_ALLOW`.
    pub async fn spawn_on_allowing(
        schema: Option<String>,
        db_url: String,
        allow: helhed::webhooks::destination::Allow,
    ) -> TestApp {
        Self::spawn_full(schema, db_url, allow, issuers()).await
    }

    /// The service on a fresh schema trusting these issuers (their key refresher running).
    pub async fn spawn_with_issuers(issuers: Arc<Issuers>) -> TestApp {
        let schema = fresh_schema();
        let db_url = url_in_schema(APP_ROLE, &schema);
        Self::spawn_full(Some(schema), db_url, webhook_allow(), issuers).await
    }

    async fn spawn_full(
        schema: Option<String>,
        db_url: String,
        allow: helhed::webhooks::destination::Allow,
        issuers: Arc<Issuers>,
    ) -> TestApp {
        // Internal errors show in a failing test's output (tests/logs.rs installs its own logger first).
        let _ = env_logger::builder().is_test(true).filter_level(log::LevelFilter::Warn).try_init();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let db = Db::new(&db_url, 5);
        let state = helhed::State {
            db: db.clone(),
            issuers: issuers.clone(),
            max_frame_ore: 5_000_000,
            webhook_allow: allow.clone(),
            event_source: "urn:helhed:test".into(),
        };
        let keys = Some(issuers.start_refresher());
        let server = helhed::server(state, listener, Some(2)).expect("server starts");
        let handle = server.handle();
        tokio::spawn(server);
        let worker = helhed::webhooks::Worker::start(
            &db_url,
            std::time::Duration::from_millis(100),
            allow,
            "urn:helhed:test".into(),
        );
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            schema,
            db_url,
            client: reqwest::Client::new(),
            server: handle,
            worker: Some(worker),
            keys,
            db,
        }
    }

    /// Stops the instance as a shutdown would: the server stops accepting and finishes what is
    /// in flight, the webhook worker stops. The schema stays (another instance may use it).
    pub async fn stop(&mut self) {
        self.server.stop(true).await;
        drop(self.worker.take());
    }

    /// A token of the test issuer.
    pub fn token(&self, sub: &str, dept: &str, roles: &[&str]) -> String {
        mint(TEST_ISSUER, sub, dept, roles)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn read(res: reqwest::Response) -> Response {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(token), Some(body)).await
    }

    /// A direct connection to the test's schema, as the app role.
    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.db_url).unwrap()
    }

    /// One number from SQL, for asserting the state in the database.
    pub fn count(&self, query: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({query})::bigint AS n")).get_result::<N>(&mut self.conn()).unwrap().n
    }
}

/// Claims for a token valid for an hour.
pub fn claims(iss: &str, sub: &str, dept: &str, roles: &[&str]) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: iss.into(),
        sub: sub.into(),
        aud: AUDIENCE.into(),
        exp: now + 3600,
        nbf: None,
        iat: Some(now),
        dept: dept.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        name: Some(format!("Test {sub}")),
    }
}

pub fn mint(iss: &str, sub: &str, dept: &str, roles: &[&str]) -> String {
    helhed::auth::mint(&issuers(), iss, &claims(iss, sub, dept, roles)).unwrap()
}

/// Signs any claims with any key: for the tokens the service must refuse.
pub fn sign(header: Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

pub fn test_secret() -> EncodingKey {
    EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123456789")
}
