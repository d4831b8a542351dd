//! The whole flow: a completed session → nudges at each recipient's local
//! time → delivered once → tapped → stored → message updated.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use serde_json::{json, Value};

async fn complete(t: &TestApp, handle: &str, session: u32, external_id: Option<&str>) -> Value {
    let mut body = json!({
        "participant": {"email": format!("{handle}@acme.example")},
        "session": session,
        "completed_on": "2026-09-07",
    });
    if let Some(e) = external_id {
        body["external_id"] = json!(e);
    }
    let resp = t.post_session(&t.admin_token, "leaders-2026", body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn nudges_arrive_at_each_recipients_local_time_exactly_once() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for handle in ["jana.novakova", "sarah.mitchell", "james.carter"] {
        let out = complete(&t, handle, 1, Some(&format!("evt-{handle}"))).await;
        // small step + manager check-in + one-tap check.
        assert_eq!(out["jobs_planned"], 3, "{out}");
    }
    // The coaching platform repeats its webhook, and the participant confirms in chat too.
    let again = complete(&t, "jana.novakova", 1, Some("evt-jana.novakova")).await;
    assert_eq!(again["recorded"], false);
    assert_eq!(again["jobs_planned"], 0);
    let other_id = t
        .post_session(
            &t.admin_token,
            "leaders-2026",
            json!({"participant": {"email": "jana.novakova@acme.example"}, "session": 1, "external_id": "evt-sarah.mitchell"}),
        )
        .await;
    assert_eq!(
        other_id.status(),
        409,
        "an external id names one completion"
    );

    // 09:30 in Prague is 07:30Z; London and New York are not due yet.
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!(s.sent, 1);
    let jana = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    assert_eq!(t.sim.messages_in(&jana).len(), 1);
    assert_eq!(
        t.advance_to("2026-09-08T08:30:00Z").await.sent,
        1,
        "09:30 in London"
    );
    assert_eq!(t.advance_to("2026-09-08T13:29:00Z").await.sent, 0);
    assert_eq!(
        t.advance_to("2026-09-08T13:30:00Z").await.sent,
        1,
        "09:30 in New York"
    );
    // Nothing is sent twice, however often the dispatcher runs.
    assert_eq!(t.dispatch().await.sent, 0);
    assert_eq!(t.sim.messages_in(&jana).len(), 1);
    assert_eq!(t.sim.call_count("chat.postMessage"), 3);

    // Thursday 10:00: the managers' check-ins, one message each: Emma's
    // about her two reports, Pavel's about one.
    t.advance_to("2026-09-10T09:00:00Z").await;
    let emma = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("emma.wilson")));
    assert_eq!(emma.len(), 1);
    let rows = emma[0]
        .buttons()
        .into_iter()
        .filter(|b| b.0 == "checkin:will");
    assert_eq!(rows.count(), 2);
    let pavel = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("pavel.svoboda")));
    assert_eq!(pavel.len(), 1);
    // Jana agreed to share her focus theme with her manager.
    assert!(pavel[0].content.blocks.to_string().contains("delegation"));
}

#[tokio::test]
async fn a_check_in_names_the_theme_only_with_consent() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    // Eva does not share her theme (prioritisation) with Pavel.
    complete(&t, "eva.cerna", 1, None).await;
    t.advance_to("2026-09-10T09:00:00Z").await;
    let pavel = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("pavel.svoboda")));
    assert_eq!(pavel.len(), 1);
    let shown = pavel[0].content.blocks.to_string();
    assert!(!shown.contains("prioritisation"), "{shown}");
    assert!(shown.contains("support their development"));
}

#[tokio::test]
async fn a_tap_is_stored_the_message_updated_and_the_answer_changeable() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    complete(&t, "jana.novakova", 1, None).await;
    // Friday 16:00 in Prague: the follow-up with the one-tap answers.
    t.advance_to("2026-09-08T07:30:00Z").await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    let user = t.user_id("jana.novakova");
    let channel = SimWorkspace::dm_channel(&user);
    let message = t.sim.messages_in(&channel).pop().unwrap();

    t.clock.set("2026-09-11T15:00:00Z".parse().unwrap());
    let reply = t
        .sim
        .tap(&user, &channel, &message.ts, "report:partly")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(t.count("reports").await, 1);
    let shows = |label: &str| {
        let m = t.sim.message(&channel, &message.ts).unwrap();
        m.buttons().iter().any(|b| b.3 && b.1.ends_with(label))
    };
    assert!(
        t.eventually(|| shows("Partly")).await,
        "the message shows what was recorded"
    );

    // Tapping again changes the answer and keeps the history.
    let reply = t
        .sim
        .tap(&user, &channel, &message.ts, "report:done")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(t.eventually(|| shows("Did it")).await);
    let answers: Vec<String> = sqlx::query_scalar("SELECT answer FROM reports WHERE org_id = $1")
        .bind(t.org.id.0)
        .fetch_all(t.store.pool())
        .await
        .unwrap();
    assert_eq!(answers, vec!["done".to_string()]);
    assert_eq!(t.count("taps").await, 2);
}

#[tokio::test]
async fn someone_elses_button_records_nothing() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    complete(&t, "jana.novakova", 1, None).await;
    t.advance_to("2026-09-08T07:30:00Z").await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    let jana = t.user_id("jana.novakova");
    let channel = SimWorkspace::dm_channel(&jana);
    let message = t.sim.messages_in(&channel).pop().unwrap();
    // Tomáš forges a tap on Jana's message (a validly signed request from his account).
    let body = t
        .sim
        .tap_body(&jana, &channel, &message.ts, "report:done")
        .unwrap();
    let tomas = t.user_id("tomas.dvorak");
    let forged = body.replace(&jana, &tomas);
    let reply = t.sim.deliver("/slack/interactions", forged).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(t.count("reports").await, 0);
    assert_eq!(t.count("taps").await, 0);
}

#[tokio::test]
async fn paused_participants_are_not_nudged_and_resume_works() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    complete(&t, "jana.novakova", 1, None).await;
    let user = t.user_id("jana.novakova");
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "pause")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("paused"), "{}", reply.body);
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!((s.sent, s.skipped), (0, 1));
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "resume")
        .await
        .unwrap();
    assert!(reply.body.contains("on again"), "{}", reply.body);
    let s = t.advance_to("2026-09-11T14:00:00Z").await;
    assert_eq!(s.sent, 1, "the one-tap check after resuming");
    assert_eq!(t.skipped("participant paused").await, 1);
}

#[tokio::test]
async fn deactivated_chat_accounts_fail_with_the_platforms_reason() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    complete(&t, "jana.novakova", 1, None).await;
    t.sim.deactivate_user(&t.user_id("jana.novakova"));
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!(s.failed, 1);
    let jana = t.participant_status("jana.novakova@acme.example").await;
    assert_eq!(jana["reachability"], "account_inactive");
    assert_eq!(jana["reason"], "account_inactive");
}

#[tokio::test]
async fn a_nudge_found_long_after_it_fell_due_is_skipped_not_sent_late() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    complete(&t, "jana.novakova", 1, None).await;
    // The service was down for two days.
    let s = t.advance_to("2026-09-10T07:30:00Z").await;
    assert_eq!(s.sent, 0);
    assert!(s.skipped >= 1);
    let channel = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    assert!(t.sim.messages_in(&channel).is_empty());
}

/// Taps that arrive together are committed together (group commit): each
/// is acknowledged only once stored, a redelivery in the same batch is
/// still stored once, and each job keeps its latest answer.
#[tokio::test]
async fn concurrent_taps_and_their_redeliveries_are_each_stored_once() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people = participant_handles();
    let sent = t.follow_ups_for(&people).await;
    assert_eq!(sent, people.len());
    let mut bodies = Vec::new();
    for handle in &people {
        let user = t.user_id(handle);
        let m = t
            .sim
            .messages_in(&SimWorkspace::dm_channel(&user))
            .pop()
            .unwrap();
        let body = t
            .sim
            .tap_body(&user, &m.channel, &m.ts, "report:partly")
            .unwrap();
        // Each tap delivered twice, all at once.
        bodies.push(body.clone());
        bodies.push(body);
    }
    let replies = futures_util::future::join_all(
        bodies
            .into_iter()
            .map(|b| t.sim.deliver("/slack/interactions", b)),
    )
    .await;
    for r in replies {
        assert_eq!(r.unwrap().status, 200);
    }
    assert_eq!(t.count("taps").await, people.len() as i64);
    assert_eq!(t.count("reports").await, people.len() as i64);
    let partly: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE answer = 'partly'")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert_eq!(partly, people.len() as i64);
}
