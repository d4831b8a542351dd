//! The hot path: signed `block_actions` taps posted over loopback to
//! `/slack/interactions` (verify, parse, store durably: committed and synced,
//! SQLite `synchronous=FULL`; acknowledge). Requests per second at full
//! speed, and latency at full speed and at a steady 1,000 per second.

use super::{bench_app, fresh_store, program};
use crate::chat::slack::verify::sign;
use crate::clock::{Clock, SystemClock};
use crate::domain::Platform;
use crate::startup::{self, ServiceOptions};
use anyhow::Result;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TEAM: &str = "T0BENCHTAP";
const SECRET: &str = "bench-signing-secret";

pub struct TapFigures {
    pub full_rate: f64,
    pub full_p50_ms: f64,
    pub full_p99_ms: f64,
    pub steady_p50_ms: f64,
    pub steady_p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One signed interaction body: `user` tapping "did it" on job `job`.
fn tap_body(user: &str, job: i64, n: usize) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "team_id": TEAM },
        "api_app_id": "A0BENCH",
        "container": { "type": "message", "message_ts": format!("1.{job:06}"), "channel_id": "D0BENCH", "is_ephemeral": false },
        "trigger_id": format!("{n}.bench"),
        "team": { "id": TEAM, "domain": "bench" },
        "actions": [{ "action_id": "report:done", "block_id": "momentum_report", "value": job.to_string(),
                      "type": "button", "action_ts": format!("{n}.000001") }],
    });
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

pub async fn taps(
    postgres: Option<&str>,
    dir: &std::path::Path,
    participants: usize,
    taps: usize,
) -> Result<TapFigures> {
    let store = fresh_store(postgres, dir, "taps").await?;
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
    sqlx::query("UPDATE jobs SET state = 'sent', sent_at = $1, channel_id = 'D', message_ts = '1' WHERE org_id = $2")
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
    // The service itself, on the real clock (signatures carry its time).
    let live = startup::build_app(
        store.clone(),
        Arc::new(SystemClock),
        Default::default(),
        app.secret_key.clone(),
    );
    let running = startup::start(
        live,
        ServiceOptions {
            slack_signing_secret: Some(SECRET.into()),
            ..ServiceOptions::local("127.0.0.1:0".parse()?)
        },
    )
    .await?;
    let url = format!("{}/slack/interactions", running.url());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    let jobs = Arc::new(jobs);
    let send = {
        let (http, url, jobs) = (http.clone(), url.clone(), jobs.clone());
        move |n: usize| {
            let (http, url, jobs) = (http.clone(), url.clone(), jobs.clone());
            async move {
                // Each person's nudge, tapped again and again (each a new tap).
                let (job, user) = &jobs[n % jobs.len()];
                let body = tap_body(user, *job, n);
                let ts = jiff::Timestamp::now().as_second();
                let started = Instant::now();
                let resp = http
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("X-Slack-Request-Timestamp", ts.to_string())
                    .header("X-Slack-Signature", sign(SECRET, ts, body.as_bytes()))
                    .body(body)
                    .send()
                    .await;
                let ok = resp.is_ok_and(|r| r.status().is_success());
                (ok, started.elapsed().as_secs_f64() * 1000.0)
            }
        }
    };
    // Full speed: 64 taps in flight.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..64 {
        let (next, send) = (next.clone(), send.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= taps {
                    return lat;
                }
                let (ok, ms) = send(n).await;
                if ok {
                    lat.push(ms);
                }
            }
        }));
    }
    let mut full = Vec::new();
    for w in workers {
        full.extend(w.await?);
    }
    let full_rate = full.len() as f64 / started.elapsed().as_secs_f64();
    full.sort_by(f64::total_cmp);
    // Steady 1,000 per second for two seconds.
    let steady_n = 2000;
    let begin = Instant::now();
    let mut handles = Vec::new();
    for k in 0..steady_n {
        let send = send.clone();
        let at = begin + Duration::from_millis(k as u64);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            send(taps + k).await
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
    running.stop().await;
    if full.len() < taps || steady.len() < steady_n {
        anyhow::bail!(
            "{} of {} taps were not acknowledged",
            taps + steady_n - full.len() - steady.len(),
            taps + steady_n
        );
    }
    Ok(TapFigures {
        full_rate,
        full_p50_ms: percentile(&full, 0.5),
        full_p99_ms: percentile(&full, 0.99),
        steady_p50_ms: percentile(&steady, 0.5),
        steady_p99_ms: percentile(&steady, 0.99),
    })
}
