//! The Slack adapter: outbound Web API calls through slack-morphism, inbound
//! request verification, and Block Kit rendering from `templates/slack/`.

pub mod blocks;
pub mod limits;
pub mod manifest;
pub mod verify;

use super::{ChatError, ChatPort, ChatStatus, ChatUser, Delivered, Message, View};
use crate::chat::proxy::ProxyConnector;
use crate::domain::{ChatIdentity, JobId, Platform};
use async_trait::async_trait;
use hyper_rustls::HttpsConnector;
use jiff::Timestamp;
use limits::{Limiter, SlackLimits};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::sync::Arc;
use std::time::Duration;

pub type SlackHttpClient = SlackClient<SlackClientHyperConnector<HttpsConnector<ProxyConnector>>>;

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

/// Why a Slack Web API client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot load the system's TLS root certificates")]
    TlsRoots(#[source] std::io::Error),
}

/// Builds a Slack Web API client for `api_url` (Slack, or the simulator over
/// plain HTTP), through the proxy `HTTPS_PROXY` / `NO_PROXY` name, if any.
pub fn http_client(api_url: &str) -> Result<Arc<SlackHttpClient>, ClientError> {
    http_client_via(api_url, ProxyConnector::from_env())
}

/// The same through a given connector (a test's proxy).
pub fn http_client_via(
    api_url: &str,
    connector: ProxyConnector,
) -> Result<Arc<SlackHttpClient>, ClientError> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(ClientError::TlsRoots)?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(connector);
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

/// How the adapter talks to Slack.
#[derive(Debug, Clone)]
pub struct SlackOptions {
    /// Pace calls to Slack's published limits; `None` = no pacing (the
    /// local workspace without limits, in the demo and most tests).
    pub limits: Option<SlackLimits>,
    /// A call without an answer by then is given up; for a message the
    /// outcome is then unknown (it may have been posted).
    pub timeout: Duration,
}

impl Default for SlackOptions {
    fn default() -> Self {
        Self {
            limits: Some(SlackLimits::default()),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The metadata event type on every message Momentum sends; its payload
/// carries the job id, so a message can be recognised after a timeout.
pub const METADATA_EVENT_TYPE: &str = "momentum_job";

/// One Slack workspace, reached with its bot token.
pub struct SlackChat {
    client: Arc<SlackHttpClient>,
    token: SlackApiToken,
    team_id: String,
    limiter: Option<Limiter>,
    timeout: Duration,
}

/// Slack's recommended `users.list` page size.
pub const DIRECTORY_PAGE_SIZE: usize = 200;

impl SlackChat {
    /// Connects with a bot token and learns which workspace it belongs to (`auth.test`).
    pub async fn connect(client: Arc<SlackHttpClient>, bot_token: &str) -> Result<Self, ChatError> {
        Self::connect_with(client, bot_token, SlackOptions::default()).await
    }

    pub async fn connect_with(
        client: Arc<SlackHttpClient>,
        bot_token: &str,
        options: SlackOptions,
    ) -> Result<Self, ChatError> {
        let token = SlackApiToken::new(SlackApiTokenValue::new(bot_token.to_string()));
        let mut chat = Self {
            client,
            token,
            team_id: String::new(),
            limiter: options.limits.as_ref().map(|l| Limiter::new(l, 1)),
            timeout: options.timeout,
        };
        let auth = chat
            .call("auth.test", None, |s| async move { s.auth_test().await })
            .await
            .map_err(|e| e.into_chat_error(false))?;
        chat.team_id = auth.team_id.to_string();
        Ok(chat)
    }

    /// One Web API call: paced to the limits, bounded by the timeout.
    async fn call<'a, T, F, Fut>(
        &'a self,
        method: &str,
        channel: Option<&str>,
        f: F,
    ) -> Result<T, CallError>
    where
        F: FnOnce(
            SlackClientSession<'a, SlackClientHyperConnector<HttpsConnector<ProxyConnector>>>,
        ) -> Fut,
        Fut: std::future::Future<Output = Result<T, SlackClientError>>,
    {
        if let Some(l) = &self.limiter {
            l.until_ready(method, channel).await;
        }
        match tokio::time::timeout(self.timeout, f(self.client.open_session(&self.token))).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CallError::Slack(e)),
            Err(_) => Err(CallError::Timeout(self.timeout)),
        }
    }

    fn to_chat_user(&self, u: SlackUser) -> ChatUser {
        chat_user(&self.team_id, u)
    }
}

/// A Slack user as Momentum sees them (`team`: the workspace, where the
/// user object does not say it), from an API answer or an event.
pub fn chat_user(team: &str, u: SlackUser) -> ChatUser {
    let profile = u.profile.as_ref();
    ChatUser {
        identity: ChatIdentity::slack(
            u.team_id
                .as_ref()
                .map(|t| t.to_string())
                .as_deref()
                .unwrap_or(team),
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
        status: profile.map(slack_status).unwrap_or_default(),
    }
}

/// The status part of a Slack profile (an expiration of 0 means none).
pub fn slack_status(p: &SlackUserProfile) -> ChatStatus {
    ChatStatus {
        text: p.status_text.clone().unwrap_or_default(),
        emoji: p
            .status_emoji
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        expires: p
            .status_expiration
            .as_ref()
            .map(|t| t.0)
            .filter(|t| t.as_second() > 0),
    }
}

/// A failed call before classification.
enum CallError {
    Slack(SlackClientError),
    Timeout(Duration),
}

impl CallError {
    /// `posting`: the call would have created a message, so a timeout or a
    /// server error leaves its outcome unknown rather than simply failed.
    fn into_chat_error(self, posting: bool) -> ChatError {
        match self {
            CallError::Timeout(d) if posting => {
                ChatError::Uncertain(format!("no answer within {} s", d.as_secs()))
            }
            CallError::Timeout(d) => {
                ChatError::Transient(format!("no answer within {} s", d.as_secs()))
            }
            CallError::Slack(SlackClientError::HttpError(e))
                if posting && e.status_code.is_server_error() =>
            {
                ChatError::Uncertain(format!("HTTP {}", e.status_code.as_u16()))
            }
            CallError::Slack(e) => classify(e),
        }
    }
}

fn job_metadata(message: &Message) -> SlackMessageMetadata {
    let job_id = message.delivery_job_id();
    SlackMessageMetadata {
        event_type: METADATA_EVENT_TYPE.to_string(),
        event_payload: Some(
            [("job_id".to_string(), job_id.to_string())]
                .into_iter()
                .collect(),
        ),
    }
}

impl SlackChat {
    /// `chat.postMessage` to a channel (or a user id: their DM with the app),
    /// with the job id in the message's metadata.
    async fn post(&self, channel: &str, message: &Message) -> Result<Delivered, ChatError> {
        let body = blocks::body(message, channel, &job_metadata(message))?;
        let resp: SlackApiChatPostMessageResponse = self
            .call("chat.postMessage", Some(channel), |s| async move {
                s.http_session_api
                    .http_post("chat.postMessage", &body, None)
                    .await
            })
            .await
            .map_err(|e| e.into_chat_error(true))?;
        Ok(Delivered {
            channel: resp.channel.to_string(),
            ts: resp.ts.to_string(),
        })
    }

    /// The app's DM channel with a person (`conversations.open`).
    async fn dm_channel(&self, to: &ChatIdentity) -> Result<String, ChatError> {
        let open = SlackApiConversationsOpenRequest::new()
            .with_users(vec![SlackUserId::new(to.user.clone())]);
        Ok(self
            .call("conversations.open", None, |s| async move {
                s.conversations_open(&open).await
            })
            .await
            .map_err(|e| e.into_chat_error(false))?
            .channel
            .id
            .to_string())
    }

    /// Slack's upload flow: an upload URL, the bytes, then completion,
    /// shared to `channel` when one is given. Returns the file id.
    async fn upload(
        &self,
        filename: &str,
        title: &str,
        bytes: Vec<u8>,
        mime: &str,
        channel: Option<String>,
    ) -> Result<String, ChatError> {
        let req = SlackApiFilesGetUploadUrlExternalRequest::new(filename.to_string(), bytes.len())
            .with_alt_txt(title.to_string());
        let target = self
            .call("files.getUploadURLExternal", None, |s| async move {
                s.get_upload_url_external(&req).await
            })
            .await
            .map_err(|e| e.into_chat_error(false))?;
        let upload = SlackApiFilesUploadViaUrlRequest::new(target.upload_url, bytes, mime.into());
        self.call("files.upload", None, |s| async move {
            s.files_upload_via_url(&upload).await
        })
        .await
        .map_err(|e| e.into_chat_error(false))?;
        let mut complete =
            SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                target.file_id.clone(),
            )
            .with_title(title.to_string())]);
        if let Some(c) = channel {
            complete = complete.with_channel_id(SlackChannelId::new(c));
        }
        self.call("files.completeUploadExternal", None, |s| async move {
            s.files_complete_upload_external(&complete).await
        })
        .await
        .map_err(|e| e.into_chat_error(false))?;
        Ok(target.file_id.to_string())
    }

    /// The message carrying `job_id` in a channel's recent history, if any.
    async fn find_in_history(
        &self,
        channel: &str,
        job_id: JobId,
        since: Timestamp,
    ) -> Result<Option<Delivered>, ChatError> {
        let oldest = format!("{}.000000", since.as_second());
        let req = SlackApiConversationsHistoryRequest::new()
            .with_channel(SlackChannelId::new(channel.to_string()))
            .with_oldest(SlackTs::new(oldest))
            .with_limit(15)
            .with_include_all_metadata(true);
        let history = self
            .call("conversations.history", Some(channel), |s| async move {
                s.conversations_history(&req).await
            })
            .await
            .map_err(|e| e.into_chat_error(false))?;
        let wanted = job_id.to_string();
        Ok(history.messages.into_iter().find_map(|m| {
            let md = m.content.metadata.as_ref()?;
            let matches = md.event_type == METADATA_EVENT_TYPE
                && md.event_payload.as_ref()?.get("job_id") == Some(&wanted);
            matches.then(|| Delivered {
                channel: channel.to_string(),
                ts: m.origin.ts.to_string(),
            })
        }))
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
        // Posting to a user id delivers to the app's DM with that person.
        self.post(&to.user, message).await
    }

    async fn post_to_channel(
        &self,
        channel: &str,
        message: &Message,
    ) -> Result<Delivered, ChatError> {
        self.post(channel, message).await
    }

    async fn update(&self, at: &Delivered, message: &Message) -> Result<(), ChatError> {
        let mut body = blocks::body(message, &at.channel, &job_metadata(message))?;
        body["ts"] = at.ts.clone().into();
        let _: SlackApiChatUpdateResponse = self
            .call("chat.update", Some(&at.channel), |s| async move {
                s.http_session_api
                    .http_post("chat.update", &body, None)
                    .await
            })
            .await
            .map_err(|e| e.into_chat_error(false))?;
        Ok(())
    }

    async fn lookup_by_email(&self, email: &str) -> Result<Option<ChatUser>, ChatError> {
        let req = SlackApiUsersLookupByEmailRequest::new(EmailAddress::new(email.to_string()));
        match self
            .call("users.lookupByEmail", None, |s| async move {
                s.users_lookup_by_email(&req).await
            })
            .await
        {
            Ok(resp) => Ok(Some(self.to_chat_user(resp.user))),
            Err(CallError::Slack(SlackClientError::ApiError(e))) if e.code == "users_not_found" => {
                Ok(None)
            }
            Err(e) => Err(e.into_chat_error(false)),
        }
    }

    async fn user_info(&self, who: &ChatIdentity) -> Result<ChatUser, ChatError> {
        let req = SlackApiUsersInfoRequest::new(SlackUserId::new(who.user.clone()))
            .with_include_locale(true);
        let resp = self
            .call(
                "users.info",
                None,
                |s| async move { s.users_info(&req).await },
            )
            .await
            .map_err(|e| e.into_chat_error(false))?;
        Ok(self.to_chat_user(resp.user))
    }

    /// Looks for the job's message in the person's DM (history with metadata),
    /// within the small history budget apps outside the Marketplace get.
    async fn upload_image(
        &self,
        filename: &str,
        title: &str,
        png: Vec<u8>,
    ) -> Result<String, ChatError> {
        // Not shared anywhere: the digest message shows it in an image block.
        self.upload(filename, title, png, "image/png", None).await
    }

    /// Slack's published tiers: `users.lookupByEmail` tier 3,
    /// `users.list` tier 2 (a page of the recommended 200).
    fn resolution_costs(&self) -> crate::chat::ResolutionCosts {
        let published = SlackLimits::default();
        crate::chat::ResolutionCosts {
            lookups_per_minute: published
                .method_per_minute("users.lookupByEmail")
                .unwrap_or(limits::TIER_3),
            pages_per_minute: published.method_per_minute("users.list"),
            page_size: DIRECTORY_PAGE_SIZE,
            paced: self.limiter.is_some(),
        }
    }

    /// One page of `users.list`, with emails, zones and languages.
    async fn directory_page(
        &self,
        cursor: Option<&str>,
        size: usize,
    ) -> Result<crate::chat::DirectoryPage, ChatError> {
        let mut req = SlackApiUsersListRequest::new()
            .with_include_locale(true)
            .with_limit(size.clamp(1, 1000) as u16);
        if let Some(c) = cursor {
            req = req.with_cursor(SlackCursorId::new(c.to_string()));
        }
        let page = self
            .call(
                "users.list",
                None,
                |s| async move { s.users_list(&req).await },
            )
            .await
            .map_err(|e| e.into_chat_error(false))?;
        Ok(crate::chat::DirectoryPage {
            next: page
                .response_metadata
                .and_then(|m| m.next_cursor)
                .map(|c| c.value().to_string())
                .filter(|c| !c.is_empty()),
            users: page
                .members
                .into_iter()
                .map(|u| self.to_chat_user(u))
                .collect(),
        })
    }

    /// `users.list` with `include_locale`, page by page (up to 1,000 a page).
    async fn languages(&self) -> Result<std::collections::HashMap<String, String>, ChatError> {
        let mut out = std::collections::HashMap::new();
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            let mut req = SlackApiUsersListRequest::new()
                .with_include_locale(true)
                .with_limit(1000);
            if let Some(c) = cursor.take() {
                req = req.with_cursor(c);
            }
            let page = self
                .call(
                    "users.list",
                    None,
                    |s| async move { s.users_list(&req).await },
                )
                .await
                .map_err(|e| e.into_chat_error(false))?;
            for u in page.members {
                if let Some(l) = u.locale {
                    out.insert(u.id.to_string(), l.to_string());
                }
            }
            match page.response_metadata.and_then(|m| m.next_cursor) {
                Some(c) if !c.value().is_empty() => cursor = Some(c),
                _ => return Ok(out),
            }
        }
    }

    async fn publish_home(&self, to: &ChatIdentity, view: &View) -> Result<(), ChatError> {
        let req = SlackApiViewsPublishRequest::new(
            SlackUserId::new(to.user.clone()),
            blocks::render_view(view)?,
        );
        self.call("views.publish", None, |s| async move {
            s.views_publish(&req).await
        })
        .await
        .map_err(|e| e.into_chat_error(false))?;
        Ok(())
    }

    async fn tell_privately(
        &self,
        channel: &str,
        to: &ChatIdentity,
        text: &str,
    ) -> Result<(), ChatError> {
        let req = SlackApiChatPostEphemeralRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackUserId::new(to.user.clone()),
            SlackMessageContent::new().with_text(text.to_string()),
        );
        self.call("chat.postEphemeral", None, |s| async move {
            s.chat_post_ephemeral(&req).await
        })
        .await
        .map_err(|e| e.into_chat_error(false))?;
        Ok(())
    }

    async fn open_form(&self, trigger: &str, view: &View) -> Result<(), ChatError> {
        let req = SlackApiViewsOpenRequest::new(
            SlackTriggerId::new(trigger.to_string()),
            blocks::render_view(view)?,
        );
        self.call(
            "views.open",
            None,
            |s| async move { s.views_open(&req).await },
        )
        .await
        .map_err(|e| e.into_chat_error(false))?;
        Ok(())
    }

    async fn send_file(
        &self,
        to: &ChatIdentity,
        filename: &str,
        title: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ChatError> {
        let channel = self.dm_channel(to).await?;
        self.upload(filename, title, bytes, "application/json", Some(channel))
            .await
            .map(|_| ())
    }

    async fn find_sent_in_channel(
        &self,
        channel: &str,
        job_id: JobId,
        since: Timestamp,
    ) -> Result<Option<Delivered>, ChatError> {
        self.find_in_history(channel, job_id, since).await
    }

    async fn find_sent(
        &self,
        to: &ChatIdentity,
        job_id: JobId,
        since: Timestamp,
    ) -> Result<Option<Delivered>, ChatError> {
        let channel = self.dm_channel(to).await?;
        self.find_in_history(&channel, job_id, since).await
    }
}
