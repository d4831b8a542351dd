//! The `momentum` binary as a newcomer and an operator use it: validating
//! files, applying them atomically, and `serve` pointed at `sim` as separate
//! processes, like a real deployment.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_momentum");
const BAD: &str = "tests/fixtures/bad_program.yaml";
const GOOD: &str = "examples/program.yaml";
const KEY: &str = "q83vEjRbPAJz8zeDgi7hO1QJvRHNZR0aCbrb+cAtgXQ=";

fn momentum(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "MOMENTUM_DATABASE_URL",
            format!("sqlite://{}", dir.join("m.db").display()),
        )
        .env("MOMENTUM_SECRET_KEY", KEY);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `momentum org create` for the organisation every CLI test works in.
fn create_acme(dir: &Path) {
    let out = momentum(
        dir,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--time-zone",
            "Europe/Prague",
            "--slack-team",
            "T0SIMTEAM1",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn check_config_reports_every_mistake_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = momentum(dir.path(), &["check-config", GOOD, BAD], &[]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("examples/program.yaml: ok"), "{t}");
    assert!(t.contains("6 problems"), "{t}");
    for path in [
        "program.time_zone:",
        "program.nudges[0].at:",
        "program.nudges[1].days_after_session:",
        "program.nudges[2].sessions[0]:",
        "participants[1]:",
        "program.colour:",
    ] {
        assert!(t.contains(path), "{path} missing:\n{t}");
    }
    let out = momentum(dir.path(), &["check-config", GOOD], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn an_invalid_file_applied_through_the_cli_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let out = momentum(dir.path(), &["program", "apply", BAD], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("program.nudges[0].at"),
        "{}",
        text(&out)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let programs: i64 = rt.block_on(async {
        let store = momentum::store::Store::connect(&format!(
            "sqlite://{}",
            dir.path().join("m.db").display()
        ))
        .await
        .unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM programs")
            .fetch_one(store.pool())
            .await
            .unwrap()
    });
    assert_eq!(programs, 0);
}

#[test]
fn serve_refuses_to_start_without_a_secret_key_and_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env(
            "MOMENTUM_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("m.db").display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("head -c 32 /dev/urandom | base64"),
        "{}",
        text(&out)
    );
    let out = momentum(
        dir.path(),
        &["serve"],
        &[("MOMENTUM_SECRET_KEY", "too-short".into())],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("MOMENTUM_SECRET_KEY"), "{}", text(&out));
}

/// Prints the service's log if the test fails, to see why.
struct ShowLog(std::path::PathBuf);

impl Drop for ShowLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- serve log ---\n{}",
                std::fs::read_to_string(&self.0).unwrap_or_default()
            );
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `momentum serve` with SLACK_API_URL pointing at `momentum sim`, as the
/// README describes: apply a program, report a session, receive the nudge in
/// the workspace, tap it, see it recorded.
#[test]
fn serve_pointed_at_sim_works_like_a_real_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, service_port) = (free_port(), free_port());
    let service_url = format!("http://127.0.0.1:{service_port}");
    let sim_api = format!("http://127.0.0.1:{sim_port}/api");
    let secret = "e2e-signing-secret".to_string();
    let slack_env = vec![
        ("SLACK_API_URL", sim_api.clone()),
        ("SLACK_BOT_TOKEN", "xoxb-e2e".to_string()),
        ("SLACK_SIGNING_SECRET", secret.clone()),
        ("MOMENTUM_LISTEN", format!("127.0.0.1:{service_port}")),
    ];
    let mut sim = Command::new(BIN);
    sim.args([
        "sim",
        "--listen",
        &format!("127.0.0.1:{sim_port}"),
        "--service-url",
        &service_url,
    ])
    .env("SLACK_SIGNING_SECRET", &secret)
    .env("SLACK_BOT_TOKEN", "xoxb-e2e")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut sim = Killed(sim.spawn().unwrap());
    let mut out = BufReader::new(sim.0.stdout.take().unwrap());
    let mut first_line = String::new();
    out.read_line(&mut first_line).unwrap();
    assert!(first_line.contains("local Slack workspace"), "{first_line}");
    // Keep reading so the simulator never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));

    let out = momentum(
        dir.path(),
        &["org", "create", "--name", "Acme", "--time-zone", "UTC"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));

    // A one-person program whose nudge is due right now, in UTC.
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let program = format!(
        "version: 1\nprogram:\n  key: e2e\n  name: E2E\n  time_zone: UTC\n  working_days: [mon, tue, wed, thu, fri, sat, sun]\n  \
         sessions:\n    - {{ number: 1, planned: {date} }}\n  nudges:\n    - {{ kind: small_step, days_after_session: 0, at: \"{hm}\" }}\n\
         participants:\n  - {{ email: jana.novakova@acme.example, time_zone: UTC }}\n",
        date = now.date(),
        hm = now.strftime("%H:%M"),
    );
    let file = dir.path().join("e2e.yaml");
    std::fs::write(&file, program).unwrap();
    let out = momentum(
        dir.path(),
        &["program", "apply", file.to_str().unwrap()],
        &slack_env,
    );
    assert!(out.status.success(), "{}", text(&out));
    let applied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        applied["unresolved"],
        json!([]),
        "the email resolved through users.lookupByEmail"
    );
    let out = momentum(
        dir.path(),
        &[
            "token",
            "create",
            "--scope",
            "sessions:write",
            "--name",
            "webhook",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let mut serve = Command::new(BIN);
    serve
        .arg("serve")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "MOMENTUM_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("m.db").display()),
        )
        .env("MOMENTUM_SECRET_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap());
    for (k, v) in &slack_env {
        serve.env(k, v);
    }
    let _serve = Killed(serve.spawn().unwrap());
    let http = reqwest::blocking::Client::new();
    let log = dir.path().join("serve.log");
    let _show_log_on_failure = ShowLog(log);
    wait_for("the service", || {
        http.get(format!("{service_url}/healthz"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });

    let resp = http
        .post(format!("{service_url}/api/v1/programs/e2e/sessions"))
        .bearer_auth(&token)
        .json(&json!({"participant": {"email": "jana.novakova@acme.example"}, "session": 1, "completed_on": now.date().to_string(), "external_id": "e2e-1"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);

    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let message = wait_for("the nudge in the workspace", || {
        let msgs: Value = http
            .get(format!("{sim_url}/_sim/messages"))
            .send()
            .ok()?
            .json()
            .ok()?;
        msgs.as_array()?.first().cloned()
    });
    let user = format!(
        "U{}",
        message["channel"].as_str().unwrap().trim_start_matches('D')
    );
    let tap: Value = http
        .post(format!("{sim_url}/_sim/tap"))
        .json(&json!({"user": user, "channel": message["channel"], "ts": message["ts"], "action_id": "step:pick:0"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(tap["status"], 200, "{tap}");
    wait_for("the message to show the step she picked", || {
        let msgs: Value = http
            .get(format!("{sim_url}/_sim/messages"))
            .send()
            .ok()?
            .json()
            .ok()?;
        let m = msgs.as_array()?.first()?.clone();
        m["content"]["blocks"]
            .to_string()
            .contains("Your step: *")
            .then_some(())
    });
}

#[test]
fn the_committed_slack_manifest_is_what_the_command_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = momentum(
        dir.path(),
        &[
            "slack-manifest",
            "--base-url",
            "https://momentum.example.com",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("slack/manifest.example.yaml"),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "regenerate it: momentum slack-manifest --base-url https://momentum.example.com > slack/manifest.example.yaml"
    );
    let refused = momentum(
        dir.path(),
        &[
            "slack-manifest",
            "--base-url",
            "http://momentum.example.com",
        ],
        &[],
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("https://"), "{}", text(&refused));
}

#[test]
fn erase_removes_a_person_and_says_so_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let applied = momentum(dir.path(), &["program", "apply", GOOD], &[]);
    assert!(applied.status.success(), "{}", text(&applied));
    let out = momentum(
        dir.path(),
        &["erase", "--email", "eva.cerna@acme.example"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("erased: 1 participations"),
        "{}",
        text(&out)
    );
    let again = momentum(
        dir.path(),
        &["erase", "--email", "eva.cerna@acme.example"],
        &[],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("nobody by"), "{}", text(&again));
    let neither = momentum(dir.path(), &["erase"], &[]);
    assert!(!neither.status.success());
}

#[test]
fn backup_copies_the_sqlite_database_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let copy = dir.path().join("copy.db");
    let out = momentum(dir.path(), &["backup", copy.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    // The copy is a working database.
    let listed = Command::new(BIN)
        .args(["org", "list"])
        .env_clear()
        .env(
            "MOMENTUM_DATABASE_URL",
            format!("sqlite://{}", copy.display()),
        )
        .env("MOMENTUM_SECRET_KEY", KEY)
        .output()
        .unwrap();
    assert!(text(&listed).contains("Acme"), "{}", text(&listed));
    let again = momentum(dir.path(), &["backup", copy.to_str().unwrap()], &[]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("never overwrites"),
        "{}",
        text(&again)
    );
}

/// As the container runs it: not root, the working directory read-only,
/// one writable data directory. Needs root to switch user (CI runs as
/// root); elsewhere it says it was skipped.
#[test]
fn runs_as_a_non_root_user_with_a_read_only_working_directory_and_one_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if !root || !setpriv {
        eprintln!("skipped: switching to a non-root user needs root and setpriv");
        return;
    }
    let top = tempfile::tempdir().unwrap();
    let (bin, work, data) = (
        top.path().join("bin"),
        top.path().join("work"),
        top.path().join("data"),
    );
    for d in [&bin, &work, &data] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::copy(BIN, bin.join("momentum")).unwrap();
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(top.path(), 0o755);
    mode(&bin, 0o555);
    mode(&work, 0o555); // read-only for everyone but root, who owns it
    let owned = Command::new("chown")
        .args(["65534:65534", data.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(owned.success());
    mode(&data, 0o700);
    let as_nobody = |args: &[&str]| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin.join("momentum"))
            .args(args)
            .current_dir(&work)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env(
                "MOMENTUM_DATABASE_URL",
                format!("sqlite://{}", data.join("momentum.db").display()),
            )
            .env("MOMENTUM_SECRET_KEY", KEY);
        cmd
    };
    let out = as_nobody(&["org", "create", "--name", "Acme"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let port = free_port();
    let serve = Killed(
        as_nobody(&["serve"])
            .env("MOMENTUM_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let health = wait_for("healthz as nobody", || {
        reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthz"))
            .ok()
            .filter(|r| r.status() == 200)
    });
    assert_eq!(health.status(), 200);
    let ready = reqwest::blocking::get(format!("http://127.0.0.1:{port}/readyz"))
        .unwrap()
        .text()
        .unwrap();
    assert!(!ready.contains("database"), "the database works: {ready}");
    drop(serve);
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "nothing written outside the data directory"
    );
    assert!(data.join("momentum.db").exists());
}

#[test]
fn admin_login_link_prints_a_one_time_console_link_for_an_admin_only() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let public = [(
        "MOMENTUM_PUBLIC_URL",
        "https://momentum.acme.example".to_string(),
    )];
    let link_for = |who: &str| {
        momentum(
            dir.path(),
            &["admin", "login-link", "--org", "Acme", "--for", who],
            &public,
        )
    };
    // Nobody is an admin yet: refused, and it says how to grant.
    let out = link_for("klara.vesela@acme.example");
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("--for: klara.vesela@acme.example is neither an organisation admin")
            && t.contains("momentum admin grant"),
        "{t}"
    );
    // Without --for there is no link.
    let out = momentum(
        dir.path(),
        &["admin", "login-link", "--org", "Acme"],
        &public,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("--for"), "{}", text(&out));

    let out = momentum(
        dir.path(),
        &["admin", "grant", "--org", "Acme", "--email", "not-an-email"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--email: \"not-an-email\" is not an email"),
        "{}",
        text(&out)
    );
    let out = momentum(
        dir.path(),
        &["admin", "grant", "--org", "Acme", "--chat", "slack:nope"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--chat:"), "{}", text(&out));
    let out = momentum(
        dir.path(),
        &[
            "admin",
            "grant",
            "--org",
            "Acme",
            "--email",
            "Klara.Vesela@acme.example",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = momentum(dir.path(), &["admin", "list", "--org", "Acme"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains("klara.vesela@acme.example\tcli\t"),
        "{listed}"
    );

    let out = link_for("klara.vesela@acme.example");
    assert!(out.status.success(), "{}", text(&out));
    let link = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        link.starts_with("https://momentum.acme.example/admin/login?token=") && link.len() > 100,
        "{link}"
    );

    let revoke = || {
        momentum(
            dir.path(),
            &[
                "admin",
                "revoke",
                "--org",
                "Acme",
                "--email",
                "klara.vesela@acme.example",
            ],
            &[],
        )
    };
    let out = revoke();
    assert!(out.status.success(), "{}", text(&out));
    let out = revoke();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("is not an organisation admin"));
    let out = momentum(dir.path(), &["admin", "list", "--org", "Acme"], &[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
    assert_eq!(link_for("klara.vesela@acme.example").status.code(), Some(1));
}

#[test]
fn a_token_for_some_programs_names_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let token = |programs: &str| {
        momentum(
            dir.path(),
            &["token", "create", "--org", "Acme", "--programs", programs],
            &[],
        )
    };
    let out = token("leaders-2026");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--programs: there is no program \"leaders-2026\""),
        "{}",
        text(&out)
    );
    let out = momentum(
        dir.path(),
        &["program", "apply", GOOD, "--org", "Acme"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = token("leaders-2026");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("programs leaders-2026"),
        "{}",
        text(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim()
        .starts_with("mtm_"));
}

/// Slack unreachable at start (a network blip, Slack's outage) must not be
/// a crash loop: `serve` starts, `/readyz` names the connection, and once
/// the workspace answers the waiting nudge goes out, once. A token Slack
/// refuses still stops the start, said as a refusal.
#[test]
fn serve_started_before_the_workspace_sends_once_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, service_port) = (free_port(), free_port());
    let service_url = format!("http://127.0.0.1:{service_port}");
    let secret = "late-signing-secret";
    let slack_env = vec![
        ("SLACK_API_URL", format!("http://127.0.0.1:{sim_port}/api")),
        ("SLACK_BOT_TOKEN", "xoxb-late".to_string()),
        ("SLACK_SIGNING_SECRET", secret.to_string()),
        ("MOMENTUM_LISTEN", format!("127.0.0.1:{service_port}")),
        ("MOMENTUM_RETRY_BASE_SECONDS", "1".to_string()),
    ];
    let teams_env = {
        use momentum::chat::sim::botframework::{APP_ID, APP_PASSWORD, TENANT};
        vec![
            ("MICROSOFT_APP_ID", APP_ID.to_string()),
            ("MICROSOFT_APP_PASSWORD", APP_PASSWORD.to_string()),
            ("MICROSOFT_APP_TENANT_ID", TENANT.to_string()),
            (
                "MOMENTUM_TEAMS_LOGIN_URL",
                format!("http://127.0.0.1:{sim_port}/botframework"),
            ),
        ]
    };
    let both: Vec<(&str, String)> = slack_env.iter().chain(&teams_env).cloned().collect();
    let out = momentum(
        dir.path(),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--time-zone",
            "UTC",
            "--slack-team",
            "T0SIMTEAM1",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let program = format!(
        "version: 1\nprogram:\n  key: late\n  name: Late\n  time_zone: UTC\n  welcome: false\n  working_days: [mon, tue, wed, thu, fri, sat, sun]\n  \
         sessions:\n    - {{ number: 1, planned: {date} }}\n  nudges:\n    - {{ kind: small_step, days_after_session: 0, at: \"{hm}\" }}\n\
         participants:\n  - {{ chat: \"slack:T0SIMTEAM1/U00000001\", time_zone: UTC }}\n",
        date = now.date(),
        hm = now.strftime("%H:%M"),
    );
    let file = dir.path().join("late.yaml");
    std::fs::write(&file, program).unwrap();
    // A command that needs Slack now says it cannot reach it (not "refused").
    let out = momentum(
        dir.path(),
        &["program", "apply", file.to_str().unwrap()],
        &slack_env,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("could not be reached"),
        "{}",
        text(&out)
    );
    let out = momentum(
        dir.path(),
        &["program", "apply", file.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = momentum(
        dir.path(),
        &[
            "token",
            "create",
            "--scope",
            "sessions:write",
            "--name",
            "webhook",
        ],
        &[],
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let serve = |env: &[(&str, String)], log: &str| {
        let mut serve = Command::new(BIN);
        serve
            .arg("serve")
            .env(
                "MOMENTUM_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("m.db").display()),
            )
            .env("MOMENTUM_SECRET_KEY", KEY)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(log)).unwrap());
        for (k, v) in env {
            serve.env(k, v);
        }
        serve
    };
    let _serve = Killed(serve(&both, "serve.log").spawn().unwrap());
    let _show_log_on_failure = ShowLog(dir.path().join("serve.log"));
    let http = reqwest::blocking::Client::new();
    let ready = || {
        http.get(format!("{service_url}/readyz"))
            .send()
            .ok()
            .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
    };
    let (status, why) = wait_for("the service without Slack", ready);
    assert_eq!(status, 503, "{why}");
    assert!(
        why.contains("Slack (SLACK_BOT_TOKEN): not reachable yet")
            && why.contains("Teams (MICROSOFT_APP_ID): not reachable yet"),
        "{why}"
    );
    // The session arrives while Slack is away: its nudge waits.
    let resp = http
        .post(format!("{service_url}/api/v1/programs/late/sessions"))
        .bearer_auth(&token)
        .json(&json!({"participant": {"chat": "slack:T0SIMTEAM1/U00000001"}, "session": 1, "completed_on": now.date().to_string()}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    std::thread::sleep(Duration::from_secs(2));

    // Slack comes back.
    let mut sim = Command::new(BIN);
    sim.args([
        "sim",
        "--listen",
        &format!("127.0.0.1:{sim_port}"),
        "--service-url",
        &service_url,
    ])
    .env("SLACK_SIGNING_SECRET", secret)
    .env("SLACK_BOT_TOKEN", "xoxb-late")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let _sim = Killed(sim.spawn().unwrap());
    wait_for("/readyz to turn ready", || {
        ready().filter(|(s, _)| *s == 200)
    });
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let messages = || -> Option<Vec<Value>> {
        http.get(format!("{sim_url}/_sim/messages"))
            .send()
            .ok()?
            .json::<Value>()
            .ok()?
            .as_array()
            .cloned()
    };
    let sent = wait_for("the waiting nudge", || messages().filter(|m| !m.is_empty()));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["channel"], "D00000001");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(messages().unwrap().len(), 1, "sent once");

    // A token the workspace refuses stops the start with that said.
    let mut wrong = slack_env.clone();
    wrong[1].1 = "xoxb-not-this-one".into();
    wrong[3].1 = format!("127.0.0.1:{}", free_port());
    let out = serve(&wrong, "wrong.log").output().unwrap();
    assert!(!out.status.success());
    let log = std::fs::read_to_string(dir.path().join("wrong.log")).unwrap();
    assert!(log.contains("SLACK_BOT_TOKEN was refused"), "{log}");
    let mut wrong: Vec<(&str, String)> = both.clone();
    wrong[3].1 = format!("127.0.0.1:{}", free_port());
    wrong[6].1 = "not-the-password".into();
    let out = serve(&wrong, "wrong-teams.log").output().unwrap();
    assert!(!out.status.success());
    let log = std::fs::read_to_string(dir.path().join("wrong-teams.log")).unwrap();
    assert!(log.contains("MICROSOFT_APP_PASSWORD were refused"), "{log}");
}

#[test]
fn rotate_key_rekeys_the_data_and_rewraps_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    create_acme(dir.path());
    let out = momentum(dir.path(), &["rotate-key"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--new-key"), "{}", text(&out));
    let out = momentum(dir.path(), &["rotate-key", "--data", "--batch", "0"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--batch"), "{}", text(&out));
    let rekey = ["rotate-key", "--data", "--settle-seconds", "0"];
    let out = momentum(dir.path(), &rekey, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("re-keyed the data of 1 organisations"),
        "{}",
        text(&out)
    );
    let new = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let out = momentum(dir.path(), &["rotate-key", "--new-key", new], &[]);
    assert!(out.status.success(), "{}", text(&out));
    // The old key opens nothing now; the new one does.
    let out = momentum(dir.path(), &rekey, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("encryption key"), "{}", text(&out));
    let out = momentum(
        dir.path(),
        &rekey,
        &[("MOMENTUM_SECRET_KEY", new.to_string())],
    );
    assert!(out.status.success(), "{}", text(&out));
}
