//! More than one workspace in the simulator, installed the way Slack's
//! OAuth v2 does it: the authorize page sends the person back to the app's
//! redirect URL with a one-time code and the app's state; `oauth.v2.access`
//! (client id and secret by HTTP Basic auth or form fields) trades the code
//! for a bot token of that workspace; uninstalling revokes the tokens and
//! sends `app_uninstalled`. Each call acts in its token's workspace.

use super::outbound::InboundReply;
use super::{SimUser, SimWorkspace, APP_ID, BOT_USER_ID};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A bot token the simulator handed out, and its workspace.
#[derive(Debug, Clone)]
pub(crate) struct SimToken {
    pub token: String,
    pub team: String,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SimCode {
    code: String,
    team: String,
    redirect_uri: String,
    used: bool,
}

impl SimWorkspace {
    /// Adds another workspace (team) to the simulator.
    pub fn add_team(&self, id: &str, name: &str) {
        let mut s = self.state();
        if !s.teams.iter().any(|(t, _)| t == id) {
            s.teams.push((id.to_string(), name.to_string()));
        }
    }

    /// The workspace a bot token speaks for, or Slack's error for it.
    pub(crate) fn team_of_token(&self, token: &str) -> Result<String, &'static str> {
        if token == self.config.bot_token {
            return Ok(self.config.team_id.clone());
        }
        match self.state().tokens.iter().find(|t| t.token == token) {
            Some(t) if t.revoked => Err("token_revoked"),
            Some(t) => Ok(t.team.clone()),
            None => Err("invalid_auth"),
        }
    }

    pub(crate) fn team_name(&self, team: &str) -> String {
        self.state()
            .teams
            .iter()
            .find(|(t, _)| t == team)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| self.config.team_name.clone())
    }

    /// A user of `team` (a user of another workspace is not found there).
    pub(crate) fn user_in(&self, team: &str, id: &str) -> Option<SimUser> {
        self.user(id).filter(|u| u.team == team)
    }

    /// `oauth.v2.access`: the one-time code for the workspace's bot token.
    pub(crate) fn oauth_access(&self, headers: &HeaderMap, p: &Map<String, Value>) -> Value {
        let err = |code: &str| json!({ "ok": false, "error": code });
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(i, s)| (i.to_string(), s.to_string()))
            });
        let form = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        let (id, secret) = match basic {
            Some(pair) => pair,
            None => (
                form("client_id").unwrap_or_default(),
                form("client_secret").unwrap_or_default(),
            ),
        };
        if id != self.config.client_id {
            return err("invalid_client_id");
        }
        if secret != self.config.client_secret {
            return err("bad_client_secret");
        }
        let (Some(code), redirect) = (form("code"), form("redirect_uri")) else {
            return err("invalid_code");
        };
        let mut s = self.state();
        let Some(found) = s.codes.iter_mut().find(|c| c.code == code && !c.used) else {
            return err("invalid_code");
        };
        if redirect.as_deref().is_some_and(|r| r != found.redirect_uri) {
            return err("bad_redirect_uri");
        }
        found.used = true;
        let team = found.team.clone();
        let token = format!("xoxb-{team}-{}", s.tokens.len() + 1);
        s.tokens.push(SimToken {
            token: token.clone(),
            team: team.clone(),
            revoked: false,
        });
        drop(s);
        json!({
            "ok": true,
            "access_token": token,
            "token_type": "bot",
            "scope": "chat:write,im:write,users:read,users:read.email,commands",
            "bot_user_id": BOT_USER_ID,
            "app_id": APP_ID,
            "team": { "id": team, "name": self.team_name(&team) },
            "enterprise": null,
            "authed_user": { "id": "U0INSTALLER" },
            "is_enterprise_install": false,
        })
    }

    /// The workspace uninstalls the app: its tokens stop working and Slack
    /// tells the app (`app_uninstalled`).
    pub async fn uninstall(&self, team: &str) -> Result<InboundReply, String> {
        for t in self.state().tokens.iter_mut().filter(|t| t.team == team) {
            t.revoked = true;
        }
        let event = json!({
            "token": "deprecated-verification-token",
            "team_id": team,
            "api_app_id": APP_ID,
            "event": { "type": "app_uninstalled" },
            "type": "event_callback",
            "event_id": format!("EvUNINSTALL{team}"),
            "event_time": self.now().as_second(),
        });
        self.deliver_json("/slack/events", event.to_string()).await
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Authorize {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    #[serde(default)]
    scope: String,
    /// Which workspace the person installs to (they pick it on Slack's page).
    team: Option<String>,
    /// The person presses "Cancel" instead of "Allow".
    deny: Option<bool>,
}

/// `GET /oauth/v2/authorize`: the person allows the app (or cancels) and is
/// sent back to the app's redirect URL.
pub(crate) async fn authorize(
    State(sim): State<SimWorkspace>,
    Query(a): Query<Authorize>,
) -> Response {
    if a.client_id != sim.config.client_id {
        return (StatusCode::BAD_REQUEST, "invalid_client_id").into_response();
    }
    if a.scope.split(',').all(|s| s.trim().is_empty()) {
        return (StatusCode::BAD_REQUEST, "invalid_scope").into_response();
    }
    let Ok(mut back) = url::Url::parse(&a.redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad_redirect_uri").into_response();
    };
    let team = a.team.unwrap_or_else(|| sim.config.team_id.clone());
    if team != sim.config.team_id && !sim.state().teams.iter().any(|(t, _)| *t == team) {
        return (StatusCode::BAD_REQUEST, "team_not_found").into_response();
    }
    {
        let mut q = back.query_pairs_mut();
        if a.deny == Some(true) {
            q.append_pair("error", "access_denied");
        } else {
            let code = format!("sim-code-{}", sim.next_ts().replace('.', ""));
            sim.state().codes.push(SimCode {
                code: code.clone(),
                team,
                redirect_uri: a.redirect_uri.clone(),
                used: false,
            });
            q.append_pair("code", &code);
        }
        if let Some(s) = &a.state {
            q.append_pair("state", s);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}
