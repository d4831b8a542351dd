//! `spawn_app()`: the whole service on a random port, against the local
//! workspace, on SQLite — or on PostgreSQL when MOMENTUM_TEST_DATABASE_URL is
//! set (each test in its own schema). Time is a virtual clock.

use momentum::app::{App, Scope};
use momentum::chat::sim::{botframework, SimConfig, SimWorkspace};
use momentum::chat::slack::SlackOptions;
use momentum::chat::Chats;
use momentum::clock::{SharedClock, VirtualClock};
use momentum::config::{GraphConsent, Settings, SlackSettings, TeamsConfig};
use momentum::crypto::SecretKey;
use momentum::domain::bookings::FeedUrl;
use momentum::feeds::{FeedError, FeedSource};
use momentum::scheduler::{DispatchStats, Dispatcher};
use momentum::startup::service::{self, Overrides};
use momentum::startup::Running;
use momentum::store::{Org, Store};
use serde_json::Value;
use std::sync::Arc;

/// The organisation admin the console tests sign in as (not in any program).
pub const ORG_ADMIN: &str = "hr.lead@acme.example";

/// Monday 2026-09-07, 07:00 in Prague.
pub const START: &str = "2026-09-07T05:00:00Z";

pub struct TestApp {
    pub url: String,
    pub sim: SimWorkspace,
    pub app: Arc<App>,
    pub store: Store,
    pub clock: VirtualClock,
    pub org: Org,
    pub admin_token: String,
    pub http: reqwest::Client,
    pub dispatcher: Dispatcher,
    /// The bookings feeds the service reads, by address.
    pub feeds: Arc<MemoryFeeds>,
    /// What the service was started with.
    pub settings: Settings,
    _running: Running,
    _dir: tempfile::TempDir,
}

/// Bookings feeds served from memory: the service's own fetcher refuses
/// loopback addresses (and plain http), so the tests hand the app this one
/// in code. `reads` counts the fetches.
#[derive(Default)]
pub struct MemoryFeeds {
    texts: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub reads: std::sync::atomic::AtomicUsize,
}

impl MemoryFeeds {
    /// Serves `text` at `url` from now on.
    pub fn serve(&self, url: &str, text: &str) {
        self.texts
            .lock()
            .unwrap()
            .insert(url.to_string(), text.to_string());
    }
}

#[async_trait::async_trait]
impl FeedSource for MemoryFeeds {
    async fn fetch(&self, feed: &FeedUrl) -> Result<String, FeedError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.texts
            .lock()
            .unwrap()
            .get(feed.as_str())
            .cloned()
            .ok_or_else(|| FeedError::Failed(format!("{} answered 404", feed.host())))
    }
}

/// A database URL for one test: a fresh SQLite file, or a fresh schema in
/// the PostgreSQL test database.
pub async fn test_database(dir: &std::path::Path) -> String {
    match std::env::var("MOMENTUM_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("t{}", uuid_like());
            let store = Store::connect(&base)
                .await
                .expect("PostgreSQL test database reachable");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(store.pool())
                .await
                .expect("create test schema");
            store.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        _ => format!("sqlite://{}", dir.join("test.db").display()),
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:x}", rng.gen_range(0..16)))
        .collect()
}

/// The Slack client as most tests want it: no pacing (the local workspace
/// has no limits unless a test switches them on) and a short timeout.
pub fn fast_slack() -> SlackOptions {
    SlackOptions {
        limits: None,
        timeout: std::time::Duration::from_secs(2),
    }
}

/// The bearer token every test service wants on `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-scrape-token";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(fast_slack()).await
}

pub async fn spawn_app_with(slack_options: SlackOptions) -> TestApp {
    spawn(slack_options, false, false, None, true).await
}

/// The service reaching PostgreSQL through `proxy` (host:port), so that a
/// test can cut the database connection; `None` on SQLite.
pub async fn spawn_app_through(proxy: &str) -> Option<TestApp> {
    std::env::var("MOMENTUM_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    Some(spawn(fast_slack(), false, false, Some(proxy.to_string()), true).await)
}

/// Where the PostgreSQL test server listens, when the suite runs on it.
pub fn postgres_address() -> Option<String> {
    let url = std::env::var("MOMENTUM_TEST_DATABASE_URL").ok()?;
    let parsed = url::Url::parse(&url).ok()?;
    Some(format!(
        "{}:{}",
        parsed.host_str()?,
        parsed.port().unwrap_or(5432)
    ))
}

/// The service with Microsoft Graph consented for the Teams tenant: emails
/// resolve through Graph and the app is installed for enrolled people.
pub async fn spawn_app_with_graph() -> TestApp {
    spawn(fast_slack(), false, true, None, true).await
}

/// The service receiving over Socket Mode: the local workspace sends every
/// tap, command and event as an envelope on the WebSocket instead of HTTP.
pub async fn spawn_app_socket() -> TestApp {
    spawn(fast_slack(), true, false, None, true).await
}

/// The service resolving people given by email only in the background
/// (never before applying answers), with Slack's pace `limits` on the client
/// (`None`: unpaced): tests of the resolver drive it with `resolve`.
pub async fn spawn_app_resolving_later(
    limits: Option<momentum::chat::slack::limits::SlackLimits>,
) -> TestApp {
    let options = SlackOptions {
        limits,
        ..fast_slack()
    };
    spawn(options, false, false, None, false).await
}

/// The service as `serve` wires it (`startup::service::start`), from the
/// settings an operator would give it for the local workspace: Slack by bot
/// token with OAuth install and sign-in, a single-tenant Teams bot; the
/// organisation created beforehand, as `momentum org create` does, so that
/// the service links the Slack workspace and the Teams tenant to it. Only
/// the clock, the Slack client's pace and timeout, the bookings feeds and
/// the background loops are the test's own.
async fn spawn(
    slack_options: SlackOptions,
    socket: bool,
    graph: bool,
    database_via: Option<String>,
    resolve_inline: bool,
) -> TestApp {
    let org_name = "Acme";
    let dir = tempfile::tempdir().unwrap();
    let mut url = test_database(dir.path()).await;
    if let (Some(via), Some(direct)) = (database_via, postgres_address()) {
        url = url.replacen(&direct, &via, 1);
    }
    // The test's own handle on the database, to look at what was stored.
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let clock = VirtualClock::new(START.parse().unwrap());
    let shared: SharedClock = Arc::new(clock.clone());
    let key = SecretKey::generate();
    let org = App::new(store.clone(), shared.clone(), Chats::default(), key.clone())
        .create_org(org_name, "Europe/Prague", "en")
        .await
        .unwrap();
    let sim = SimWorkspace::new(SimConfig::default(), shared.clone());
    momentum::demo::seed_workspace(&sim);
    let (sim_addr, _) = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // OAuth's redirect URL names the service's address: take a free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public_url = format!("http://127.0.0.1:{port}");
    let settings = Settings {
        database_url: url,
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        secret_key: None,
        public_url: Some(public_url.clone()),
        slack: SlackSettings {
            signing_secret: Some(sim.config.signing_secret.clone()),
            bot_token: Some(sim.config.bot_token.clone()),
            api_url: format!("http://{sim_addr}/api"),
            rate_limits: false,
            client_id: Some(sim.config.client_id.clone()),
            client_secret: Some(sim.config.client_secret.clone()),
            authorize_url: format!("http://{sim_addr}/oauth/v2/authorize"),
            app_token: socket.then(|| sim.config.app_token.clone()),
        },
        lease_seconds: 120,
        retry_base_seconds: 30,
        retention_days: 365,
        teams: Some(TeamsConfig {
            app_id: botframework::APP_ID.into(),
            app_password: botframework::APP_PASSWORD.into(),
            tenant_id: Some(botframework::TENANT.into()),
            multi_tenant: false,
            login_url: Some(sim.teams_login_url()),
            openid_metadata_url: Some(sim.teams_openid_metadata_url()),
            service_url: Some(sim.teams_service_url()),
            graph_url: Some(sim.teams_graph_url()),
            graph: if graph {
                GraphConsent::Install
            } else {
                GraphConsent::Off
            },
            public_url: Some(public_url),
        }),
        metrics_token: Some(METRICS_TOKEN.into()),
    };
    let feeds = Arc::new(MemoryFeeds::default());
    let running = service::start(
        &settings,
        key,
        Overrides {
            clock: shared,
            slack: Some(slack_options),
            feeds: Some(feeds.clone()),
            inline_resolution: Some(
                resolve_inline.then_some(momentum::app::INLINE_RESOLUTION_BUDGET),
            ),
            background: false,
        },
    )
    .await
    .unwrap();
    let app = running.app.clone();
    let admin_token = app
        .create_token(org.id, "test", Scope::Admin)
        .await
        .unwrap();
    let url = running.url();
    sim.set_service_url(&url);
    if socket {
        sim.use_socket_mode(true);
        for _ in 0..200 {
            if sim.socket_connections() > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(sim.socket_connections() > 0, "Socket Mode did not connect");
    }
    TestApp {
        url,
        sim,
        dispatcher: Dispatcher::new(app.clone()),
        feeds,
        settings,
        app,
        store,
        clock,
        org,
        admin_token,
        http: reqwest::Client::new(),
        _running: running,
        _dir: dir,
    }
}

/// The sample program without its self-assessment pulses, so that a test of
/// nudges counts nudges (`PROGRAM_WITH_PULSES` has them).
pub static PROGRAM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut out = String::new();
    let mut skipping = false;
    for line in PROGRAM_WITH_PULSES.lines() {
        if line.starts_with("  self_assessment:") {
            skipping = true;
            continue;
        }
        if skipping && line.starts_with("    ") {
            continue;
        }
        skipping = false;
        out.push_str(line);
        out.push('\n');
    }
    out
});

/// The sample program with its self-assessments; without the welcome on
/// enrolment, the monthly pulse question and the question whether a session
/// happened, so that tests count the messages they are about
/// (`PROGRAM_WITH_WELCOME` has them all).
pub static PROGRAM_WITH_PULSES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    PROGRAM_WITH_WELCOME
        .replace("  welcome: true ", "  welcome: false")
        .replace("  nudges:\n", &format!("{NO_SESSION_QUESTION}  nudges:\n"))
        .lines()
        .filter(|l| !l.contains("purpose: pulse"))
        .map(|l| format!("{l}\n"))
        .collect()
});

pub const PROGRAM_WITH_WELCOME: &str = momentum::demo::PROGRAM_FILE;

/// The line that turns off the question whether a session happened.
pub const NO_SESSION_QUESTION: &str = "  session_confirmation: false\n";

/// The handles of the sample program's participants (the part before @).
pub fn participant_handles() -> Vec<String> {
    PROGRAM
        .lines()
        .filter_map(|l| l.split("email: ").nth(1))
        .filter_map(|rest| rest.split('@').next())
        .map(str::to_string)
        .collect()
}

impl TestApp {
    pub async fn apply_yaml(&self, token: &str, yaml: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/programs", self.url))
            .bearer_auth(token)
            .header("Content-Type", "application/yaml")
            .body(yaml.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_session(&self, token: &str, program: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/programs/{program}/sessions", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Reports, as the coaching platform would, that a participant of the
    /// sample program (by handle) completed a session on a date.
    pub async fn complete_session(&self, handle: &str, session: u32, on: &str) {
        let body = serde_json::json!({
            "participant": {"email": format!("{handle}@acme.example")},
            "session": session,
            "completed_on": on,
        });
        let resp = self
            .post_session(&self.admin_token, "leaders-2026", body)
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }

    /// `people` (handles in the sample program) complete session 1 on
    /// Monday 7 September; their small steps go out on Tuesday at 09:30
    /// local time (Prague, London, New York). Returns how many were sent.
    pub async fn small_steps_for(&self, people: &[String]) -> usize {
        for p in people {
            self.complete_session(p, 1, "2026-09-07").await;
        }
        let mut sent = 0;
        for at in [
            "2026-09-08T07:30:00Z",
            "2026-09-08T08:30:00Z",
            "2026-09-08T13:30:00Z",
        ] {
            sent += self.advance_to(at).await.sent;
        }
        sent
    }

    /// Session 1 for `people`, then everything up to Friday's follow-ups
    /// (16:00 local in Prague, London and New York): how many follow-ups
    /// went out at those times.
    pub async fn follow_ups_for(&self, people: &[String]) -> usize {
        self.small_steps_for(people).await;
        let mut sent = 0;
        for at in [
            "2026-09-11T14:00:00Z",
            "2026-09-11T15:00:00Z",
            "2026-09-11T20:00:00Z",
        ] {
            sent += self.advance_to(at).await.sent;
        }
        sent
    }

    /// One person's row in the sample program's participant list (admin API).
    pub async fn participant_status(&self, email: &str) -> Value {
        let list: Value = self
            .get(
                &self.admin_token,
                "/api/v1/programs/leaders-2026/participants",
            )
            .await
            .json()
            .await
            .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("{email} is not in the participant list"))
    }

    /// How many of the organisation's jobs were skipped for `reason`, from
    /// the jobs' own records (HR sees only categories of composed weeks).
    pub async fn skipped(&self, reason: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND state = 'skipped' AND outcome = $2",
        )
        .bind(self.org.id.0)
        .bind(reason)
        .fetch_one(self.store.pool())
        .await
        .unwrap()
    }

    /// A one-time console login token for `who` (an email or a chat
    /// identity) in `org`.
    pub async fn login_token_for(&self, org: momentum::store::OrgId, who: &str) -> String {
        let person = momentum::domain::PersonRef::parse_short(who).unwrap();
        self.app.console_login_token(org, &person).await.unwrap()
    }

    /// `ORG_ADMIN` made an organisation admin of `org`, and a login token for them.
    pub async fn org_admin_login_token(&self, org: momentum::store::OrgId) -> String {
        let person = momentum::domain::PersonRef::parse_short(ORG_ADMIN).unwrap();
        self.app
            .grant_org_admin(org, &person, "test")
            .await
            .unwrap();
        self.login_token_for(org, ORG_ADMIN).await
    }

    pub async fn token(&self, scope: Scope) -> String {
        self.app
            .create_token(self.org.id, "test", scope)
            .await
            .unwrap()
    }

    /// Moves the virtual clock and sends everything due by then.
    pub async fn advance_to(&self, at: &str) -> DispatchStats {
        self.clock.set(at.parse().unwrap());
        self.dispatch().await
    }

    /// Runs the resolver until no one in the organisation waits for their
    /// chat identity; its rounds.
    pub async fn resolve(&self) -> Vec<momentum::app::ResolveRound> {
        self.app
            .resolve_all(self.org.id, "test-resolver")
            .await
            .unwrap()
    }

    pub async fn dispatch(&self) -> DispatchStats {
        let mut total = DispatchStats::default();
        loop {
            let s = self.dispatcher.run_once().await.unwrap();
            if s.handled() == 0 {
                return total;
            }
            total.add(s);
        }
    }

    /// `handle` types `text` as their small step on their latest
    /// small-step nudge and presses Enter; that nudge.
    pub async fn name_step(&self, handle: &str, text: &str) -> momentum::chat::sim::SimMessage {
        let user = self.user_id(handle);
        let dm = SimWorkspace::dm_channel(&user);
        let nudge = self
            .sim
            .messages_in(&dm)
            .into_iter()
            .rev()
            .find(|m| {
                m.content
                    .input()
                    .is_some_and(|i| i["element"]["action_id"] == "step:name")
            })
            .unwrap_or_else(|| panic!("no small-step nudge for {handle}"));
        let reply = self
            .sim
            .enter_text(&user, &dm, &nudge.ts, "step:name", text)
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        nudge
    }

    /// `handle`'s latest message with the one-tap report buttons (a
    /// follow-up), tapped with `action_id`.
    pub async fn report_on_follow_up(
        &self,
        handle: &str,
        action_id: &str,
    ) -> momentum::chat::sim::SimMessage {
        let user = self.user_id(handle);
        let dm = SimWorkspace::dm_channel(&user);
        let check = self
            .sim
            .messages_in(&dm)
            .into_iter()
            .rev()
            .find(|m| m.buttons().iter().any(|(id, ..)| id == action_id))
            .unwrap_or_else(|| panic!("no follow-up with {action_id} for {handle}"));
        let reply = self
            .sim
            .tap(&user, &dm, &check.ts, action_id)
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        check
    }

    pub fn user_id(&self, handle: &str) -> String {
        self.sim
            .users()
            .into_iter()
            .find(|u| u.name == handle)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no simulated user {handle}"))
    }

    /// Waits (briefly, in real time) until `check` holds: the message update
    /// after a tap runs after the tap is acknowledged.
    pub async fn eventually<F: Fn() -> bool>(&self, check: F) -> bool {
        for _ in 0..100 {
            if check() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        check()
    }

    /// Rows in a table for this test's organisation.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"))
            .bind(self.org.id.0)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    /// Every text value in every table of the test's database.
    pub async fn all_stored_text(&self) -> String {
        let tables: Vec<String> = match self.store.backend() {
            momentum::store::Backend::Sqlite => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            ),
            momentum::store::Backend::Postgres => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
            ),
        }
        .fetch_all(self.store.pool())
        .await
        .unwrap();
        let mut out = String::new();
        for table in tables {
            // Every column cast to text, whatever its type.
            let sql = match self.store.backend() {
                momentum::store::Backend::Sqlite => {
                    format!("SELECT name FROM pragma_table_info('{table}')")
                }
                momentum::store::Backend::Postgres => format!(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}'"
                ),
            };
            let columns: Vec<String> = sqlx::query_scalar(&sql)
                .fetch_all(self.store.pool())
                .await
                .unwrap();
            for c in columns {
                let values: Vec<Option<String>> =
                    sqlx::query_scalar(&format!("SELECT CAST({c} AS TEXT) FROM {table}"))
                        .fetch_all(self.store.pool())
                        .await
                        .unwrap_or_default();
                for v in values.into_iter().flatten() {
                    out.push_str(&v);
                    out.push('\n');
                }
            }
        }
        out
    }
}
