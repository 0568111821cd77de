//! The integration example in `examples/` runs against the real service, so it never rots.

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
