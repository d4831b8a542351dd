//! Client-credentials access tokens (Entra ID), cached until five minutes
//! before they expire: one source for the Bot Connector, one per tenant
//! for Microsoft Graph.

use super::super::ChatError;
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

pub struct TokenSource {
    http: reqwest::Client,
    app_id: String,
    password: String,
    token_url: String,
    scope: String,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    pub fn new(
        http: reqwest::Client,
        app_id: &str,
        password: &str,
        token_url: &str,
        scope: &str,
    ) -> Self {
        Self {
            http,
            app_id: app_id.to_string(),
            password: password.to_string(),
            token_url: token_url.to_string(),
            scope: scope.to_string(),
            cached: Mutex::new(None),
        }
    }

    /// A valid access token, fetched when there is none or it expires soon.
    pub async fn bearer(&self) -> Result<String, ChatError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() + RENEW_BEFORE < *until {
                return Ok(token.clone());
            }
        }
        let resp = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.app_id.as_str()),
                ("client_secret", self.password.as_str()),
                ("scope", self.scope.as_str()),
            ])
            .send()
            .await
            .map_err(|e| ChatError::Transient(format!("token endpoint: {}", short(&e))))?;
        let status = resp.status();
        if status.is_client_error() {
            let body: Value = resp.json().await.unwrap_or_default();
            // The body names the problem (AADSTS7000215: invalid secret); it
            // never holds the secret itself.
            let code = body["error"].as_str().unwrap_or("refused").to_string();
            return Err(ChatError::Permanent(format!(
                "the bot's app id or password was refused ({code})"
            )));
        }
        if !status.is_success() {
            return Err(ChatError::Transient(format!(
                "token endpoint: HTTP {}",
                status.as_u16()
            )));
        }
        let t: TokenResponse = resp
            .json()
            .await
            .map_err(|e| ChatError::Transient(format!("token endpoint: {}", short(&e))))?;
        let until = Instant::now() + Duration::from_secs(t.expires_in.unwrap_or(3600));
        *cached = Some((t.access_token.clone(), until));
        Ok(t.access_token)
    }

    /// Forgets the cached token (the API said it is no longer valid).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

/// A reqwest error's first line, without the URL (which may carry ids).
pub(crate) fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if let Some(status) = e.status() {
        format!("HTTP {}", status.as_u16())
    } else if e.is_decode() {
        "an answer that is not JSON".into()
    } else {
        "the request failed".into()
    }
}

/// A 429's `Retry-After` (seconds), if it has one.
pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}
