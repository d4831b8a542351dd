//! Outbound to Teams through the Bot Connector REST API: a client-credentials
//! token cached until shortly before it expires, then sending, updating and
//! creating conversations and reading rosters at the activity's service URL.
//! Errors are classified like Slack's, so the scheduler's guarantees hold.

use super::super::ChatError;
use super::token::{retry_after, short, TokenSource};
use governor::{Quota, RateLimiter};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::Duration;

/// The scope the Bot Connector accepts tokens for.
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";

/// A member of a conversation, as the roster calls return it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TeamsMember {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub aad_object_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

pub struct Connector {
    http: reqwest::Client,
    app_id: String,
    tokens: TokenSource,
    pace: Pace,
}

/// Teams' published limits for a bot, kept on our side so that a cohort
/// goes out at the allowed pace instead of in 429s: per conversation 7
/// operations a second and 60 in 30 seconds (a burst of 7, then one every
/// half second), and 50 a second for the whole app.
struct Pace {
    per_conversation: RateLimiter<
        String,
        governor::state::keyed::DefaultKeyedStateStore<String>,
        governor::clock::DefaultClock,
    >,
    overall: governor::DefaultDirectRateLimiter,
}

impl Pace {
    fn new() -> Self {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        let conversation = Quota::with_period(Duration::from_millis(500))
            .unwrap_or_else(|| Quota::per_second(n(2)))
            .allow_burst(n(7));
        Self {
            per_conversation: RateLimiter::keyed(conversation),
            overall: RateLimiter::direct(Quota::per_second(n(50))),
        }
    }

    async fn until_ready(&self, conversation: &str) {
        self.per_conversation
            .until_key_ready(&conversation.to_string())
            .await;
        self.overall.until_ready().await;
    }
}

impl Connector {
    /// `token_url`: the tenant's (single-tenant) or `botframework.com`'s
    /// (multi-tenant) OAuth 2.0 token endpoint.
    pub fn new(http: reqwest::Client, app_id: &str, password: &str, token_url: &str) -> Self {
        Self {
            pace: Pace::new(),
            tokens: TokenSource::new(
                http.clone(),
                app_id,
                password,
                token_url,
                BOT_FRAMEWORK_SCOPE,
            ),
            http,
            app_id: app_id.to_string(),
        }
    }

    /// Fetches a token now: `Permanent` when the app id or password is
    /// refused, `Transient` when the token endpoint cannot be reached.
    pub async fn check_credentials(&self) -> Result<(), ChatError> {
        self.tokens.bearer().await.map(|_| ())
    }

    /// One connector call. `posting`: it would create a message, so a
    /// timeout or a server error leaves its outcome unknown.
    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
        posting: bool,
    ) -> Result<Value, ChatError> {
        let token = self.tokens.bearer().await?;
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if posting && !e.is_connect() => {
                return Err(ChatError::Uncertain(short(&e)));
            }
            Err(e) => return Err(ChatError::Transient(short(&e))),
        };
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let body: Value = resp.json().await.unwrap_or_default();
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error"]["code"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => ChatError::RateLimited { retry_after },
            StatusCode::UNAUTHORIZED => {
                // The cached token may have been revoked: fetch a new one next time.
                self.tokens.forget().await;
                ChatError::Transient(format!("unauthorized ({code})"))
            }
            StatusCode::FORBIDDEN => ChatError::Permanent(super::APP_NOT_INSTALLED.into()),
            StatusCode::NOT_FOUND => ChatError::Permanent("conversation_not_found".into()),
            s if s.is_client_error() => ChatError::Permanent(code),
            _ if posting => ChatError::Uncertain(code),
            _ => ChatError::Transient(code),
        })
    }

    /// Sends an activity to a conversation; returns its id.
    pub async fn send(
        &self,
        service_url: &str,
        conversation: &str,
        activity: &Value,
    ) -> Result<String, ChatError> {
        let url = endpoint(
            service_url,
            &["v3", "conversations", conversation, "activities"],
        )?;
        self.pace.until_ready(conversation).await;
        let resp = self.call(Method::POST, url, Some(activity), true).await?;
        Ok(resp["id"].as_str().unwrap_or_default().to_string())
    }

    /// Replaces a sent activity (`updateActivity`).
    pub async fn update(
        &self,
        service_url: &str,
        conversation: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<(), ChatError> {
        let url = endpoint(
            service_url,
            &[
                "v3",
                "conversations",
                conversation,
                "activities",
                activity_id,
            ],
        )?;
        let mut body = activity.clone();
        body["id"] = json!(activity_id);
        self.pace.until_ready(conversation).await;
        self.call(Method::PUT, url, Some(&body), false).await?;
        Ok(())
    }

    /// Creates (or finds) the 1:1 conversation between the bot and a
    /// person, for a proactive message; returns its id.
    pub async fn create_personal(
        &self,
        service_url: &str,
        tenant: &str,
        member: &str,
    ) -> Result<String, ChatError> {
        let url = endpoint(service_url, &["v3", "conversations"])?;
        let body = json!({
            "bot": { "id": format!("28:{}", self.app_id) },
            "members": [{ "id": member }],
            "isGroup": false,
            "tenantId": tenant,
            "channelData": { "tenant": { "id": tenant } },
        });
        let resp = self.call(Method::POST, url, Some(&body), false).await?;
        resp["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ChatError::Transient("createConversation returned no id".into()))
    }

    /// Everyone in a conversation (a team's roster), page by page.
    pub async fn members(
        &self,
        service_url: &str,
        conversation: &str,
    ) -> Result<Vec<TeamsMember>, ChatError> {
        let mut out = Vec::new();
        let mut continuation: Option<String> = None;
        loop {
            let mut url = endpoint(
                service_url,
                &["v3", "conversations", conversation, "pagedmembers"],
            )?;
            url.query_pairs_mut().append_pair("pageSize", "500");
            if let Some(c) = &continuation {
                url.query_pairs_mut().append_pair("continuationToken", c);
            }
            let page = self.call(Method::GET, url, None, false).await?;
            for m in page["members"].as_array().into_iter().flatten() {
                if let Ok(m) = serde_json::from_value::<TeamsMember>(m.clone()) {
                    out.push(m);
                }
            }
            match page["continuationToken"].as_str() {
                Some(c) if !c.is_empty() => continuation = Some(c.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// One member of a conversation (email and name for a 1:1 chat's person).
    pub async fn member(
        &self,
        service_url: &str,
        conversation: &str,
        member: &str,
    ) -> Result<TeamsMember, ChatError> {
        let url = endpoint(
            service_url,
            &["v3", "conversations", conversation, "members", member],
        )?;
        let v = self.call(Method::GET, url, None, false).await?;
        serde_json::from_value(v)
            .map_err(|e| ChatError::Transient(format!("unexpected member shape: {e}")))
    }
}

/// `service_url` with path segments appended, each percent-encoded as the
/// Bot Framework SDKs do (`encodeURIComponent`: conversation ids hold `:`,
/// `@`, `;` and `=`).
fn endpoint(service_url: &str, segments: &[&str]) -> Result<url::Url, ChatError> {
    let mut out = service_url.trim_end_matches('/').to_string();
    for segment in segments {
        out.push('/');
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url::Url::parse(&out)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| ChatError::Permanent(format!("{service_url:?} is not a service URL")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_encoded_into_the_path() {
        let u = endpoint(
            "https://smba.trafficmanager.net/emea/",
            &[
                "v3",
                "conversations",
                "19:abc@thread.tacv2;messageid=1",
                "activities",
            ],
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://smba.trafficmanager.net/emea/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1/activities"
        );
    }
}
