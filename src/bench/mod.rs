//! `momentum bench`: figures for the scheduler. Planning: N participants ×
//! 36 rules (6 sessions × 6 nudge rules) re-planned into jobs on SQLite and,
//! with `--postgres URL`, PostgreSQL. Dispatching: jobs sent to the local
//! workspace over loopback, with Slack's limits off (the dispatcher's own
//! overhead) and on (how close to the allowed rate it sends, and any 429).
//! Digest: see `digest`. Holiday calendars: see `holidays`.

mod cpu;
mod digest;
mod holidays;
mod resolve;
mod taps;

use crate::chat::sim::{SimConfig, SimWorkspace};
use crate::chat::slack::limits::SlackLimits;
use crate::chat::slack::{http_client, SlackChat, SlackOptions};
use crate::chat::{ChatPort, Chats};
use crate::clock::{Clock, SharedClock, SystemClock, VirtualClock};
use crate::crypto::SecretKey;
use crate::domain::Platform;
use crate::scheduler::Dispatcher;
use crate::startup::build_app;
use crate::store::Store;
use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::ToSpan;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct BenchOptions {
    pub participants: usize,
    pub dispatch_jobs: usize,
    pub limited_seconds: u64,
    pub postgres: Option<String>,
    /// The digest's program: participants and one-tap reports.
    pub digest_participants: usize,
    pub digest_reports: i64,
    /// Taps posted to the interaction endpoint at full speed.
    pub taps: usize,
    /// The resolution's figure: participants by email, the workspace's
    /// people, and how many times faster than Slack's limits to run.
    pub resolve_participants: usize,
    pub resolve_workspace: usize,
    pub resolve_scale: u32,
    /// Which figures (empty: all): holidays, plan, dispatch, digest, taps,
    /// limited, resolve.
    pub only: Vec<String>,
    /// Runs of each of plan, dispatch and digest (their median is printed).
    pub repeat: usize,
}

/// The figures `--only` can name.
pub const FIGURES: [&str; 7] = [
    "holidays", "plan", "dispatch", "digest", "taps", "limited", "resolve",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn runs(v: &[f64], digits: usize) -> String {
    v.iter()
        .map(|x| format!("{x:.digits$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The process's peak resident set (VmHWM), in MiB, where /proc tells it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

const RULES: [(&str, u32, &str); 6] = [
    ("small_step", 1, "09:30"),
    ("manager_checkin", 2, "10:00"),
    ("one_tap_check", 3, "16:00"),
    ("small_step", 5, "09:00"),
    ("manager_checkin", 6, "11:00"),
    ("one_tap_check", 7, "15:00"),
];

pub(super) fn program(
    participants: usize,
    team: &str,
    first_user: usize,
    working_days_only: bool,
) -> Value {
    let start: Date = jiff::civil::date(2026, 2, 2);
    let sessions: Vec<Value> = (0..6)
        .map(|i| json!({"number": i + 1, "planned": start.checked_add((14 * i as i64).days()).unwrap_or(start).to_string()}))
        .collect();
    let nudges: Vec<Value> = RULES
        .iter()
        .map(|(kind, days, at)| json!({"kind": kind, "days_after_session": days, "at": at}))
        .collect();
    let people: Vec<Value> = (0..participants)
        .map(|i| {
            json!({
                "chat": format!("slack:{team}/U{:08}", first_user + i),
                "manager": format!("slack:{team}/W{:08}", i / 20),
                "share_focus_with_manager": true,
            })
        })
        .collect();
    let mut p = json!({
        "version": 1,
        "program": {
            "key": "bench", "name": "Bench", "time_zone": "Europe/Prague",
            "sessions": sessions, "nudges": nudges,
            // Measures the sends themselves: no reminders planned after them,
            // and the rules' jobs only (no welcome on enrolment, no question
            // whether a session happened).
            "reminder_after_days": 0,
            "welcome": false,
            "session_confirmation": false,
        },
        "participants": people,
    });
    if !working_days_only {
        p["program"]["working_days"] = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
        p["program"]["send_window_hours"] = json!(72);
    }
    p
}

pub(super) async fn fresh_store(
    postgres: Option<&str>,
    dir: &std::path::Path,
    name: &str,
) -> Result<Store> {
    Ok(fresh_database(postgres, dir, name).await?.0)
}

/// A new, migrated database (a file, or a schema of its own), and its URL.
pub(super) async fn fresh_database(
    postgres: Option<&str>,
    dir: &std::path::Path,
    name: &str,
) -> Result<(Store, String)> {
    let url = match postgres {
        None => {
            // A repeated run starts from an empty file too.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("{name}.db{suffix}")));
            }
            format!("sqlite://{}", dir.join(format!("{name}.db")).display())
        }
        Some(base) => {
            let schema = format!("bench_{name}_{}", std::process::id());
            let admin = Store::connect(base).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(admin.pool())
                .await?;
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(admin.pool())
                .await?;
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok((store, url))
}

/// An app on a virtual clock set to `at`, without chat ports, and its
/// benchmark organisation.
pub(super) async fn bench_app(
    store: &Store,
    at: &str,
) -> Result<(Arc<crate::app::App>, VirtualClock, crate::store::Org)> {
    let clock = VirtualClock::new(at.parse()?);
    let app = build_app(
        store.clone(),
        Arc::new(clock.clone()),
        Chats::default(),
        SecretKey::generate(),
    );
    let org = app
        .create_org("Bench", "Europe/Prague", "en")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The bench's people are in this workspace: a program may only name
    // people of the organisation's own workspaces.
    store
        .link_workspace(org.id, Platform::Slack, BENCH_TEAM, clock.now())
        .await?;
    Ok((app, clock, org))
}

/// The workspace the bench's programs name.
pub(super) const BENCH_TEAM: &str = "TBENCH";

/// Plans N participants × 36 rules; returns (jobs, seconds to apply the file, seconds to plan).
async fn planning(store: Store, participants: usize) -> Result<(u64, f64, f64)> {
    let (app, clock, org) = bench_app(&store, "2026-01-05T08:00:00Z").await?;
    let t = Instant::now();
    let applied = app
        .apply_program(org.id, &program(participants, BENCH_TEAM, 1, true), false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let apply_s = t.elapsed().as_secs_f64();
    let spec = store.program(org.id, applied.program_id).await?.spec;
    let ids = store
        .active_participant_ids(org.id, applied.program_id)
        .await?;
    let rows: Vec<(i64, u32, Date)> = ids
        .iter()
        .flat_map(|id| {
            spec.sessions
                .iter()
                .map(move |s| (*id, s.number, s.planned))
        })
        .collect();
    store
        .import_completed_sessions(org.id, &rows, "import", clock.now())
        .await?;
    let t = Instant::now();
    let counts = app
        .replan_program(org.id, applied.program_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((counts.added, apply_s, t.elapsed().as_secs_f64()))
}

/// What sending due jobs to the local workspace came to.
struct Dispatched {
    sent: usize,
    seconds: f64,
    /// Sends the local workspace answered with a 429.
    limited: usize,
    /// CPU seconds the service used meanwhile (the whole process less the
    /// local workspace's thread): the dispatcher's own cost.
    service_cpu: Option<f64>,
}

/// Sends `n` due jobs to the local workspace, which runs on a thread of
/// its own so that its CPU time can be told from the service's.
async fn dispatching(
    store: Store,
    n: usize,
    limits: Option<SlackLimits>,
    cap: Duration,
) -> Result<Dispatched> {
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = SimWorkspace::new(SimConfig::default(), clock.clone());
    for i in 0..n {
        sim.add_user(
            &format!("p{i}"),
            &format!("Person {i}"),
            &format!("p{i}@bench.example"),
            "Europe/Prague",
        );
    }
    sim.set_limits(limits.as_ref());
    let apart = cpu::SimApart::serve(sim.clone()).await?;
    let client = http_client(&format!("http://{}/api", apart.addr))?;
    let slack = SlackChat::connect_with(
        client,
        &sim.config.bot_token,
        SlackOptions {
            limits,
            timeout: Duration::from_secs(10),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let team = slack.workspace().to_string();
    let chats = Chats::default();
    chats.add(Arc::new(slack));
    let app = build_app(store.clone(), clock.clone(), chats, SecretKey::generate());
    // Set-up without chat ports, so applying the file makes no profile look-ups.
    let setup = build_app(
        store.clone(),
        clock.clone(),
        Chats::default(),
        SecretKey::generate(),
    );
    let org = setup
        .create_org("Bench", "Europe/Prague", "en")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .link_workspace(org.id, Platform::Slack, &team, clock.now())
        .await?;
    // One rule, due today at 00:00 local, inside a 72-hour send window: all due now.
    let mut doc = program(n, &team, 1, false);
    doc["program"]["nudges"] =
        json!([{"kind": "small_step", "days_after_session": 0, "at": "00:00"}]);
    doc["program"]["sessions"] = json!([{"number": 1, "planned": "2026-01-05"}]);
    for p in doc["participants"].as_array_mut().into_iter().flatten() {
        p.as_object_mut().map(|o| o.remove("manager"));
    }
    let applied = setup
        .apply_program(org.id, &doc, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = crate::domain::time::Zone::parse("Europe/Prague")
        .map_err(anyhow::Error::msg)?
        .date_of(clock.now());
    let ids = store
        .active_participant_ids(org.id, applied.program_id)
        .await?;
    let rows: Vec<(i64, u32, Date)> = ids.iter().map(|id| (*id, 1, today)).collect();
    store
        .import_completed_sessions(org.id, &rows, "import", clock.now())
        .await?;
    // Jobs due at 00:00 today lie in the past, so re-planning skips them:
    // plan them as of midnight, then make them due now.
    let app_at_midnight = build_app(
        store.clone(),
        Arc::new(VirtualClock::new(
            today
                .to_zoned(jiff::tz::TimeZone::get("Europe/Prague")?)?
                .timestamp()
                - 1.second(),
        )),
        Chats::default(),
        SecretKey::generate(),
    );
    app_at_midnight
        .replan_program(org.id, applied.program_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    sqlx::query("UPDATE jobs SET due_at = $1, planned_due_at = $1 WHERE org_id = $2")
        .bind(clock.now().as_millisecond())
        .bind(org.id.0)
        .execute(store.pool())
        .await?;
    let dispatcher = Dispatcher::new(app.clone());
    let cpu_at_start = (cpu::cpu_seconds("/proc/self/stat"), apart.cpu_seconds());
    let t = Instant::now();
    // On the runtime's workers, as `serve` runs it (not on the thread that
    // waits for the bench).
    let sent = tokio::spawn(async move {
        let mut sent = 0;
        while t.elapsed() < cap {
            let s = dispatcher.run_once().await?;
            sent += s.sent;
            if s.handled() == 0 && store.next_due_at().await?.is_none() {
                break;
            }
            if s.handled() == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        anyhow::Ok(sent)
    })
    .await??;
    let seconds = t.elapsed().as_secs_f64();
    let service_cpu = match (
        cpu_at_start,
        (cpu::cpu_seconds("/proc/self/stat"), apart.cpu_seconds()),
    ) {
        ((Some(p0), Some(s0)), (Some(p1), Some(s1))) => Some((p1 - p0) - (s1 - s0)),
        _ => None,
    };
    Ok(Dispatched {
        sent,
        seconds,
        limited: sim.rate_limited_count(),
        service_cpu,
    })
}

pub async fn run(o: BenchOptions) -> Result<()> {
    for f in &o.only {
        if !FIGURES.contains(&f.as_str()) {
            anyhow::bail!("no figure {f:?}: one of {}", FIGURES.join(", "));
        }
    }
    let wanted = |f: &str| o.only.is_empty() || o.only.iter().any(|o| o == f);
    let repeat = o.repeat.max(1);
    let dir = tempfile::tempdir().context("temporary directory")?;
    let backends: Vec<(&str, Option<&str>)> = std::iter::once(("SQLite", None))
        .chain(o.postgres.as_deref().map(|u| ("PostgreSQL", Some(u))))
        .collect();
    println!(
        "momentum bench — {} cores{}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        if repeat > 1 {
            format!("; plan, dispatch and digest run {repeat} times, medians shown")
        } else {
            String::new()
        }
    );
    for (name, url) in backends.iter().filter(|_| wanted("holidays")) {
        let f = holidays::holidays(*url, dir.path()).await?;
        println!(
            "holidays  {name:<10} the largest calendar, {} KiB of iCalendar, {} dates: read once at apply ({:.2} s); \
             loading the stored program {:.2} ms ({:.2} ms without the calendar; reading the iCalendar \
             at each load would add {:.0} ms); {} rules with decades between dates applied in {:.2} s",
            f.ics_kib,
            f.dates,
            f.apply_s,
            f.load_ms,
            f.plain_load_ms,
            f.reread_ms,
            crate::domain::ics::MAX_RULES,
            f.hostile_apply_s
        );
    }
    for (name, url) in backends.iter().filter(|_| wanted("plan")) {
        let (mut plans, mut applies, mut jobs) = (Vec::new(), Vec::new(), 0);
        for i in 0..repeat {
            let store = fresh_store(*url, dir.path(), &format!("plan{i}")).await?;
            let (n, apply_s, plan_s) = planning(store.clone(), o.participants).await?;
            store.close().await;
            jobs = n;
            plans.push(plan_s);
            applies.push(apply_s);
        }
        let plan_s = median(plans.clone());
        println!(
            "planning  {name:<10} {} participants × 36 rules: {jobs} jobs in {plan_s:.2} s ({:.0} jobs/s){}; \
             applying the program file took {:.2} s",
            o.participants,
            jobs as f64 / plan_s,
            if repeat > 1 { format!(" [runs: {} s]", runs(&plans, 2)) } else { String::new() },
            median(applies)
        );
    }
    for (name, url) in backends.iter().filter(|_| wanted("dispatch")) {
        let (mut rates, mut per_cpu, mut total, mut limited) = (Vec::new(), Vec::new(), 0, 0);
        for i in 0..repeat {
            let store = fresh_store(*url, dir.path(), &format!("send{i}")).await?;
            let d = dispatching(
                store.clone(),
                o.dispatch_jobs,
                None,
                Duration::from_secs(120),
            )
            .await?;
            store.close().await;
            total = d.sent;
            limited += d.limited;
            rates.push(d.sent as f64 / d.seconds);
            per_cpu.extend(d.service_cpu.map(|cpu| d.sent as f64 / cpu));
        }
        let cost = if per_cpu.is_empty() {
            String::new()
        } else {
            format!(
                "; the service's own cost: {:.0} messages per CPU-second{} (the local workspace's thread not counted)",
                median(per_cpu.clone()),
                if repeat > 1 { format!(" [runs: {}]", runs(&per_cpu, 0)) } else { String::new() },
            )
        };
        println!(
            "dispatch  {name:<10} limits off: {total} messages, {:.0} messages/s{} ({limited} answered 429){cost}",
            median(rates.clone()),
            if repeat > 1 { format!(" [runs: {}]", runs(&rates, 0)) } else { String::new() },
        );
    }
    for (name, url) in backends.iter().filter(|_| wanted("digest")) {
        let (mut weeks, mut alls, mut generated) = (Vec::new(), Vec::new(), 0.0);
        for _ in 0..repeat {
            let (generate_s, all_s, week_ms) =
                digest::digest(*url, dir.path(), o.digest_participants, o.digest_reports).await?;
            generated = generate_s;
            weeks.push(week_ms);
            alls.push(all_s);
        }
        println!(
            "digest    {name:<10} {} participants, {} reports over 40 weeks (generated in {generated:.1} s): \
             the last week's digest in {:.0} ms{} (earlier weeks stored); all 40 weeks from scratch in {:.2} s",
            o.digest_participants,
            o.digest_reports,
            median(weeks.clone()),
            if repeat > 1 { format!(" [runs: {} ms]", runs(&weeks, 0)) } else { String::new() },
            median(alls)
        );
    }
    for (name, url) in backends.iter().filter(|_| wanted("taps")) {
        let f = taps::taps(*url, dir.path(), 2_000, o.taps, 32).await?;
        println!(
            "taps      {name:<10} {} signed taps to `momentum serve` over loopback, {} in flight: {:.0} taps/s \
             (p50 {:.1} ms, p99 {:.1} ms{}); at a steady 1,000/s (open loop): p50 {:.1} ms, p99 {:.1} ms; \
             {} acknowledged, {} stored",
            o.taps, f.connections, f.full_rate, f.full_p50_ms, f.full_p99_ms,
            f.full_cpu_us.map(|us| format!(", serve's CPU {us:.0} µs a tap")).unwrap_or_default(),
            f.steady_p50_ms, f.steady_p99_ms,
            f.acked, f.stored
        );
        anyhow::ensure!(
            f.stored >= f.acked as i64,
            "{} acknowledged taps are not stored",
            f.acked as i64 - f.stored
        );
    }
    if wanted("limited") {
        let limits = SlackLimits::default();
        let allowed = f64::from(limits.post_per_workspace_per_minute) / 60.0;
        let store = fresh_store(None, dir.path(), "limited").await?;
        let Dispatched {
            sent,
            seconds: secs,
            limited,
            ..
        } = dispatching(
            store,
            o.dispatch_jobs,
            Some(limits),
            Duration::from_secs(o.limited_seconds),
        )
        .await?;
        let rate = sent as f64 / secs;
        println!(
            "dispatch  SQLite     Slack limits on: {sent} messages in {secs:.1} s = {rate:.2}/s against {allowed:.2}/s allowed ({:.1}% of it), {limited} answered 429",
            100.0 * rate / allowed
        );
    }
    for (name, url) in backends.iter().filter(|_| wanted("resolve")) {
        let f = resolve::resolve(
            *url,
            dir.path(),
            o.resolve_participants,
            o.resolve_workspace,
            o.resolve_scale,
        )
        .await?;
        let pace = if o.resolve_scale > 1 {
            format!(
                "resolved in {:.1} s with Slack's limits ×{} (both sides), so {:.1} min at Slack's pace (measured × {})",
                f.resolve_s,
                o.resolve_scale,
                f.at_slack_pace_s / 60.0,
                o.resolve_scale
            )
        } else {
            format!(
                "resolved in {:.1} min at Slack's pace (measured)",
                f.resolve_s / 60.0
            )
        };
        println!(
            "resolve   {name:<10} {} participants by email, a workspace of {} people: applied in {:.2} s; {pace}; \
             {} resolved, {} not found; {} users.list calls ({:.0}% of its tier's allowed rate over that time), \
             {} users.lookupByEmail, {} answered 429",
            f.participants,
            f.workspace,
            f.apply_s,
            f.resolved,
            f.not_found,
            f.list_calls,
            100.0 * f.share_of_rate,
            f.lookup_calls,
            f.rate_limited
        );
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS  the bench process (service, local workspace and data together): {mib:.0} MiB");
    }
    Ok(())
}
