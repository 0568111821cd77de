//! Verified tokens, remembered: a departmental system sends the same token with every request
//! for its lifetime, and checking an ES256 or RS256 signature again each time was an eighth of
//! the service's CPU (docs/performance.md).
//!
//! - Keyed by the SHA-256 of the whole token, so a token that differs in any byte is verified
//!   on its own; only tokens that passed every check are remembered, never a refusal.
//! - An entry lives until the token's `exp` (without the leeway verification allows) and at most
//!   [`MAX_AGE`]; it is dropped when its issuer's keys change (a fetched set replaced), so a key
//!   the identity provider withdraws stops working with the fetch that removes it.
//! - Bounded: at most [`CAPACITY`] entries, the least recently used going first.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use sha2::{Digest, Sha256};

use super::Principal;

/// How many verified tokens are remembered.
pub const CAPACITY: usize = 10_000;
/// The longest a verified token is remembered.
pub const MAX_AGE: Duration = Duration::from_secs(300);

struct Entry {
    principal: Principal,
    until: Instant,
    /// The issuer's key generation the token was verified under.
    keys: u64,
}

pub struct TokenCache {
    entries: Mutex<LruCache<[u8; 32], Entry>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(CAPACITY)
    }
}

/// The cache key of a token.
pub fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl TokenCache {
    pub fn new(capacity: usize) -> TokenCache {
        let capacity = NonZeroUsize::new(capacity.max(1)).expect("at least one entry");
        TokenCache { entries: Mutex::new(LruCache::new(capacity)) }
    }

    /// The principal a token verified as, if it is remembered, has not run out, and its
    /// issuer's keys are still those of generation `keys` (as `keys_now` tells for its issuer).
    pub fn get(&self, key: &[u8; 32], now: Instant, keys_now: impl Fn(&str) -> Option<u64>) -> Option<Principal> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(key)?;
        if entry.until > now && keys_now(&entry.principal.iss) == Some(entry.keys) {
            return Some(entry.principal.clone());
        }
        entries.pop(key);
        None
    }

    /// Remembers a verified token until `exp` (unix seconds), at most [`MAX_AGE`].
    pub fn put(&self, key: [u8; 32], principal: &Principal, exp: i64, keys: u64, now: Instant) {
        let left = exp.saturating_sub(chrono::Utc::now().timestamp());
        if left <= 0 {
            return;
        }
        let until = now + Duration::from_secs(left as u64).min(MAX_AGE);
        let mut principal = principal.clone();
        principal.request_id.clear();
        principal.trace = None;
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.put(key, Entry { principal, until, keys });
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Department, Role};

    fn principal(iss: &str) -> Principal {
        Principal {
            iss: iss.into(),
            sub: "anna".into(),
            dept: Department::Social,
            roles: vec![Role::Caseworker],
            name: None,
            request_id: "r1".into(),
            trace: None,
        }
    }

    fn in_an_hour() -> i64 {
        chrono::Utc::now().timestamp() + 3600
    }

    #[test]
    fn a_remembered_token_lives_at_most_five_minutes_and_never_past_its_exp() {
        let cache = TokenCache::new(10);
        let now = Instant::now();
        let same_keys = |_: &str| Some(0);
        cache.put(key("t"), &principal("a"), in_an_hour(), 0, now);
        let hit = cache.get(&key("t"), now, same_keys).expect("remembered");
        assert_eq!((hit.sub.as_str(), hit.request_id.as_str()), ("anna", ""), "no request's id is remembered");
        assert!(cache.get(&key("t"), now + Duration::from_secs(299), same_keys).is_some());
        assert!(cache.get(&key("t"), now + Duration::from_secs(301), same_keys).is_none(), "five minutes at most");
        assert!(cache.is_empty(), "a stale entry is dropped");

        cache.put(key("short"), &principal("a"), chrono::Utc::now().timestamp() + 10, 0, now);
        assert!(cache.get(&key("short"), now + Duration::from_secs(9), same_keys).is_some());
        assert!(cache.get(&key("short"), now + Duration::from_secs(11), same_keys).is_none(), "never past exp");
        cache.put(key("expired"), &principal("a"), chrono::Utc::now().timestamp() - 1, 0, now);
        assert!(cache.get(&key("expired"), now, same_keys).is_none(), "an expired token is not remembered");
    }

    #[test]
    fn new_keys_forget_the_tokens_verified_under_the_old() {
        let cache = TokenCache::new(10);
        let now = Instant::now();
        cache.put(key("t"), &principal("idp"), in_an_hour(), 3, now);
        assert!(cache.get(&key("t"), now, |_| Some(3)).is_some());
        assert!(cache.get(&key("t"), now, |_| Some(4)).is_none(), "the set was replaced");
        assert!(cache.get(&key("t"), now, |_| Some(3)).is_none(), "and the entry is gone");
        cache.put(key("t"), &principal("gone"), in_an_hour(), 0, now);
        assert!(cache.get(&key("t"), now, |_| None).is_none(), "an issuer no longer trusted");
    }

    #[test]
    fn it_is_bounded_and_keyed_by_the_whole_token() {
        let cache = TokenCache::new(3);
        let now = Instant::now();
        for t in ["a", "b", "c", "d"] {
            cache.put(key(t), &principal("i"), in_an_hour(), 0, now);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&key("a"), now, |_| Some(0)).is_none(), "the least recently used went");
        assert!(cache.get(&key("d"), now, |_| Some(0)).is_some());
        assert!(cache.get(&key("d "), now, |_| Some(0)).is_none());
    }
}
