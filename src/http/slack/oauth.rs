//! Installing the app to a workspace with Slack's OAuth v2: `/slack/install`
//! shows "Add to Slack" and remembers a one-time state (hashed in the
//! database, and in a cookie bound to the browser that clicked), and
//! `/slack/oauth_redirect` accepts Slack's code only with that same state,
//! exchanges it for the bot token and starts sending to the workspace.

use crate::app::SlackGrant;
use crate::chat::slack::manifest::BOT_SCOPES;
use crate::chat::slack::{SlackChat, SlackHttpClient, SlackOptions};
use crate::chat::ChatPort;
use crate::http::states::ClientAddr;
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use slack_morphism::prelude::*;
use std::sync::Arc;
use subtle::ConstantTimeEq;

const STATE_COOKIE: &str = "momentum_slack_state";

/// What OAuth install needs; absent when `SLACK_CLIENT_ID` is not set.
pub struct SlackOAuth {
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    /// `{MOMENTUM_PUBLIC_URL}/slack/oauth_redirect`, exactly as in the manifest.
    pub redirect_uri: String,
    pub client: Arc<SlackHttpClient>,
    pub options: SlackOptions,
}

/// One of the install pages (`templates/install/page.html`), in the
/// browser's language: `which` names its words, `extra` adds the link, the
/// workspace's name or Slack's error code.
fn page(status: StatusCode, headers: &HeaderMap, which: &str, extra: minijinja::Value) -> Response {
    let lang = match headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(l) if l.trim_start().starts_with("cs") => "cs",
        _ => "en",
    };
    let t = crate::templates::install_words(lang);
    let ctx = minijinja::context! { lang, t, which, ..extra };
    match crate::templates::render_page("install/page.html", ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an install page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "page not rendered").into_response()
        }
    }
}

fn none() -> minijinja::Value {
    minijinja::context! {}
}

fn hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// `GET /slack/install`: the "Add to Slack" page.
pub async fn install(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
) -> Response {
    let Some(oauth) = state.slack_oauth.as_deref() else {
        return page(StatusCode::NOT_FOUND, &headers, "not_set_up", none());
    };
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce = hex::encode(bytes);
    if let Err(refused) = super::super::states::begin(&state, &client, &hash(&nonce)).await {
        return refused;
    }
    let scopes: Vec<&str> = BOT_SCOPES.iter().map(|(s, _)| *s).collect();
    let mut url = match url::Url::parse(&oauth.authorize_url) {
        Ok(u) => u,
        Err(_) => {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &headers,
                "misconfigured",
                none(),
            )
        }
    };
    url.query_pairs_mut()
        .append_pair("client_id", &oauth.client_id)
        .append_pair("scope", &scopes.join(","))
        .append_pair("redirect_uri", &oauth.redirect_uri)
        .append_pair("state", &nonce);
    // Lax: the browser brings it back on Slack's top-level redirect.
    let cookie = crate::http::cookies::set(
        STATE_COOKIE,
        &nonce,
        "/slack",
        cookie::SameSite::Lax,
        600,
        oauth.redirect_uri.starts_with("https://"),
    );
    let link = url.to_string();
    let mut response = page(
        StatusCode::OK,
        &headers,
        "add",
        minijinja::context! { link },
    );
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct Redirect {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /slack/oauth_redirect`: Slack sends the person back here.
pub async fn redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Redirect>,
) -> Response {
    let Some(oauth) = state.slack_oauth.clone() else {
        return page(StatusCode::NOT_FOUND, &headers, "not_set_up", none());
    };
    // The state must be the one this browser was given, handed out here
    // within ten minutes, and unused: otherwise someone else started it.
    let (Some(given), Some(cookie)) = (
        q.state.as_deref(),
        crate::http::cookies::read(&headers, STATE_COOKIE),
    ) else {
        return page(StatusCode::BAD_REQUEST, &headers, "not_started", none());
    };
    let same: bool = given.as_bytes().ct_eq(cookie.as_bytes()).into();
    let fresh = match state.app.take_oauth_state(&hash(given)).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "could not check an OAuth state");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                &headers,
                "try_again",
                none(),
            );
        }
    };
    if !(same && fresh) {
        return page(StatusCode::BAD_REQUEST, &headers, "expired", none());
    }
    if let Some(said) = q.error {
        return if said == "access_denied" {
            page(StatusCode::OK, &headers, "cancelled", none())
        } else {
            page(
                StatusCode::OK,
                &headers,
                "slack_said",
                minijinja::context! { said },
            )
        };
    }
    let Some(code) = q.code else {
        return page(StatusCode::BAD_REQUEST, &headers, "no_code", none());
    };
    let grant = match exchange(&oauth, &code).await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "Slack refused the OAuth code");
            return page(StatusCode::BAD_REQUEST, &headers, "not_confirmed", none());
        }
    };
    if let Err(e) = state.app.install_slack(&grant).await {
        tracing::error!(error = %e, "could not store an installation");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            "try_again",
            none(),
        );
    }
    match SlackChat::connect_with(oauth.client.clone(), &grant.token, oauth.options.clone()).await {
        Ok(port) => state.app.chats.add(Arc::new(port) as Arc<dyn ChatPort>),
        Err(e) => {
            tracing::warn!(error = %e, team = %grant.workspace, "installed, but the token does not work yet")
        }
    }
    let team = grant.team_name.as_deref().unwrap_or(&grant.workspace);
    page(
        StatusCode::OK,
        &headers,
        "installed",
        minijinja::context! { team },
    )
}

/// Why Slack's `oauth.v2.access` gave no bot token (logged).
#[derive(Debug, thiserror::Error)]
enum ExchangeError {
    #[error("the redirect URL {url:?} is not a URL: {source}")]
    RedirectUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("Slack did not answer in time")]
    TimedOut,
    #[error("{0}")]
    Refused(#[source] slack_morphism::errors::SlackClientError),
}

/// `oauth.v2.access`: the code for the bot token.
async fn exchange(oauth: &SlackOAuth, code: &str) -> Result<SlackGrant, ExchangeError> {
    let redirect =
        url::Url::parse(&oauth.redirect_uri).map_err(|source| ExchangeError::RedirectUrl {
            url: oauth.redirect_uri.clone(),
            source,
        })?;
    let req = SlackOAuthV2AccessTokenRequest::new(
        SlackClientId::new(oauth.client_id.clone()),
        SlackClientSecret::new(oauth.client_secret.clone()),
        SlackOAuthCode::new(code.to_string()),
    )
    .with_redirect_uri(redirect);
    let resp = tokio::time::timeout(oauth.options.timeout, oauth.client.oauth2_access(&req))
        .await
        .map_err(|_| ExchangeError::TimedOut)?
        .map_err(ExchangeError::Refused)?;
    Ok(SlackGrant {
        workspace: resp.team.id.to_string(),
        team_name: resp.team.name.clone(),
        enterprise_id: None,
        bot_user_id: resp.bot_user_id.map(|u| u.to_string()),
        scopes: resp.scope.to_string(),
        token: resp.access_token.value().to_string(),
    })
}
