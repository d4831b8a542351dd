//! RS256 tokens checked against an issuer's published keys (a JWKS), the
//! one verifier for both Bot Framework's bearer tokens and the console's
//! sign-in ID tokens: RS256 only, the key by `kid` from the issuer's JWKS
//! (cached a day, fetched again for an unknown `kid` at most once a
//! minute), the issuer and audience, and expiry with clock skew against
//! the service's clock.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Signing keys are cached this long (issuers roll them over days).
const KEYS_FOR: Duration = Duration::from_secs(24 * 3600);
/// An unknown `kid` fetches the keys again at most this often, so forged
/// tokens cannot make Momentum hammer the issuer.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: i64 = 300;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JwtError {
    #[error("the token is not a signed JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with {0}, not RS256")]
    Algorithm(String),
    #[error("the token's signing key is not one of the issuer's")]
    UnknownKey,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The issuer's keys could not be fetched: not the caller's fault.
    #[error("the token issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

/// Where the issuer's keys are published.
enum Source {
    /// OpenID metadata naming the issuer and its `jwks_uri`.
    Metadata(String),
    /// A JWKS address, for a known issuer.
    Jwks { url: String, issuer: String },
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwkSet {
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
    /// Channels the key may sign for (Bot Framework's `msteams`); absent
    /// means any.
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

struct Keys {
    issuer: String,
    by_kid: HashMap<String, (DecodingKey, Option<Vec<String>>)>,
    fetched: Instant,
}

/// The standard time claims, read from every token, and the caller's.
#[derive(Deserialize)]
struct Timed<C> {
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(flatten)]
    claims: C,
}

/// A verified token: its claims and the endorsements of the key that
/// signed it.
pub struct Verified<C> {
    pub claims: C,
    pub endorsements: Option<Vec<String>>,
}

/// One issuer's keys, fetched and cached.
pub struct KeySet {
    source: Source,
    http: reqwest::Client,
    cache: Mutex<Option<Keys>>,
}

impl KeySet {
    /// Keys found through OpenID metadata (issuer and `jwks_uri`).
    pub fn from_metadata(metadata_url: &str, http: reqwest::Client) -> Self {
        Self::new(Source::Metadata(metadata_url.to_string()), http)
    }

    /// Keys at a JWKS address, for tokens of `issuer`.
    pub fn from_jwks(jwks_url: &str, issuer: &str, http: reqwest::Client) -> Self {
        let source = Source::Jwks {
            url: jwks_url.to_string(),
            issuer: issuer.to_string(),
        };
        Self::new(source, http)
    }

    fn new(source: Source, http: reqwest::Client) -> Self {
        Self {
            source,
            http,
            cache: Mutex::new(None),
        }
    }

    /// Verifies `token` for `audience` at `now` (Unix seconds), requiring
    /// `claims` besides `exp`, `iss` and `aud`.
    pub async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        claims: &[&str],
        now: i64,
    ) -> Result<Verified<C>, JwtError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(JwtError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        let (key, endorsements, issuer) = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // Expiry is checked below against the service's clock.
        validation.validate_exp = false;
        let mut required = vec!["exp", "iss", "aud"];
        required.extend_from_slice(claims);
        validation.set_required_spec_claims(&required);
        let timed = jsonwebtoken::decode::<Timed<C>>(token, &key, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?
            .claims;
        if timed.exp + LEEWAY_SECONDS < now {
            return Err(JwtError::Expired);
        }
        if timed.nbf.is_some_and(|nbf| nbf - LEEWAY_SECONDS > now) {
            return Err(JwtError::NotYetValid);
        }
        Ok(Verified {
            claims: timed.claims,
            endorsements,
        })
    }

    /// The key for `kid`, its endorsements and the issuer; fetches the keys
    /// again when the cache is old or does not know the key.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<Vec<String>>, String), JwtError> {
        let mut cache = self.cache.lock().await;
        let stale = cache.as_ref().is_none_or(|k| {
            k.fetched.elapsed() > KEYS_FOR
                || (!k.by_kid.contains_key(kid) && k.fetched.elapsed() > REFETCH_AFTER)
        });
        if stale {
            match self.fetch().await {
                Ok(keys) => *cache = Some(keys),
                // Keep serving with the keys we have; without any, fail.
                Err(e) if cache.is_none() => return Err(e),
                Err(e) => tracing::warn!(error = %e, "signing keys not refreshed"),
            }
        }
        let keys = cache.as_ref().ok_or(JwtError::UnknownKey)?;
        let (key, endorsements) = keys.by_kid.get(kid).ok_or(JwtError::UnknownKey)?;
        Ok((key.clone(), endorsements.clone(), keys.issuer.clone()))
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, JwtError> {
        let unavailable = |e: reqwest::Error| JwtError::Unavailable(e.to_string());
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

    async fn fetch(&self) -> Result<Keys, JwtError> {
        let (issuer, jwks_url) = match &self.source {
            Source::Metadata(url) => {
                let m: Metadata = self.get_json(url).await?;
                (m.issuer, m.jwks_uri)
            }
            Source::Jwks { url, issuer } => (issuer.clone(), url.clone()),
        };
        let jwks: JwkSet = self.get_json(&jwks_url).await?;
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
            issuer,
            by_kid,
            fetched: Instant::now(),
        })
    }
}
