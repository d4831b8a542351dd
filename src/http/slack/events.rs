//! Events API callbacks, however they arrive (HTTP or Socket Mode): each
//! `event_id` handled once; delivery confirmations, profile changes, the home
//! tab, and uninstalls.

use super::{views, Handled};
use crate::chat::slack::{chat_user, slack_status, METADATA_EVENT_TYPE};
use crate::chat::Delivered;
use crate::domain::{ChatIdentity, JobId, Platform};
use crate::http::AppState;
use slack_morphism::prelude::{SlackUser, SlackUserProfile};

/// An `event_callback` body.
pub(crate) async fn handle_event(state: &AppState, event: &serde_json::Value) -> Handled {
    let team = event["team_id"].as_str().unwrap_or_default();
    // Slack retries an event it thinks was not received (with
    // X-Slack-Retry-Num): the same event_id is handled once.
    if let Some(id) = event["event_id"].as_str() {
        let key = format!("slack:{team}:{id}");
        match state.app.claim_inbound_event(&key).await {
            Ok(true) => {}
            Ok(false) => return Handled::Done,
            Err(e) => {
                // Unavailable storage: Slack will retry the event later.
                tracing::error!(error = %e, "could not record an event");
                return Handled::Unavailable("try again later");
            }
        }
    }
    let inner = &event["event"];
    match inner["type"].as_str() {
        Some("message_metadata_posted") => metadata_posted(state, event, inner).await,
        Some("user_change") if !user_changed(state, event, inner).await => {
            return retry_later(state, team, event).await;
        }
        Some("team_join") if !user_appeared(state, team, inner).await => {
            return retry_later(state, team, event).await;
        }
        Some("app_home_opened") => views::home_opened(state, team, inner),
        Some("app_uninstalled") | Some("tokens_revoked") => {
            // Tokens revoked for users only (no bot) leave the bot working.
            let bot_revoked = inner["type"] == "app_uninstalled"
                || inner["tokens"]["bot"]
                    .as_array()
                    .is_some_and(|b| !b.is_empty());
            if bot_revoked {
                if let Err(e) = state.app.uninstall_slack(team).await {
                    tracing::error!(error = %e, "could not record an uninstall");
                    return retry_later(state, team, event).await;
                }
            }
        }
        _ => {}
    }
    Handled::Done
}

/// The event could not be stored: its claim is let go and Slack is asked
/// to deliver it again.
async fn retry_later(state: &AppState, team: &str, event: &serde_json::Value) -> Handled {
    if let Some(id) = event["event_id"].as_str() {
        let key = format!("slack:{team}:{id}");
        let _ = state.app.release_inbound_event(&key).await;
    }
    Handled::Unavailable("try again later")
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
    // Only this app's own messages confirm a delivery: another app in the
    // workspace posting the same metadata shape must not stop a nudge.
    let ours = envelope["api_app_id"].as_str();
    if ours.is_none() || event["app_id"].as_str() != ours {
        tracing::info!("ignored message metadata posted by another app");
        return;
    }
    let job_id = metadata["event_payload"]["job_id"]
        .as_str()
        .and_then(|j| j.parse::<JobId>().ok());
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
        tracing::warn!(error = %e, job = job_id.0, "could not record a confirmed delivery");
    }
}

/// A person's profile changed (`user_change`): their status may now say, or
/// no longer say, that they are out of office.
/// False when it could not be stored (Slack should deliver it again).
async fn user_changed(
    state: &AppState,
    envelope: &serde_json::Value,
    event: &serde_json::Value,
) -> bool {
    let user = &event["user"];
    let (Some(id), Some(team)) = (
        user["id"].as_str(),
        user["team_id"]
            .as_str()
            .or_else(|| envelope["team_id"].as_str()),
    ) else {
        return true;
    };
    let Ok(profile) = serde_json::from_value::<SlackUserProfile>(user["profile"].clone()) else {
        return true;
    };
    let who = ChatIdentity::slack(team, id);
    if let Err(e) = state
        .app
        .status_changed(&who, &slack_status(&profile))
        .await
    {
        tracing::warn!(error = %e, "could not record a status change");
        return false;
    }
    // A changed email may be one a program gave and no one had.
    user_appeared(state, team, event).await
}

/// A new member (`team_join`), or a changed profile: people given by their
/// email who had no chat user are matched to them.
/// False when it could not be stored (Slack should deliver it again).
async fn user_appeared(state: &AppState, team: &str, event: &serde_json::Value) -> bool {
    let Ok(user) = serde_json::from_value::<SlackUser>(event["user"].clone()) else {
        return true;
    };
    if let Err(e) = state.app.chat_user_appeared(chat_user(team, user)).await {
        tracing::warn!(error = %e, "could not match a new chat user");
        return false;
    }
    true
}
