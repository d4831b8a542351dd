//! Two `momentum serve` replicas on one PostgreSQL database, 2,000 nudges
//! falling due at once, one replica killed with SIGKILL halfway: every nudge
//! is delivered exactly once, counted by the local workspace. Then the same
//! with the workspace answering 429s, 500s and hangs on a share of calls.
//! Runs when MOMENTUM_TEST_DATABASE_URL points at PostgreSQL.

use momentum::app::App;
use momentum::chat::Chats;
use momentum::clock::{Clock, SystemClock};
use momentum::crypto::SecretKey;
use momentum::store::Store;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_momentum");
const KEY: &str = "q83vEjRbPAJz8zeDgi7hO1QJvRHNZR0aCbrb+cAtgXQ=";
const PEOPLE: usize = 2000;
/// The demo roster takes the first 22 user ids of the local workspace.
/// The seeded workspace holds the 22 people of the sample program and its HR
/// admin; `--extra-users` come after them.
const FIRST_EXTRA_USER: usize = 24;

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

async fn fresh_schema(base: &str) -> String {
    let schema = format!("replicas_{}_{}", std::process::id(), free_port());
    let admin = Store::connect(base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

fn run(db: &str, args: &[&str], env: &[(&str, String)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("MOMENTUM_DATABASE_URL", db)
        .env("MOMENTUM_SECRET_KEY", KEY);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "momentum {args:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn scenario(faults: Option<&str>) {
    let Ok(base) = std::env::var("MOMENTUM_TEST_DATABASE_URL") else {
        eprintln!("skipped: set MOMENTUM_TEST_DATABASE_URL to a PostgreSQL database to run the replica test");
        return;
    };
    let db = fresh_schema(&base).await;
    let sim_port = free_port();
    let ports = [free_port(), free_port()];
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let slack = vec![
        ("SLACK_API_URL", format!("{sim_url}/api")),
        ("SLACK_BOT_TOKEN", "xoxb-replicas".to_string()),
        ("SLACK_SIGNING_SECRET", "replicas-secret".to_string()),
        ("SLACK_RATE_LIMITS", "off".to_string()),
        ("MOMENTUM_LEASE_SECONDS", "4".to_string()),
        ("MOMENTUM_RETRY_BASE_SECONDS", "1".to_string()),
    ];
    let mut sim = Command::new(BIN);
    sim.args([
        "sim",
        "--listen",
        &format!("127.0.0.1:{sim_port}"),
        "--service-url",
        &format!("http://127.0.0.1:{}", ports[0]),
        "--extra-users",
        &PEOPLE.to_string(),
        "--latency-ms",
        "40",
        "--metadata-events",
    ])
    .env("SLACK_BOT_TOKEN", "xoxb-replicas")
    .env("SLACK_SIGNING_SECRET", "replicas-secret")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(f) = faults {
        sim.args(["--faults-json", f]);
    }
    let _sim = Killed(sim.spawn().unwrap());
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http
        .get(format!("{sim_url}/_sim/stats"))
        .send()
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the local workspace did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A program whose one nudge falls due for everyone right now.
    run(
        &db,
        &["org", "create", "--name", "Acme", "--time-zone", "UTC"],
        &[],
    );
    // The local workspace's people live in Prague: the nudge falls due now
    // there (whatever the hour in UTC).
    let prague = jiff::tz::TimeZone::get("Europe/Prague").unwrap();
    let now = jiff::Timestamp::now().to_zoned(prague.clone());
    let people: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"chat": format!("slack:T0SIMTEAM1/U{:08}", FIRST_EXTRA_USER + i)}))
        .collect();
    let program = json!({
        "version": 1,
        "program": {
            "key": "load", "name": "Load", "time_zone": "Europe/Prague", "welcome": false,
            "session_confirmation": false,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "send_window_hours": 6,
            "sessions": [{"number": 1, "planned": now.date().to_string()}],
            "nudges": [{"kind": "small_step", "days_after_session": 0, "at": now.strftime("%H:%M").to_string()}],
        },
        "participants": people,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("load.json");
    std::fs::write(&file, program.to_string()).unwrap();
    run(&db, &["program", "apply", file.to_str().unwrap()], &slack);

    // Every participant completed session 1 today: 2,000 jobs, all due.
    let store = Store::connect(&db).await.unwrap();
    let org = store.orgs().await.unwrap().remove(0);
    let program_row = store.program_by_key(org.id, "load").await.unwrap().unwrap();
    let ids = store
        .active_participant_ids(org.id, program_row.id)
        .await
        .unwrap();
    let rows: Vec<_> = ids.iter().map(|id| (*id, 1u32, now.date())).collect();
    store
        .import_completed_sessions(org.id, &rows, "import", SystemClock.now())
        .await
        .unwrap();
    let app = App::new(
        store.clone(),
        Arc::new(SystemClock),
        Chats::default(),
        SecretKey::generate(),
    );
    let at_midnight = App::new(
        store.clone(),
        Arc::new(momentum::clock::VirtualClock::new(
            now.date().to_zoned(prague.clone()).unwrap().timestamp(),
        )),
        Chats::default(),
        SecretKey::generate(),
    );
    let planned = at_midnight
        .replan_program(org.id, program_row.id)
        .await
        .unwrap();
    assert_eq!(planned.added as usize, PEOPLE);
    drop(app);

    let serve = |port: u16| {
        let mut c = Command::new(BIN);
        c.arg("serve")
            .env("MOMENTUM_DATABASE_URL", &db)
            .env("MOMENTUM_SECRET_KEY", KEY)
            .env("MOMENTUM_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &slack {
            c.env(k, v);
        }
        Killed(c.spawn().unwrap())
    };
    let _a = serve(ports[0]);
    let mut b = serve(ports[1]);

    let stats = |http: reqwest::Client| {
        let url = format!("{sim_url}/_sim/stats");
        async move { http.get(url).send().await.ok()?.json::<Value>().await.ok() }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = stats(http.clone()).await.unwrap_or_default();
        if s["jobs"].as_u64().unwrap_or(0) >= (PEOPLE / 2) as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "halfway not reached: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.0.kill().unwrap(); // SIGKILL: no shutdown, leases left behind
    let _ = b.0.wait();

    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'leased') AND purpose NOT IN ('reminder', 'digest')")
                .fetch_one(store.pool())
                .await
                .unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} jobs still not delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = stats(http.clone()).await.unwrap();
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs WHERE purpose NOT IN ('reminder', 'digest') GROUP BY state",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(states, vec![("sent".to_string(), PEOPLE as i64)], "{s}");
    // A send plans one reminder (two days later), whichever replica sent it:
    // never two for the same nudge.
    let (reminders, reminded): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT reminds_job_id) FROM jobs WHERE purpose = 'reminder' AND state = 'pending'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(reminders, reminded);
    assert!(
        reminders > (PEOPLE as i64) * 9 / 10,
        "{reminders} reminders planned"
    );
    assert_eq!(s["jobs"], PEOPLE, "every nudge delivered: {s}");
    assert_eq!(s["messages"], PEOPLE, "no message twice: {s}");
    assert_eq!(s["duplicated_jobs"], json!([]), "{s}");
    eprintln!("replicas: {s}");
}

/// One test, so the two scenarios run one after the other (each starts a
/// workspace and two replicas; in parallel they would share two cores).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_one_killed_halfway_deliver_every_nudge_exactly_once_even_with_faults() {
    scenario(None).await;
    let faults = json!([
        {"method": "chat.postMessage", "share": 0.05, "kind": "rate_limited", "retry_after": 1},
        {"method": "chat.postMessage", "share": 0.03, "kind": "server_error", "after": false},
        {"method": "chat.postMessage", "share": 0.02, "kind": "server_error", "after": true},
        {"method": "chat.postMessage", "share": 0.01, "kind": "hang", "seconds": 12, "after": true},
    ]);
    scenario(Some(&faults.to_string())).await;
}
