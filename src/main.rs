//! The `helhed` command: serve | migrate | token | openapi | seed | retention run.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use helhed::auth::{self, Issuers};
use helhed::config::{self, Config};
use helhed::db::{self, Db};

/// mimalloc rather than the C library's allocator: a request allocates and frees many small
/// buffers (the statement's text, its rows, the JSON answer), and mimalloc spends less CPU on them
/// (docs/performance.md). The library (`helhed`, and so the test suite) keeps the default.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "helhed", version, about = "Holistic, cross-departmental case handling")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default), configured by the environment.
    Serve,
    /// Run the database migrations and exit.
    Migrate {
        /// Then grant this role exactly what the service needs: no UPDATE or DELETE on the
        /// audit log, no DDL.
        #[arg(long, value_name = "ROLE")]
        grant_to: Option<String>,
    },
    /// Mint a token from the issuers file (HELHED_ISSUERS), for scripts and Swagger UI.
    Token {
        #[arg(long)]
        iss: String,
        #[arg(long)]
        sub: String,
        #[arg(long)]
        dept: String,
        /// Comma-separated: caseworker, leader, admin, auditor, system.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Retention and erasure (GDPR art. 5(1)(e)), run by the owner role as a scheduled job.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Load data into the database (DATABASE_URL).
    Seed {
        /// The two Norddjurs committees with fictional members and a handful of fictional cases;
        /// does nothing if committees exist already.
        #[arg(long)]
        demo: bool,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Erase every case closed or declined more than HELHED_RETENTION_CASE_DAYS ago (its
    /// citizen with it, once no case of theirs remains) and delete audit entries older than
    /// HELHED_RETENTION_AUDIT_DAYS; one audit entry with the counts. Run it as the role that
    /// owns the tables (the one `helhed migrate` runs as); the service role is refused.
    Run {
        /// Print what would go and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as one JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    helhed::logging::init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Migrate { grant_to } => migrate(grant_to.as_deref()),
        Command::Token { iss, sub, dept, roles, name, ttl } => token(&iss, &sub, &dept, roles, name, ttl),
        Command::Openapi => {
            print!("{}", helhed::openapi::document());
            Ok(())
        }
        Command::Seed { demo } => seed(demo),
        Command::Retention { command: RetentionCommand::Run { dry_run, json } } => retention(dry_run, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("helhed: {message}");
            ExitCode::from(2)
        }
    }
}

fn setting<T>(r: Result<T, config::ConfigError>) -> Result<T, String> {
    r.map_err(|e| format!("configuration: {e}"))
}

fn serve() -> Result<(), String> {
    let config = setting(Config::from_env())?;
    let issuers = Issuers::load(&config.issuers_path, &config.audience)
        .map_err(|e| format!("configuration: HELHED_ISSUERS: {e}"))?;
    db::migrate_if_needed(&config.database_url)?;
    let listener = TcpListener::bind(config.bind)
        .map_err(|e| format!("configuration: HELHED_BIND: cannot bind {}: {e}", config.bind))?;
    let state = helhed::State {
        db: Db::new(&config.database_url, config.db_pool_size),
        issuers: Arc::new(issuers),
        max_frame_ore: config.max_frame_ore,
        webhook_allow: config.webhook_allow.clone(),
        event_source: helhed::config::event_source(&config.instance),
    };
    log::info!("helhed listening on http://{} ({} issuers)", config.bind, state.issuers.len());
    // The identity providers' key sets are fetched in the background: a provider that is down
    // delays only its own issuer's tokens, not the start.
    let keys = state.issuers.start_refresher();
    let webhooks = helhed::webhooks::Worker::start(
        &config.database_url,
        std::time::Duration::from_millis(500),
        config.webhook_allow.clone(),
        helhed::config::event_source(&config.instance),
    );
    let db = state.db.clone();
    let system = actix_web::rt::System::new();
    let served = system.block_on(async move { helhed::server(state, listener, config.workers)?.await });
    // An orderly end: no thread may be inside libpq when main returns and exit() runs the
    // libraries' destructors (the actix workers, which hold the pool too, are never joined).
    drop(webhooks);
    drop(keys);
    if !db.close(std::time::Duration::from_secs(5)) {
        log::warn!("some database connections were still checked out at shutdown");
    }
    served.map_err(|e| format!("server: {e}"))
}

fn migrate(grant_to: Option<&str>) -> Result<(), String> {
    let url = setting(config::database_url())?;
    let applied = db::migrate(&url)?;
    for version in &applied {
        log::info!("applied migration {version}");
    }
    if let Some(role) = grant_to {
        db::grant_service_role(&url, role)?;
        log::info!("granted the service's rights to {role}");
    }
    Ok(())
}

fn token(iss: &str, sub: &str, dept: &str, roles: Vec<String>, name: Option<String>, ttl: i64) -> Result<(), String> {
    let issuers_path = setting(config::issuers_path())?;
    let audience = setting(config::audience())?;
    let issuers = Issuers::load(&issuers_path, &audience).map_err(|e| format!("HELHED_ISSUERS: {e}"))?;
    let now = chrono::Utc::now().timestamp();
    let claims = auth::Claims {
        iss: iss.to_string(),
        sub: sub.to_string(),
        aud: audience,
        exp: now + ttl,
        nbf: None,
        iat: Some(now),
        dept: dept.to_string(),
        roles,
        name,
    };
    println!("{}", auth::mint(&issuers, iss, &claims)?);
    Ok(())
}

fn seed(demo: bool) -> Result<(), String> {
    if !demo {
        return Err("say what to seed: --demo".into());
    }
    let url = setting(config::database_url())?;
    db::migrate_if_needed(&url)?;
    let loaded = helhed::seed::demo(&url)?;
    if loaded {
        log::info!("demo data loaded");
    } else {
        log::info!("committees exist already; demo data not loaded again");
    }
    Ok(())
}

fn retention(dry_run: bool, json: bool) -> Result<(), String> {
    let url = setting(config::database_url())?;
    let policy = setting(config::retention())?;
    let report = helhed::retention::run(&url, policy, dry_run)?;
    if json {
        println!("{}", serde_json::to_string(&report).map_err(|e| format!("report: {e}"))?);
        return Ok(());
    }
    let day = |days: i32| (report.at - chrono::Duration::days(days.into())).format("%Y-%m-%dT%H:%M:%SZ");
    println!(
        "retention {}: cases closed or declined before {} ({} days), audit entries before {} ({} days)",
        if report.dry_run { "dry run, nothing changed" } else { "run" },
        day(report.case_days),
        report.case_days,
        day(report.audit_days),
        report.audit_days
    );
    let run = if report.dry_run { "dry-run" } else { "run" };
    for (kind, n) in report.counts.kinds() {
        println!("retention {run} {kind}={n}");
    }
    println!("retention {run} took_ms={}", report.took.as_millis());
    Ok(())
}
