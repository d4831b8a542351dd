//! "Sign in with Slack" for the HR console (OpenID Connect): the person
//! signs in on Slack, the ID token is verified (RS256 from Slack's JWKS,
//! issuer, audience, expiry, nonce), and they get a console session of the
//! organisation whose programs name them as an HR admin. Nobody else does.

use super::console::{cookie_named, message};
use super::AppState;
use crate::domain::ChatIdentity;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;

const NONCE_COOKIE: &str = "momentum_signin";

/// The app's Slack credentials and where Slack's OpenID endpoints are.
pub struct SlackSignIn {
    pub client_id: String,
    pub client_secret: String,
    /// `https://slack.com` (or the local workspace): the issuer, and the
    /// base of the authorize page and the keys.
    pub base: String,
    /// The Web API (`openid.connect.token`).
    pub api_url: String,
    /// This deployment's callback.
    pub redirect_uri: String,
    pub http: reqwest::Client,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(rename = "https://slack.com/team_id")]
    team_id: String,
}

fn refuse(lang: &str, which: &str) -> Response {
    message(StatusCode::UNAUTHORIZED, lang, which)
}

/// `GET /admin/signin/slack`: off to Slack, with a one-time state and a nonce.
pub async fn start(State(state): State<AppState>) -> Response {
    let Some(slack) = &state.slack_signin else {
        return message(StatusCode::NOT_FOUND, "en", "not_found");
    };
    let (oauth_state, nonce) = (
        crate::app::console::random_token(),
        crate::app::console::random_token(),
    );
    if let Err(e) = state
        .app
        .store
        .add_oauth_state(&crate::app::hash_token(&oauth_state), state.app.clock.now())
        .await
    {
        tracing::error!(error = %e, "sign-in state not stored");
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    let mut url = match url::Url::parse(&format!("{}/openid/connect/authorize", slack.base)) {
        Ok(u) => u,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "bad Slack address").into_response(),
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("client_id", &slack.client_id)
        .append_pair("state", &oauth_state)
        .append_pair("nonce", &nonce)
        .append_pair("redirect_uri", &slack.redirect_uri);
    // Lax: the browser brings it back on Slack's top-level redirect.
    let cookie =
        format!("{NONCE_COOKIE}={nonce}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age=600");
    ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response()
}

/// `GET /admin/signin/slack/callback?code&state`: verified, then a session.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = "en";
    let Some(slack) = &state.slack_signin else {
        return message(StatusCode::NOT_FOUND, lang, "not_found");
    };
    let app = &state.app;
    let oauth_state = q.get("state").map(String::as_str).unwrap_or_default();
    match app
        .store
        .take_oauth_state(&crate::app::hash_token(oauth_state), app.clock.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => return refuse(lang, "link_invalid"),
        Err(e) => {
            tracing::error!(error = %e, "sign-in state not read");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
        }
    }
    let Some(nonce) = cookie_named(&headers, NONCE_COOKIE) else {
        return refuse(lang, "link_invalid");
    };
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let who = match identity(slack, code, &nonce, app.clock.now().as_second()).await {
        Ok(who) => who,
        Err(why) => {
            tracing::warn!(reason = %why, "Slack sign-in refused");
            return refuse(lang, "signin_refused");
        }
    };
    let org = match app.admin_programs(&who).await {
        Ok(Some((org, _))) => org,
        Ok(None) => return message(StatusCode::FORBIDDEN, lang, "not_admin"),
        Err(e) => {
            tracing::error!(error = %e, "admin look-up failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
        }
    };
    match app.console_open_session(org, "Slack").await {
        Ok((cookie, _)) => super::console::signed_in(&state, &cookie),
        Err(e) => {
            tracing::error!(error = %e, "console session not opened");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// Trades the code for an ID token and verifies it; the person it names.
async fn identity(
    slack: &SlackSignIn,
    code: &str,
    nonce: &str,
    now: i64,
) -> Result<ChatIdentity, String> {
    let token: serde_json::Value = slack
        .http
        .post(format!("{}/openid.connect.token", slack.api_url))
        .form(&[
            ("client_id", slack.client_id.as_str()),
            ("client_secret", slack.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", slack.redirect_uri.as_str()),
        ])
        .send()
        .await
        .map_err(|e| format!("token call: {e}"))?
        .json()
        .await
        .map_err(|e| format!("token answer: {e}"))?;
    let id_token = token["id_token"]
        .as_str()
        .ok_or_else(|| format!("no ID token: {}", token["error"]))?;
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("signed with {:?}", header.alg));
    }
    let jwks: serde_json::Value = slack
        .http
        .get(format!("{}/openid/connect/keys", slack.base))
        .send()
        .await
        .map_err(|e| format!("keys: {e}"))?
        .json()
        .await
        .map_err(|e| format!("keys: {e}"))?;
    let kid = header.kid.unwrap_or_default();
    let jwk = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("unknown signing key")?;
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&slack.base]);
    validation.set_audience(&[&slack.client_id]);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
        .map_err(|e| e.to_string())?
        .claims;
    if claims.exp + 300 < now {
        return Err("expired".into());
    }
    if claims.nonce.as_deref() != Some(nonce) {
        return Err("the nonce does not match this browser's".into());
    }
    Ok(ChatIdentity::slack(&claims.team_id, &claims.sub))
}
