//! Slack inbound, over HTTP (`/slack/events`, `/slack/interactions`,
//! `/slack/commands`: each verifies the signature before reading the body)
//! or Socket Mode (`socket`). Both hand the same payloads to the same
//! handlers, answer within Slack's 3 seconds, and do slow work (updating a
//! message, publishing a view) after answering.

mod events;
mod form;
mod interactions;
mod oauth;
pub mod socket;
mod views;

pub use oauth::{install, redirect as oauth_redirect, SlackOAuth};

use super::AppState;
use crate::chat::slack::verify::verify;
use crate::domain::ChatIdentity;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use slack_morphism::prelude::SlackInteractionEvent;

/// What handling an inbound payload came to, whatever carried it.
#[derive(Debug)]
pub(crate) enum Handled {
    /// Done, or nothing to do: acknowledge.
    Done,
    /// Acknowledge with this body (a modal's field errors, a command's reply).
    Answer(serde_json::Value),
    /// The payload is wrong: refused over HTTP (400); over a socket it is
    /// acknowledged, since delivering it again would not make it better.
    Refused(String),
    /// Could not be stored now: Slack should deliver it again (HTTP 503; no
    /// acknowledgement over a socket).
    Unavailable(&'static str),
}

impl Handled {
    fn refused(why: &str) -> Self {
        Handled::Refused(why.to_string())
    }
}

impl IntoResponse for Handled {
    fn into_response(self) -> Response {
        match self {
            Handled::Done => StatusCode::OK.into_response(),
            Handled::Answer(body) => Json(body).into_response(),
            Handled::Refused(why) => refuse(StatusCode::BAD_REQUEST, &why),
            Handled::Unavailable(why) => refuse(StatusCode::SERVICE_UNAVAILABLE, why),
        }
    }
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// Checks `X-Slack-Signature` against the body, within the 5-minute window;
/// returns the refusal to send when the request is not verified.
fn unverified(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let Some(secret) = &state.slack_signing_secret else {
        return Some(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "Slack is not configured (SLACK_SIGNING_SECRET)",
        ));
    };
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    verify(
        secret,
        h("x-slack-request-timestamp"),
        h("x-slack-signature"),
        body,
        state.app.clock.now().as_second(),
    )
    .err()
    .map(|e| {
        tracing::warn!(reason = %e, "refused an unverified Slack request");
        refuse(StatusCode::UNAUTHORIZED, &e.to_string())
    })
}

/// `POST /slack/interactions`: taps, menus, modal submissions (`payload=`).
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unverified(&state, &headers, &body) {
        return refusal;
    }
    let Some(payload) = form::field(&body, "payload") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "expected a form field named payload",
        );
    };
    if let Some(answered) = interactions::answer_button(&state, &payload).await {
        return answered.into_response();
    }
    match serde_json::from_str::<SlackInteractionEvent>(&payload) {
        Ok(event) => interactions::handle_interaction(&state, event)
            .await
            .into_response(),
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("payload is not a Slack interaction: {e}"),
        ),
    }
}

/// `POST /slack/events`: answers `url_verification`; event callbacks are
/// handled once each.
pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = unverified(&state, &headers, &body) {
        return refusal;
    }
    let event: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "the body is not JSON"),
    };
    match event["type"].as_str() {
        Some("url_verification") => match event["challenge"].as_str() {
            Some(c) => Json(json!({ "challenge": c })).into_response(),
            None => refuse(
                StatusCode::BAD_REQUEST,
                "url_verification without a challenge",
            ),
        },
        Some("event_callback") => events::handle_event(&state, &event).await.into_response(),
        Some(_) => StatusCode::OK.into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "an event needs a type"),
    }
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    team_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    trigger_id: Option<String>,
}

/// `POST /slack/commands`: `/momentum …`, answered with an ephemeral reply.
pub async fn commands(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = unverified(&state, &headers, &body) {
        return refusal;
    }
    let cmd: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("not a slash command: {e}"),
            )
        }
    };
    let who = ChatIdentity::slack(&cmd.team_id, &cmd.user_id);
    let text =
        crate::http::commands::handle_command(&state, &who, &cmd.text, cmd.trigger_id.as_deref())
            .await;
    Json(json!({ "response_type": "ephemeral", "text": text })).into_response()
}
