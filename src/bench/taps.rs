//! The hot path, measured from outside: `momentum serve` runs as its own
//! process on a prepared database (every participant's follow-up check
//! sent), and this process posts signed `block_actions` taps to it over
//! loopback. Each tap is verified, parsed and stored durably (committed and
//! synced, SQLite `synchronous=FULL`) before its 200. Printed: taps per
//! second with `connections` in flight (a closed loop, as wrk drives it),
//! p50/p99; the same at a steady 1,000 taps per second (an open loop:
//! latency counts from when each tap was due, so a stall is not hidden);
//! and taps acknowledged against taps stored once the service has stopped.

use super::{bench_app, fresh_database, program};
use crate::chat::slack::verify::sign;
use crate::clock::Clock;
use crate::domain::Platform;
use anyhow::{Context, Result};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TEAM: &str = "T0BENCHTAP";
const SECRET: &str = "bench-signing-secret";
/// The open loop's rate and length.
const STEADY_PER_SECOND: u64 = 1_000;
const STEADY_SECONDS: u64 = 10;

pub struct TapFigures {
    pub connections: usize,
    pub full_rate: f64,
    pub full_p50_ms: f64,
    pub full_p99_ms: f64,
    /// CPU time `serve` used per tap in the closed loop, in microseconds.
    pub full_cpu_us: Option<f64>,
    pub steady_p50_ms: f64,
    pub steady_p99_ms: f64,
    pub acked: usize,
    pub stored: i64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One tap as Slack sends it: `user` tapping an answer on job `job`, the
/// tapped message included; `n` makes it a new tap (its own action_ts).
fn tap_body(user: &str, job: i64, n: usize) -> String {
    let answers = ["done", "partly", "not_yet"];
    let answer = answers[n % answers.len()];
    let ts = format!("1762000000.{job:06}");
    let buttons: Vec<_> = answers
        .iter()
        .map(|a| {
            json!({"type": "button", "action_id": format!("report:{a}"), "value": job.to_string(),
                        "text": {"type": "plain_text", "text": a, "emoji": true}})
        })
        .collect();
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": "participant", "name": "participant", "team_id": TEAM },
        "api_app_id": "A0BENCH", "token": "legacy-token",
        "container": { "type": "message", "message_ts": ts, "channel_id": "D0BENCH", "is_ephemeral": false },
        "trigger_id": format!("{n}.1762000000.bench"),
        "team": { "id": TEAM, "domain": "bench" },
        "enterprise": null, "is_enterprise_install": false,
        "channel": { "id": "D0BENCH", "name": "directmessage" },
        "message": { "type": "message", "user": "U0BOT", "ts": ts, "bot_id": "B0BENCH",
            "text": "Did you try what you planned?",
            "blocks": [
                {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "*Did you try what you planned after your session?*"}},
                {"type": "actions", "block_id": "momentum_report", "elements": buttons}]},
        "state": { "values": {} },
        "response_url": "https://hooks.slack.com/actions/T0BENCHTAP/1/bench",
        "actions": [{ "action_id": format!("report:{answer}"), "block_id": "momentum_report", "value": job.to_string(),
                      "type": "button", "text": {"type": "plain_text", "text": answer, "emoji": true},
                      "action_ts": format!("{}.{:06}", 1_762_000_000 + n / 1_000_000, n % 1_000_000) }],
    });
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// Stops the service when dropped, whatever happened.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prepares the database, runs `momentum serve` on it and taps.
pub async fn taps(
    postgres: Option<&str>,
    dir: &std::path::Path,
    participants: usize,
    taps: usize,
    connections: usize,
) -> Result<TapFigures> {
    let (store, url) = fresh_database(postgres, dir, "taps").await?;
    let (app, clock, org) = bench_app(&store, "2026-01-05T08:00:00Z").await?;
    store
        .link_workspace(org.id, Platform::Slack, TEAM, clock.now())
        .await?;
    let mut doc = program(participants, TEAM, 1, false);
    doc["program"]["nudges"] =
        json!([{"kind": "one_tap_check", "days_after_session": 1, "at": "09:00"}]);
    doc["program"]["sessions"] = json!([{"number": 1, "planned": "2026-01-05"}]);
    let applied = app
        .apply_program(org.id, &doc, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids = store
        .active_participant_ids(org.id, applied.program_id)
        .await?;
    let day = jiff::civil::date(2026, 1, 5);
    let rows: Vec<_> = ids.iter().map(|id| (*id, 1u32, day)).collect();
    store
        .import_completed_sessions(org.id, &rows, "import", clock.now())
        .await?;
    app.replan_program(org.id, applied.program_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Every nudge was sent: taps answer them.
    sqlx::query("UPDATE jobs SET state = 'sent', sent_at = $1, channel_id = 'D0BENCH', message_ts = '1762000000.' || CAST(id AS TEXT) WHERE org_id = $2")
        .bind(clock.now().as_millisecond())
        .bind(org.id.0)
        .execute(store.pool())
        .await?;
    let jobs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT j.id, pe.user_id FROM jobs j JOIN people pe ON pe.id = j.recipient_person_id WHERE j.org_id = $1 ORDER BY j.id",
    )
    .bind(org.id.0)
    .fetch_all(store.pool())
    .await?;
    anyhow::ensure!(!jobs.is_empty(), "no nudges to tap");
    let steady_n = (STEADY_PER_SECOND * STEADY_SECONDS) as usize;
    // Signed before the clock starts, as wrk's requests are.
    let now = jiff::Timestamp::now().as_second();
    let requests: Arc<Vec<(String, String)>> = Arc::new(
        (0..taps + steady_n)
            .map(|n| {
                let (job, user) = &jobs[n % jobs.len()];
                let body = tap_body(user, *job, n);
                let signature = sign(SECRET, now, body.as_bytes());
                (body, signature)
            })
            .collect(),
    );

    // The service, in a process of its own, on the real clock.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    let service = Service(
        Command::new(std::env::current_exe().context("this binary")?)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MOMENTUM_DATABASE_URL", &url)
            .env("MOMENTUM_SECRET_KEY", app.secret_key.to_base64())
            .env("MOMENTUM_LISTEN", format!("127.0.0.1:{port}"))
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .context("starting momentum serve")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections.max(64))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(Instant::now() < deadline, "momentum serve did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let endpoint = Arc::new(format!("{base}/slack/interactions"));
    let send = move |n: usize| {
        let (http, endpoint, requests) = (http.clone(), endpoint.clone(), requests.clone());
        async move {
            let (body, signature) = &requests[n];
            http.post(endpoint.as_str())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Slack-Request-Timestamp", now.to_string())
                .header("X-Slack-Signature", signature)
                .body(body.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    };

    // Closed loop: `connections` taps in flight, as fast as they are answered.
    let next = Arc::new(AtomicUsize::new(0));
    let serve_stat = format!("/proc/{}/stat", service.0.id());
    let cpu_before = super::cpu::cpu_seconds(&serve_stat);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (next, send) = (next.clone(), send.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= taps {
                    return latencies;
                }
                let sent = Instant::now();
                if send(n).await {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }));
    }
    let mut full = Vec::new();
    for w in workers {
        full.extend(w.await?);
    }
    let full_rate = full.len() as f64 / started.elapsed().as_secs_f64();
    let full_cpu_us = cpu_before
        .zip(super::cpu::cpu_seconds(&serve_stat))
        .map(|(before, after)| (after - before) * 1e6 / full.len().max(1) as f64);
    full.sort_by(f64::total_cmp);

    // Open loop: one tap due every millisecond, whether or not the earlier
    // ones were answered; latency counts from when each was due.
    let begin = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut handles = Vec::with_capacity(steady_n);
    for k in 0..steady_n {
        let send = send.clone();
        let due = begin + Duration::from_micros(k as u64 * 1_000_000 / STEADY_PER_SECOND);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            let ok = send(taps + k).await;
            (ok, due.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut steady = Vec::new();
    for h in handles {
        let (ok, ms) = h.await?;
        if ok {
            steady.push(ms);
        }
    }
    steady.sort_by(f64::total_cmp);
    drop(service);

    // Every acknowledged tap is a new one: each must be stored.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM taps WHERE org_id = $1")
        .bind(org.id.0)
        .fetch_one(store.pool())
        .await?;
    store.close().await;
    Ok(TapFigures {
        connections,
        full_rate,
        full_p50_ms: percentile(&full, 0.5),
        full_p99_ms: percentile(&full, 0.99),
        full_cpu_us,
        steady_p50_ms: percentile(&steady, 0.5),
        steady_p99_ms: percentile(&steady, 0.99),
        acked: full.len() + steady.len(),
        stored,
    })
}
