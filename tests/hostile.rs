//! The service as a hostile caller meets it: token header tricks, oversized and control-character
//! claims, replays across principals, probes for who is registered, input extremes aimed at every
//! path, and webhook destinations inside the municipality's network. After each attack the
//! service answers no 5xx other than 503 and stays ready.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{TestApp, TEST_ISSUER};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The test issuer's HS256 secret (tests/common).
const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123456789";

/// A token with any protected header, correctly signed with the test issuer's secret: only the
/// header's trick can make the service refuse it.
fn hs256_with_header(header: &Value, claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn valid_claims() -> Value {
    serde_json::to_value(common::claims(TEST_ISSUER, "anna", "social", &["caseworker", "leader"])).unwrap()
}

fn claims_with(key: &str, value: Value) -> Value {
    let mut c = valid_claims();
    c[key] = value;
    c
}

/// The service is still up and its database reachable.
async fn still_ready(app: &TestApp) {
    let res = app.client.get(format!("{}/health/ready", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the service is no longer ready");
}

/// Asserts a 401 problem for `token` on a read every caseworker may make.
async fn refused(app: &TestApp, what: &str, token: &str) -> Option<String> {
    let res = app.get("/api/v1/cases", token).await;
    if res.status != 401 || res.code() != "unauthorized" {
        return Some(format!("{what}: {} {}", res.status, res.text));
    }
    None
}

#[tokio::test]
async fn token_header_tricks_are_refused() {
    let app = TestApp::spawn().await;
    // An attacker's own key, offered in the header in every way JOSE allows.
    let attacker_jwk = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"attacker-secret-attacker-secret-0123")});
    let base = json!({"alg": "HS256", "typ": "JWT"});
    let with = |key: &str, value: Value| {
        let mut h = base.clone();
        h[key] = value;
        h
    };
    let cases = vec![
        ("crit naming an extension", with("crit", json!(["exp"]))),
        ("crit, empty", with("crit", json!([]))),
        ("kid with a path", with("kid", json!("../../../../dev/null"))),
        ("kid with SQL", with("kid", json!("' OR '1'='1"))),
        ("kid of 10 KiB", with("kid", json!("k".repeat(10 * 1024)))),
        ("kid that is not a string", with("kid", json!({"a": 1}))),
    ];
    let mut failures = vec![];
    for (what, header) in &cases {
        let token = hs256_with_header(header, &valid_claims());
        failures.extend(refused(&app, what, &token).await);
    }
    // Keys the header points to or carries are never used: signed with the attacker's key.
    let mut forged = vec![];
    for (what, key, value) in [
        ("jwk: the attacker's key", "jwk", attacker_jwk.clone()),
        ("jku: a key set URL", "jku", json!("http://127.0.0.1:9/keys.json")),
        ("x5u: a certificate URL", "x5u", json!("http://127.0.0.1:9/cert.pem")),
        ("x5c: a certificate chain", "x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"])),
    ] {
        let header = with(key, value);
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&valid_claims()).unwrap());
        let mut mac = Hmac::<Sha256>::new_from_slice(b"attacker-secret-attacker-secret-0123").unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        forged.push((what, format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))));
    }
    for (what, token) in &forged {
        failures.extend(refused(&app, what, token).await);
    }
    assert!(failures.is_empty(), "header tricks accepted:\n{}", failures.join("\n"));
    // The control: the same header without a trick, the same claims, pass.
    app.get("/api/v1/cases", &hs256_with_header(&base, &valid_claims())).await.expect(200);
    still_ready(&app).await;
}

#[tokio::test]
async fn oversized_and_control_character_claims_are_refused() {
    let app = TestApp::spawn().await;
    let mut failures = vec![];
    let header = json!({"alg": "HS256", "typ": "JWT"});
    for (what, claims) in [
        ("sub of 10 KiB", claims_with("sub", json!("s".repeat(10 * 1024)))),
        ("sub of 256 bytes", claims_with("sub", json!("s".repeat(256)))),
        (
            "sub of 128 two-byte characters and one more byte",
            claims_with("sub", json!(format!("{}x", "æ".repeat(128)))),
        ),
        ("sub with LF", claims_with("sub", json!("anna\nGET /api/v1/cases 200 1.0ms request_id=x sub=admin"))),
        ("sub with CR", claims_with("sub", json!("anna\rforged"))),
        ("sub with U+2028", claims_with("sub", json!("anna\u{2028}forged"))),
        ("sub with U+2029", claims_with("sub", json!("anna\u{2029}forged"))),
        ("sub with an ANSI escape", claims_with("sub", json!("anna\u{1b}[2K\u{1b}[1Gforged"))),
        ("sub with NUL", claims_with("sub", json!("anna\u{0}"))),
        ("sub with NEL", claims_with("sub", json!("anna\u{85}forged"))),
        ("name of 256 characters", claims_with("name", json!("n".repeat(256)))),
        ("name of 10 KiB", claims_with("name", json!("n".repeat(10 * 1024)))),
        ("sub that is a number", claims_with("sub", json!(12345))),
        ("roles that is a string", claims_with("roles", json!("admin"))),
        ("roles with 1,000 entries", claims_with("roles", json!(vec!["caseworker"; 1_000]))),
    ] {
        let token = hs256_with_header(&header, &claims);
        // roles with 1,000 valid entries is a legal, if silly, token: it must not break anything
        if what.starts_with("roles with") {
            let res = app.get("/api/v1/cases", &token).await;
            if res.status.is_server_error() {
                failures.push(format!("{what}: {}", res.status));
            }
            continue;
        }
        failures.extend(refused(&app, what, &token).await);
    }
    assert!(failures.is_empty(), "claims accepted that api.md refuses:\n{}", failures.join("\n"));
    // The limits themselves are accepted: 255 bytes of sub, 255 characters of name.
    let edge = {
        let mut c = claims_with("sub", json!("s".repeat(255)));
        c["name"] = json!("n".repeat(255));
        c
    };
    app.get("/api/v1/cases", &hs256_with_header(&header, &edge)).await.expect(200);
    still_ready(&app).await;
}
