//! The integration examples in `examples/` run against the real service, so they never rot:
//! `follow_feed.py` reads the event feed, `receive_webhooks.py` subscribes and verifies deliveries.

mod common;

use common::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_integration_refers_a_case_and_sees_its_event() {
    let world = World::new().await;
    let base = world.app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/follow_feed.py"))
            .env("HELHED_URL", base)
            .env("HELHED_ISSUER", common::TEST_ISSUER)
            .env("HELHED_SECRET", "test-secret-test-secret-test-secret-0123456789")
            .env("HELHED_DEPT", "social")
            .env("HELHED_CPR", common::world::cpr_for_age(40, 10))
            .output()
            .expect("python3 runs (pip install requests)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the example failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("referred case"), "{stdout}");
    assert!(stdout.contains("case.referred") && stdout.contains("(our case)"), "{stdout}");
    assert!(stdout.contains("is referred"), "{stdout}");
    assert_eq!(world.app.count("SELECT count(*) FROM cases"), 1);
}

/// `examples/receive_webhooks.py`, started as a departmental system would start it; its stdout
/// comes line by line.
struct ExampleReceiver {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ExampleReceiver {
    fn start(base: &str, env: &[(&str, &str)]) -> ExampleReceiver {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receive_webhooks.py"))
            .env("HELHED_URL", base)
            .env("HELHED_ISSUER", common::TEST_ISSUER)
            .env("HELHED_SECRET", "test-secret-test-secret-test-secret-0123456789")
            .env("HELHED_DEPT", "social")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3 runs (pip install -r examples/requirements.txt)");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        ExampleReceiver { child, lines, seen: Vec::new() }
    }

    /// The next line that contains `text`, within 15 s.
    async fn line(&mut self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
            }
            if started.elapsed() > std::time::Duration::from_secs(15) || self.child.try_wait().unwrap().is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                self.seen.extend(self.lines.try_iter());
                panic!("no line with {text:?} from the example receiver; it printed:\n{}", self.seen.join("\n"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits for the example to stop by itself (it stops after the events it was asked for).
    async fn finished(&mut self) {
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the example receiver failed: {status}\n{}", self.seen.join("\n"));
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the example receiver did not stop:\n{}", self.seen.join("\n"));
    }
}

impl Drop for ExampleReceiver {
    /// A failing test leaves no receiver running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_receiver_subscribes_and_verifies_each_delivery_with_its_trace() {
    let world = World::new().await;
    let app = &world.app;
    let mut example = ExampleReceiver::start(&app.base, &[("HELHED_RECEIVER_EVENTS", "1")]);
    example.line("subscribed").await;
    let citizen = world.citizen(40).await;
    let res = app
        .client
        .post(format!("{}/api/v1/cases", app.base))
        .bearer_auth(world.token(common::world::REFERRER))
        .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .json(&common::world::referral(&citizen))
        .send()
        .await
        .unwrap();
    let case = common::TestApp::read(res).await.expect(201).id();
    let line = example.line("received").await;
    assert!(line.contains(&format!("received case.referred for case {case}")), "{line}");
    assert!(line.contains("trace 4bf92f3577b34da6a3ce929d0e0e4736"), "{line}");
    example.finished().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_receiver_refuses_a_forged_delivery_and_drops_a_repeat() {
    use base64::Engine;
    use hmac::Mac;
    let world = World::new().await;
    let app = &world.app;
    let system = app.token("social-system-account", "social", &["system"]);
    let sub = app
        .post("/api/v1/subscriptions", &system, &serde_json::json!({"url": "https://93.184.216.34/hook"}))
        .await
        .expect(201);
    // Only its secret is wanted here: the test delivers itself, as Helhed would.
    app.request(reqwest::Method::DELETE, &format!("/api/v1/subscriptions/{}", sub.id()), Some(&system), None)
        .await
        .expect(204);
    let secret = sub.body["secret"].as_str().unwrap().to_string();
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut example = ExampleReceiver::start(
        &app.base,
        &[("HELHED_WEBHOOK_SECRET", secret.as_str()), ("HELHED_RECEIVER_EVENTS", "2")],
    );
    let url = example.line("listening on").await.rsplit(' ').next().unwrap().to_string();
    let case = world.referred(45).await;
    let event = |id: &str| {
        serde_json::json!({"specversion": "1.0", "id": id, "source": "urn:helhed:test", "type": "case.referred",
            "subject": case, "time": "2026-12-01T09:11:00Z", "datacontenttype": "application/json",
            "data": {"case_id": case}})
        .to_string()
    };
    let deliver = |message_id: &'static str, body: String, signed: String| {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{message_id}.{timestamp}.{signed}").as_bytes());
        let signature = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
        app.client
            .post(&url)
            .header("content-type", "application/cloudevents+json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signature)
            .body(body)
            .send()
    };
    let forged = deliver("msg_a", event("1").replace("case.referred", "case.closed"), event("1")).await.unwrap();
    assert_eq!(forged.status(), 401);
    example.line("refused a delivery").await;
    assert_eq!(deliver("msg_a", event("1"), event("1")).await.unwrap().status(), 204);
    example.line("received case.referred").await;
    assert_eq!(deliver("msg_a", event("1"), event("1")).await.unwrap().status(), 204);
    example.line("duplicate msg_a ignored").await;
    assert_eq!(deliver("msg_b", event("2"), event("2")).await.unwrap().status(), 204);
    let line = example.line("received").await;
    assert!(line.contains("(event 2, msg_b, trace -)"), "{line}");
    example.finished().await;
}
