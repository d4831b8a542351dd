//! Wiring: from settings to a running service (store, chat ports, HTTP
//! server, dispatcher), shared by `serve`, the demo and the tests.

pub mod database;
mod error;
pub mod service;

pub use error::StartupError;

use crate::app::App;
use crate::chat::slack::{http_client, SlackChat};
use crate::chat::{ChatPort, Chats};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::SecretKey;
use crate::domain::Platform;
use crate::http::{self, AppState};
use crate::scheduler::Dispatcher;
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What `/readyz` calls the single-workspace Slack connection while it is
/// not made.
pub const SLACK_BOT_TOKEN_CONNECTION: &str = "Slack (SLACK_BOT_TOKEN)";
/// The same for the Teams bot of `MICROSOFT_APP_ID`.
pub const TEAMS_CONNECTION: &str = "Teams (MICROSOFT_APP_ID)";

/// Connects the Slack workspace of `SLACK_BOT_TOKEN` (single-workspace mode)
/// and maps it to the one organisation, if it is not mapped yet. For a
/// command that needs Slack now: a refused token and an unreachable Slack
/// both stop it, each said as what it is.
pub async fn connect_slack(
    settings: &Settings,
    store: &Store,
    clock: &SharedClock,
) -> Result<Chats, StartupError> {
    let chats = Chats::default();
    let Some(token) = &settings.slack.bot_token else {
        return Ok(chats);
    };
    let client = slack_client(settings)?;
    match SlackChat::connect_with(client, token, slack_options(settings)).await {
        Ok(slack) => adopt_slack(store, clock, &chats, slack).await?,
        Err(e) => return Err(slack_start_error(settings, e)),
    }
    Ok(chats)
}

/// As `connect_slack`, for the service: a refused token stops the start,
/// but an unreachable Slack (a network blip, Slack's own outage) does not.
/// The service starts, `/readyz` names the connection, and it is retried
/// with backoff until Slack answers; meanwhile messages wait.
pub async fn connect_slack_or_retry(
    settings: &Settings,
    options: &crate::chat::slack::SlackOptions,
    store: &Store,
    clock: &SharedClock,
) -> Result<Chats, StartupError> {
    let chats = Chats::default();
    let Some(token) = settings.slack.bot_token.clone() else {
        return Ok(chats);
    };
    let client = slack_client(settings)?;
    let options = options.clone();
    match SlackChat::connect_with(client.clone(), &token, options.clone()).await {
        Ok(slack) => adopt_slack(store, clock, &chats, slack).await?,
        Err(e @ crate::chat::ChatError::Permanent(_)) => {
            return Err(slack_start_error(settings, e))
        }
        Err(e) => {
            tracing::warn!(error = %e, api = %settings.slack.api_url, "Slack is not reachable: starting without it and retrying");
            chats.connecting(
                SLACK_BOT_TOKEN_CONNECTION,
                &format!("not reachable yet ({e})"),
            );
            let (store, clock, pending) = (store.clone(), clock.clone(), chats.clone());
            tokio::spawn(keep_trying(
                SLACK_BOT_TOKEN_CONNECTION,
                chats.clone(),
                move || {
                    let (client, token, options) = (client.clone(), token.clone(), options.clone());
                    let (store, clock, pending) = (store.clone(), clock.clone(), pending.clone());
                    async move {
                        let slack = SlackChat::connect_with(client, &token, options).await?;
                        adopt_slack(&store, &clock, &pending, slack)
                            .await
                            .map_err(|e| crate::chat::ChatError::Transient(e.with_causes()))
                    }
                },
            ));
        }
    }
    Ok(chats)
}

/// Retries a connection that could not be made at start, with backoff (1 s
/// doubling to a minute), until it is made (`chats.connected`) or refused
/// (then `/readyz` keeps saying so).
async fn keep_trying<F, Fut>(what: &'static str, chats: Chats, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::chat::ChatError>>,
{
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(60));
        match attempt().await {
            Ok(()) => {
                tracing::info!(connection = what, "answered: connected");
                chats.connected(what);
                return;
            }
            Err(e @ crate::chat::ChatError::Permanent(_)) => {
                tracing::error!(connection = what, error = %e, "refused once it answered");
                chats.connecting(what, &format!("refused ({e})"));
                return;
            }
            Err(e) => chats.connecting(what, &format!("not reachable yet ({e})")),
        }
    }
}

fn slack_start_error(settings: &Settings, source: crate::chat::ChatError) -> StartupError {
    let api = settings.slack.api_url.clone();
    match source {
        crate::chat::ChatError::Permanent(_) => StartupError::SlackTokenRefused { api, source },
        _ => StartupError::SlackUnreachable { api, source },
    }
}

/// The Slack Web API client for `SLACK_API_URL`.
fn slack_client(
    settings: &Settings,
) -> Result<Arc<crate::chat::slack::SlackHttpClient>, StartupError> {
    let api = &settings.slack.api_url;
    http_client(api).map_err(|source| StartupError::SlackClient {
        api: api.clone(),
        source,
    })
}

/// Links the token's workspace to the one organisation when it is not
/// linked yet, and adds its port.
async fn adopt_slack(
    store: &Store,
    clock: &SharedClock,
    chats: &Chats,
    slack: SlackChat,
) -> Result<(), StartupError> {
    let team = slack.workspace().to_string();
    let linking = |source| StartupError::LinkWorkspace {
        platform: "Slack",
        workspace: team.clone(),
        source,
    };
    if store
        .org_for_workspace(Platform::Slack, &team)
        .await
        .map_err(linking)?
        .is_none()
    {
        let orgs = store.orgs().await.map_err(linking)?;
        match orgs.as_slice() {
            [only] => {
                store
                    .link_workspace(only.id, Platform::Slack, &team, clock.now())
                    .await
                    .map_err(linking)?;
                tracing::info!(org = only.id.0, team = %team, "Slack workspace linked to the organisation");
            }
            [] => {
                tracing::warn!(team = %team, "no organisation yet: create one with `momentum org create --slack-team {team}`")
            }
            _ => {
                tracing::warn!(team = %team, "several organisations: link the workspace with `momentum org link --slack-team {team} --org …`")
            }
        }
    }
    chats.add(Arc::new(slack) as Arc<dyn ChatPort>);
    chats.connected(SLACK_BOT_TOKEN_CONNECTION);
    Ok(())
}

/// The Slack client's pace and timeout as configured.
fn slack_options(settings: &Settings) -> crate::chat::slack::SlackOptions {
    crate::chat::slack::SlackOptions {
        limits: settings.slack.rate_limits.then(Default::default),
        ..Default::default()
    }
}

/// OAuth install settings, when `SLACK_CLIENT_ID` is set.
pub fn slack_oauth(
    settings: &Settings,
    options: &crate::chat::slack::SlackOptions,
) -> Result<Option<crate::http::slack::SlackOAuth>, StartupError> {
    let (Some(id), Some(secret), Some(public)) = (
        &settings.slack.client_id,
        &settings.slack.client_secret,
        &settings.public_url,
    ) else {
        return Ok(None);
    };
    Ok(Some(crate::http::slack::SlackOAuth {
        client_id: id.clone(),
        client_secret: secret.clone(),
        authorize_url: settings.slack.authorize_url.clone(),
        redirect_uri: format!("{public}/slack/oauth_redirect"),
        client: slack_client(settings)?,
        options: options.clone(),
    }))
}

/// The console's sign-in providers: Slack with the app's OAuth credentials
/// (its OpenID pages sit beside its Web API: `https://slack.com/api` →
/// `https://slack.com`, the local workspace's too), Microsoft with a
/// single-tenant Teams bot's registration. Both need the public URL.
pub fn sign_in_providers(settings: &Settings) -> Vec<crate::http::signin::OidcClient> {
    use crate::http::signin::{OidcClient, Provider};
    let Some(public) = &settings.public_url else {
        return Vec::new();
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut out = Vec::new();
    if let (Some(id), Some(secret)) = (&settings.slack.client_id, &settings.slack.client_secret) {
        let api = settings.slack.api_url.trim_end_matches('/');
        let base = api.trim_end_matches("/api");
        out.push(OidcClient {
            provider: Provider::Slack,
            client_id: id.clone(),
            client_secret: secret.clone(),
            authorize_url: format!("{base}/openid/connect/authorize"),
            token_url: format!("{api}/openid.connect.token"),
            keys: crate::jwt::KeySet::from_jwks(
                &format!("{base}/openid/connect/keys"),
                base,
                http.clone(),
            ),
            redirect_uri: format!("{public}/admin/signin/slack/callback"),
            http: http.clone(),
        });
    }
    if let Some(teams) = settings.teams.as_ref().map(teams_settings) {
        if let Some(tenant) = &teams.tenant_id {
            let login = teams.login_url.trim_end_matches('/');
            out.push(OidcClient {
                provider: Provider::Microsoft,
                client_id: teams.app_id.clone(),
                client_secret: teams.app_password.clone(),
                authorize_url: format!("{login}/{tenant}/oauth2/v2.0/authorize"),
                token_url: format!("{login}/{tenant}/oauth2/v2.0/token"),
                keys: crate::jwt::KeySet::from_jwks(
                    &format!("{login}/{tenant}/discovery/v2.0/keys"),
                    &format!("{login}/{tenant}/v2.0"),
                    http.clone(),
                ),
                redirect_uri: format!("{public}/admin/signin/microsoft/callback"),
                http,
            });
        }
    }
    out
}

/// Connects every workspace that installed the app through OAuth. A token
/// Slack no longer accepts is reported, not fatal: the others still work.
pub async fn connect_installations(
    app: &App,
    settings: &Settings,
    options: &crate::chat::slack::SlackOptions,
) -> Result<(), StartupError> {
    let client = slack_client(settings)?;
    for (team, token) in app
        .slack_installation_tokens()
        .await
        .map_err(StartupError::SlackInstallations)?
    {
        match SlackChat::connect_with(client.clone(), &token, options.clone()).await {
            Ok(port) => app.chats.add(Arc::new(port) as Arc<dyn ChatPort>),
            Err(e) => {
                tracing::warn!(team = %team, error = %e, "an installed workspace's token was refused")
            }
        }
    }
    Ok(())
}

/// The Teams adapter's settings from the configured values, Microsoft's own
/// endpoints where none is configured.
pub fn teams_settings(c: &crate::config::TeamsConfig) -> crate::chat::teams::TeamsSettings {
    use crate::chat::teams::{auth, graph, AppType, TeamsSettings};
    use crate::config::GraphConsent;
    let graph_url = || {
        c.graph_url
            .clone()
            .unwrap_or_else(|| graph::GRAPH_URL.into())
    };
    TeamsSettings {
        app_id: c.app_id.clone(),
        app_password: c.app_password.clone(),
        tenant_id: c.tenant_id.clone(),
        app_type: if c.multi_tenant {
            AppType::MultiTenant
        } else {
            AppType::SingleTenant
        },
        login_url: c
            .login_url
            .clone()
            .unwrap_or_else(|| crate::chat::teams::LOGIN_URL.into()),
        openid_metadata_url: c
            .openid_metadata_url
            .clone()
            .unwrap_or_else(|| auth::BOT_FRAMEWORK_OPENID_METADATA.into()),
        service_url: c
            .service_url
            .clone()
            .unwrap_or_else(|| crate::chat::teams::GLOBAL_SERVICE_URL.into()),
        public_url: c.public_url.clone(),
        graph: match c.graph {
            GraphConsent::Off => None,
            GraphConsent::Lookup => Some((graph_url(), graph::GraphUse::Lookup)),
            GraphConsent::Install => Some((graph_url(), graph::GraphUse::Install)),
        },
    }
}

/// The Teams bot of `MICROSOFT_APP_ID`, with a port for every tenant
/// linked to an organisation. A single-tenant bot's tenant is linked to the
/// one organisation when it is not linked yet.
pub async fn connect_teams(
    settings: &Settings,
    app: &App,
) -> Result<Option<Arc<crate::chat::teams::TeamsBot>>, StartupError> {
    let Some(teams) = settings.teams.as_ref().map(teams_settings) else {
        return Ok(None);
    };
    let bot = Arc::new(crate::chat::teams::TeamsBot::new(teams.clone()));
    // Credentials Microsoft refuses stop the start; a token endpoint that
    // cannot be reached does not (sends are retried meanwhile).
    match bot.connector.check_credentials().await {
        Ok(()) => {}
        Err(source @ crate::chat::ChatError::Permanent(_)) => {
            return Err(StartupError::TeamsCredentialsRefused {
                login_url: teams.login_url.clone(),
                source,
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "Microsoft's token endpoint is not reachable: starting without it and retrying");
            app.chats
                .connecting(TEAMS_CONNECTION, &format!("not reachable yet ({e})"));
            let check = bot.clone();
            tokio::spawn(keep_trying(
                TEAMS_CONNECTION,
                app.chats.clone(),
                move || {
                    let bot = check.clone();
                    async move { bot.connector.check_credentials().await }
                },
            ));
        }
    }
    let store = &app.store();
    if let Some(tenant) = &teams.tenant_id {
        let linking = |source| StartupError::LinkWorkspace {
            platform: "Teams",
            workspace: tenant.clone(),
            source,
        };
        if store
            .org_for_workspace(Platform::Teams, tenant)
            .await
            .map_err(linking)?
            .is_none()
        {
            if let [only] = store.orgs().await.map_err(linking)?.as_slice() {
                store
                    .link_workspace(only.id, Platform::Teams, tenant, app.clock.now())
                    .await
                    .map_err(linking)?;
                tracing::info!(org = only.id.0, tenant = %tenant, "Teams tenant linked to the organisation");
            }
        }
    }
    for org in store.orgs().await.map_err(StartupError::TeamsTenants)? {
        let workspaces = store
            .workspaces(org.id)
            .await
            .map_err(StartupError::TeamsTenants)?;
        for (platform, tenant) in workspaces {
            if platform == Platform::Teams {
                let port = crate::chat::teams::TeamsChat::new(
                    bot.clone(),
                    &tenant,
                    app.teams_references(),
                );
                app.chats.add(Arc::new(port) as Arc<dyn ChatPort>);
            }
        }
    }
    Ok(Some(bot))
}

/// A running service: its address and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    dispatcher: Option<JoinHandle<()>>,
    socket: Option<crate::http::slack::socket::SocketMode>,
}

impl Running {
    /// Stops taking requests and leasing jobs, lets in-flight work finish.
    pub async fn stop(self) {
        if let Some(socket) = &self.socket {
            socket.stop().await;
        }
        let _ = self.shutdown.send(true);
        if let Some(d) = self.dispatcher {
            let _ = d.await;
        }
        let _ = self.server.await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub struct ServiceOptions {
    pub listen: SocketAddr,
    pub slack_signing_secret: Option<String>,
    /// Run the dispatcher loop in the background (off when a test or the demo
    /// drives it by hand with a virtual clock).
    pub dispatcher_interval: Option<Duration>,
    /// How long a lease lasts before another replica may take a job over.
    pub lease: jiff::SignedDuration,
    /// The first retry's wait, in seconds.
    pub retry_base_seconds: i64,
    /// Raw events kept this many days (`None`: forever).
    pub retention_days: Option<u32>,
    /// OAuth install to many workspaces, when configured.
    pub slack_oauth: Option<crate::http::slack::SlackOAuth>,
    /// Socket Mode: the Web API client and the app-level token.
    pub slack_socket: Option<(Arc<crate::chat::slack::SlackHttpClient>, String)>,
    /// The Teams bot, when configured (`connect_teams`).
    pub teams: Option<Arc<crate::chat::teams::TeamsBot>>,
    /// `MOMENTUM_PUBLIC_URL`, when set.
    pub public_url: Option<String>,
    /// Sign-in providers for the console (`sign_in_providers`).
    pub sign_in: Vec<crate::http::signin::OidcClient>,
    /// `MOMENTUM_METRICS_TOKEN`, when set.
    pub metrics_token: Option<String>,
    /// Read `/metrics`' job figures from the database this often (off when
    /// a test refreshes them by hand).
    pub metrics_refresh: Option<Duration>,
    /// Look for programs' bookings feeds due a read this often (each is
    /// read hourly); off when a test reads them by hand.
    pub bookings_refresh: Option<Duration>,
}

impl ServiceOptions {
    /// A service on `listen` that connects nothing and runs no dispatcher:
    /// what the demo, the benches and the tests start from, naming only
    /// what they add (`ServiceOptions { slack_signing_secret, ..local(addr) }`).
    pub fn local(listen: SocketAddr) -> Self {
        Self {
            listen,
            slack_signing_secret: None,
            dispatcher_interval: None,
            lease: crate::scheduler::dispatch::DEFAULT_LEASE,
            retry_base_seconds: 30,
            retention_days: None,
            slack_oauth: None,
            slack_socket: None,
            teams: None,
            public_url: None,
            sign_in: Vec::new(),
            metrics_token: None,
            metrics_refresh: None,
            bookings_refresh: None,
        }
    }
}

pub fn build_app(
    store: Store,
    clock: SharedClock,
    chats: Chats,
    secret_key: SecretKey,
) -> Arc<App> {
    Arc::new(App::new(store, clock, chats, secret_key))
}

/// Starts the HTTP server (and the dispatcher, and Socket Mode, if asked) for an app.
pub async fn start(app: Arc<App>, options: ServiceOptions) -> std::io::Result<Running> {
    let (listener, addr) = http::bind(options.listen).await?;
    let (tx, rx) = watch::channel(false);
    let state = AppState {
        app: app.clone(),
        slack_signing_secret: options.slack_signing_secret.map(Arc::from),
        slack_oauth: options.slack_oauth.map(Arc::new),
        teams: options.teams,
        public_url: options.public_url,
        sign_in: options.sign_in.into_iter().map(Arc::new).collect(),
        metrics_token: options.metrics_token.map(Arc::from),
        state_limiter: Default::default(),
    };
    let socket = match options.slack_socket {
        None => None,
        Some((client, token)) => Some(
            crate::http::slack::socket::SocketMode::start(state.clone(), client, &token)
                .await
                .map_err(std::io::Error::other)?,
        ),
    };
    let mut server_rx = rx.clone();
    let server = tokio::spawn(http::serve(listener, state, async move {
        let _ = server_rx.wait_for(|stop| *stop).await;
    }));
    // SQLite's log is checkpointed beside the commits, not inside them.
    tokio::spawn(app.store().clone().keep_log_checkpointed(tx.subscribe()));
    if let Some(interval) = options.dispatcher_interval {
        // People given by email are resolved alongside, by the same replicas.
        let resolver = crate::scheduler::Resolver::new(app.clone());
        tokio::spawn(resolver.run(interval.max(Duration::from_secs(1)), tx.subscribe()));
    }
    let dispatcher = options.dispatcher_interval.map(|interval| {
        let d = Dispatcher::with_lease(app.clone(), options.lease)
            .with_retry_base(options.retry_base_seconds)
            .with_retention(options.retention_days);
        tokio::spawn(d.run(interval, rx))
    });
    if let Some(every) = options.metrics_refresh {
        tokio::spawn(crate::metrics::keep_fresh(
            app.store().clone(),
            app.clock.clone(),
            every,
            tx.subscribe(),
        ));
    }
    if let Some(every) = options.bookings_refresh {
        tokio::spawn(crate::scheduler::feeds::keep_reading(
            app.clone(),
            every,
            tx.subscribe(),
        ));
    }
    Ok(Running {
        addr,
        app,
        shutdown: tx,
        server,
        dispatcher,
        socket,
    })
}
