//! Delivery under failure: 429s wait their Retry-After, 500s and hangs are
//! retried without duplicates (the message is looked up first), a holder that
//! died mid-send is taken over safely, and Slack's limits are kept.

use crate::helpers::*;
use jiff::SignedDuration;
use momentum::chat::sim::{Fault, FaultKind, SimWorkspace};
use momentum::chat::slack::limits::SlackLimits;
use momentum::chat::slack::SlackOptions;
use momentum::clock::Clock;
use momentum::domain::JobId;
use serde_json::Value;

async fn jana_nudge_due(t: &TestApp) -> String {
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.clock.set("2026-09-08T07:30:00Z".parse().unwrap());
    SimWorkspace::dm_channel(&t.user_id("jana.novakova"))
}

async fn job_id(t: &TestApp) -> JobId {
    sqlx::query_scalar("SELECT id FROM jobs WHERE org_id = $1 AND purpose = 'small_step'")
        .bind(t.org.id.0)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

async fn state(t: &TestApp, job: JobId) -> String {
    sqlx::query_scalar("SELECT state FROM jobs WHERE org_id = $1 AND id = $2")
        .bind(t.org.id.0)
        .bind(job)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

fn later(t: &TestApp, secs: i64) {
    t.clock.advance(SignedDuration::from_secs(secs));
}

#[tokio::test]
async fn a_429_waits_its_retry_after_then_sends_once() {
    let t = spawn_app().await;
    let channel = jana_nudge_due(&t).await;
    t.sim.set_faults(vec![Fault::new(
        "chat.postMessage",
        1.0,
        FaultKind::RateLimited { retry_after: 7 },
    )]);
    let s = t.dispatch().await;
    assert_eq!((s.sent, s.retried), (0, 1));
    t.sim.set_faults(vec![]);
    later(&t, 6);
    assert_eq!(t.dispatch().await.handled(), 0, "not before Retry-After");
    later(&t, 1);
    assert_eq!(t.dispatch().await.sent, 1);
    assert_eq!(t.sim.messages_in(&channel).len(), 1);
}

#[tokio::test]
async fn a_500_before_posting_is_checked_then_sent_once() {
    let t = spawn_app().await;
    let channel = jana_nudge_due(&t).await;
    let job = job_id(&t).await;
    t.sim.set_faults(vec![Fault::new(
        "chat.postMessage",
        1.0,
        FaultKind::ServerError { after: false },
    )]);
    assert_eq!(t.dispatch().await.retried, 1);
    t.sim.set_faults(vec![]);
    later(&t, 60);
    let s = t.dispatch().await;
    let why: Vec<(String, Option<String>)> = sqlx::query_as("SELECT state, outcome FROM jobs")
        .fetch_all(t.store.pool())
        .await
        .unwrap();
    assert_eq!(s.sent, 1, "{s:?} {why:?}");
    assert_eq!(
        t.sim.call_count("conversations.history"),
        1,
        "looked before sending again"
    );
    assert_eq!(t.sim.messages_for_job(job).len(), 1);
    assert_eq!(t.sim.messages_in(&channel).len(), 1);
}

#[tokio::test]
async fn a_hang_after_posting_is_found_in_the_history_and_not_sent_twice() {
    let t = spawn_app().await;
    jana_nudge_due(&t).await;
    let job = job_id(&t).await;
    // Slack posts the message but the answer never comes (client timeout is 2 s).
    t.sim.set_faults(vec![Fault::new(
        "chat.postMessage",
        1.0,
        FaultKind::Hang {
            seconds: 3,
            after: true,
        },
    )]);
    assert_eq!(t.dispatch().await.retried, 1);
    assert_eq!(state(&t, job).await, "pending");
    t.sim.set_faults(vec![]);
    later(&t, 60);
    let s = t.dispatch().await;
    assert_eq!((s.sent, s.confirmed), (0, 1), "{s:?}");
    assert_eq!(t.sim.messages_for_job(job).len(), 1);
    assert_eq!(state(&t, job).await, "sent");
}

#[tokio::test]
async fn the_metadata_event_confirms_an_unknown_send_before_any_retry() {
    let t = spawn_app().await;
    jana_nudge_due(&t).await;
    let job = job_id(&t).await;
    t.sim.set_metadata_events(true);
    t.sim.set_faults(vec![Fault::new(
        "chat.postMessage",
        1.0,
        FaultKind::Hang {
            seconds: 3,
            after: true,
        },
    )]);
    t.dispatch().await;
    t.sim.set_faults(vec![]);
    // The event arrives while the job waits for its retry.
    let mut confirmed = false;
    for _ in 0..100 {
        if state(&t, job).await == "sent" {
            confirmed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(confirmed, "message_metadata_posted marks the job sent");
    later(&t, 3600);
    assert_eq!(t.dispatch().await.handled(), 0);
    assert_eq!(t.sim.messages_for_job(job).len(), 1);
    assert_eq!(t.sim.call_count("conversations.history"), 0);
}

#[tokio::test]
async fn metadata_posted_by_another_app_confirms_nothing() {
    let t = spawn_app().await;
    jana_nudge_due(&t).await;
    let job = job_id(&t).await;
    let event = serde_json::json!({
        "token": "deprecated-verification-token",
        "team_id": t.sim.config.team_id,
        "api_app_id": "A0MOMENTUM",
        "event": {
            "type": "message_metadata_posted",
            "app_id": "A0OTHERAPP",
            "bot_id": "B0OTHER",
            "team_id": t.sim.config.team_id,
            "channel_id": "D0FAKE",
            "metadata": {"event_type": "momentum_job", "event_payload": {"job_id": job.to_string()}},
            "message_ts": "1700000000.000100",
            "event_ts": "1700000000.000100",
        },
        "type": "event_callback",
        "event_id": "Ev0OTHERAPP",
        "event_time": 1700000000,
    });
    let reply = t
        .sim
        .deliver_json("/slack/events", event.to_string())
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        state(&t, job).await,
        "pending",
        "not stopped by another app"
    );
    // The nudge still goes out, once.
    assert_eq!(t.dispatch().await.sent, 1);
    assert_eq!(t.sim.messages_for_job(job).len(), 1);
}

#[tokio::test]
async fn a_holder_that_died_mid_send_is_taken_over_without_a_duplicate() {
    let t = spawn_app().await;
    jana_nudge_due(&t).await;
    // Another dispatcher leased two jobs, sent one of them, and died before recording anything.
    t.complete_session("tomas.dvorak", 1, "2026-09-07").await;
    let leased = t
        .store
        .lease_due_jobs(
            t.clock.now(),
            SignedDuration::from_secs(120),
            10,
            "the-dead-one",
        )
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    let sent_before_dying = &leased[0];
    t.store
        .mark_sending("the-dead-one", &[sent_before_dying.id])
        .await
        .unwrap();
    let message = t
        .app
        .message_for_job(sent_before_dying, None)
        .await
        .unwrap();
    let ctx = t.app.job_context(sent_before_dying).await.unwrap();
    let who = ctx.recipient.unwrap().chat.unwrap();
    t.app
        .chats
        .for_identity(&who)
        .unwrap()
        .send_direct(&who, &message)
        .await
        .unwrap();

    // Until the lease expires nobody touches them.
    assert_eq!(t.dispatch().await.handled(), 0);
    later(&t, 121);
    let s = t.dispatch().await;
    assert_eq!((s.confirmed, s.sent), (1, 1), "{s:?}");
    // Only the job whose send had started was looked up.
    assert_eq!(t.sim.call_count("conversations.history"), 1);
    for job in &leased {
        assert_eq!(
            t.sim.messages_for_job(job.id).len(),
            1,
            "job {} delivered exactly once",
            job.id
        );
    }
}

/// Slack's table with faster tiers (so applying a program takes no minutes)
/// and a message pace of 5 per second per channel, 10 per second overall.
fn limits() -> SlackLimits {
    SlackLimits {
        post_per_channel_per_second: 5,
        post_per_workspace_per_minute: 600,
        per_minute: SlackLimits::default().scaled(20).per_minute,
    }
}

#[tokio::test]
async fn pacing_keeps_within_slacks_limits_and_the_workspace_enforces_them() {
    // Paced: every participant's nudge at once, no 429.
    let t = spawn_app_with(SlackOptions {
        limits: Some(limits()),
        ..fast_slack()
    })
    .await;
    t.sim.set_limits(Some(&limits()));
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for p in momentum::demo::ROSTER.iter().take(18) {
        t.complete_session(p.handle, 1, "2026-09-07").await;
    }
    t.clock.set("2026-09-08T14:00:00Z".parse().unwrap());
    let s = t.dispatch().await;
    assert_eq!(s.sent, 18, "{s:?}");
    assert_eq!(t.sim.rate_limited_count(), 0);

    // Unpaced against the same limits: the workspace answers 429 and the jobs wait.
    let u = spawn_app().await;
    u.apply_yaml(&u.admin_token, &PROGRAM).await;
    u.sim.set_limits(Some(&SlackLimits {
        post_per_workspace_per_minute: 60,
        ..limits()
    }));
    for p in momentum::demo::ROSTER.iter().take(18) {
        u.complete_session(p.handle, 1, "2026-09-07").await;
    }
    u.clock.set("2026-09-08T14:00:00Z".parse().unwrap());
    let s = u.dispatch().await;
    let why: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, outcome FROM jobs WHERE state <> 'sent'")
            .fetch_all(u.store.pool())
            .await
            .unwrap();
    assert!(
        s.retried > 0 && u.sim.rate_limited_count() > 0,
        "{s:?} {why:?}"
    );
    assert_eq!(s.sent + s.retried, 18);
}

#[tokio::test]
async fn metrics_report_jobs_sends_requests_and_lag_in_prometheus_format() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    t.get(&t.admin_token, "/api/v1/programs/leaders-2026/participants")
        .await;
    // Only a scrape bearing the token is answered.
    for auth in [
        None,
        Some("Bearer wrong-token-of-some-length"),
        Some("Basic eDp5"),
    ] {
        let mut req = t.http.get(format!("{}/metrics", t.url));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
        assert!(!resp.text().await.unwrap().contains("momentum_"));
    }
    // Tuesday 10:00 Prague: the one-tap check of Thursday is not due, nothing waits.
    momentum::metrics::refresh(&t.store, t.clock.now())
        .await
        .unwrap();
    let resp = scrape(&t).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    for expected in [
        "momentum_jobs{state=\"sent\",reason=\"\"}",
        "momentum_jobs{state=\"pending\",reason=\"\"}",
        "momentum_sends_total{outcome=\"sent\"}",
        "momentum_send_duration_seconds_bucket",
        "momentum_jobs_due 0",
        "momentum_dispatcher_lag_seconds 0",
        "momentum_http_requests_total{route=\"/api/v1/programs/{key}/participants\",status=\"200\"}",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // No person, program file or raw path in any label.
    assert!(
        !text.contains("jana") && !text.contains("leaders-2026"),
        "{text}"
    );
    // Jana answers; her reminder is skipped for it: a behavioural reason,
    // which /metrics never carries (nor any free text).
    t.name_step("jana.novakova", "Ask the team what to stop doing")
        .await;
    t.advance_to("2026-09-10T12:00:00Z").await;
    assert_eq!(t.skipped("answered before the reminder").await, 1);
    // A scrape reads memory, not the jobs table: the figures move only when
    // the background refresh has read them.
    let before = scrape(&t).await.text().await.unwrap();
    momentum::metrics::refresh(&t.store, t.clock.now())
        .await
        .unwrap();
    let text = scrape(&t).await.text().await.unwrap();
    assert_ne!(
        before
            .lines()
            .filter(|l| l.starts_with("momentum_jobs{"))
            .collect::<Vec<_>>(),
        text.lines()
            .filter(|l| l.starts_with("momentum_jobs{"))
            .collect::<Vec<_>>(),
        "refreshed"
    );
    assert!(
        !text.contains("answered before") && !text.contains("state=\"skipped\""),
        "{text}"
    );
    for line in text.lines().filter(|l| l.starts_with("momentum_jobs{")) {
        let reason = line
            .split("reason=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            reason.is_empty() || reason.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{line}"
        );
    }
    // HR's delivery view: only once the week is composed, by category, and
    // that one skipped reminder (it says Jana answered) is "fewer than k".
    let before: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/delivery")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["week"], Value::Null, "{before}");
    t.advance_to("2026-09-14T08:00:00Z").await;
    let composed: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/delivery")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(composed["week"], "2026-W37", "{composed}");
    let answered = composed["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "answered_before_reminder")
        .cloned()
        .unwrap_or_else(|| panic!("{composed}"));
    assert_eq!(answered["count"], Value::Null, "{composed}");
}

async fn scrape(t: &TestApp) -> reqwest::Response {
    t.http
        .get(format!("{}/metrics", t.url))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
}
