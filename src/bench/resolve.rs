//! The resolution's figure: N participants given by email, applied to a
//! program of an organisation linked to a local workspace of W people with
//! Slack's limits on — on both sides, the client pacing itself and the local
//! workspace answering 429 past them — and resolved by the background
//! resolver's rounds. Slack's limits may be run `scale` times faster (the
//! same table, every tier multiplied): the calls made are counted as they
//! are, and the time at Slack's own pace is the measured time × `scale`,
//! which holds because the paced calls are the bottleneck (the bench says how
//! much of the measured time the paced calls account for).

use super::fresh_store;
use crate::chat::sim::{SimConfig, SimWorkspace};
use crate::chat::slack::limits::SlackLimits;
use crate::chat::slack::{http_client, SlackChat, SlackOptions};
use crate::chat::{ChatPort, Chats};
use crate::clock::{SharedClock, SystemClock};
use crate::crypto::SecretKey;
use crate::domain::Platform;
use crate::startup::build_app;
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ResolveFigures {
    pub participants: usize,
    pub workspace: usize,
    pub apply_s: f64,
    /// Measured, on the (possibly scaled) clock of the limits.
    pub resolve_s: f64,
    /// At Slack's own pace: measured × scale.
    pub at_slack_pace_s: f64,
    pub resolved: usize,
    pub not_found: usize,
    pub list_calls: usize,
    pub lookup_calls: usize,
    /// users.list calls against what its tier allows over the time taken.
    pub share_of_rate: f64,
    pub rate_limited: usize,
}

fn program(participants: usize) -> Value {
    let people: Vec<Value> = (0..participants)
        // Every other person of the workspace.
        .map(|i| json!({"email": format!("p{}@bench.example", 2 * i)}))
        .collect();
    json!({
        "version": 1,
        "program": {
            "key": "big", "name": "Big", "time_zone": "Europe/Prague",
            "sessions": [{"number": 1, "planned": "2026-10-01"}],
            "nudges": [{"kind": "small_step", "days_after_session": 1, "at": "09:30"}],
            "welcome": false, "session_confirmation": false,
        },
        "participants": people,
    })
}

pub async fn resolve(
    postgres: Option<&str>,
    dir: &std::path::Path,
    participants: usize,
    workspace: usize,
    scale: u32,
) -> Result<ResolveFigures> {
    let store = fresh_store(postgres, dir, "resolve").await?;
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = SimWorkspace::new(SimConfig::default(), clock.clone());
    for i in 0..workspace {
        sim.add_user(
            &format!("p{i}"),
            &format!("Person {i}"),
            &format!("p{i}@bench.example"),
            "Europe/Prague",
        );
    }
    let limits = SlackLimits::default().scaled(scale.max(1));
    sim.set_limits(Some(&limits));
    let (addr, _task) = sim.serve("127.0.0.1:0".parse()?).await?;
    let client = http_client(&format!("http://{addr}/api"))?;
    let slack = SlackChat::connect_with(
        client,
        &sim.config.bot_token,
        SlackOptions {
            limits: Some(limits.clone()),
            timeout: Duration::from_secs(10),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let team = slack.workspace().to_string();
    let chats = Chats::default();
    chats.add(Arc::new(slack));
    let app = Arc::new(
        Arc::try_unwrap(build_app(
            store.clone(),
            clock.clone(),
            chats,
            SecretKey::generate(),
        ))
        .map_err(|_| anyhow::anyhow!("the app is shared"))?
        .with_inline_resolution(None),
    );
    let org = app
        .create_org("Bench", "Europe/Prague", "en")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .link_workspace(org.id, Platform::Slack, &team, clock.now())
        .await?;
    let t = Instant::now();
    let applied = app
        .apply_program(org.id, &program(participants), false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let apply_s = t.elapsed().as_secs_f64();
    let before = (
        sim.call_count("users.list"),
        sim.call_count("users.lookupByEmail"),
    );
    let t = Instant::now();
    let rounds = app
        .resolve_all(org.id, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolve_s = t.elapsed().as_secs_f64();
    let list_calls = sim.call_count("users.list") - before.0;
    let lookup_calls = sim.call_count("users.lookupByEmail") - before.1;
    let progress = app
        .program_resolution(org.id, applied.program_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let allowed_per_s = f64::from(limits.method_per_minute("users.list").unwrap_or(1)) / 60.0;
    Ok(ResolveFigures {
        participants,
        workspace,
        apply_s,
        resolve_s,
        at_slack_pace_s: resolve_s * f64::from(scale.max(1)),
        resolved: rounds.iter().map(|r| r.resolved).sum(),
        not_found: progress.not_found.len(),
        list_calls,
        lookup_calls,
        share_of_rate: list_calls as f64 / (resolve_s * allowed_per_s),
        rate_limited: sim.rate_limited_count(),
    })
}
