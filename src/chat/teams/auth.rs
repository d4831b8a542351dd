//! Verifies the bearer token on every request to `/api/messages`, as Bot
//! Framework specifies: RS256 only, a signing key from the OpenID metadata's
//! JWKS (fetched, cached a day, fetched again for an unknown `kid`), the
//! key endorsed for the activity's channel, the metadata's issuer, the
//! bot's app id as audience, expiry with five minutes of clock skew, and the
//! `serviceurl` claim equal to the activity's `serviceUrl`.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Bot Framework's published metadata for tokens from its channels.
pub const BOT_FRAMEWORK_OPENID_METADATA: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// Clock skew Bot Framework allows.
const LEEWAY_SECONDS: i64 = 300;
/// Signing keys are cached this long (Microsoft rolls them over days).
const KEYS_FOR: Duration = Duration::from_secs(24 * 3600);
/// An unknown `kid` fetches the keys again at most this often, so forged
/// tokens cannot make Momentum hammer the metadata endpoint.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("no bearer token in Authorization")]
    Missing,
    #[error("the token is not a signed JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with {0}, not RS256")]
    Algorithm(String),
    #[error("the token's signing key is not one of the issuer's")]
    UnknownKey,
    #[error("the signing key is not endorsed for channel {0}")]
    NotEndorsed(String),
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's serviceurl does not match the activity's serviceUrl")]
    ServiceUrl,
    /// The issuer's keys could not be fetched: not the caller's fault.
    #[error("the token issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, Deserialize)]
struct Claims {
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    serviceurl: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: String,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    /// Channels the key may sign for (`msteams`); absent means any.
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

struct Keys {
    issuer: String,
    by_kid: HashMap<String, (DecodingKey, Option<Vec<String>>)>,
    fetched: Instant,
}

/// The verifier for one bot (app id) and one trusted issuer.
pub struct BotAuth {
    app_id: String,
    metadata_url: String,
    http: reqwest::Client,
    keys: Mutex<Option<Keys>>,
}

impl BotAuth {
    pub fn new(app_id: &str, metadata_url: &str, http: reqwest::Client) -> Self {
        Self {
            app_id: app_id.to_string(),
            metadata_url: metadata_url.to_string(),
            http,
            keys: Mutex::new(None),
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
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let (key, endorsements, issuer) = self.key(&kid).await?;
        if let Some(e) = endorsements {
            if !e.iter().any(|c| c == channel_id) {
                return Err(AuthError::NotEndorsed(channel_id.to_string()));
            }
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.app_id]);
        // Expiry is checked below against the service's clock.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        if claims.exp + LEEWAY_SECONDS < now {
            return Err(AuthError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECONDS > now) {
            return Err(AuthError::NotYetValid);
        }
        let same = |a: &str, b: &str| {
            a.trim_end_matches('/')
                .eq_ignore_ascii_case(b.trim_end_matches('/'))
        };
        match claims.serviceurl {
            Some(s) if same(&s, service_url) => Ok(()),
            _ => Err(AuthError::ServiceUrl),
        }
    }

    /// The key for `kid`, its endorsements and the issuer; fetches the
    /// metadata again when the cache is old or does not know the key.
    async fn key(
        &self,
        kid: &str,
    ) -> Result<(DecodingKey, Option<Vec<String>>, String), AuthError> {
        let mut cache = self.keys.lock().await;
        let stale = cache.as_ref().is_none_or(|k| {
            k.fetched.elapsed() > KEYS_FOR
                || (!k.by_kid.contains_key(kid) && k.fetched.elapsed() > REFETCH_AFTER)
        });
        if stale {
            match self.fetch().await {
                Ok(keys) => *cache = Some(keys),
                // Keep serving with the keys we have; without any, fail.
                Err(e) if cache.is_none() => return Err(e),
                Err(e) => tracing::warn!(error = %e, "Bot Framework keys not refreshed"),
            }
        }
        let keys = cache.as_ref().ok_or(AuthError::UnknownKey)?;
        let (key, endorsements) = keys.by_kid.get(kid).ok_or(AuthError::UnknownKey)?;
        Ok((key.clone(), endorsements.clone(), keys.issuer.clone()))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let unavailable = |e: reqwest::Error| AuthError::Unavailable(e.to_string());
        self.http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    async fn fetch(&self) -> Result<Keys, AuthError> {
        let metadata: Metadata = self.get_json(&self.metadata_url).await?;
        let jwks: Jwks = self.get_json(&metadata.jwks_uri).await?;
        let mut by_kid = HashMap::new();
        for k in jwks.keys {
            let (Some(kid), Some(n), Some(e)) = (k.kid, k.n, k.e) else {
                continue;
            };
            if k.kty != "RSA" {
                continue;
            }
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    by_kid.insert(kid, (key, k.endorsements));
                }
                Err(e) => tracing::warn!(kid = %kid, error = %e, "unusable signing key skipped"),
            }
        }
        Ok(Keys {
            issuer: metadata.issuer,
            by_kid,
            fetched: Instant::now(),
        })
    }
}
