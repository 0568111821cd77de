//! The committee at work: the whole path from referral to closure, on both tracks.

mod common;

use common::world::{World, COORDINATOR};
use serde_json::json;

#[tokio::test]
async fn from_referral_to_closure_on_both_tracks() {
    let world = World::new().await;
    let app = &world.app;
    for age in [22, 45] {
        let (case, meeting) = world.active(age).await;
        let leader = world.token(World::leader(age));
        let view = app.get(&format!("/api/v1/cases/{case}"), &leader).await.expect(200);
        assert_eq!(view.body["status"], "active");
        assert_eq!(view.body["coordinator"]["sub"], COORDINATOR.sub);
        assert_eq!(view.body["budget"]["frame_ore"], 5_000_000);
        assert_eq!(view.body["plan"]["version"], 1);
        let kind = if age < 30 { "ungeplan" } else { "indsatsplan" };
        assert_eq!(view.body["plan"]["kind"], kind);
        let plan = app.get(&format!("/api/v1/cases/{case}/plan"), &world.token(COORDINATOR)).await.expect(200);
        assert_eq!(plan.body["goals"].as_array().unwrap().len(), 2);
        let minutes = app.get(&format!("/api/v1/meetings/{meeting}/minutes"), &leader).await.expect(200);
        assert_eq!(minutes.body["items"].as_array().unwrap().len(), 1);
        let closed = app
            .post(&format!("/api/v1/cases/{case}/closure"), &world.token(COORDINATOR), &json!({"reason": "education"}))
            .await
            .expect(200);
        assert_eq!(closed.body["status"], "closed");
    }
}
