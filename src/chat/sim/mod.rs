//! The local chat workspace: a simulated Slack team that speaks Slack's wire
//! formats, so the demo, the tests and a local `momentum serve` behave as
//! against real Slack. It serves the Web API methods Momentum calls (bearer
//! token auth, Slack's `{"ok": false, "error": …}` errors), records every
//! message, and delivers taps and slash commands to the service exactly as
//! Slack does: form-encoded, signed with `X-Slack-Signature` v0.

mod api;
pub mod botframework;
mod faults;
mod graph;
mod openid;
mod outbound;
mod socket;
mod views;
mod workspaces;

pub use views::SimView;

pub use faults::{Fault, FaultKind};

pub use outbound::InboundReply;

use crate::clock::SharedClock;
use crate::domain::JobId;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone, Serialize)]
pub struct SimUser {
    pub id: String,
    /// The workspace the person belongs to.
    pub team: String,
    pub name: String,
    pub real_name: String,
    pub email: String,
    pub tz: String,
    pub locale: String,
    pub deleted: bool,
    pub is_bot: bool,
    /// The profile status ("Vacationing", ":palm_tree:", expiry in Unix seconds or 0).
    pub status_text: String,
    pub status_emoji: String,
    pub status_expiration: i64,
}

/// One version of a message's content.
#[derive(Debug, Clone, Serialize)]
pub struct SimContent {
    pub at: Timestamp,
    pub text: String,
    pub blocks: Value,
}

impl SimContent {
    /// The message's text input (an `input` block), if it has one.
    pub fn input(&self) -> Option<&Value> {
        self.blocks
            .as_array()?
            .iter()
            .find(|b| b["type"] == "input")
    }
}

/// A message only one person sees (`chat.postEphemeral`): not in the
/// channel's history, gone when they reload.
#[derive(Debug, Clone, Serialize)]
pub struct SimEphemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimMessage {
    /// The workspace whose token posted it.
    pub team: String,
    pub channel: String,
    pub ts: String,
    /// The sender's user id (the bot's, for Momentum's messages).
    pub user: String,
    /// The current content; earlier versions are in `edits`.
    pub content: SimContent,
    pub edits: Vec<SimContent>,
    /// Slack message metadata (`event_type`, `event_payload`), if posted with any.
    pub metadata: Option<Value>,
}

impl SimMessage {
    /// The buttons of the message: (action_id, label, value, selected).
    pub fn buttons(&self) -> Vec<(String, String, String, bool)> {
        let mut out = Vec::new();
        for block in self.content.blocks.as_array().into_iter().flatten() {
            for el in block["elements"].as_array().into_iter().flatten() {
                if el["type"] == "button" {
                    out.push((
                        el["action_id"].as_str().unwrap_or_default().to_string(),
                        el["text"]["text"].as_str().unwrap_or_default().to_string(),
                        el["value"].as_str().unwrap_or_default().to_string(),
                        el["style"] == "primary",
                    ));
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub team_id: String,
    pub team_name: String,
    pub bot_token: String,
    pub signing_secret: String,
    /// The app's OAuth credentials, for installs to more workspaces.
    pub client_id: String,
    pub client_secret: String,
    /// The app-level token (`xapp-`) for Socket Mode.
    pub app_token: String,
    /// Where taps and slash commands go (the service's base URL).
    pub service_url: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            team_id: "T0SIMTEAM1".into(),
            team_name: "Momentum Local".into(),
            bot_token: "xoxb-sim-local-token".into(),
            signing_secret: "sim-signing-secret".into(),
            client_id: "1111111111.2222222222".into(),
            client_secret: "sim-client-secret".into(),
            app_token: "xapp-1-A0SIMAPP-sim-app-token".into(),
            service_url: None,
        }
    }
}

pub(crate) struct SimState {
    pub users: Vec<SimUser>,
    pub channels: Vec<String>,
    pub messages: Vec<SimMessage>,
    /// Every Web API call: (method, ok).
    pub calls: Vec<(String, bool)>,
    pub service_url: Option<String>,
    pub faults: Vec<Fault>,
    /// Slack's rate limits, when switched on.
    pub limiter: Option<Arc<crate::chat::slack::limits::Limiter>>,
    /// Answers with HTTP 429 so far.
    pub rate_limited: usize,
    /// Send `message_metadata_posted` events for messages with metadata.
    pub metadata_events: bool,
    pub rng: rand::rngs::StdRng,
    last_ts: i64,
    /// Where this workspace is served (for upload URLs).
    pub own_url: Option<String>,
    /// Files uploaded with `files.getUploadURLExternal`, by id.
    pub files: Vec<SimFile>,
    /// Home tabs and modals.
    pub views: Vec<SimView>,
    pub ephemerals: Vec<SimEphemeral>,
    pub triggers: Vec<views::Trigger>,
    /// Workspaces besides the main one (id, name), their tokens and the
    /// OAuth codes handed out.
    pub teams: Vec<(String, String)>,
    pub tokens: Vec<workspaces::SimToken>,
    pub codes: Vec<workspaces::SimCode>,
    pub socket: socket::SocketState,
    /// The same workspace as Microsoft Teams (Bot Framework).
    pub bf: botframework::BfState,
    /// "Sign in with Slack": who is signed in, and the codes handed out.
    pub oidc_user: Option<String>,
    pub oidc_codes: Vec<openid::OidcCode>,
}

/// A file uploaded the way Slack requires since 2025: an upload URL, the
/// bytes posted to it, then `files.completeUploadExternal`.
#[derive(Debug, Clone, Serialize)]
pub struct SimFile {
    pub id: String,
    pub filename: String,
    pub length: usize,
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub title: Option<String>,
    pub completed: bool,
    /// Where it was shared (`channel_id` at completion), if anywhere.
    pub channel: Option<String>,
}

pub const BOT_USER_ID: &str = "U0MOMENTUM";
pub const BOT_ID: &str = "B0MOMENTUM";
pub const APP_ID: &str = "A0MOMENTUM";

/// A simulated Slack workspace. Clones share the same state.
#[derive(Clone)]
pub struct SimWorkspace {
    pub config: SimConfig,
    clock: SharedClock,
    state: Arc<Mutex<SimState>>,
    pub(crate) http: reqwest::Client,
}

impl SimWorkspace {
    pub fn new(config: SimConfig, clock: SharedClock) -> Self {
        let state = SimState {
            users: Vec::new(),
            channels: Vec::new(),
            messages: Vec::new(),
            calls: Vec::new(),
            service_url: config.service_url.clone(),
            faults: Vec::new(),
            limiter: None,
            rate_limited: 0,
            metadata_events: false,
            rng: rand::SeedableRng::seed_from_u64(1),
            last_ts: 0,
            own_url: None,
            files: Vec::new(),
            views: Vec::new(),
            ephemerals: Vec::new(),
            triggers: Vec::new(),
            teams: Vec::new(),
            tokens: Vec::new(),
            codes: Vec::new(),
            socket: Default::default(),
            bf: Default::default(),
            oidc_user: None,
            oidc_codes: Vec::new(),
        };
        Self {
            config,
            clock,
            state: Arc::new(Mutex::new(state)),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves consistent data; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Adds a person to the workspace and returns their user id.
    pub fn add_user(&self, name: &str, real_name: &str, email: &str, tz: &str) -> String {
        let team = self.config.team_id.clone();
        self.add_user_in(&team, name, real_name, email, tz)
    }

    /// Adds a person to another workspace (see `add_team`).
    pub fn add_user_in(
        &self,
        team: &str,
        name: &str,
        real_name: &str,
        email: &str,
        tz: &str,
    ) -> String {
        let mut s = self.state();
        let id = format!("U{:08}", s.users.len() + 1);
        s.users.push(SimUser {
            id: id.clone(),
            team: team.to_string(),
            name: name.into(),
            real_name: real_name.into(),
            email: email.to_lowercase(),
            tz: tz.into(),
            locale: "en-US".into(),
            deleted: false,
            is_bot: false,
            status_text: String::new(),
            status_emoji: String::new(),
            status_expiration: 0,
        });
        id
    }

    /// Sets a person's status, as they would in Slack, and tells the service
    /// with a `user_change` event. Returns false for an unknown user.
    pub fn set_status(&self, id: &str, text: &str, emoji: &str, expiration: i64) -> bool {
        let user = {
            let mut s = self.state();
            let Some(u) = s.users.iter_mut().find(|u| u.id == id) else {
                return false;
            };
            u.status_text = text.into();
            u.status_emoji = emoji.into();
            u.status_expiration = expiration;
            u.clone()
        };
        self.announce_user_change(&user);
        true
    }

    /// A new member joins the workspace and the service hears of it, as
    /// from Slack's Events API (`team_join`, with the whole user object),
    /// before this returns. Returns their user id and the service's answer.
    pub async fn join_user(
        &self,
        name: &str,
        real_name: &str,
        email: &str,
        tz: &str,
    ) -> Result<(String, outbound::InboundReply), String> {
        let id = self.add_user(name, real_name, email, tz);
        let user = self
            .state()
            .users
            .iter()
            .find(|u| u.id == id)
            .cloned()
            .ok_or("the user just added is gone")?;
        let event = self.member_event("team_join", &user);
        let reply = self
            .deliver_json("/slack/events", event.to_string())
            .await?;
        Ok((id, reply))
    }

    /// A person's email changes, and the service hears of it
    /// (`user_change`) before this returns.
    pub async fn change_email(
        &self,
        id: &str,
        email: &str,
    ) -> Result<outbound::InboundReply, String> {
        let user = {
            let mut s = self.state();
            let u = s
                .users
                .iter_mut()
                .find(|u| u.id == id)
                .ok_or("no such user")?;
            u.email = email.to_lowercase();
            u.clone()
        };
        let event = self.member_event("user_change", &user);
        self.deliver_json("/slack/events", event.to_string()).await
    }

    /// The user's Slack language (`users.info` with `include_locale`), e.g. `cs-CZ`.
    pub fn set_locale(&self, id: &str, locale: &str) {
        if let Some(u) = self.state().users.iter_mut().find(|u| u.id == id) {
            u.locale = locale.to_string();
        }
    }

    pub fn deactivate_user(&self, id: &str) {
        if let Some(u) = self.state().users.iter_mut().find(|u| u.id == id) {
            u.deleted = true;
        }
    }

    /// Adds a public channel (e.g. the sponsors') and returns its id.
    pub fn add_channel(&self, name: &str) -> String {
        let mut s = self.state();
        let id = format!("C{:08}", s.channels.len() + 1);
        let _ = name;
        s.channels.push(id.clone());
        id
    }

    /// Injects failures (replacing earlier ones); an empty list heals.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.state().faults = faults;
    }

    /// Switches Slack's rate limits on (with a little burst tolerance) or off.
    pub fn set_limits(&self, limits: Option<&crate::chat::slack::limits::SlackLimits>) {
        self.state().limiter =
            limits.map(|l| Arc::new(crate::chat::slack::limits::Limiter::new(l, 3)));
    }

    /// How many calls were answered with 429 (injected or rate limits).
    pub fn rate_limited_count(&self) -> usize {
        self.state().rate_limited
    }

    pub fn set_metadata_events(&self, on: bool) {
        self.state().metadata_events = on;
    }

    /// Draws whether this call fails, and how.
    pub(crate) fn pick_fault(&self, method: &str) -> Option<FaultKind> {
        use rand::Rng;
        let mut s = self.state();
        let faults: Vec<Fault> = s
            .faults
            .iter()
            .filter(|f| f.applies_to(method))
            .cloned()
            .collect();
        faults
            .into_iter()
            .find(|f| s.rng.gen_bool(f.share.clamp(0.0, 1.0)))
            .map(|f| f.kind)
    }

    /// A file uploaded and completed, with its bytes.
    pub fn file(&self, id: &str) -> Option<SimFile> {
        self.state()
            .files
            .iter()
            .find(|f| f.id == id && f.completed)
            .cloned()
    }

    /// Files shared to a channel (a person's DM: `dm_channel`), oldest first.
    pub fn files_in(&self, channel: &str) -> Vec<SimFile> {
        self.state()
            .files
            .iter()
            .filter(|f| f.completed && f.channel.as_deref() == Some(channel))
            .cloned()
            .collect()
    }

    /// Messages that carry this job id in their metadata (duplicates show here).
    pub fn messages_for_job(&self, job_id: JobId) -> Vec<SimMessage> {
        self.state()
            .messages
            .iter()
            .filter(|m| {
                m.metadata.as_ref().is_some_and(|md| {
                    md["event_payload"]["job_id"] == serde_json::json!(job_id.to_string())
                })
            })
            .cloned()
            .collect()
    }

    /// Where the workspace is served (`http://host:port`), once it is.
    pub fn base_url(&self) -> String {
        self.state().own_url.clone().unwrap_or_default()
    }

    pub fn set_service_url(&self, url: &str) {
        self.state().service_url = Some(url.trim_end_matches('/').to_string());
    }

    pub fn users(&self) -> Vec<SimUser> {
        self.state().users.clone()
    }

    pub fn user(&self, id: &str) -> Option<SimUser> {
        self.state().users.iter().find(|u| u.id == id).cloned()
    }

    /// The DM channel id between the bot and a user.
    pub fn dm_channel(user_id: &str) -> String {
        format!("D{}", user_id.trim_start_matches('U'))
    }

    pub fn messages(&self) -> Vec<SimMessage> {
        self.state().messages.clone()
    }

    /// What `user` was shown with `chat.postEphemeral`, oldest first.
    pub fn ephemerals_for(&self, user: &str) -> Vec<SimEphemeral> {
        self.state()
            .ephemerals
            .iter()
            .filter(|e| e.user == user)
            .cloned()
            .collect()
    }

    pub fn messages_in(&self, channel: &str) -> Vec<SimMessage> {
        self.state()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<SimMessage> {
        self.state()
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
            .cloned()
    }

    /// How many Web API calls of a method were made (successful or not).
    pub fn call_count(&self, method: &str) -> usize {
        self.state()
            .calls
            .iter()
            .filter(|(m, _)| m == method)
            .count()
    }

    /// A unique, increasing Slack timestamp ("seconds.micros") from the clock.
    pub(crate) fn next_ts(&self) -> String {
        let mut s = self.state();
        let micros = self.clock.now().as_microsecond();
        s.last_ts = micros.max(s.last_ts + 1);
        format!("{}.{:06}", s.last_ts / 1_000_000, s.last_ts % 1_000_000)
    }

    /// Serves the Web API (and the `/_sim` control routes) on `addr`; returns
    /// the bound address.
    pub async fn serve(
        &self,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        self.state().own_url = Some(format!("http://{bound}"));
        self.serve_socket(SocketAddr::new(bound.ip(), 0)).await?;
        let router = api::router(self.clone());
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        Ok((bound, handle))
    }
}
