//! The Slack adapter: outbound Web API calls through slack-morphism, inbound
//! request verification, and Block Kit rendering from `templates/slack/`.

pub mod blocks;
pub mod verify;

use super::{ChatError, ChatPort, ChatUser, Delivered, Message};
use crate::domain::{ChatIdentity, Platform};
use async_trait::async_trait;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::sync::Arc;

pub type SlackHttpClient = SlackClient<SlackClientHyperConnector<HttpsConnector<HttpConnector>>>;

/// Slack error codes that retrying cannot fix: the job ends with this reason.
const PERMANENT: &[&str] = &[
    "user_not_found",
    "users_not_found",
    "account_inactive",
    "user_disabled",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "cannot_dm_bot",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
];

/// Builds a Slack Web API client for `api_url` (Slack, or the simulator over plain HTTP).
pub fn http_client(api_url: &str) -> Result<Arc<SlackHttpClient>, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("cannot load the system's TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let connector = SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url);
    Ok(Arc::new(SlackClient::new(connector)))
}

pub fn classify(err: SlackClientError) -> ChatError {
    match err {
        SlackClientError::ApiError(e) => {
            if PERMANENT.contains(&e.code.as_str()) {
                ChatError::Permanent(e.code)
            } else if e.code == "ratelimited" {
                ChatError::RateLimited { retry_after: None }
            } else {
                ChatError::Transient(e.code)
            }
        }
        SlackClientError::RateLimitError(e) => ChatError::RateLimited {
            retry_after: e.retry_after,
        },
        SlackClientError::HttpError(e) if e.status_code.is_client_error() => {
            ChatError::Permanent(format!("HTTP {}", e.status_code.as_u16()))
        }
        SlackClientError::HttpError(e) => {
            ChatError::Transient(format!("HTTP {}", e.status_code.as_u16()))
        }
        other => ChatError::Transient(
            other
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
    }
}

/// One Slack workspace, reached with its bot token.
pub struct SlackChat {
    client: Arc<SlackHttpClient>,
    token: SlackApiToken,
    team_id: String,
}

impl SlackChat {
    /// Connects with a bot token and learns which workspace it belongs to (`auth.test`).
    pub async fn connect(client: Arc<SlackHttpClient>, bot_token: &str) -> Result<Self, ChatError> {
        let token = SlackApiToken::new(SlackApiTokenValue::new(bot_token.to_string()));
        let auth = client
            .open_session(&token)
            .auth_test()
            .await
            .map_err(classify)?;
        Ok(Self {
            client,
            token,
            team_id: auth.team_id.to_string(),
        })
    }

    fn to_chat_user(&self, u: SlackUser) -> ChatUser {
        let profile = u.profile.as_ref();
        ChatUser {
            identity: ChatIdentity::slack(
                u.team_id
                    .as_ref()
                    .map(|t| t.to_string())
                    .as_deref()
                    .unwrap_or(&self.team_id),
                u.id.as_ref(),
            ),
            display_name: u
                .real_name
                .clone()
                .or_else(|| profile.and_then(|p| p.real_name.clone()))
                .or_else(|| u.name.clone()),
            email: profile.and_then(|p| p.email.as_ref().map(|e| e.to_string())),
            time_zone: u.tz.clone(),
            locale: u.locale.as_ref().map(|l| l.to_string()),
            deleted: u.deleted.unwrap_or(false),
            is_bot: u.flags.is_bot.unwrap_or(false),
        }
    }
}

#[async_trait]
impl ChatPort for SlackChat {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn workspace(&self) -> &str {
        &self.team_id
    }

    async fn send_direct(
        &self,
        to: &ChatIdentity,
        message: &Message,
    ) -> Result<Delivered, ChatError> {
        let content = blocks::render(message)?;
        // Posting to a user id delivers to the app's DM with that person.
        let req =
            SlackApiChatPostMessageRequest::new(SlackChannelId::new(to.user.clone()), content);
        let resp = self
            .client
            .open_session(&self.token)
            .chat_post_message(&req)
            .await
            .map_err(classify)?;
        Ok(Delivered {
            channel: resp.channel.to_string(),
            ts: resp.ts.to_string(),
        })
    }

    async fn update(&self, at: &Delivered, message: &Message) -> Result<(), ChatError> {
        let content = blocks::render(message)?;
        let req = SlackApiChatUpdateRequest::new(
            SlackChannelId::new(at.channel.clone()),
            content,
            SlackTs::new(at.ts.clone()),
        );
        self.client
            .open_session(&self.token)
            .chat_update(&req)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn lookup_by_email(&self, email: &str) -> Result<Option<ChatUser>, ChatError> {
        let req = SlackApiUsersLookupByEmailRequest::new(EmailAddress::new(email.to_string()));
        match self
            .client
            .open_session(&self.token)
            .users_lookup_by_email(&req)
            .await
        {
            Ok(resp) => Ok(Some(self.to_chat_user(resp.user))),
            Err(SlackClientError::ApiError(e)) if e.code == "users_not_found" => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    async fn user_info(&self, who: &ChatIdentity) -> Result<ChatUser, ChatError> {
        let req = SlackApiUsersInfoRequest::new(SlackUserId::new(who.user.clone()))
            .with_include_locale(true);
        let resp = self
            .client
            .open_session(&self.token)
            .users_info(&req)
            .await
            .map_err(classify)?;
        Ok(self.to_chat_user(resp.user))
    }
}
