//! Key sets fetched from an identity provider (`jwks_url`, or `openid_configuration` whose
//! `jwks_uri` names the set), kept fresh without a restart.
//!
//! - At start-up a refresher thread fetches every provider's set; a provider that is down does
//!   not stop the service: its issuer's tokens get 401 until the set arrives.
//! - The set is fetched again when its `Cache-Control: max-age` runs out, bounded to
//!   [`MIN_REFRESH`] … [`MAX_REFRESH`]; after a failure sooner (5 s, doubling, at most 5 min).
//! - A token naming a `kid` the set does not hold fetches again at once, at most once per
//!   [`UNKNOWN_KID_EVERY`] per issuer, so a flood of made-up `kid`s costs the provider one call a
//!   minute; the request that triggered it waits for the answer, never longer than [`TIMEOUT`].
//! - A failed fetch keeps the last good set: an unreachable provider, an answer that is not a JWK
//!   set, one without a usable key, or one larger than [`MAX_BODY`].
//! - Fetches are https only (plain http only to a loopback address, for development), follow no
//!   redirect, and time out after [`TIMEOUT`] in all (discovery and set together).
//!
//! Every instance fetches for itself: the set is a cache of the provider's, not state of the
//! service, so instances behind a load balancer stay independent.

use std::io::Read;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

/// The longest a fetch (discovery and key set together) may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The shortest and longest time a fetched set is kept before it is fetched again.
pub const MIN_REFRESH: Duration = Duration::from_secs(5 * 60);
pub const MAX_REFRESH: Duration = Duration::from_secs(24 * 60 * 60);
/// How often a token with an unknown `kid` may make an issuer's set be fetched again.
pub const UNKNOWN_KID_EVERY: Duration = Duration::from_secs(60);
/// The largest discovery document or key set read; a larger one is a failed fetch.
pub const MAX_BODY: u64 = 1024 * 1024;
/// The first wait after a failed fetch; it doubles up to [`MIN_REFRESH`].
const RETRY_FIRST: Duration = Duration::from_secs(5);

/// One verification key, with the id a token names it by.
pub struct Key {
    pub kid: Option<String>,
    pub key: DecodingKey,
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The JWK set itself.
    Jwks(Url),
    /// The provider's OpenID discovery document, whose `jwks_uri` names the set.
    Discovery(Url),
}

impl Source {
    fn kind(&self) -> KeySource {
        match self {
            Source::Jwks(_) => KeySource::JwksUrl,
            Source::Discovery(_) => KeySource::OpenidConfiguration,
        }
    }
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    File,
    JwksUrl,
    OpenidConfiguration,
}

/// Whether an issuer holds keys to verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Loaded {
    Loaded,
    NotLoaded,
}

/// A URL as errors show it: without query, fragment or user info (they may hold credentials),
/// and at most 200 characters.
fn shown(url: &Url) -> String {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    clip(bare.as_str(), 200)
}

/// At most `max` characters of a text a provider chose.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// Whether the service may fetch keys from `url`: https, or plain http to a loopback address.
pub fn allowed(url: &Url) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{} holds user info", shown(url)));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(format!("{} is plain http to an address that is not loopback: use https", shown(url)))
            }
        }
        _ => Err(format!("{} is not an https URL", shown(url))),
    }
}

/// One issuer's key state, as `/health/ready` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyState {
    /// The issuer (`iss`).
    pub iss: String,
    /// Where its keys come from.
    pub source: KeySource,
    /// `loaded` when it holds keys to verify with, `not_loaded` while none has arrived yet.
    pub state: Loaded,
    /// How many keys it holds.
    pub keys: usize,
    /// When the set it holds was fetched (null for `file`, and until the first fetch succeeds).
    pub fetched_at: Option<DateTime<Utc>>,
    /// When the set will be fetched again, sooner if a token names a key it lacks (null for `file`).
    pub next_fetch_at: Option<DateTime<Utc>>,
    /// Why the last fetch failed, while the next has not succeeded (at most 300 characters).
    pub last_error: Option<String>,
}

struct Held {
    keys: Arc<Vec<Key>>,
    fetched_at: Option<DateTime<Utc>>,
    next_refresh: Instant,
    failures: u32,
    last_error: Option<String>,
    last_kid_fetch: Option<Instant>,
}

/// An issuer's set from its identity provider.
pub struct RemoteKeys {
    iss: String,
    source: Source,
    algorithm: Algorithm,
    held: RwLock<Held>,
    /// Held while a fetch runs, so that one runs at a time and waiting requests see its result.
    fetching: tokio::sync::Mutex<()>,
    /// Fetches attempted, for tests and metrics.
    attempts: std::sync::atomic::AtomicU64,
    /// Bumped with every set fetched: tokens verified under an earlier one are verified again.
    generation: std::sync::atomic::AtomicU64,
}

impl RemoteKeys {
    pub fn new(iss: &str, source: Source, algorithm: Algorithm) -> RemoteKeys {
        RemoteKeys {
            iss: iss.to_string(),
            source,
            algorithm,
            held: RwLock::new(Held {
                keys: Arc::new(Vec::new()),
                fetched_at: None,
                next_refresh: Instant::now(),
                failures: 0,
                last_error: None,
                last_kid_fetch: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
            attempts: Default::default(),
            generation: Default::default(),
        }
    }

    /// Which set is held: changes whenever a fetched set replaces the one before.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The keys held now (empty until the first fetch succeeds).
    pub fn keys(&self) -> Arc<Vec<Key>> {
        self.held.read().expect("key state lock").keys.clone()
    }

    pub fn state(&self) -> KeyState {
        let held = self.held.read().expect("key state lock");
        KeyState {
            iss: self.iss.clone(),
            source: self.source.kind(),
            state: if held.keys.is_empty() { Loaded::NotLoaded } else { Loaded::Loaded },
            keys: held.keys.len(),
            fetched_at: held.fetched_at,
            next_fetch_at: chrono::Duration::from_std(held.next_refresh.saturating_duration_since(Instant::now()))
                .ok()
                .map(|wait| Utc::now() + wait),
            last_error: held.last_error.clone(),
        }
    }

    fn holds(&self, kid: Option<&str>) -> bool {
        let keys = self.keys();
        match kid {
            Some(kid) => keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
            None => keys.len() == 1,
        }
    }

    fn due(&self) -> bool {
        Instant::now() >= self.held.read().expect("key state lock").next_refresh
    }

    /// A token names `kid`, which the set does not hold: fetch again, unless that happened less
    /// than a minute ago, and wait for the outcome (at most [`TIMEOUT`] in all). Runs the fetch
    /// on the blocking pool, never on the worker thread.
    pub async fn fetch_for_unknown_kid(self: &Arc<Self>, kid: Option<&str>) {
        let deadline = Instant::now() + TIMEOUT;
        // Wait for a fetch already running (it may bring the key), but not past the deadline.
        let Ok(_running) = tokio::time::timeout(TIMEOUT, self.fetching.lock()).await else { return };
        if self.holds(kid) {
            return;
        }
        {
            let mut held = self.held.write().expect("key state lock");
            if held.last_kid_fetch.is_some_and(|at| at.elapsed() < UNKNOWN_KID_EVERY) {
                return;
            }
            held.last_kid_fetch = Some(Instant::now());
        }
        let me = self.clone();
        let _ = actix_web::web::block(move || me.fetch_and_keep(deadline)).await;
    }

    /// Fetches now if the set is due, holding the fetch lock (from the refresher thread).
    fn refresh_if_due(&self) {
        if !self.due() {
            return;
        }
        let _running = self.fetching.blocking_lock();
        if self.due() {
            self.fetch_and_keep(Instant::now() + TIMEOUT);
        }
    }

    /// Fetches the set and keeps it, or keeps the last good one and notes why.
    fn fetch_and_keep(&self, deadline: Instant) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetch(deadline);
        let mut held = self.held.write().expect("key state lock");
        match fetched {
            Ok((keys, max_age)) => {
                if held.keys.is_empty() || held.last_error.is_some() {
                    log::info!("keys: issuer {} holds {} keys", crate::logging::value(&self.iss), keys.len());
                }
                held.keys = Arc::new(keys);
                self.generation.fetch_add(1, Ordering::SeqCst);
                held.fetched_at = Some(Utc::now());
                held.next_refresh = Instant::now() + keep_for(max_age);
                held.failures = 0;
                held.last_error = None;
            }
            Err(why) => {
                log::warn!(
                    "keys: fetching the keys of issuer {} failed ({}); {}",
                    crate::logging::value(&self.iss),
                    crate::logging::value(&why),
                    if held.keys.is_empty() { "it has none yet" } else { "the last good set is kept" }
                );
                let wait = RETRY_FIRST.saturating_mul(1 << held.failures.min(10)).min(MIN_REFRESH);
                held.failures = held.failures.saturating_add(1);
                held.next_refresh = Instant::now() + wait;
                held.last_error = Some(clip(&why, 300));
            }
        }
    }

    /// How many fetches were attempted.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    fn fetch(&self, deadline: Instant) -> Result<(Vec<Key>, Option<Duration>), String> {
        let jwks_url = match &self.source {
            Source::Jwks(url) => url.clone(),
            Source::Discovery(url) => {
                #[derive(Deserialize)]
                struct Discovery {
                    issuer: String,
                    jwks_uri: String,
                }
                let (body, _) = get(url, deadline)?;
                let doc: Discovery =
                    serde_json::from_slice(&body).map_err(|e| format!("the discovery document is not usable: {e}"))?;
                if doc.issuer != self.iss {
                    return Err(format!(
                        "the discovery document's issuer {:?} is not {:?}",
                        clip(&doc.issuer, 100),
                        clip(&self.iss, 100)
                    ));
                }
                let jwks = Url::parse(&doc.jwks_uri).map_err(|e| format!("its jwks_uri is not a URL: {e}"))?;
                allowed(&jwks).map_err(|e| format!("its jwks_uri: {e}"))?;
                // A provider named over https may not send the service to plain http, even on
                // loopback: only a development provider named over http may.
                if jwks.scheme() == "http" && url.scheme() != "http" {
                    return Err(format!("its jwks_uri {} is plain http: use https", shown(&jwks)));
                }
                jwks
            }
        };
        let (body, max_age) = get(&jwks_url, deadline)?;
        Ok((usable_keys(&body, self.algorithm)?, max_age))
    }
}

/// The client for key fetches: no redirects (https only would not hold through one), 5 s.
fn client() -> &'static reqwest::blocking::Client {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    CLIENT.get_or_init(|| crate::http::client_builder().build().expect("the HTTP client for key fetches builds"))
}

/// GETs `url` before `deadline`: the body (at most [`MAX_BODY`]) and the answer's max-age.
fn get(url: &Url, deadline: Instant) -> Result<(Vec<u8>, Option<Duration>), String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_millis(50) {
        return Err("no time left for the fetch".into());
    }
    let res = client().get(url.clone()).header("Accept", "application/json").timeout(left).send().map_err(|e| {
        if e.is_timeout() {
            format!("{url}: timed out")
        } else {
            format!("{url}: cannot connect")
        }
    })?;
    if !res.status().is_success() {
        return Err(format!("{url} answered {}", res.status().as_u16()));
    }
    if res.content_length().is_some_and(|n| n > MAX_BODY) {
        return Err(format!("{url}: the answer is larger than {MAX_BODY} bytes"));
    }
    let max_age = max_age(res.headers().get_all("cache-control").iter().filter_map(|v| v.to_str().ok()));
    let mut body = Vec::new();
    res.take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|_| format!("{}: the answer broke off or timed out", shown(url)))?;
    if body.len() as u64 > MAX_BODY {
        return Err(format!("{}: the answer is larger than {MAX_BODY} bytes", shown(url)));
    }
    Ok((body, max_age))
}

/// The `max-age` of `Cache-Control` header values, the smallest if several.
fn max_age<'a>(values: impl Iterator<Item = &'a str>) -> Option<Duration> {
    values
        .flat_map(|v| v.split(','))
        .filter_map(|d| {
            let (name, value) = d.trim().split_once('=')?;
            name.trim().eq_ignore_ascii_case("max-age").then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
        })
        .min()
        .map(Duration::from_secs)
}

/// How long a fetched set is kept: its `max-age` within [`MIN_REFRESH`] … [`MAX_REFRESH`], the
/// shortest when the provider names none.
pub fn keep_for(max_age: Option<Duration>) -> Duration {
    max_age.unwrap_or(MIN_REFRESH).clamp(MIN_REFRESH, MAX_REFRESH)
}

/// The keys of a JWK set this issuer can verify with. Keys for encryption, for another
/// algorithm, of a type not known, or without a `kid` (unless it is the only key) are passed
/// over, as providers publish several kinds; a set left without any is refused.
pub fn usable_keys(body: &[u8], algorithm: Algorithm) -> Result<Vec<Key>, String> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|_| "the answer is not a JWK set".to_string())?;
    let mut keys: Vec<Key> = Vec::new();
    for value in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else { continue };
        if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature) {
            continue;
        }
        if jwk.common.key_algorithm.is_some_and(|a| format!("{a:?}") != format!("{algorithm:?}")) {
            continue;
        }
        if !can_verify(&jwk.algorithm, algorithm) {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else { continue };
        let kid = jwk.common.key_id.clone();
        if kid.is_some() && keys.iter().any(|k| k.kid == kid) {
            continue;
        }
        keys.push(Key { kid, key });
    }
    if keys.len() > 1 {
        keys.retain(|k| k.kid.is_some());
    }
    if keys.is_empty() {
        return Err(format!("the JWK set has no usable key for {algorithm:?}"));
    }
    Ok(keys)
}

/// Whether a key's parameters can verify tokens of `algorithm`: RSA of 2048 to 16384 bits for
/// RS256 (the crypto library refuses shorter ones), P-256 with 32-byte coordinates for ES256,
/// Ed25519 with a 32-byte key for EdDSA. Anything else would load and then fail every token.
fn can_verify(params: &jsonwebtoken::jwk::AlgorithmParameters, algorithm: Algorithm) -> bool {
    use base64::Engine;
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    let bytes = |b64: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok();
    let len = |b64: &str| bytes(b64).map(|b| b.len());
    match (params, algorithm) {
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
            let modulus = bytes(&rsa.n).map(|n| n.len() - n.iter().take_while(|b| **b == 0).count());
            modulus.is_some_and(|n| (256..=2048).contains(&n)) && len(&rsa.e).is_some_and(|e| (1..=8).contains(&e))
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256 && len(&ec.x) == Some(32) && len(&ec.y) == Some(32)
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519 && len(&okp.x) == Some(32)
        }
        _ => false,
    }
}

/// The threads that keep the providers' sets fresh, one per issuer so that a slow provider
/// delays no other; they stop when this is dropped (within one fetch, at most [`TIMEOUT`]).
pub struct Refresher {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Refresher {
    /// Starts fetching at once; nothing waits for the first answer.
    pub fn start(remotes: Vec<Arc<RemoteKeys>>) -> Refresher {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = remotes
            .into_iter()
            .map(|remote| {
                let flag = stop.clone();
                std::thread::Builder::new()
                    .name("helhed-keys".into())
                    .spawn(move || {
                        while !flag.load(Ordering::SeqCst) {
                            remote.refresh_if_due();
                            std::thread::sleep(Duration::from_millis(250));
                        }
                    })
                    .expect("a key refresher thread starts")
            })
            .collect();
        Refresher { stop, threads }
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        let ok = |s: &str| allowed(&Url::parse(s).unwrap()).is_ok();
        assert!(ok("https://login.microsoftonline.com/x/discovery/v2.0/keys"));
        assert!(ok("http://127.0.0.1:8080/keys"));
        assert!(ok("http://[::1]:8080/keys"));
        assert!(ok("http://localhost/keys"));
        assert!(!ok("http://idp.example/keys"));
        assert!(!ok("http://10.0.0.1/keys"));
        assert!(!ok("https://user:pw@idp.example/keys"));
        assert!(!ok("ftp://idp.example/keys"));
        assert!(!ok("file:///etc/keys"));
    }

    #[test]
    fn a_set_is_kept_for_its_max_age_within_five_minutes_and_a_day() {
        let age = |values: &[&str]| max_age(values.iter().copied());
        assert_eq!(age(&["public, max-age=3600"]), Some(Duration::from_secs(3600)));
        assert_eq!(age(&["no-cache"]), None);
        assert_eq!(age(&["Max-Age = 60, must-revalidate", "max-age=\"120\""]), Some(Duration::from_secs(60)));
        assert_eq!(age(&["s-maxage=10"]), None);
        assert_eq!(keep_for(Some(Duration::from_secs(3600))), Duration::from_secs(3600));
        assert_eq!(keep_for(Some(Duration::from_secs(1))), MIN_REFRESH);
        assert_eq!(keep_for(Some(Duration::from_secs(30 * 24 * 3600))), MAX_REFRESH);
        assert_eq!(keep_for(None), MIN_REFRESH);
        assert_eq!(MIN_REFRESH, Duration::from_secs(300));
        assert_eq!(MAX_REFRESH, Duration::from_secs(86_400));
    }

    #[test]
    fn keys_that_could_never_verify_are_passed_over() {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let rsa = |bits: usize| {
            let mut n = vec![0xc5u8; bits / 8];
            n[bits / 8 - 1] |= 1;
            format!(r#"{{"kty":"RSA","kid":"r{bits}","n":"{}","e":"AQAB"}}"#, b64(&n))
        };
        let set = |key: String| format!(r#"{{"keys":[{key}]}}"#);
        assert!(usable_keys(set(rsa(1024)).as_bytes(), Algorithm::RS256).is_err(), "1024-bit RSA");
        assert!(usable_keys(set(rsa(512)).as_bytes(), Algorithm::RS256).is_err(), "512-bit RSA");
        assert!(usable_keys(set(rsa(2048)).as_bytes(), Algorithm::RS256).is_ok(), "2048-bit RSA");
        let p384 = format!(r#"{{"kty":"EC","crv":"P-384","kid":"p","x":"{}","y":"{}"}}"#, b64(&[1; 48]), b64(&[2; 48]));
        assert!(usable_keys(set(p384).as_bytes(), Algorithm::ES256).is_err(), "P-384 under ES256");
        let short = format!(r#"{{"kty":"EC","crv":"P-256","kid":"s","x":"{}","y":""}}"#, b64(&[1; 32]));
        assert!(usable_keys(set(short).as_bytes(), Algorithm::ES256).is_err(), "an empty coordinate");
        let okp = |x: &[u8]| format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"o","x":"{}"}}"#, b64(x));
        assert!(usable_keys(set(okp(&[3; 31])).as_bytes(), Algorithm::EdDSA).is_err(), "a 31-byte Ed25519 key");
        assert!(usable_keys(set(okp(&[3; 32])).as_bytes(), Algorithm::EdDSA).is_ok());
    }

    #[test]
    fn what_a_provider_says_is_cut_short_and_urls_lose_their_query() {
        let url = Url::parse("https://u:p@idp.example/keys?api_key=secret#x").unwrap();
        assert_eq!(shown(&url), "https://idp.example/keys");
        assert_eq!(clip(&"é".repeat(500), 300).chars().count(), 301);
        assert_eq!(clip("short", 300), "short");
    }

    #[test]
    fn sets_without_a_usable_key_are_refused() {
        assert!(usable_keys(b"not json", Algorithm::RS256).is_err());
        assert!(usable_keys(br#"{"keys": []}"#, Algorithm::RS256).is_err());
        assert!(usable_keys(br#"{"keys": [{"kty": "weird", "kid": "a"}]}"#, Algorithm::RS256).is_err());
        // An encryption key and a key of another type are passed over.
        let ec = r#"{"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
        let set = format!(
            r#"{{"keys": [{ec}, {{"kty":"EC","use":"enc","kid":"x","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}"#
        );
        assert!(usable_keys(set.as_bytes(), Algorithm::RS256).is_err());
        let keys = usable_keys(set.as_bytes(), Algorithm::ES256).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("e"));
    }
}
