//! The trusted issuers: one per departmental system, each with its key or key set, read once at
//! start-up from the TOML file named by `HELHED_ISSUERS`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::Deserialize;

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
    departments: Vec<Department>,
    algorithm: String,
    secret: Option<String>,
    public_key_pem: Option<PathBuf>,
    jwks: Option<PathBuf>,
    /// The key id of a single `secret` or `public_key_pem` key, if tokens name it.
    kid: Option<String>,
    /// For `helhed token` on development machines only: the issuer's private key.
    private_key_pem: Option<PathBuf>,
}

/// One verification key, with the id a token names it by.
pub struct Key {
    pub kid: Option<String>,
    pub key: DecodingKey,
}

pub struct Issuer {
    pub iss: String,
    pub departments: Vec<Department>,
    pub algorithm: Algorithm,
    pub keys: Vec<Key>,
    /// Built once: algorithm, issuer, audience, required claims, `nbf` on, 60 s leeway.
    pub validation: Validation,
    signing: Option<EncodingKey>,
}

impl Issuer {
    /// The key a token's `kid` picks: with a `kid`, the key holding it; without one, the
    /// issuer's only key.
    pub fn key_for(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)).map(|k| &k.key),
            None if self.keys.len() == 1 => Some(&self.keys[0].key),
            None => None,
        }
    }

    /// The key `helhed token` signs with, when the issuers file gives one.
    pub fn signing_key(&self) -> Option<(&EncodingKey, Option<&str>)> {
        let kid = match self.keys.as_slice() {
            [only] => only.kid.as_deref(),
            _ => None,
        };
        self.signing.as_ref().map(|k| (k, kid))
    }
}

pub struct Issuers {
    by_iss: HashMap<String, Issuer>,
    pub audience: String,
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
        Ok(Issuers { by_iss, audience: audience.to_string() })
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
    if entry.departments.is_empty() {
        return Err("departments is empty".into());
    }
    let algorithm = match entry.algorithm.as_str() {
        "HS256" => Algorithm::HS256,
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => return Err(format!("algorithm {other:?} is not one of HS256, RS256, ES256, EdDSA")),
    };
    let sources = [entry.secret.is_some(), entry.public_key_pem.is_some(), entry.jwks.is_some()];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err("give exactly one of secret, public_key_pem, jwks".into());
    }
    let keys = if let Some(secret) = &entry.secret {
        if algorithm != Algorithm::HS256 {
            return Err("secret is only for HS256".into());
        }
        if secret.len() < 32 {
            return Err("an HS256 secret must be at least 32 bytes".into());
        }
        vec![Key { kid: entry.kid.clone(), key: DecodingKey::from_secret(secret.as_bytes()) }]
    } else if let Some(pem_path) = &entry.public_key_pem {
        let pem = read(base, pem_path)?;
        let key = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
            _ => return Err("public_key_pem is for RS256, ES256 or EdDSA".into()),
        }
        .map_err(|e| format!("public_key_pem: {e}"))?;
        vec![Key { kid: entry.kid.clone(), key }]
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
        keys
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
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    Ok(Issuer { iss: entry.iss, departments: entry.departments, algorithm, keys, validation, signing })
}
