//! `momentum serve`: the service composed from its settings (the database,
//! the chat connections, the HTTP server, the dispatcher), run until
//! `shutdown` resolves, then stopped gracefully. The tests start the
//! service through `start` too, replacing only what `Overrides` names.

use super::{
    connect_installations, connect_slack_or_retry, connect_teams, database, sign_in_providers,
    slack_client, slack_oauth, slack_options, Running, ServiceOptions, StartupError,
};
use crate::app::App;
use crate::chat::slack::SlackOptions;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::crypto::SecretKey;
use crate::feeds::FeedSource;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What `serve` takes from the world that a test replaces; `Overrides::none()`
/// is `serve` itself.
pub struct Overrides {
    /// The clock (a test's virtual one).
    pub clock: SharedClock,
    /// The Slack client's pace and timeout instead of the settings' (a
    /// test's short timeout, Slack's limits scaled down).
    pub slack: Option<SlackOptions>,
    /// Where bookings feeds are read from instead of the network.
    pub feeds: Option<Arc<dyn FeedSource>>,
    /// How long applying a program may resolve people before answering,
    /// instead of the default (`Some(None)`: always in the background).
    pub inline_resolution: Option<Option<Duration>>,
    /// Run the dispatcher, the resolver, the metrics refresh and the
    /// bookings reader in the background (off when a test drives them by
    /// hand on its virtual clock).
    pub background: bool,
}

impl Overrides {
    pub fn none() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            slack: None,
            feeds: None,
            inline_resolution: None,
            background: true,
        }
    }
}

/// The service as `serve` runs it, until `shutdown` resolves.
pub async fn run(
    s: Settings,
    key: SecretKey,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartupError> {
    let running = start(&s, key, Overrides::none()).await?;
    tracing::info!(addr = %running.addr, "listening");
    shutdown.await;
    tracing::info!("shutting down");
    let store = running.app.store().clone();
    running.stop().await;
    store.close().await;
    Ok(())
}

/// Opens and migrates the database, connects every configured chat
/// workspace and starts taking requests.
pub async fn start(
    s: &Settings,
    key: SecretKey,
    overrides: Overrides,
) -> Result<Running, StartupError> {
    tracing::info!(settings = ?s, "starting");
    let store = database::open(s).await?;
    let clock = overrides.clock;
    let slack = overrides.slack.unwrap_or_else(|| slack_options(s));
    let chats = connect_slack_or_retry(s, &slack, &store, &clock).await?;
    let mut app = App::new(store, clock, chats, key);
    if let Some(feeds) = overrides.feeds {
        app = app.with_feed_source(feeds);
    }
    if let Some(budget) = overrides.inline_resolution {
        app = app.with_inline_resolution(budget);
    }
    let app = Arc::new(app);
    let slack_oauth = slack_oauth(s, &slack)?;
    if slack_oauth.is_some() {
        connect_installations(&app, s, &slack).await?;
    }
    let teams = connect_teams(s, &app).await?;
    if app.chats.is_empty() && slack_oauth.is_none() && teams.is_none() {
        tracing::warn!("no chat workspace connected (set SLACK_BOT_TOKEN, SLACK_CLIENT_ID for OAuth install, or MICROSOFT_APP_ID for Teams): nothing can be sent");
    }
    let every = |period: u64| overrides.background.then(|| Duration::from_secs(period));
    super::start(
        app,
        ServiceOptions {
            listen: s.listen,
            slack_signing_secret: s.slack.signing_secret.clone(),
            dispatcher_interval: every(1),
            lease: jiff::SignedDuration::from_secs(i64::from(s.lease_seconds)),
            retry_base_seconds: i64::from(s.retry_base_seconds),
            retention_days: (s.retention_days > 0).then_some(s.retention_days),
            slack_oauth,
            slack_socket: match &s.slack.app_token {
                Some(token) => Some((slack_client(s)?, token.clone())),
                None => None,
            },
            teams,
            public_url: s.public_url.clone(),
            sign_in: sign_in_providers(s),
            metrics_token: s.metrics_token.clone(),
            metrics_refresh: every(15),
            bookings_refresh: every(600),
        },
    )
    .await
    .map_err(|source| StartupError::Listen {
        addr: s.listen,
        source,
    })
}
