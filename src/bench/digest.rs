//! The digest's figure: one program with N participants and R one-tap
//! reports (each with its job and tap) spread over the program's weeks; how
//! long the digest of the last complete week takes to compute — with the
//! earlier weeks stored, as every week after the first — and how long
//! computing all weeks from scratch takes.

use super::fresh_store;
use crate::domain::metrics::ProgramWeek;
use crate::store::{Backend, Store};
use anyhow::Result;
use jiff::ToSpan;
use serde_json::{json, Value};
use std::time::Instant;

/// Weeks the reports are spread over (the program runs 40 weeks).
const WEEKS: i64 = 40;
const THEMES: [&str; 6] = [
    "feedback",
    "delegation",
    "prioritisation",
    "difficult-conversations",
    "coaching",
    "strategy",
];

fn program(participants: usize) -> Value {
    let start = jiff::civil::date(2026, 2, 2);
    let sessions: Vec<Value> = (0..6)
        .map(|i| json!({"number": i + 1, "planned": start.checked_add((42 * i as i64).days()).unwrap_or(start).to_string()}))
        .collect();
    let people: Vec<Value> = (0..participants)
        .map(|i| {
            json!({
                "chat": format!("slack:TBENCH/U{:08}", i + 1),
                "manager": format!("slack:TBENCH/W{:08}", i / 20),
                "focus": THEMES[i % THEMES.len()],
                "cohort": format!("c{}", i % 4),
            })
        })
        .collect();
    json!({
        "version": 1,
        "program": {
            "key": "bench", "name": "Bench", "time_zone": "Europe/Prague",
            "themes": THEMES, "sessions": sessions, "session_confirmation": false,
            "nudges": [{"kind": "small_step", "days_after_session": 1, "at": "09:30"}],
            "recurring": [{"purpose": "digest", "cron": "30 9 * * 1"}],
        },
        "cohorts": (0..4).map(|c| json!({"key": format!("c{c}"), "name": format!("Cohort {c}")})).collect::<Vec<_>>(),
        "participants": people,
    })
}

/// Jobs, reports and taps for `reports` one-tap answers, generated inside
/// the database (participants round-robin, times spread over the weeks).
async fn generate(
    store: &Store,
    org: i64,
    program: i64,
    reports: i64,
    start_ms: i64,
) -> Result<()> {
    let week_ms = 7 * 24 * 3_600_000i64;
    let numbers = match store.backend() {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) ",
            reports - 1
        ),
        Backend::Postgres => format!(
            "WITH n(i) AS (SELECT generate_series(0, {})::bigint) ",
            reports - 1
        ),
    };
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM participants WHERE org_id = $1")
        .bind(org)
        .fetch_one(store.pool())
        .await?;
    let (first,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM participants WHERE org_id = $1")
        .bind(org)
        .fetch_one(store.pool())
        .await?;
    // Report i: participant i mod N, in week i·W/R, on one of the week's days.
    let at = format!(
        "({start_ms} + (n.i * {WEEKS} / {reports}) * {week_ms} + (n.i % 5) * 86400000 + 36000000)"
    );
    sqlx::query(&format!(
        "{numbers} INSERT INTO jobs (org_id, program_id, participant_id, recipient_person_id, purpose, period, unique_key, \
         session_number, due_at, planned_due_at, state, attempts, sent_at, created_at, updated_at, verify_first) \
         SELECT {org}, {program}, pa.id, pa.person_id, 'small_step', 'bench', 'bench:' || CAST(n.i AS TEXT), 1, \
                {at}, {at}, 'sent', 1, {at}, {at}, {at}, 0 \
         FROM n JOIN participants pa ON pa.id = {first} + n.i % {count}"
    ))
    .execute(store.pool())
    .await?;
    let answer = "CASE j.id % 3 WHEN 0 THEN 'done' WHEN 1 THEN 'partly' ELSE 'not_yet' END";
    sqlx::query(&format!(
        "INSERT INTO reports (org_id, participant_id, job_id, answer, first_answered_at, answered_at) \
         SELECT j.org_id, j.participant_id, j.id, {answer}, j.sent_at + 3600000, j.sent_at + 3600000 \
         FROM jobs j WHERE j.org_id = {org} AND j.period = 'bench'"
    ))
    .execute(store.pool())
    .await?;
    sqlx::query(&format!(
        "INSERT INTO taps (org_id, job_id, person_id, answer, delivery_key, tapped_at, program_id) \
         SELECT j.org_id, j.id, j.recipient_person_id, {answer}, 'bench:' || CAST(j.id AS TEXT), j.sent_at + 3600000, j.program_id \
         FROM jobs j WHERE j.org_id = {org} AND j.period = 'bench'"
    ))
    .execute(store.pool())
    .await?;
    if store.backend() == Backend::Postgres {
        // As autovacuum leaves tables that grew: statistics, and the pages
        // marked all-visible, so that index-only reads skip the table.
        sqlx::query("VACUUM ANALYZE").execute(store.pool()).await?;
    }
    Ok(())
}

/// (seconds to generate the data, seconds for all weeks from scratch,
/// milliseconds for the last week's digest with the earlier ones stored —
/// the median of five runs).
pub async fn digest(
    postgres: Option<&str>,
    dir: &std::path::Path,
    participants: usize,
    reports: i64,
) -> Result<(f64, f64, f64)> {
    let store = fresh_store(postgres, dir, "digest").await?;
    let (app, clock, org) = super::bench_app(&store, "2026-01-26T08:00:00Z").await?;
    let applied = app
        .apply_program(org.id, &program(participants), false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let start_ms = "2026-02-02T00:00:00+01:00[Europe/Prague]"
        .parse::<jiff::Zoned>()?
        .timestamp()
        .as_millisecond();
    generate(&store, org.id.0, applied.program_id.0, reports, start_ms).await?;
    let generate_s = t.elapsed().as_secs_f64();
    // Monday after the last week with reports.
    let zone = crate::domain::time::Zone::parse("Europe/Prague").map_err(anyhow::Error::msg)?;
    let last =
        ProgramWeek::of(jiff::civil::date(2026, 2, 2).checked_add((7 * (WEEKS - 1)).days())?);
    let (_, monday) = last
        .bounds(&zone)
        .ok_or_else(|| anyhow::anyhow!("no such week"))?;
    clock.set(monday + 8.hours());
    let t = Instant::now();
    app.digest(org.id, "bench", Some(last.clone()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let all_s = t.elapsed().as_secs_f64();
    let mut runs = Vec::new();
    for _ in 0..5 {
        for table in ["weekly_trends", "digests"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE org_id = $1 AND week = $2"
            ))
            .bind(org.id.0)
            .bind(last.monday.to_string())
            .execute(store.pool())
            .await?;
        }
        let t = Instant::now();
        app.digest(org.id, "bench", Some(last.clone()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    Ok((generate_s, all_s, runs[2]))
}
