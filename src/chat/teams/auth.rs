//! Verifies the bearer token on every request to `/api/messages`, as Bot
//! Framework specifies: RS256 only, a signing key from the OpenID metadata's
//! JWKS (through `crate::jwt`: cached a day, fetched again for an unknown
//! `kid`), the key endorsed for the activity's channel, the metadata's
//! issuer, the bot's app id as audience, expiry with five minutes of clock
//! skew, and the `serviceurl` claim equal to the activity's `serviceUrl`.

use crate::jwt::{JwtError, KeySet};
use serde::Deserialize;

/// Bot Framework's published metadata for tokens from its channels.
pub const BOT_FRAMEWORK_OPENID_METADATA: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("no bearer token in Authorization")]
    Missing,
    #[error(transparent)]
    Token(#[from] JwtError),
    #[error("the signing key is not endorsed for channel {0}")]
    NotEndorsed(String),
    #[error("the token's serviceurl does not match the activity's serviceUrl")]
    ServiceUrl,
}

impl AuthError {
    /// The issuer's keys could not be fetched: not the caller's fault.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AuthError::Token(JwtError::Unavailable(_)))
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    serviceurl: Option<String>,
}

/// The verifier for one bot (app id) and one trusted issuer.
pub struct BotAuth {
    app_id: String,
    keys: KeySet,
}

impl BotAuth {
    pub fn new(app_id: &str, metadata_url: &str, http: reqwest::Client) -> Self {
        Self {
            app_id: app_id.to_string(),
            keys: KeySet::from_metadata(metadata_url, http),
        }
    }

    /// Checks `Authorization: Bearer …` for an activity from `channel_id`
    /// with `service_url`, at `now` (Unix seconds).
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        channel_id: &str,
        service_url: &str,
        now: i64,
    ) -> Result<(), AuthError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let verified = self
            .keys
            .verify::<Claims>(token, &self.app_id, &[], now)
            .await?;
        if let Some(e) = verified.endorsements {
            if !e.iter().any(|c| c == channel_id) {
                return Err(AuthError::NotEndorsed(channel_id.to_string()));
            }
        }
        let same = |a: &str, b: &str| {
            a.trim_end_matches('/')
                .eq_ignore_ascii_case(b.trim_end_matches('/'))
        };
        match verified.claims.serviceurl {
            Some(s) if same(&s, service_url) => Ok(()),
            _ => Err(AuthError::ServiceUrl),
        }
    }
}
