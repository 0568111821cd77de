//! The connection pool, the embedded migrations, and the one way to run diesel: on the blocking
//! thread pool, never on an actix worker thread. The runners that put a refused access on
//! record, [`Db::tx`] and [`Db::read`], belong to the audit log and are defined in
//! [`crate::audit`]; this module knows nothing of them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use tokio::sync::Semaphore;

use crate::error::AppError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<Manager>;

/// Keeps OpenSSL from tearing itself down in `exit()` while another thread may still be inside
/// libpq. OpenSSL 3 registers `OPENSSL_cleanup` with atexit on its first initialisation, and a
/// thread that uses OpenSSL during or after it touches freed memory: an actix worker dropping the
/// last handle of the pool closes its idle TLS connections (`PQfinish` → `ERR_clear_error`) while
/// the main thread exits — a SIGSEGV in `OPENSSL_sk_push`, seen about once in 700 test
/// processes (docs/reliability.md). Must run before the process's first libpq connection; every
/// connection string of the service goes through [`with_timeouts`], which calls it.
pub fn init_native() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        extern "C" {
            fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
        }
        const OPENSSL_INIT_NO_ATEXIT: u64 = 0x0008_0000;
        type Init = extern "C" fn(u64, *const std::ffi::c_void) -> std::ffi::c_int;
        // SAFETY: dlsym(RTLD_DEFAULT = NULL, …) looks the symbol up in the loaded libraries
        // (libcrypto, loaded with libpq); when present it has OPENSSL_init_crypto's C signature.
        unsafe {
            let f = dlsym(std::ptr::null_mut(), c"OPENSSL_init_crypto".as_ptr());
            if !f.is_null() {
                let init = std::mem::transmute::<*mut std::ffi::c_void, Init>(f);
                init(OPENSSL_INIT_NO_ATEXIT, std::ptr::null());
            }
        }
    });
}

/// The session limits of every pooled connection, so that no statement or forgotten
/// transaction can hold a connection (and the locks it took) for long.
const SESSION_LIMITS: &str = "SET statement_timeout = '15s'; SET idle_in_transaction_session_timeout = '30s'; \
     SET lock_timeout = '10s'; SET TIME ZONE 'UTC'; SET synchronous_commit = on";

/// The pool's connection manager: diesel's, with the session limits, and a closing switch. Once
/// [`Db::close`] threw it, no connection is opened any more and every connection checked in is
/// closed at once (by the thread checking it in), so the pool holds no connection a later thread
/// could close while the process exits. It counts the connections being opened, which r2d2
/// does on threads of its own, so that closing can wait for them too.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    closing: Arc<AtomicBool>,
    opening: Arc<AtomicUsize>,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.opening.fetch_add(1, Ordering::SeqCst);
        let opened = if self.closing.load(Ordering::SeqCst) {
            Err(diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                "the pool is closed".into(),
            )))
        } else {
            self.inner.connect().and_then(|mut conn| {
                conn.batch_execute(SESSION_LIMITS).map_err(diesel::r2d2::Error::QueryError)?;
                Ok(conn)
            })
        };
        self.opening.fetch_sub(1, Ordering::SeqCst);
        opened
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.inner.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.closing.load(Ordering::SeqCst) || self.inner.has_broken(conn)
    }
}

/// How long a request waits for a pooled connection before it is answered 503.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(2);

/// Adds a connect timeout and TCP keepalives to a URL that does not set them, so that an
/// unreachable database is noticed in seconds, not minutes.
///
/// `gssencmode=disable` (unless the URL sets it): the service authenticates with passwords or
/// TLS, not Kerberos; it spares every connection a GSSAPI attempt and keeps krb5, whose library
/// destructors run in `exit()` too, out of any thread that connects while the process ends. A
/// deployment that does use GSS encryption says so in its `DATABASE_URL`.
pub fn with_timeouts(url: &str) -> String {
    init_native();
    let mut url = url.to_string();
    for (key, value) in
        [("connect_timeout", "3"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("gssencmode", "disable")]
    {
        if !url.contains(&format!("{key}=")) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{key}={value}"));
        }
    }
    url
}

/// Runs the pending migrations on one direct connection.
pub fn migrate(database_url: &str) -> Result<Vec<String>, String> {
    let mut conn = PgConnection::establish(&with_timeouts(database_url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| format!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// The pool, and a first-come-first-served queue in front of it.
///
/// Requests wait for a connection as futures on the gate, in arrival order, rather than as
/// blocking threads on the pool: only as many blocking threads run as there are connections,
/// and no request overtakes one that waited longer, which keeps the tail latency close to the
/// median under load (see docs/performance.md).
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    gate: Arc<Semaphore>,
    closing: Arc<AtomicBool>,
    opening: Arc<AtomicUsize>,
}

impl Db {
    /// Builds the pool without connecting, so that the service starts (and reports not ready)
    /// while the database is away, and recovers by itself when it returns.
    pub fn new(database_url: &str, size: u32) -> Db {
        let closing = Arc::new(AtomicBool::new(false));
        let opening = Arc::new(AtomicUsize::new(0));
        let manager = Manager {
            inner: ConnectionManager::new(with_timeouts(database_url)),
            closing: closing.clone(),
            opening: opening.clone(),
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .event_handler(Box::new(crate::metrics::PoolEvents))
            .build_unchecked(manager);
        Db { pool, gate: Arc::new(Semaphore::new(size as usize)), closing, opening }
    }

    /// Closes every connection of the pool in the calling thread (waiting up to `timeout` for
    /// checked-out ones to come back, which then close on check-in), and opens none after.
    /// Call it before the process exits: the pool's other handles live in threads nobody joins
    /// (actix's workers), and a thread still in libpq when `exit()` runs the libraries'
    /// destructors crashes the process. Returns whether the pool is empty.
    pub fn close(&self, timeout: Duration) -> bool {
        self.closing.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        // Empty twice in a row, 20 ms apart: a connection r2d2 was opening on its own thread
        // reaches the pool a moment after `connect` returned.
        let mut empty_once = false;
        loop {
            while let Some(conn) = self.pool.try_get() {
                drop(conn); // broken now: r2d2 closes it here instead of keeping it idle
            }
            let empty = self.pool.state().connections == 0 && self.opening.load(Ordering::SeqCst) == 0;
            if empty && empty_once {
                return true;
            }
            empty_once = empty;
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(if empty { 20 } else { 5 }));
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let waiting = Instant::now();
        let permit = match tokio::time::timeout(CHECKOUT_TIMEOUT, self.gate.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                crate::metrics::gate_timed_out(waiting.elapsed());
                return Err(AppError::ServiceUnavailable("no database connection available".into()));
            }
        };
        crate::metrics::gate_passed(waiting.elapsed());
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|_| AppError::Internal("blocking task failed".into()))?
    }

    /// Whether the database answers now.
    pub async fn ready(&self) -> bool {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        classify(e)
    }
}

impl From<r2d2::Error> for AppError {
    fn from(_: r2d2::Error) -> Self {
        AppError::ServiceUnavailable("no database connection available".to_string())
    }
}

/// Turns a diesel error into the caller's answer. Messages from PostgreSQL can carry values
/// (`Key (cpr)=(…)`), so only the kind, table and constraint go to the log.
pub fn classify(e: DieselError) -> AppError {
    match e {
        DieselError::NotFound => AppError::NotFound,
        DieselError::DatabaseError(kind, info) => {
            let message = info.message();
            let unreachable =
                matches!(kind, DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand)
                    || message.contains("server closed the connection")
                    || message.contains("no connection to the server")
                    || message.contains("terminating connection")
                    || message.contains("could not receive data")
                    || message.contains("canceling statement due to statement timeout")
                    || message.contains("canceling statement due to lock timeout");
            if unreachable {
                return AppError::ServiceUnavailable(format!("database: {kind:?}"));
            }
            if matches!(kind, DatabaseErrorKind::SerializationFailure) {
                return AppError::ServiceUnavailable("database: serialization failure".into());
            }
            AppError::Internal(format!(
                "database error {kind:?} (table {}, constraint {})",
                info.table_name().unwrap_or("-"),
                info.constraint_name().unwrap_or("-")
            ))
        }
        DieselError::BrokenTransactionManager => AppError::ServiceUnavailable("database: broken transaction".into()),
        other => AppError::Internal(format!("database: {}", variant_name(&other))),
    }
}

fn variant_name(e: &DieselError) -> &'static str {
    match e {
        DieselError::InvalidCString(_) => "invalid C string",
        DieselError::QueryBuilderError(_) => "query builder error",
        DieselError::DeserializationError(_) => "deserialization error",
        DieselError::SerializationError(_) => "serialization error",
        DieselError::RollbackErrorOnCommit { .. } => "rollback error on commit",
        DieselError::RollbackTransaction => "rollback",
        DieselError::AlreadyInTransaction => "already in transaction",
        DieselError::NotInTransaction => "not in transaction",
        _ => "other",
    }
}

/// Runs the migrations at start-up when some are pending. When none are, it only reads, so a
/// service role without DDL rights starts against a database its owner migrated.
pub fn migrate_if_needed(database_url: &str) -> Result<(), String> {
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;

    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let mut conn = PgConnection::establish(&with_timeouts(database_url))
        .map_err(|e| format!("cannot connect to the database (DATABASE_URL): {e}"))?;
    let applied: Option<Vec<String>> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load::<Applied>(&mut conn)
        .ok()
        .map(|rows| rows.into_iter().map(|r| r.version).collect());
    let known = MigrationSource::<Pg>::migrations(&MIGRATIONS).map_err(|e| format!("migrations: {e}"))?;
    let pending = match &applied {
        None => true,
        Some(applied) => known.iter().any(|m| !applied.contains(&m.name().version().to_string())),
    };
    if pending {
        drop(conn);
        for version in migrate(database_url)? {
            log::info!("applied migration {version}");
        }
    }
    Ok(())
}

/// Grants a service role what it needs and no more, in the schema the migrations ran in: data
/// rights on every table, but only SELECT and INSERT on the append-only ones (the audit log, the
/// budget ledger, decisions, adopted plans and amendments, case history), and no right to
/// change the schema.
pub fn grant_service_role(database_url: &str, role: &str) -> Result<(), String> {
    #[derive(QueryableByName)]
    struct Schema {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let plain = |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain(role) {
        return Err(format!("--grant-to: {role:?} is not a plain role name"));
    }
    let mut conn = PgConnection::establish(&with_timeouts(database_url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let schema = diesel::sql_query("SELECT current_schema() AS name")
        .get_result::<Schema>(&mut conn)
        .map_err(|e| format!("reading the current schema: {e}"))?
        .name;
    if !plain(&schema) {
        return Err(format!("the schema {schema:?} is not a plain name"));
    }
    conn.batch_execute(&format!(
        "GRANT USAGE ON SCHEMA {schema} TO {role};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
         REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_log, {schema}.ledger_entries, {schema}.decisions,
                {schema}.plan_versions, {schema}.plan_amendments, {schema}.case_events FROM {role};
         REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {schema}.__diesel_schema_migrations FROM {role};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};"
    ))
    .map_err(|e| format!("granting rights to {role}: {e}"))
}

/// A fixed piece of SQL as a diesel expression (`CURRENT_DATE`, a correlated subquery), for
/// what diesel's DSL cannot say. Unlike diesel's `sql()`, which marks any statement it is part
/// of as unsafe to cache (its text may come from anywhere), this one takes only a `&'static str`
/// and leaves the statement in the connection's prepared-statement cache: PostgreSQL parses and
/// plans it once per connection, not on every request (docs/performance.md).
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    sql_type: std::marker::PhantomData<ST>,
}

/// `sql` as an expression of the SQL type `ST`.
pub const fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed { sql, sql_type: std::marker::PhantomData }
}

impl<ST: diesel::expression::TypedExpressionType> diesel::Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST> diesel::query_builder::QueryFragment<diesel::pg::Pg> for Fixed<ST> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

impl<ST> diesel::query_builder::QueryId for Fixed<ST> {
    type QueryId = ();
    // Cached by the statement's text, which the `&'static str` fixes.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> diesel::expression::SelectableExpression<QS> for Fixed<ST> where
    Fixed<ST>: diesel::expression::AppearsOnTable<QS>
{
}

impl<ST, QS> diesel::expression::AppearsOnTable<QS> for Fixed<ST> where Fixed<ST>: diesel::Expression {}

impl<ST, GB> diesel::expression::ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// A statement cached in the connection's prepared-statement cache under the type `K` instead
/// of its text. diesel finds a boxed statement (one whose text depends on values, such as the
/// access rule's shape for the caller) in its cache by building the whole text again on every
/// run, a tenth of the service's CPU for GET case (docs/performance.md); under a key type it
/// skips that. The price is a promise: every statement made with one `K` has the same text, and
/// only its parameters differ. Whoever chooses `K` derives it from what the text depends on.
///
/// Debug builds (every test) keep that promise honest: the first text seen for a key is kept,
/// and a later one that differs panics, naming the key.
pub struct Keyed<Q, K> {
    query: Q,
    key: std::marker::PhantomData<K>,
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>, K: 'static> Keyed<Q, K> {
    pub fn new(query: Q) -> Keyed<Q, K> {
        #[cfg(debug_assertions)]
        same_text_for_key::<K>(&query);
        Keyed { query, key: std::marker::PhantomData }
    }
}

/// Panics unless `query` has the text every earlier statement keyed by `K` had.
#[cfg(debug_assertions)]
fn same_text_for_key<K: 'static>(query: &dyn diesel::query_builder::QueryFragment<diesel::pg::Pg>) {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TEXTS: OnceLock<Mutex<HashMap<TypeId, String>>> = OnceLock::new();
    let mut builder = diesel::pg::PgQueryBuilder::default();
    query.to_sql(&mut builder, &diesel::pg::Pg).expect("a keyed statement's text");
    let text = diesel::query_builder::QueryBuilder::finish(builder);
    let mut texts = TEXTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let first = texts.entry(TypeId::of::<K>()).or_insert_with(|| text.clone());
    assert!(
        *first == text,
        "two statements with different texts under the key {}:\n{first}\n{text}",
        std::any::type_name::<K>()
    );
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>, K> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for Keyed<Q, K>
{
    fn walk_ast<'b>(&'b self, out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> diesel::QueryResult<()> {
        self.query.walk_ast(out)
    }
}

impl<Q, K: 'static> diesel::query_builder::QueryId for Keyed<Q, K> {
    type QueryId = K;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: diesel::query_builder::Query, K> diesel::query_builder::Query for Keyed<Q, K> {
    type SqlType = Q::SqlType;
}

impl<Q, K> RunQueryDsl<PgConnection> for Keyed<Q, K> {}

/// Runs `f` in a transaction begun, in the same round trip, with `settings` (`SET LOCAL …`
/// statements) in force: for a statement whose plan PostgreSQL, left to itself, chooses worse than
/// one known to be good (the event feed's page: `store::events::FEED_PLAN`). A prepared statement
/// under `plan_cache_mode = force_generic_plan` is planned once, at its first run on a connection,
/// under the settings then in force, and keeps that plan until PostgreSQL drops it (an ANALYZE, a
/// change to a table it reads, an invalidation of every cached plan); its next run plans it again,
/// under that run's settings, so a statement always run through here keeps these. The settings end
/// with the transaction, committed when `f` succeeds and rolled back when it fails, as diesel's own
/// transactions are.
/// Inside a transaction already, `f` runs with the plans PostgreSQL chooses.
pub fn with_local_settings<T>(
    conn: &mut PgConnection,
    settings: &'static str,
    f: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?.is_some() {
        // inside a transaction already: a setting made here would outlast `f`
        return f(conn);
    }
    AnsiTransactionManager::begin_transaction_sql(conn, &format!("BEGIN; {settings}"))?;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(failed) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(failed),
            Err(rollback) => Err(rollback),
        },
    }
}
