//! Signing in to the HR console with a chat platform's account (OpenID
//! Connect): "Sign in with Slack" and "Sign in with Microsoft". The person
//! signs in at the provider; the ID token is verified (RS256 from the
//! provider's keys, issuer, audience, expiry, the nonce bound to this
//! browser); an organisation admin gets a session of their organisation, a
//! program admin (a program file's `admins:`) one of their programs only.
//! Nobody else gets in.

use super::console::{cookie_named, message};
use super::AppState;
use crate::domain::{ChatIdentity, Platform};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use std::collections::HashMap;

const NONCE_COOKIE: &str = "momentum_signin";

/// Which platform an account belongs to (how its ID token names a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// `https://slack.com/team_id` and `sub` (the user id).
    Slack,
    /// `tid` and `oid` (the Entra object id, as in `teams:TENANT/OID`).
    Microsoft,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Slack => "slack",
            Provider::Microsoft => "microsoft",
        }
    }

    fn identity(self, claims: &Value) -> Option<ChatIdentity> {
        let s = |k: &str| claims[k].as_str().filter(|v| !v.is_empty());
        match self {
            Provider::Slack => Some(ChatIdentity::slack(
                s("https://slack.com/team_id")?,
                s("sub")?,
            )),
            Provider::Microsoft => Some(ChatIdentity {
                platform: Platform::Teams,
                workspace: s("tid")?.to_string(),
                user: s("oid")?.to_string(),
            }),
        }
    }
}

/// One provider's endpoints and this app's credentials there.
pub struct OidcClient {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    /// The provider's signing keys, for the issuer its ID tokens name.
    pub keys: crate::jwt::KeySet,
    /// This deployment's callback for the provider.
    pub redirect_uri: String,
    pub http: reqwest::Client,
}

fn provider<'a>(state: &'a AppState, name: &str) -> Option<&'a OidcClient> {
    state
        .sign_in
        .iter()
        .map(|c| c.as_ref())
        .find(|c| c.provider.name() == name)
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what}");
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

/// `GET /admin/signin/{provider}`: off to the provider, with a one-time
/// state and a nonce bound to this browser.
pub async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    from: super::states::ClientAddr,
) -> Response {
    let Some(client) = provider(&state, &name) else {
        return message(StatusCode::NOT_FOUND, "en", "not_found");
    };
    let (oauth_state, nonce) = (
        crate::app::console::random_token(),
        crate::app::console::random_token(),
    );
    if let Err(refused) =
        super::states::begin(&state, &from, &crate::app::hash_token(&oauth_state)).await
    {
        return refused;
    }
    let Ok(mut url) = url::Url::parse(&client.authorize_url) else {
        return unavailable("sign-in", "the provider's authorize URL is not a URL");
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("response_mode", "query")
        .append_pair("scope", "openid email profile")
        .append_pair("client_id", &client.client_id)
        .append_pair("state", &oauth_state)
        .append_pair("nonce", &nonce)
        .append_pair("redirect_uri", &client.redirect_uri);
    // Lax: the browser brings it back on the provider's top-level redirect.
    let cookie = super::cookies::set(
        NONCE_COOKIE,
        &nonce,
        "/admin",
        cookie::SameSite::Lax,
        600,
        super::states::over_https(&state),
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response()
}

/// `GET /admin/signin/{provider}/callback?code&state`: verified, then a session.
pub async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = "en";
    let Some(client) = provider(&state, &name) else {
        return message(StatusCode::NOT_FOUND, lang, "not_found");
    };
    let app = &state.app;
    let oauth_state = q.get("state").map(String::as_str).unwrap_or_default();
    match app
        .take_oauth_state(&crate::app::hash_token(oauth_state))
        .await
    {
        Ok(true) => {}
        Ok(false) => return message(StatusCode::UNAUTHORIZED, lang, "link_invalid"),
        Err(e) => return unavailable("sign-in state not read", e),
    }
    let Some(nonce) = cookie_named(&headers, NONCE_COOKIE) else {
        return message(StatusCode::UNAUTHORIZED, lang, "link_invalid");
    };
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let who = match identity(client, code, &nonce, app.clock.now().as_second()).await {
        Ok(who) => who,
        Err(why) => {
            tracing::warn!(provider = %name, reason = %why, "sign-in refused");
            return message(StatusCode::UNAUTHORIZED, lang, "signin_refused");
        }
    };
    match app.console_sign_in_chat(&who, client.provider.name()).await {
        Ok(Some((cookie, _))) => super::console::signed_in(&state, &cookie),
        Ok(None) => message(StatusCode::FORBIDDEN, lang, "not_admin"),
        Err(e) => unavailable("console session not opened", e),
    }
}

/// Why a sign-in was refused (logged; the person sees "sign-in refused").
#[derive(Debug, thiserror::Error)]
enum SignInError {
    #[error("token call: {0}")]
    TokenCall(#[source] reqwest::Error),
    #[error("token answer: {0}")]
    TokenAnswer(#[source] reqwest::Error),
    #[error("no ID token: {0}")]
    NoIdToken(String),
    #[error("{0}")]
    IdToken(#[source] crate::jwt::JwtError),
    #[error("the nonce does not match this browser's")]
    Nonce,
    #[error("the token names no person")]
    NoPerson,
}

/// Trades the code for an ID token, verifies it, and names the person.
async fn identity(
    client: &OidcClient,
    code: &str,
    nonce: &str,
    now: i64,
) -> Result<ChatIdentity, SignInError> {
    let answer: Value = client
        .http
        .post(&client.token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.client_id.as_str()),
            ("client_secret", client.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("scope", "openid email profile"),
        ])
        .send()
        .await
        .map_err(SignInError::TokenCall)?
        .json()
        .await
        .map_err(SignInError::TokenAnswer)?;
    let id_token = answer["id_token"]
        .as_str()
        .ok_or_else(|| SignInError::NoIdToken(answer["error"].to_string()))?;
    let claims = client
        .keys
        .verify::<Value>(id_token, &client.client_id, &["sub"], now)
        .await
        .map_err(SignInError::IdToken)?
        .claims;
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(SignInError::Nonce);
    }
    client
        .provider
        .identity(&claims)
        .ok_or(SignInError::NoPerson)
}
