//! "Sign in with Slack" in the local workspace: Slack's OpenID Connect
//! endpoints (the authorize page, `openid.connect.token`, the JWKS), with
//! ID tokens signed by the workspace's RSA key. Who is signed in to the
//! workspace is set by a test (`sign_in_as`) or `?login_hint=USER_ID`.

use super::{SimUser, SimWorkspace};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// A code handed out by the authorize page, for one person.
#[derive(Debug, Clone)]
pub(crate) struct OidcCode {
    pub code: String,
    /// A Slack user id, or an Entra object id (`entra`).
    pub user: String,
    pub nonce: Option<String>,
    pub redirect_uri: String,
    pub used: bool,
    pub entra: bool,
}

const KID: &str = "sim-slack-openid";

impl SimWorkspace {
    /// The person signed in to the workspace in "the browser".
    pub fn sign_in_as(&self, user_id: &str) {
        self.state().oidc_user = Some(user_id.to_string());
    }

    /// Slack's OpenID Connect addresses here: (authorize, JWKS, issuer).
    pub fn openid_urls(&self) -> (String, String, String) {
        let base = self.base_url();
        (
            format!("{base}/openid/connect/authorize"),
            format!("{base}/openid/connect/keys"),
            base,
        )
    }

    /// `openid.connect.token`: the code for an ID token.
    pub(crate) fn oidc_token(&self, p: &Map<String, Value>) -> Value {
        let err = |code: &str| json!({ "ok": false, "error": code });
        let form = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if form("client_id") != self.config.client_id {
            return err("invalid_client_id");
        }
        if form("client_secret") != self.config.client_secret {
            return err("bad_client_secret");
        }
        let code = form("code");
        let found = {
            let mut s = self.state();
            let Some(c) = s
                .oidc_codes
                .iter_mut()
                .find(|c| c.code == code && !c.used && !c.entra)
            else {
                return err("invalid_code");
            };
            if c.redirect_uri != form("redirect_uri") {
                return err("bad_redirect_uri");
            }
            c.used = true;
            c.clone()
        };
        let Some(user) = self.user(&found.user) else {
            return err("invalid_code");
        };
        json!({
            "ok": true,
            "access_token": format!("xoxp-oidc-{}", found.code),
            "token_type": "Bearer",
            "id_token": self.id_token(&user, found.nonce.as_deref()),
        })
    }

    fn id_token(&self, user: &SimUser, nonce: Option<&str>) -> String {
        let now = self.now().as_second();
        let mut claims = json!({
            "iss": self.base_url(),
            "sub": user.id,
            "aud": self.config.client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": user.team,
            "email": user.email,
            "email_verified": true,
            "name": user.real_name,
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        super::botframework::sign(&claims, KID)
    }
}

pub(crate) fn router() -> Router<SimWorkspace> {
    Router::new()
        .route("/openid/connect/authorize", get(authorize))
        .route("/openid/connect/keys", get(keys))
}

/// Nobody is signed in to the workspace yet: a page to pick who, as
/// Slack's sign-in page would ask (each link comes back with `login_hint`).
fn choose_account(sim: &SimWorkspace, q: &HashMap<String, String>) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut items = String::new();
    for u in sim.users().into_iter().filter(|u| !u.is_bot && !u.deleted) {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in q {
            pairs.append_pair(k, v);
        }
        pairs.append_pair("login_hint", &u.id);
        items.push_str(&format!(
            "<li><a href=\"/openid/connect/authorize?{}\">{}</a> <small>{}</small></li>",
            escape(&pairs.finish()),
            escape(&u.real_name),
            escape(&u.email)
        ));
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to {team}</title></head>\
         <body><h1>Sign in to {team}</h1><p>The local workspace: pick who you are.</p><ul>{items}</ul></body></html>",
        team = escape(&sim.config.team_name)
    );
    axum::response::Html(html).into_response()
}

async fn keys() -> Json<Value> {
    Json(json!({ "keys": [super::botframework::public_jwk(KID)] }))
}

async fn authorize(
    State(sim): State<SimWorkspace>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bad = |why: &str| (StatusCode::BAD_REQUEST, why.to_string()).into_response();
    if q.get("response_type").map(String::as_str) != Some("code")
        || !q
            .get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"))
    {
        return bad("invalid_request: response_type=code and scope=openid are required");
    }
    if q.get("client_id") != Some(&sim.config.client_id) {
        return bad("invalid_client_id");
    }
    let Some(redirect_uri) = q.get("redirect_uri").cloned() else {
        return bad("redirect_uri is required");
    };
    let user = q
        .get("login_hint")
        .cloned()
        .or_else(|| sim.state().oidc_user.clone());
    let Some(user) = user.filter(|u| sim.user(u).is_some()) else {
        return choose_account(&sim, &q);
    };
    let code = {
        use rand::Rng;
        let n: u64 = sim.state().rng.gen();
        format!("oidc-{n:016x}")
    };
    sim.state().oidc_codes.push(OidcCode {
        code: code.clone(),
        user,
        nonce: q.get("nonce").cloned(),
        redirect_uri: redirect_uri.clone(),
        used: false,
        entra: false,
    });
    let mut target = match url::Url::parse(&redirect_uri) {
        Ok(u) => u,
        Err(_) => return bad("redirect_uri is not a URL"),
    };
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair(
            "state",
            q.get("state").map(String::as_str).unwrap_or_default(),
        );
    Redirect::to(target.as_str()).into_response()
}
