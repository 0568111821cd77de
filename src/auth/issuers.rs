//! The trusted issuers: one per departmental system or identity provider, read once at start-up
//! from the TOML file named by `HELHED_ISSUERS`. Each has its key or key set from a file, or its
//! identity provider's set, fetched and kept fresh by [`super::keys`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::Deserialize;

pub use super::keys::Key;
use super::keys::{self, KeyState, RemoteKeys, Source};
use crate::domain::Department;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuersFile {
    #[serde(default)]
    issuer: Vec<IssuerEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerEntry {
    iss: String,
    #[serde(default)]
    departments: Vec<Department>,
    algorithm: String,
    secret: Option<String>,
    public_key_pem: Option<PathBuf>,
    jwks: Option<PathBuf>,
    jwks_url: Option<String>,
    openid_configuration: Option<String>,
    sub_claim: Option<String>,
    dept_claim: Option<String>,
    roles_claim: Option<String>,
    /// Every token of this issuer speaks for this department (no department claim).
    department: Option<Department>,
    /// The key id of a single `secret` or `public_key_pem` key, if tokens name it.
    kid: Option<String>,
    /// For `helhed token` on development machines only: the issuer's private key.
    private_key_pem: Option<PathBuf>,
}

/// Where an issuer's tokens keep the claims Helhed reads. A name is a top-level claim, or, when
/// no such claim exists and the name has dots, a path into nested objects
/// (`realm_access.roles`).
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub sub: String,
    pub dept: String,
    pub roles: String,
}

/// An issuer's keys: from the issuers file, or from its identity provider.
pub enum Keys {
    Fixed(Vec<Key>),
    Remote(Arc<RemoteKeys>),
}

/// What a token's `kid` finds.
pub enum Lookup {
    Found(DecodingKey),
    /// A fixed set without that key.
    Missing,
    /// A provider's set without that key (yet): fetching again may bring it.
    NotYet(Arc<RemoteKeys>),
}

pub struct Issuer {
    pub iss: String,
    pub departments: Vec<Department>,
    /// Set when every token of the issuer speaks for one department.
    pub department: Option<Department>,
    pub claims: ClaimNames,
    pub algorithm: Algorithm,
    pub keys: Keys,
    /// Built once: algorithm, issuer, audience, required claims, `nbf` on, 60 s leeway.
    pub validation: Validation,
    signing: Option<EncodingKey>,
}

impl Issuer {
    /// The key a token's `kid` picks: with a `kid`, the key holding it; without one, the
    /// issuer's only key.
    pub fn key_for(&self, kid: Option<&str>) -> Lookup {
        let pick = |keys: &[Key]| match kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)).map(|k| k.key.clone()),
            None if keys.len() == 1 => Some(keys[0].key.clone()),
            None => None,
        };
        match &self.keys {
            Keys::Fixed(keys) => pick(keys).map_or(Lookup::Missing, Lookup::Found),
            Keys::Remote(remote) => pick(&remote.keys()).map_or_else(|| Lookup::NotYet(remote.clone()), Lookup::Found),
        }
    }

    /// The key `helhed token` signs with, when the issuers file gives one.
    pub fn signing_key(&self) -> Option<(&EncodingKey, Option<&str>)> {
        let kid = match &self.keys {
            Keys::Fixed(keys) => match keys.as_slice() {
                [only] => only.kid.as_deref(),
                _ => None,
            },
            Keys::Remote(_) => None,
        };
        self.signing.as_ref().map(|k| (k, kid))
    }

    /// Which of its key sets the issuer holds (see [`super::cache`]); a file's never changes.
    pub fn key_generation(&self) -> u64 {
        match &self.keys {
            Keys::Fixed(_) => 0,
            Keys::Remote(remote) => remote.generation(),
        }
    }

    /// Whether the issuer is an identity provider (its keys fetched), whose tokens serve other
    /// applications too.
    pub fn from_provider(&self) -> bool {
        matches!(self.keys, Keys::Remote(_))
    }

    /// The issuer's key state, for `/health/ready`.
    pub fn key_state(&self) -> KeyState {
        match &self.keys {
            Keys::Fixed(keys) => KeyState {
                iss: self.iss.clone(),
                source: keys::KeySource::File,
                state: keys::Loaded::Loaded,
                keys: keys.len(),
                fetched_at: None,
                next_fetch_at: None,
                last_error: None,
            },
            Keys::Remote(remote) => remote.state(),
        }
    }
}

pub struct Issuers {
    by_iss: HashMap<String, Issuer>,
    pub audience: String,
    /// Tokens verified lately, so that a signature is not checked again with every request.
    pub verified: super::cache::TokenCache,
}

impl Issuers {
    pub fn get(&self, iss: &str) -> Option<&Issuer> {
        self.by_iss.get(iss)
    }

    pub fn len(&self) -> usize {
        self.by_iss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_iss.is_empty()
    }

    /// Every issuer's key state, in `iss` order.
    pub fn key_states(&self) -> Vec<KeyState> {
        let mut states: Vec<KeyState> = self.by_iss.values().map(Issuer::key_state).collect();
        states.sort_by(|a, b| a.iss.cmp(&b.iss));
        states
    }

    /// Starts the thread that fetches and refreshes the identity providers' key sets (none
    /// when every issuer's keys come from files). Stops when dropped.
    pub fn start_refresher(&self) -> keys::Refresher {
        let remotes = self
            .by_iss
            .values()
            .filter_map(|i| match &i.keys {
                Keys::Remote(remote) => Some(remote.clone()),
                Keys::Fixed(_) => None,
            })
            .collect();
        keys::Refresher::start(remotes)
    }

    /// Reads and checks the issuers file; every problem names the issuer and the field.
    pub fn load(path: &Path, audience: &str) -> Result<Issuers, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: IssuersFile = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        if file.issuer.is_empty() {
            return Err(format!("{}: no [[issuer]] entries", path.display()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut by_iss = HashMap::new();
        for entry in file.issuer {
            let iss = entry.iss.clone();
            let issuer = build(entry, base, audience).map_err(|e| format!("issuer {iss:?}: {e}"))?;
            if by_iss.insert(iss.clone(), issuer).is_some() {
                return Err(format!("issuer {iss:?} is listed twice"));
            }
        }
        Ok(Issuers { by_iss, audience: audience.to_string(), verified: Default::default() })
    }
}

fn read(base: &Path, file: &Path) -> Result<Vec<u8>, String> {
    let path = base.join(file);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn build(entry: IssuerEntry, base: &Path, audience: &str) -> Result<Issuer, String> {
    if entry.iss.trim().is_empty() {
        return Err("iss is empty".into());
    }
    let mut departments = entry.departments.clone();
    match entry.department {
        Some(fixed) if departments.is_empty() => departments.push(fixed),
        Some(fixed) if !departments.contains(&fixed) => {
            return Err(format!("department {:?} is not among its departments", fixed.as_str()))
        }
        _ => {}
    }
    if departments.is_empty() {
        return Err("departments is empty (or give one fixed department)".into());
    }
    let claim = |name: &Option<String>, default: &str, field: &str| -> Result<String, String> {
        match name {
            Some(n) if n.trim().is_empty() => Err(format!("{field} is empty")),
            Some(n) => Ok(n.clone()),
            None => Ok(default.to_string()),
        }
    };
    let claims = ClaimNames {
        sub: claim(&entry.sub_claim, "sub", "sub_claim")?,
        dept: claim(&entry.dept_claim, "dept", "dept_claim")?,
        roles: claim(&entry.roles_claim, "roles", "roles_claim")?,
    };
    if entry.department.is_some() && entry.dept_claim.is_some() {
        return Err("give dept_claim or a fixed department, not both".into());
    }
    let algorithm = match entry.algorithm.as_str() {
        "HS256" => Algorithm::HS256,
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => return Err(format!("algorithm {other:?} is not one of HS256, RS256, ES256, EdDSA")),
    };
    let sources = [
        entry.secret.is_some(),
        entry.public_key_pem.is_some(),
        entry.jwks.is_some(),
        entry.jwks_url.is_some(),
        entry.openid_configuration.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err("give exactly one of secret, public_key_pem, jwks, jwks_url, openid_configuration".into());
    }
    let remote = match (&entry.jwks_url, &entry.openid_configuration) {
        (Some(url), _) => Some(Source::Jwks(remote_url(url, "jwks_url")?)),
        (_, Some(url)) => Some(Source::Discovery(remote_url(url, "openid_configuration")?)),
        _ => None,
    };
    let keys = if let Some(source) = remote {
        if algorithm == Algorithm::HS256 {
            return Err("an identity provider's keys are public keys: RS256, ES256 or EdDSA, not HS256".into());
        }
        if entry.kid.is_some() || entry.private_key_pem.is_some() {
            return Err("kid and private_key_pem are not for keys from an identity provider".into());
        }
        Keys::Remote(Arc::new(RemoteKeys::new(&entry.iss, source, algorithm)))
    } else if let Some(secret) = &entry.secret {
        if algorithm != Algorithm::HS256 {
            return Err("secret is only for HS256".into());
        }
        if secret.len() < 32 {
            return Err("an HS256 secret must be at least 32 bytes".into());
        }
        Keys::Fixed(vec![Key { kid: entry.kid.clone(), key: DecodingKey::from_secret(secret.as_bytes()) }])
    } else if let Some(pem_path) = &entry.public_key_pem {
        let pem = read(base, pem_path)?;
        let key = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
            _ => return Err("public_key_pem is for RS256, ES256 or EdDSA".into()),
        }
        .map_err(|e| format!("public_key_pem: {e}"))?;
        Keys::Fixed(vec![Key { kid: entry.kid.clone(), key }])
    } else {
        let jwks_path = entry.jwks.as_ref().expect("one source");
        if entry.kid.is_some() {
            return Err("kid is given by each key of the JWK set".into());
        }
        let set: JwkSet = serde_json::from_slice(&read(base, jwks_path)?).map_err(|e| format!("jwks: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().ok_or("jwks: every key needs a kid")?;
            if let Some(alg) = jwk.common.key_algorithm {
                if format!("{alg:?}") != entry.algorithm {
                    return Err(format!("jwks: key {kid:?} is not for {}", entry.algorithm));
                }
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("jwks: key {kid:?}: {e}"))?;
            if keys.iter().any(|k: &Key| k.kid.as_deref() == Some(&kid)) {
                return Err(format!("jwks: kid {kid:?} is used twice"));
            }
            keys.push(Key { kid: Some(kid), key });
        }
        if keys.is_empty() {
            return Err("jwks: the set has no keys".into());
        }
        Keys::Fixed(keys)
    };
    let signing = match (&entry.secret, &entry.private_key_pem) {
        (Some(secret), _) => Some(EncodingKey::from_secret(secret.as_bytes())),
        (None, Some(path)) => {
            let pem = read(base, path)?;
            Some(
                match algorithm {
                    Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
                    Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
                    _ => EncodingKey::from_ed_pem(&pem),
                }
                .map_err(|e| format!("private_key_pem: {e}"))?,
            )
        }
        (None, None) => None,
    };
    let mut validation = Validation::new(algorithm);
    validation.leeway = 60;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[&entry.iss]);
    validation.set_audience(&[audience]);
    // `sub` is required where the issuer keeps it (sub_claim), checked with the other claims.
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    Ok(Issuer {
        iss: entry.iss,
        departments,
        department: entry.department,
        claims,
        algorithm,
        keys,
        validation,
        signing,
    })
}

fn remote_url(url: &str, field: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(url).map_err(|e| format!("{field}: not a URL: {e}"))?;
    keys::allowed(&url).map_err(|e| format!("{field}: {e}"))?;
    Ok(url)
}
