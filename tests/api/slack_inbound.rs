//! Slack's inbound routes: only verified requests count, duplicates are
//! stored once, malformed input gets a 4xx, never a 5xx.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::chat::slack::verify::sign;
use serde_json::{json, Value};

struct Tapped {
    user: String,
    channel: String,
    ts: String,
}

/// Jana's follow-up (Friday 16:00 in Prague), delivered and ready to tap.
async fn delivered_nudge(t: &TestApp) -> Tapped {
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.advance_to("2026-09-08T07:30:00Z").await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    let user = t.user_id("jana.novakova");
    let channel = SimWorkspace::dm_channel(&user);
    let ts = t.sim.messages_in(&channel).pop().unwrap().ts;
    Tapped { user, channel, ts }
}

async fn post(
    t: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: String,
) -> reqwest::Response {
    let mut req = t
        .http
        .post(format!("{}{path}", t.url))
        .header("Content-Type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.body(body).send().await.unwrap()
}

#[tokio::test]
async fn unverified_taps_are_refused_and_store_nothing() {
    let t = spawn_app().await;
    let n = delivered_nudge(&t).await;
    let body = t
        .sim
        .tap_body(&n.user, &n.channel, &n.ts, "report:done")
        .unwrap();
    let secret = &t.sim.config.signing_secret;
    let now = t.clock_now_secs();

    let wrong_signature = post(
        &t,
        "/slack/interactions",
        &[
            ("X-Slack-Request-Timestamp", now.to_string()),
            (
                "X-Slack-Signature",
                sign("not-the-secret", now, body.as_bytes()),
            ),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(wrong_signature.status(), 401);

    let tampered = post(
        &t,
        "/slack/interactions",
        &[
            ("X-Slack-Request-Timestamp", now.to_string()),
            ("X-Slack-Signature", sign(secret, now, body.as_bytes())),
        ],
        body.replace("report%3Adone", "report%3Anot_yet"),
    )
    .await;
    assert_eq!(tampered.status(), 401);

    let stale_ts = now - 301;
    let stale = post(
        &t,
        "/slack/interactions",
        &[
            ("X-Slack-Request-Timestamp", stale_ts.to_string()),
            ("X-Slack-Signature", sign(secret, stale_ts, body.as_bytes())),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(stale.status(), 401);

    let no_signature = post(
        &t,
        "/slack/interactions",
        &[("X-Slack-Request-Timestamp", now.to_string())],
        body.clone(),
    )
    .await;
    assert_eq!(no_signature.status(), 401);
    let no_timestamp = post(
        &t,
        "/slack/interactions",
        &[("X-Slack-Signature", sign(secret, now, body.as_bytes()))],
        body.clone(),
    )
    .await;
    assert_eq!(no_timestamp.status(), 401);

    assert_eq!(t.count("taps").await, 0);
    assert_eq!(t.count("reports").await, 0);

    // The same body, properly signed, is accepted.
    let ok = post(
        &t,
        "/slack/interactions",
        &[
            ("X-Slack-Request-Timestamp", now.to_string()),
            ("X-Slack-Signature", sign(secret, now, body.as_bytes())),
        ],
        body,
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(t.count("reports").await, 1);
}

#[tokio::test]
async fn a_duplicate_delivery_of_the_same_tap_is_stored_once() {
    let t = spawn_app().await;
    let n = delivered_nudge(&t).await;
    let body = t
        .sim
        .tap_body(&n.user, &n.channel, &n.ts, "report:done")
        .unwrap();
    for _ in 0..3 {
        let reply = t
            .sim
            .deliver("/slack/interactions", body.clone())
            .await
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    assert_eq!(t.count("taps").await, 1);
    assert_eq!(t.count("reports").await, 1);
    // The message was updated once, not three times.
    assert!(t.eventually(|| t.sim.call_count("chat.update") == 1).await);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(t.sim.call_count("chat.update"), 1);
}

/// A verified tap on a button this version does not know (an old message's
/// after an upgrade, or a newer version's) is acknowledged, so Slack shows
/// no error icon, and the person is told privately that it does nothing.
#[tokio::test]
async fn an_unknown_button_gets_200_and_a_private_word() {
    let t = spawn_app().await;
    let n = delivered_nudge(&t).await;
    let done = t
        .sim
        .tap_body(&n.user, &n.channel, &n.ts, "report:done")
        .unwrap();
    for action in ["rate_session%3A5", "report%3Amaybe"] {
        let body = done.replace("report%3Adone", action);
        assert_ne!(body, done);
        let reply = t.sim.deliver("/slack/interactions", body).await.unwrap();
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    }
    let history = t.sim.messages_in(&n.channel).len();
    let mut told = Vec::new();
    for _ in 0..100 {
        told = t.sim.ephemerals_for(&n.user);
        if told.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0].channel, n.channel);
    assert!(
        told[0].text.contains("no longer does anything"),
        "{}",
        told[0].text
    );
    assert_eq!(t.count("taps").await, 0);
    assert_eq!(
        t.sim.messages_in(&n.channel).len(),
        history,
        "only for her eyes: not in the conversation's history"
    );
}

#[tokio::test]
async fn malformed_requests_get_4xx_never_5xx() {
    let t = spawn_app().await;
    let n = delivered_nudge(&t).await;
    let valid = t
        .sim
        .tap_body(&n.user, &n.channel, &n.ts, "report:done")
        .unwrap();
    let payload = |p: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", p)
            .finish()
    };
    let cases = vec![
        String::new(),
        "payload=".to_string(),
        "nothing=here".to_string(),
        payload("not json"),
        payload("[]"),
        payload("{\"type\": \"block_actions\"}"),
        payload(&json!({"type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1", "container": {"type": "message", "message_ts": "1.2"}, "trigger_id": "x", "actions": [{"type": "button", "action_id": "report:done", "value": "not-a-number"}], "user": {"id": "U1"}}).to_string()),
        payload(&json!({"type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1", "container": {"type": "message", "message_ts": "1.2"}, "trigger_id": "x", "actions": [{"type": "button", "action_id": "report:bogus", "value": "1"}], "user": {"id": "U1"}}).to_string()),
        payload(&"[".repeat(10_000)),
        valid.replace("report%3Adone", "checkin%3Asupported"),
        "%ZZ%%".to_string(),
    ];
    for body in cases {
        let reply = t
            .sim
            .deliver("/slack/interactions", body.clone())
            .await
            .unwrap();
        assert!(reply.status < 500, "{} for {body:.80}", reply.status);
        let reply = t
            .sim
            .deliver("/slack/commands", body.clone())
            .await
            .unwrap();
        assert!(
            reply.status < 500,
            "{} for command {body:.80}",
            reply.status
        );
        let reply = t.sim.deliver("/slack/events", body.clone()).await.unwrap();
        assert!(reply.status < 500, "{} for event {body:.80}", reply.status);
    }
    assert_eq!(t.count("taps").await, 0);

    // Over the body limit: refused before anything is read.
    let huge = "payload=".to_string() + &"x".repeat(momentum::http::SLACK_BODY_LIMIT + 1);
    let reply = t.sim.deliver("/slack/interactions", huge).await.unwrap();
    assert_eq!(reply.status, 413);
}

#[tokio::test]
async fn url_verification_and_help_are_answered() {
    let t = spawn_app().await;
    let body = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).to_string();
    let (ts, sig) = t.sim.signature_headers(&body);
    let resp = t
        .http
        .post(format!("{}/slack/events", t.url))
        .header("Content-Type", "application/json")
        .header("X-Slack-Request-Timestamp", ts)
        .header("X-Slack-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    let user = t.user_id("jana.novakova");
    for text in ["help", "", "what is this"] {
        let reply = t.sim.slash_command(&user, "/momentum", text).await.unwrap();
        assert_eq!(reply.status, 200);
        let v: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(v["response_type"], "ephemeral");
        assert!(
            v["text"].as_str().unwrap().contains("/momentum pause"),
            "{text:?}"
        );
    }
}

impl TestApp {
    fn clock_now_secs(&self) -> i64 {
        use momentum::clock::Clock;
        self.clock.now().as_second()
    }
}
