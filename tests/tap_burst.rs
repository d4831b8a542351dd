//! A Monday-morning burst of taps on `momentum serve`, killed with SIGKILL
//! in the middle: every tap acknowledged with a 200 is stored; sent again
//! after a restart, every tap is stored exactly once, each job keeps every
//! change of answer, and its current answer is its latest tap. On SQLite,
//! or on PostgreSQL when MOMENTUM_TEST_DATABASE_URL points at it.

use futures_util::stream::{self, StreamExt};
use momentum::app::App;
use momentum::chat::slack::verify::sign;
use momentum::chat::Chats;
use momentum::clock::{Clock, SystemClock, VirtualClock};
use momentum::crypto::SecretKey;
use momentum::store::Store;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_momentum");
const KEY: &str = "q83vEjRbPAJz8zeDgi7hO1QJvRHNZR0aCbrb+cAtgXQ=";
const SECRET: &str = "burst-signing-secret";
const TEAM: &str = "T0BURST01";
const PEOPLE: usize = 200;
/// Taps per participant: each a new tap (its own action_ts) that changes
/// the answer; some requests are also sent twice (Slack's or a proxy's
/// repeat), which must store nothing new.
const TAPS_EACH: usize = 8;
const ANSWERS: [&str; 3] = ["done", "partly", "not_yet"];

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The database the test runs on, and what keeps it alive.
async fn database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("MOMENTUM_TEST_DATABASE_URL") {
        Ok(base) => {
            let schema = format!("burst_{}_{}", std::process::id(), free_port());
            let admin = Store::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(admin.pool())
                .await
                .unwrap();
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                None,
            )
        }
        Err(_) => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("m.db").display());
            (url, Some(dir))
        }
    }
}

fn run(db: &str, args: &[&str]) {
    let out = Command::new(BIN)
        .args(args)
        .env("MOMENTUM_DATABASE_URL", db)
        .env("MOMENTUM_SECRET_KEY", KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "momentum {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A program whose follow-up check was sent to every participant: the
/// jobs to tap, as (user, job id, channel, message ts).
async fn sent_nudges(db: &str) -> Vec<(String, i64, String, String)> {
    run(
        db,
        &[
            "org",
            "create",
            "--name",
            "Burst",
            "--time-zone",
            "Europe/Prague",
            "--slack-team",
            TEAM,
        ],
    );
    let people: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"chat": format!("slack:{TEAM}/U0B{i:06}")}))
        .collect();
    let program = json!({
        "version": 1,
        "program": {
            "key": "burst", "name": "Burst", "time_zone": "Europe/Prague", "welcome": false,
            "session_confirmation": false, "reminder_after_days": 0,
            "sessions": [{"number": 1, "planned": "2026-11-02"}],
            "nudges": [{"kind": "one_tap_check", "days_after_session": 4, "at": "16:00"}],
        },
        "participants": people,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("burst.json");
    std::fs::write(&file, program.to_string()).unwrap();
    run(db, &["program", "apply", file.to_str().unwrap()]);

    let store = Store::connect(db).await.unwrap();
    let org = store.orgs().await.unwrap().remove(0);
    let program = store
        .program_by_key(org.id, "burst")
        .await
        .unwrap()
        .unwrap();
    let ids = store
        .active_participant_ids(org.id, program.id)
        .await
        .unwrap();
    let completed = jiff::civil::date(2026, 11, 2);
    let rows: Vec<_> = ids.iter().map(|id| (*id, 1u32, completed)).collect();
    store
        .import_completed_sessions(org.id, &rows, "import", SystemClock.now())
        .await
        .unwrap();
    let before = App::new(
        store.clone(),
        Arc::new(VirtualClock::new("2026-11-03T00:00:00Z".parse().unwrap())),
        Chats::default(),
        SecretKey::generate(),
    );
    let planned = before.replan_program(org.id, program.id).await.unwrap();
    assert_eq!(planned.added as usize, PEOPLE);
    // Delivered (the dispatcher's work is tested elsewhere): each a DM.
    sqlx::query(
        "UPDATE jobs SET state = 'sent', sent_at = 1762000000000, \
         channel_id = 'D' || CAST(id AS TEXT), message_ts = '1762000000.' || CAST(id AS TEXT) \
         WHERE purpose = 'one_tap_check'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let nudges: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT p.user_id, j.id, j.channel_id, j.message_ts FROM jobs j \
         JOIN people p ON p.id = j.recipient_person_id WHERE j.purpose = 'one_tap_check' ORDER BY j.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    nudges
}

/// One tap, as Slack sends it: a signed form with the `block_actions`
/// payload, the tapped message included.
struct TapRequest {
    action_ts: String,
    job: i64,
    body: String,
}

fn tap_request(nudge: &(String, i64, String, String), n: usize) -> TapRequest {
    let (user, job, channel, ts) = nudge;
    let answer = ANSWERS[(n + *job as usize) % ANSWERS.len()];
    let action_ts = format!("1764583200.{:06}", *job as usize * TAPS_EACH + n);
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": "p", "name": "p", "team_id": TEAM},
        "api_app_id": "A0BURST", "token": "legacy", "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "burst"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "user": "UBOT", "ts": ts, "text": "Did you try it?",
            "blocks": [{"type": "actions", "block_id": "b", "elements": ANSWERS.iter().map(|a| json!({
                "type": "button", "action_id": format!("report:{a}"), "value": job.to_string(),
                "text": {"type": "plain_text", "text": a}})).collect::<Vec<_>>()}]},
        "response_url": "https://hooks.slack.com/actions/T/1/x",
        "actions": [{"type": "button", "block_id": "b", "action_id": format!("report:{answer}"),
            "value": job.to_string(), "text": {"type": "plain_text", "text": answer},
            "action_ts": action_ts}],
    });
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    TapRequest {
        action_ts,
        job: *job,
        body,
    }
}

fn serve(db: &str, port: u16) -> Killed {
    Killed(
        Command::new(BIN)
            .arg("serve")
            .env("MOMENTUM_DATABASE_URL", db)
            .env("MOMENTUM_SECRET_KEY", KEY)
            .env("MOMENTUM_LISTEN", format!("127.0.0.1:{port}"))
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_healthy(http: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a tap; `true` when it was acknowledged with a 200.
async fn send(http: &reqwest::Client, port: u16, body: &str) -> bool {
    let now = jiff::Timestamp::now().as_second();
    http.post(format!("http://127.0.0.1:{port}/slack/interactions"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", now.to_string())
        .header("X-Slack-Signature", sign(SECRET, now, body.as_bytes()))
        .body(body.to_string())
        .send()
        .await
        .map(|r| r.status() == reqwest::StatusCode::OK)
        .unwrap_or(false)
}

/// Stored taps by delivery key prefix (Slack keys start with `action_ts:`).
async fn stored(db: &str) -> (HashMap<String, usize>, Vec<(i64, String, String)>) {
    let store = Store::connect(db).await.unwrap();
    let keys: Vec<(String,)> = sqlx::query_as("SELECT delivery_key FROM taps")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let mut by_ts = HashMap::new();
    for (key,) in keys {
        let ts = key.split(':').next().unwrap_or_default().to_string();
        *by_ts.entry(ts).or_insert(0) += 1;
    }
    // Each job's current answer beside its latest tap's.
    let answers: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT r.job_id, r.answer, (SELECT t.answer FROM taps t WHERE t.job_id = r.job_id \
         ORDER BY t.tapped_at DESC, t.id DESC LIMIT 1) FROM reports r ORDER BY r.job_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    (by_ts, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_taps_killed_halfway_stores_every_acknowledged_tap_exactly_once() {
    let (db, _dir) = database().await;
    let nudges = sent_nudges(&db).await;
    // Every participant taps TAPS_EACH times, interleaved; every fifth
    // request goes out twice.
    let mut requests: Vec<Arc<TapRequest>> = Vec::new();
    for n in 0..TAPS_EACH {
        for nudge in &nudges {
            let tap = Arc::new(tap_request(nudge, n));
            if (nudge.1 as usize + n) % 5 == 0 {
                requests.push(tap.clone());
            }
            requests.push(tap);
        }
    }
    let distinct: HashSet<&str> = requests.iter().map(|r| r.action_ts.as_str()).collect();
    let http = reqwest::Client::new();

    // The burst, 64 at a time; SIGKILL once a third is acknowledged.
    let port = free_port();
    let mut first = serve(&db, port);
    wait_healthy(&http, port).await;
    let acked_count = Arc::new(AtomicUsize::new(0));
    let burst = {
        let (http, requests, acked_count) = (http.clone(), requests.clone(), acked_count.clone());
        tokio::spawn(async move {
            stream::iter(requests)
                .map(|r| {
                    let (http, acked_count) = (http.clone(), acked_count.clone());
                    async move {
                        let ok = send(&http, port, &r.body).await;
                        if ok {
                            acked_count.fetch_add(1, Ordering::Relaxed);
                        }
                        (r, ok)
                    }
                })
                .buffer_unordered(64)
                .collect::<Vec<_>>()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked_count.load(Ordering::Relaxed) < requests.len() / 3 {
        assert!(Instant::now() < deadline, "the burst did not get going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.0.kill().unwrap(); // SIGKILL: whatever was in flight is cut off
    let _ = first.0.wait();
    let sent = burst.await.unwrap();
    let acked: Vec<&TapRequest> = sent
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(r, _)| &**r)
        .collect();
    assert!(
        !acked.is_empty() && acked.len() < requests.len(),
        "the kill came in the middle: {} of {} acknowledged",
        acked.len(),
        requests.len()
    );

    // Every acknowledged tap survived the kill, and none is stored twice.
    let (by_ts, _) = stored(&db).await;
    for tap in &acked {
        assert_eq!(
            by_ts.get(&tap.action_ts),
            Some(&1),
            "acknowledged tap {} (job {}) is stored once",
            tap.action_ts,
            tap.job
        );
    }
    assert!(by_ts.keys().all(|ts| distinct.contains(ts.as_str())));

    // After a restart, everything is sent again, as a person tapping again
    // after an error would: each tap ends stored exactly once.
    let port = free_port();
    let _second = serve(&db, port);
    wait_healthy(&http, port).await;
    let resent: Vec<bool> = stream::iter(requests.iter().cloned())
        .map(|r| {
            let http = http.clone();
            async move { send(&http, port, &r.body).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        resent.iter().all(|ok| *ok),
        "every tap acknowledged after the restart"
    );
    let (by_ts, answers) = stored(&db).await;
    assert_eq!(by_ts.len(), distinct.len(), "every tap stored");
    assert!(by_ts.values().all(|n| *n == 1), "no tap stored twice");
    // Each job kept every change, and shows its latest tap's answer.
    assert_eq!(answers.len(), PEOPLE);
    for (job, current, latest) in &answers {
        assert_eq!(
            current, latest,
            "job {job}: current answer is the latest tap's"
        );
        assert!(ANSWERS.contains(&current.as_str()));
    }
}
