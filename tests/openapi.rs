//! The committed `openapi/openapi.json` is exactly what `helhed openapi` prints, and what the
//! running service serves at `/openapi.json`.

mod common;

use common::TestApp;
use reqwest::Method;

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).expect("openapi/openapi.json")
}

#[test]
fn committed_document_matches_the_code() {
    assert!(
        committed() == helhed::openapi::document(),
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json` and commit it"
    );
}

#[tokio::test]
async fn the_service_serves_the_same_document_and_swagger_ui() {
    let app = TestApp::spawn().await;
    let served = app.request(Method::GET, "/openapi.json", None, None).await.expect(200);
    let committed: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    assert_eq!(served.body, committed);
    let doc = &served.body;
    assert!(doc["info"]["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(doc["info"]["license"]["name"].is_string());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let ui = app.client.get(format!("{}/swagger-ui/", app.base)).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger-ui"));
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = redirect.get(format!("{}/swagger-ui", app.base)).send().await.unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/swagger-ui/");
}

#[test]
fn every_operation_documents_its_errors_and_security() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.starts_with("/api/v1/") {
                assert!(op["security"].is_array(), "{method} {path} names no security");
            }
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
        }
    }
}

#[test]
fn operation_ids_are_unique_and_errors_are_problem_json() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    assert!(content.contains_key("application/problem+json"), "{method} {path} {status}");
                    assert!(!content.contains_key("application/json"), "{method} {path} {status}");
                }
            }
            if path.starts_with("/api/v1/") {
                assert!(op["responses"]["401"].is_object(), "{method} {path} documents no 401");
            }
        }
    }
}
