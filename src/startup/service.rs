//! `momentum serve`: the service composed from its settings (the database,
//! the chat connections, the HTTP server, the dispatcher), run until
//! `shutdown` resolves, then stopped gracefully.

use super::{
    build_app, connect_installations, connect_slack_or_retry, connect_teams, database,
    sign_in_providers, slack_client, slack_oauth, start, ServiceOptions, StartupError,
};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::crypto::SecretKey;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(
    s: Settings,
    key: SecretKey,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartupError> {
    tracing::info!(settings = ?s, "starting");
    let store = database::open(&s).await?;
    let clock: SharedClock = Arc::new(SystemClock);
    let chats = connect_slack_or_retry(&s, &store, &clock).await?;
    let app = build_app(store.clone(), clock, chats, key);
    let slack_oauth = slack_oauth(&s)?;
    if slack_oauth.is_some() {
        connect_installations(&app, &s).await?;
    }
    let teams = connect_teams(&s, &app).await?;
    if app.chats.is_empty() && slack_oauth.is_none() && teams.is_none() {
        tracing::warn!("no chat workspace connected (set SLACK_BOT_TOKEN, SLACK_CLIENT_ID for OAuth install, or MICROSOFT_APP_ID for Teams): nothing can be sent");
    }
    let running = start(
        app,
        ServiceOptions {
            listen: s.listen,
            slack_signing_secret: s.slack.signing_secret.clone(),
            dispatcher_interval: Some(Duration::from_secs(1)),
            lease: jiff::SignedDuration::from_secs(i64::from(s.lease_seconds)),
            retry_base_seconds: i64::from(s.retry_base_seconds),
            retention_days: (s.retention_days > 0).then_some(s.retention_days),
            slack_oauth,
            slack_socket: match &s.slack.app_token {
                Some(token) => Some((slack_client(&s)?, token.clone())),
                None => None,
            },
            teams,
            public_url: s.public_url.clone(),
            sign_in: sign_in_providers(&s),
            metrics_token: s.metrics_token.clone(),
            metrics_refresh: Some(Duration::from_secs(15)),
            bookings_refresh: Some(Duration::from_secs(600)),
        },
    )
    .await
    .map_err(|source| StartupError::Listen {
        addr: s.listen,
        source,
    })?;
    tracing::info!(addr = %running.addr, "listening");
    shutdown.await;
    tracing::info!("shutting down");
    running.stop().await;
    store.close().await;
    Ok(())
}
