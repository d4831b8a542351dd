//! Slack's inbound routes. Each verifies the signature before reading the
//! body, answers within Slack's 3 seconds, and does slow work (updating the
//! message) after answering.

mod commands;
mod oauth;
mod views;

pub use commands::commands;
pub use oauth::{install, redirect as oauth_redirect, SlackOAuth};

use super::AppState;
use crate::app::{Tap, TapAnswer, TapResult};
use crate::chat::slack::verify::verify;
use crate::chat::slack::{slack_status, METADATA_EVENT_TYPE};
use crate::chat::Delivered;
use crate::domain::time::Snooze;
use crate::domain::{Answer, ChatIdentity, CheckinAnswer, Platform};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sha2::{Digest, Sha256};
use slack_morphism::prelude::{
    SlackInteractionActionContainer, SlackInteractionEvent, SlackUserProfile,
};

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

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `POST /slack/interactions`: button taps (`block_actions`).
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = unverified(&state, &headers, &body) {
        return refusal;
    }
    let Some(payload) = form_field(&body, "payload") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "expected a form field named payload",
        );
    };
    let event: SlackInteractionEvent = match serde_json::from_str(&payload) {
        Ok(e) => e,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("payload is not a Slack interaction: {e}"),
            )
        }
    };
    let ev = match event {
        SlackInteractionEvent::BlockActions(ev) => ev,
        SlackInteractionEvent::ViewSubmission(ev) => return views::submitted(&state, ev).await,
        // Closed modals and the like need nothing: acknowledged.
        _ => return StatusCode::OK.into_response(),
    };
    let (Some(user), Some(action)) = (
        ev.user.as_ref(),
        ev.actions.as_ref().and_then(|a| a.first()),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "block_actions without a user or an action",
        );
    };
    let action_id = action.action_id.to_string();
    let who = ChatIdentity::slack(ev.team.id.as_ref(), user.id.as_ref());
    if let Some(answered) = views::action(
        &state,
        who,
        &action_id,
        action.value.as_deref(),
        ev.trigger_id.as_ref(),
    )
    .await
    {
        return answered;
    }
    let SlackInteractionActionContainer::Message(container) = &ev.container else {
        return StatusCode::OK.into_response();
    };
    if action_id == "snooze" {
        return snooze(
            &state,
            ev.team.id.as_ref(),
            user.id.as_ref(),
            action,
            container,
        )
        .await;
    }
    // Buttons carry the answer in their action id and the job in their
    // value; the pulse's menu (long scales) carries both in its option.
    let selected = action.selected_option.as_ref().map(|o| o.value.clone());
    let (answer, job_id) = match (action_id.split_once(':'), action_id.as_str()) {
        (Some(("report", a)), _) => (
            Answer::parse(a).map(TapAnswer::Report),
            action.value.clone(),
        ),
        (Some(("checkin", a)), _) => (
            CheckinAnswer::parse(a).map(TapAnswer::Checkin),
            action.value.clone(),
        ),
        (Some(("pulse", v)), _) => (v.parse().ok().map(TapAnswer::Pulse), action.value.clone()),
        (None, "pulse") => match selected.as_deref().and_then(|o| o.split_once(':')) {
            Some((v, job)) => (v.parse().ok().map(TapAnswer::Pulse), Some(job.to_string())),
            None => (None, None),
        },
        _ => (None, None),
    };
    let job_id = job_id.as_deref().and_then(|v| v.parse::<i64>().ok());
    let (Some(answer), Some(job_id)) = (answer, job_id) else {
        return refuse(StatusCode::BAD_REQUEST, "not a Momentum button");
    };
    let team = ev.team.id.to_string();
    let channel = container
        .channel_id
        .as_ref()
        .map(|c| c.to_string())
        .or_else(|| ev.channel.as_ref().map(|c| c.id.to_string()))
        .unwrap_or_default();
    let message_ts = container.message_ts.to_string();
    let action_ts = action
        .action_ts
        .as_ref()
        .map(|t| t.to_string())
        .unwrap_or_default();
    // Same team, user, message, button and action_ts = the same tap delivered again.
    let delivery_key = hex::encode(Sha256::digest(
        format!(
            "slack|{team}|{}|{message_ts}|{action_id}|{action_ts}",
            user.id
        )
        .as_bytes(),
    ));
    let tap = Tap {
        who: ChatIdentity::slack(&team, user.id.as_ref()),
        job_id,
        answer,
        delivery_key,
        message: Delivered {
            channel,
            ts: message_ts,
        },
    };
    match state.app.take_tap(&tap).await {
        Ok(TapResult::Recorded { updates }) => {
            // Slow work after the answer: Slack wants it within 3 seconds.
            for (port, at, message) in updates {
                tokio::spawn(async move {
                    if let Err(e) = port.update(&at, &message).await {
                        tracing::warn!(error = %e, "could not update the tapped message");
                    }
                });
            }
            StatusCode::OK.into_response()
        }
        Ok(TapResult::Duplicate) => StatusCode::OK.into_response(),
        Ok(TapResult::Refused(why)) => {
            tracing::info!(reason = ?why, job = job_id, "tap not recorded");
            StatusCode::OK.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "tap could not be stored");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "not saved, please tap again",
            )
        }
    }
}

/// The "Later…" menu on a nudge: `1h:JOB`, `tomorrow:JOB` or `monday:JOB`.
async fn snooze(
    state: &AppState,
    team: &str,
    user: &str,
    action: &slack_morphism::prelude::SlackInteractionActionInfo,
    container: &slack_morphism::prelude::SlackInteractionActionMessageContainer,
) -> Response {
    let value = action
        .selected_option
        .as_ref()
        .map(|o| o.value.clone())
        .unwrap_or_default();
    let parsed = value
        .split_once(':')
        .and_then(|(s, j)| Some((Snooze::parse(s)?, j.parse::<i64>().ok()?)));
    let Some((snooze, job_id)) = parsed else {
        return refuse(StatusCode::BAD_REQUEST, "not a Momentum snooze option");
    };
    let at = Delivered {
        channel: container
            .channel_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        ts: container.message_ts.to_string(),
    };
    match state
        .app
        .snooze(&ChatIdentity::slack(team, user), job_id, snooze, &at)
        .await
    {
        Ok(Some((port, at, message))) => {
            tokio::spawn(async move {
                if let Err(e) = port.update(&at, &message).await {
                    tracing::warn!(error = %e, "could not update the snoozed message");
                }
            });
            StatusCode::OK.into_response()
        }
        Ok(None) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "snooze could not be stored");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "not saved, please try again",
            )
        }
    }
}

/// A message Momentum posted carried a job id in its metadata: the job's
/// message certainly arrived, whatever its send returned.
async fn metadata_posted(
    state: &AppState,
    envelope: &serde_json::Value,
    event: &serde_json::Value,
) {
    let metadata = &event["metadata"];
    if metadata["event_type"] != METADATA_EVENT_TYPE {
        return;
    }
    let job_id = metadata["event_payload"]["job_id"]
        .as_str()
        .and_then(|j| j.parse::<i64>().ok());
    let (Some(job_id), Some(team), Some(channel), Some(ts)) = (
        job_id,
        envelope["team_id"].as_str(),
        event["channel_id"].as_str(),
        event["message_ts"].as_str(),
    ) else {
        return;
    };
    let at = Delivered {
        channel: channel.to_string(),
        ts: ts.to_string(),
    };
    if let Err(e) = state
        .app
        .confirm_delivery(Platform::Slack, team, job_id, &at)
        .await
    {
        tracing::warn!(error = %e, job = job_id, "could not record a confirmed delivery");
    }
}

/// A person's profile changed (`user_change`): their status may now say, or
/// no longer say, that they are out of office.
async fn user_changed(state: &AppState, envelope: &serde_json::Value, event: &serde_json::Value) {
    let user = &event["user"];
    let (Some(id), Some(team)) = (
        user["id"].as_str(),
        user["team_id"]
            .as_str()
            .or_else(|| envelope["team_id"].as_str()),
    ) else {
        return;
    };
    let Ok(profile) = serde_json::from_value::<SlackUserProfile>(user["profile"].clone()) else {
        return;
    };
    let who = ChatIdentity::slack(team, id);
    if let Err(e) = state
        .app
        .status_changed(&who, &slack_status(&profile))
        .await
    {
        tracing::warn!(error = %e, "could not record a status change");
    }
}

/// `POST /slack/events`: answers `url_verification`; other events are acknowledged.
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
        Some("event_callback") => {
            let team = event["team_id"].as_str().unwrap_or_default();
            // Slack retries an event it thinks was not received (with
            // X-Slack-Retry-Num): the same event_id is handled once.
            if let Some(id) = event["event_id"].as_str() {
                let key = format!("slack:{team}:{id}");
                match state
                    .app
                    .store
                    .claim_inbound_event(&key, state.app.clock.now())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return StatusCode::OK.into_response(),
                    Err(e) => {
                        // Unavailable storage: Slack will retry the event later.
                        tracing::error!(error = %e, "could not record an event");
                        return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                    }
                }
            }
            let inner = &event["event"];
            match inner["type"].as_str() {
                Some("message_metadata_posted") => metadata_posted(&state, &event, inner).await,
                Some("user_change") => user_changed(&state, &event, inner).await,
                Some("app_home_opened") => views::home_opened(&state, team, inner),
                Some("app_uninstalled") | Some("tokens_revoked") => {
                    // Tokens revoked for users only (no bot) leave the bot working.
                    let bot_revoked = inner["type"] == "app_uninstalled"
                        || inner["tokens"]["bot"]
                            .as_array()
                            .is_some_and(|b| !b.is_empty());
                    if bot_revoked {
                        if let Err(e) = state.app.uninstall_slack(team).await {
                            tracing::error!(error = %e, "could not record an uninstall");
                            if let Some(id) = event["event_id"].as_str() {
                                let key = format!("slack:{team}:{id}");
                                let _ = state.app.store.release_inbound_event(&key).await;
                            }
                            return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                        }
                    }
                }
                _ => {}
            }
            StatusCode::OK.into_response()
        }
        Some(_) => StatusCode::OK.into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "an event needs a type"),
    }
}
