//! Every setting, read from the environment once at start-up and validated, so that a missing
//! or bad one stops the service with one line naming it.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn bad(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { name, problem: problem.into() }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub issuers_path: PathBuf,
    pub audience: String,
    pub max_frame_ore: i64,
    pub db_pool_size: u32,
    /// `HELHED_WORKERS`: the HTTP worker threads; unset, one per CPU the process may use.
    pub workers: Option<usize>,
    /// `HELHED_WEBHOOK_ALLOW`: the private networks webhooks may reach, and the only ones plain
    /// http may reach.
    pub webhook_allow: crate::webhooks::destination::Allow,
    /// `HELHED_INSTANCE` (default `local`): names this installation in every event's CloudEvents
    /// `source`, `urn:helhed:<instance>`.
    pub instance: String,
}

impl std::fmt::Debug for Config {
    // The database URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("issuers_path", &self.issuers_path)
            .field("audience", &self.audience)
            .field("max_frame_ore", &self.max_frame_ore)
            .field("db_pool_size", &self.db_pool_size)
            .field("workers", &self.workers)
            .field("webhook_allow", &self.webhook_allow)
            .finish_non_exhaustive()
    }
}

/// The default cap of a budget frame: 50,000 DKK.
pub const DEFAULT_MAX_FRAME_ORE: i64 = 5_000_000;

fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(bad(name, "is not valid UTF-8")),
    }
}

/// A whole-number setting within `range` (`unit` names what it counts, e.g. "of days "), if set.
fn whole_number<T>(name: &'static str, range: std::ops::RangeInclusive<T>, unit: &str) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match var(name)? {
        None => Ok(None),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(bad(name, format!("must be a whole number {unit}from {} to {}", range.start(), range.end()))),
        },
    }
}

pub fn database_url() -> Result<String, ConfigError> {
    let url = var("DATABASE_URL")?
        .ok_or_else(|| bad("DATABASE_URL", "is not set (e.g. postgres://helhed@127.0.0.1/helhed)"))?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(bad("DATABASE_URL", "must be a postgres:// URL"));
    }
    Ok(url)
}

pub fn issuers_path() -> Result<PathBuf, ConfigError> {
    let path = var("HELHED_ISSUERS")?.ok_or_else(|| bad("HELHED_ISSUERS", "is not set: name the issuers TOML file"))?;
    Ok(PathBuf::from(path))
}

pub fn audience() -> Result<String, ConfigError> {
    Ok(var("HELHED_AUDIENCE")?.unwrap_or_else(|| "helhed".to_string()))
}

/// `HELHED_INSTANCE`: 1–63 letters, digits, `.`, `_` or `-`, so that `urn:helhed:<instance>` is
/// a URN any CloudEvents reader takes.
fn instance() -> Result<String, ConfigError> {
    let Some(v) = var("HELHED_INSTANCE")? else {
        return Ok("local".to_string());
    };
    let fits = (1..=63).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && v.as_bytes()[0].is_ascii_alphanumeric();
    if fits {
        Ok(v)
    } else {
        Err(bad("HELHED_INSTANCE", "must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"))
    }
}

/// The CloudEvents `source` of this installation's events.
pub fn event_source(instance: &str) -> String {
    format!("urn:helhed:{instance}")
}

/// The retention job's settings: how many days a case is kept after it is closed or declined
/// (`HELHED_RETENTION_CASE_DAYS`), and an audit entry after it is written
/// (`HELHED_RETENTION_AUDIT_DAYS`); five years each unless set.
pub fn retention() -> Result<crate::retention::Policy, ConfigError> {
    let days = |name: &'static str| -> Result<i32, ConfigError> {
        Ok(whole_number(name, 1..=MAX_RETENTION_DAYS, "of days ")?.unwrap_or(DEFAULT_RETENTION_DAYS))
    };
    Ok(crate::retention::Policy {
        case_days: days("HELHED_RETENTION_CASE_DAYS")?,
        audit_days: days("HELHED_RETENTION_AUDIT_DAYS")?,
    })
}

/// Five years (5 × 365 days).
pub const DEFAULT_RETENTION_DAYS: i32 = 1825;
/// A hundred years: beyond it a setting is a mistake, not a policy.
const MAX_RETENTION_DAYS: i32 = 36_500;

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let bind = match var("HELHED_BIND")? {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.parse().map_err(|_| bad("HELHED_BIND", "must be host:port, e.g. 127.0.0.1:8080"))?,
        };
        let max_frame_ore = match var("HELHED_MAX_FRAME_ORE")? {
            None => DEFAULT_MAX_FRAME_ORE,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad("HELHED_MAX_FRAME_ORE", "must be a positive whole number of øre")),
            },
        };
        let db_pool_size = whole_number("HELHED_DB_POOL_SIZE", 1..=1000, "")?.unwrap_or(10);
        let workers = whole_number("HELHED_WORKERS", 1..=256, "")?;
        let webhook_allow = match var("HELHED_WEBHOOK_ALLOW")? {
            None => crate::webhooks::destination::Allow::none(),
            Some(v) => crate::webhooks::destination::Allow::parse(&v).map_err(|e| bad("HELHED_WEBHOOK_ALLOW", e))?,
        };
        Ok(Config {
            webhook_allow,
            instance: instance()?,
            database_url: database_url()?,
            bind,
            issuers_path: issuers_path()?,
            audience: audience()?,
            max_frame_ore,
            db_pool_size,
            workers,
        })
    }
}
