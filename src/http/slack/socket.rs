//! Socket Mode, for organisations that cannot expose an HTTP endpoint
//! (`SLACK_APP_TOKEN`, an app-level `xapp-` token with
//! `connections:write`): slack-morphism's Socket Mode client opens the
//! WebSocket (`apps.connections.open`), reconnects on `disconnect` and on
//! network loss, and acknowledges each envelope by its `envelope_id` only
//! after the handler returned, so an envelope whose tap could not be stored
//! is delivered again. The payloads go to the same handlers as over HTTP.

use super::{events, interactions, Handled};
use crate::chat::slack::SlackHttpClient;
use crate::domain::ChatIdentity;
use crate::http::commands;
use crate::http::AppState;
use slack_morphism::prelude::*;
use std::sync::Arc;

/// The running Socket Mode listener.
pub struct SocketMode {
    listener: Arc<
        SlackClientSocketModeListener<
            SlackClientHyperConnector<
                hyper_rustls::HttpsConnector<crate::chat::proxy::ProxyConnector>,
            >,
        >,
    >,
}

/// Why a payload was not acknowledged: Slack delivers it again.
#[derive(Debug)]
struct NotStored(&'static str);

impl std::fmt::Display for NotStored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NotStored {}

async fn state_of(states: &SlackClientEventsUserState) -> Option<AppState> {
    states.read().await.get_user_state::<AppState>().cloned()
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHttpClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let Some(state) = state_of(&states).await else {
        return Err(Box::new(NotStored("Socket Mode is not set up")));
    };
    let who = ChatIdentity::slack(event.team_id.as_ref(), event.user_id.as_ref());
    let text = event.text.clone().unwrap_or_default();
    let trigger = event.trigger_id.to_string();
    let reply = commands::handle_command(&state, &who, &text, Some(&trigger)).await;
    Ok(
        SlackCommandEventResponse::new(SlackMessageContent::new().with_text(reply))
            .with_response_type(SlackMessageResponseType::Ephemeral),
    )
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHttpClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let Some(state) = state_of(&states).await else {
        return Err(Box::new(NotStored("Socket Mode is not set up")));
    };
    match interactions::handle_interaction(&state, event).await {
        Handled::Done => Ok(SlackInteractionResponse::Empty),
        Handled::Answer(body) => Ok(serde_json::from_value::<SlackViewSubmissionResponse>(body)
            .map(SlackInteractionResponse::ViewSubmission)
            .unwrap_or(SlackInteractionResponse::Empty)),
        Handled::Refused(why) => {
            tracing::warn!(reason = %why, "refused a Socket Mode interaction");
            Ok(SlackInteractionResponse::Empty)
        }
        Handled::Unavailable(why) => Err(Box::new(NotStored(why))),
    }
}

async fn on_push_event(
    event: SlackPushEventCallback,
    _client: Arc<SlackHttpClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let Some(state) = state_of(&states).await else {
        return Err(Box::new(NotStored("Socket Mode is not set up")));
    };
    // The callback's JSON is the Events API body the HTTP route reads.
    let mut body = serde_json::to_value(&event).unwrap_or_default();
    body["type"] = serde_json::json!("event_callback");
    match events::handle_event(&state, &body).await {
        Handled::Unavailable(why) => Err(Box::new(NotStored(why))),
        _ => Ok(()),
    }
}

/// An error from a handler: `NotStored` leaves the envelope unacknowledged
/// (Slack redelivers it); anything else (a payload that does not parse) is
/// acknowledged after logging, since redelivery would not make it better.
fn on_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHttpClient>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    if err.downcast_ref::<NotStored>().is_some() {
        tracing::warn!(error = %err, "a Socket Mode envelope is left for Slack to deliver again");
        HttpStatusCode::SERVICE_UNAVAILABLE
    } else {
        tracing::warn!(error = %err, "a Socket Mode envelope could not be handled");
        HttpStatusCode::OK
    }
}

/// Slack refused or did not take the Socket Mode connection.
#[derive(Debug, thiserror::Error)]
#[error("Socket Mode could not connect: {0}")]
pub struct ConnectError(#[source] slack_morphism::errors::SlackClientError);

impl SocketMode {
    /// Connects with the app-level token and starts receiving.
    pub async fn start(
        state: AppState,
        client: Arc<SlackHttpClient>,
        app_token: &str,
    ) -> Result<Self, ConnectError> {
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_push_events(on_push_event);
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(client)
                .with_error_handler(on_error)
                .with_user_state(state),
        );
        let listener = Arc::new(SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new()
                .with_initial_backoff_in_seconds(1)
                .with_reconnect_timeout_in_seconds(5),
            environment,
            callbacks,
        ));
        let token = SlackApiToken::new(SlackApiTokenValue::new(app_token.to_string()));
        listener.listen_for(&token).await.map_err(ConnectError)?;
        listener.start().await;
        Ok(Self { listener })
    }

    pub async fn stop(&self) {
        self.listener.shutdown().await;
    }
}
