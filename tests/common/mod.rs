//! The test harness: every test gets its own database, cloned from a migrated template, and its
//! own instance of the real service on a random port of 127.0.0.1, reached over HTTP.
#![allow(dead_code)]

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

/// The role the service runs as in tests: it owns its database, and it is no superuser.
pub const APP_ROLE: &str = "helhed_test_app";
/// The issuer most tests mint their tokens with (HS256, speaks for every department).
pub const TEST_ISSUER: &str = "helhed-test";
pub const AUDIENCE: &str = "helhed";

/// A server URL with rights to create roles and databases.
pub fn admin_url() -> String {
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

pub fn admin_conn() -> PgConnection {
    PgConnection::establish(&admin_url()).expect("the test PostgreSQL is reachable (HELHED_TEST_DATABASE_URL)")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
}

pub fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture key")
}

/// Creates the app role and the migrated template once per test process; concurrent test
/// processes wait for each other on an advisory lock.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("helhed_tpl_{}", migrations_fingerprint());
        let mut conn = admin_conn();
        conn.batch_execute("SELECT pg_advisory_lock(727274)").unwrap();
        let role_exists: bool = exists(&mut conn, &format!("SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}'"));
        if !role_exists {
            conn.batch_execute(&format!("CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")).unwrap();
        }
        if !exists(&mut conn, &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'")) {
            let building = format!("{name}_building");
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building}")).unwrap();
            conn.batch_execute(&format!("CREATE DATABASE {building} OWNER {APP_ROLE}")).unwrap();
            helhed::db::migrate(&url_for(APP_ROLE, &building)).expect("migrations run as the app role");
            conn.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).unwrap();
        }
        conn.batch_execute("SELECT pg_advisory_unlock(727274)").unwrap();
        name
    })
}

fn exists(conn: &mut PgConnection, query: &str) -> bool {
    use diesel::RunQueryDsl;
    diesel::sql_query(query).execute(conn).unwrap() > 0
}

/// Changes to a migration make a new template.
fn migrations_fingerprint() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    for path in entries {
        path.strip_prefix(&dir).unwrap().hash(&mut hasher);
        std::fs::read(&path).unwrap().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A fresh database for one test, owned by the app role.
pub fn fresh_database() -> String {
    let template = template();
    let name = format!("helhed_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_conn();
    conn.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template} OWNER {APP_ROLE}")).unwrap();
    name
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

pub struct TestApp {
    pub base: String,
    pub db_name: String,
    pub db_url: String,
    pub client: reqwest::Client,
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
    /// The service on a fresh database.
    pub async fn spawn() -> TestApp {
        let db_name = fresh_database();
        let db_url = url_for(APP_ROLE, &db_name);
        Self::spawn_on(db_name, db_url).await
    }

    /// The service on a given database URL (e.g. as another role, or unreachable).
    pub async fn spawn_on(db_name: String, db_url: String) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = helhed::State { db: Db::new(&db_url, 5), issuers: issuers(), max_frame_ore: 5_000_000 };
        let server = helhed::server(state, listener, Some(2)).expect("server starts");
        tokio::spawn(server);
        TestApp { base: format!("http://127.0.0.1:{port}"), db_name, db_url, client: reqwest::Client::new() }
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

    /// A direct connection to the test's database, as the app role.
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
