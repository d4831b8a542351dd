//! The local workspace as Microsoft Teams: a Bot Framework channel with its
//! own token issuer (OpenID metadata and a JWKS with an RSA key made at
//! start, endorsed for `msteams`), an Entra token endpoint for the bot's
//! client credentials, and the Bot Connector REST API (create, send and
//! update activities, rosters). It delivers activities to `/api/messages`
//! as Teams does: JSON, with a signed bearer token. The service trusts this
//! issuer only when `MOMENTUM_TEAMS_OPENID_METADATA_URL` names it.

use super::{FaultKind, SimWorkspace};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::LazyLock;

/// The simulated tenant and bot registration.
pub const TENANT: &str = "5f0c6d3e-7a41-4b8e-9d2f-0a1b2c3d4e5f";
pub const APP_ID: &str = "8d3f1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
pub const APP_PASSWORD: &str = "sim-teams-app-password";
const KID: &str = "sim-signing-key-1";

/// A signing key pair: the private half for tokens, the public half's JWK parts.
pub(crate) struct SimKey {
    encoding: EncodingKey,
    n: String,
    e: String,
}

impl SimKey {
    fn generate() -> Self {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // 2048 bits: the smallest key ring (behind jsonwebtoken) accepts.
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .expect("an RSA key can be generated");
        let der = key.to_pkcs1_der().expect("an RSA key encodes as DER");
        Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n: b64.encode(key.n().to_bytes_be()),
            e: b64.encode(key.e().to_bytes_be()),
        }
    }
}

/// The issuer's key, and a second one nobody publishes (for forged tokens in tests).
static KEY: LazyLock<SimKey> = LazyLock::new(SimKey::generate);
static ROGUE_KEY: LazyLock<SimKey> = LazyLock::new(SimKey::generate);

/// Signs claims with the workspace's key (for Slack's ID tokens too).
pub(crate) fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &KEY.encoding).unwrap_or_default()
}

/// The workspace key's public half as a JWK.
pub(crate) fn public_jwk(kid: &str) -> Value {
    json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": KEY.n, "e": KEY.e })
}

/// A person in the simulated tenant.
#[derive(Debug, Clone, Serialize)]
pub struct BfUser {
    pub aad_object_id: String,
    /// Bot Framework's id (29:…).
    pub id: String,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    pub locale: String,
    /// The 1:1 conversation, while the app is installed for them.
    pub conversation: Option<String>,
}

/// An activity the bot sent, with its earlier versions.
#[derive(Debug, Clone, Serialize)]
pub struct BfActivity {
    pub conversation: String,
    pub id: String,
    pub activity: Value,
    pub edits: Vec<Value>,
}

impl BfActivity {
    /// The Adaptive Card it carries, if any.
    pub fn card(&self) -> Option<&Value> {
        self.activity["attachments"]
            .as_array()?
            .iter()
            .find(|a| a["contentType"] == crate::chat::teams::cards::CARD_CONTENT_TYPE)
            .map(|a| &a["content"])
    }

    /// Every text of the card or message, for assertions.
    pub fn text(&self) -> String {
        let mut out = self.activity["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(card) = self.card() {
            collect_text(card, &mut out);
        }
        out
    }
}

fn collect_text(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Some(s)) = (k == "text" || k == "title" || k == "value", v.as_str()) {
                    out.push('\n');
                    out.push_str(s);
                } else {
                    collect_text(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_text(v, out)),
        _ => {}
    }
}

#[derive(Default)]
pub(crate) struct BfState {
    pub users: Vec<BfUser>,
    /// Teams the app is installed in: (team id = its general channel id, installed).
    pub teams: Vec<(String, bool)>,
    pub activities: Vec<BfActivity>,
    /// Access tokens handed to the bot: for the Bot Connector, for Graph.
    pub tokens: Vec<String>,
    pub graph_tokens: Vec<String>,
    /// Connector calls: (operation, HTTP status).
    pub calls: Vec<(String, u16)>,
    next: u64,
}

/// What a token should claim (tests forge the wrong ones).
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub audience: Option<String>,
    pub issuer: Option<String>,
    /// Seconds from the workspace's now; negative for an expired token.
    pub expires_in: Option<i64>,
    pub service_url: Option<String>,
    /// Signed with a key the issuer does not publish.
    pub rogue_key: bool,
}

impl SimWorkspace {
    fn bf_base(&self) -> String {
        format!(
            "{}/botframework",
            self.state().own_url.clone().unwrap_or_default()
        )
    }

    /// The issuer the service must be configured to trust.
    pub fn teams_openid_metadata_url(&self) -> String {
        format!("{}/.well-known/openidconfiguration", self.bf_base())
    }

    /// Where the service asks for its tokens (`MOMENTUM_TEAMS_LOGIN_URL`).
    pub fn teams_login_url(&self) -> String {
        self.bf_base()
    }

    /// The Bot Connector's service URL, as activities carry it.
    pub fn teams_service_url(&self) -> String {
        format!("{}/connector/", self.bf_base())
    }

    /// A bearer token for an activity, as the channel signs it.
    pub fn teams_token(&self, spec: &TokenSpec) -> String {
        let now = self.now().as_second();
        let claims = json!({
            "iss": spec.issuer.clone().unwrap_or_else(|| self.bf_base()),
            "aud": spec.audience.clone().unwrap_or_else(|| APP_ID.to_string()),
            "exp": now + spec.expires_in.unwrap_or(3600),
            "nbf": now - 60,
            "serviceurl": spec.service_url.clone().unwrap_or_else(|| self.teams_service_url()),
        });
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(KID.to_string());
        let key = if spec.rogue_key { &ROGUE_KEY } else { &KEY };
        jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap_or_default()
    }

    /// Adds a person to the tenant; returns their Entra object id.
    pub fn teams_add_user(&self, name: &str, email: &str, time_zone: &str, locale: &str) -> String {
        let mut s = self.state();
        let n = s.bf.users.len() + 1;
        let aad = format!("00000000-0000-4000-8000-{n:012}");
        s.bf.users.push(BfUser {
            aad_object_id: aad.clone(),
            id: format!("29:1sim-user-{n}"),
            name: name.into(),
            email: email.to_lowercase(),
            time_zone: time_zone.into(),
            locale: locale.into(),
            conversation: None,
        });
        aad
    }

    pub fn teams_user(&self, aad: &str) -> Option<BfUser> {
        self.state()
            .bf
            .users
            .iter()
            .find(|u| u.aad_object_id == aad)
            .cloned()
    }

    /// Activities the bot sent to a conversation, oldest first.
    pub fn teams_activities(&self, conversation: &str) -> Vec<BfActivity> {
        self.state()
            .bf
            .activities
            .iter()
            .filter(|a| a.conversation == conversation)
            .cloned()
            .collect()
    }

    /// How many connector calls of an operation were answered with `status`.
    pub fn teams_calls(&self, operation: &str, status: u16) -> usize {
        self.state()
            .bf
            .calls
            .iter()
            .filter(|(o, s)| o == operation && *s == status)
            .count()
    }

    /// The activity a person's client would send, from them in their 1:1
    /// chat (or `conversation`).
    fn activity_from(&self, u: &BfUser, kind: &str, conversation: Option<(&str, &str)>) -> Value {
        let s = self.state();
        let id = format!("1{:012}", s.bf.next + s.bf.activities.len() as u64);
        drop(s);
        let (conv_id, conv_type) =
            conversation.unwrap_or((u.conversation.as_deref().unwrap_or_default(), "personal"));
        json!({
            "type": kind,
            "id": id,
            "timestamp": self.now().to_string(),
            "serviceUrl": self.teams_service_url(),
            "channelId": "msteams",
            "from": { "id": u.id, "name": u.name, "aadObjectId": u.aad_object_id },
            "conversation": { "id": conv_id, "conversationType": conv_type, "tenantId": TENANT },
            "recipient": { "id": format!("28:{APP_ID}"), "name": "Momentum" },
            "locale": u.locale,
            "localTimezone": u.time_zone,
            "entities": [{ "type": "clientInfo", "locale": u.locale, "timezone": u.time_zone, "platform": "Web" }],
            "channelData": { "tenant": { "id": TENANT } },
        })
    }

    /// An activity from the person in their 1:1 chat (the chat's id as
    /// Teams will name it once the app is installed), to deliver by hand.
    pub fn teams_activity(&self, aad: &str, kind: &str) -> Result<Value, String> {
        let mut user = self.teams_user(aad).ok_or("no such Teams user")?;
        let conversation = user
            .conversation
            .get_or_insert_with(|| format!("a:1sim-personal-{aad}"))
            .clone();
        self.state().bf.next += 1;
        Ok(self.activity_from(&user, kind, Some((&conversation, "personal"))))
    }

    /// Posts an activity to the service's `/api/messages` with `token`.
    pub async fn teams_deliver_with(
        &self,
        activity: &Value,
        token: Option<&str>,
    ) -> Result<super::InboundReply, String> {
        let base = self
            .state()
            .service_url
            .clone()
            .ok_or("the workspace has no service URL to deliver to")?;
        let mut req = self
            .http
            .post(format!("{base}/api/messages"))
            .json(activity);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let reply = super::InboundReply {
            status: resp.status().as_u16(),
            body: resp.text().await.unwrap_or_default(),
        };
        // An invoke's answer can be a card that replaces the one tapped.
        if let Ok(answer) = serde_json::from_str::<Value>(&reply.body) {
            if answer["type"] == crate::chat::teams::cards::CARD_CONTENT_TYPE {
                super::api::keep_card_for_validation(&answer["value"]);
            }
        }
        Ok(reply)
    }

    /// Posts an activity with a valid token; anything but 200 is an error
    /// naming the activity and the answer.
    async fn teams_deliver_accepted(&self, activity: &Value) -> Result<(), String> {
        let reply = self.teams_deliver(activity).await?;
        if reply.status != 200 {
            return Err(format!(
                "{} answered {}: {}",
                activity["type"].as_str().unwrap_or("the activity"),
                reply.status,
                reply.body
            ));
        }
        Ok(())
    }

    /// Posts an activity with a valid token.
    pub async fn teams_deliver(&self, activity: &Value) -> Result<super::InboundReply, String> {
        let token = self.teams_token(&TokenSpec::default());
        self.teams_deliver_with(activity, Some(&token)).await
    }

    /// Installs the app for a person (personal scope): Teams creates the
    /// 1:1 conversation at once; the `installationUpdate` activity telling
    /// the bot is returned, to deliver.
    pub(crate) fn install_for(&self, aad: &str) -> Result<(String, Value), String> {
        let conversation = format!("a:1sim-personal-{aad}");
        let user = {
            let mut s = self.state();
            let u =
                s.bf.users
                    .iter_mut()
                    .find(|u| u.aad_object_id == aad)
                    .ok_or("no such Teams user")?;
            u.conversation = Some(conversation.clone());
            u.clone()
        };
        let mut a = self.activity_from(&user, "installationUpdate", None);
        a["action"] = json!("add");
        Ok((conversation, a))
    }

    /// The person installs the app (personal scope): Teams creates the 1:1
    /// conversation and tells the bot.
    pub async fn teams_install(&self, aad: &str) -> Result<String, String> {
        let (conversation, a) = self.install_for(aad)?;
        self.teams_deliver_accepted(&a).await?;
        Ok(conversation)
    }

    /// The person removes the app: the 1:1 conversation no longer takes messages.
    pub async fn teams_uninstall(&self, aad: &str) -> Result<(), String> {
        let user = self.teams_user(aad).ok_or("no such Teams user")?;
        let mut a = self.activity_from(&user, "installationUpdate", None);
        a["action"] = json!("remove");
        if let Some(u) = self
            .state()
            .bf
            .users
            .iter_mut()
            .find(|u| u.aad_object_id == aad)
        {
            u.conversation = None;
        }
        self.teams_deliver(&a).await.map(|_| ())
    }

    /// A team installs the app: the bot is added to its general channel,
    /// whose roster is everyone in the tenant. Returns the channel id.
    pub async fn teams_install_in_team(&self, installer: &str) -> Result<String, String> {
        let user = self.teams_user(installer).ok_or("no such Teams user")?;
        let team = format!(
            "19:sim-team-{}@thread.tacv2",
            self.state().bf.teams.len() + 1
        );
        self.state().bf.teams.push((team.clone(), true));
        let mut a = self.activity_from(&user, "conversationUpdate", Some((&team, "channel")));
        a["membersAdded"] = json!([{ "id": format!("28:{APP_ID}") }]);
        a["channelData"] = json!({ "tenant": { "id": TENANT }, "team": { "id": team }, "eventType": "teamMemberAdded" });
        self.teams_deliver_accepted(&a).await?;
        Ok(team)
    }

    /// The person writes in their 1:1 chat with the app.
    pub async fn teams_say(&self, aad: &str, text: &str) -> Result<super::InboundReply, String> {
        let user = self.teams_user(aad).ok_or("no such Teams user")?;
        let mut a = self.activity_from(&user, "message", None);
        a["text"] = json!(text);
        a["textFormat"] = json!("plain");
        self.teams_deliver(&a).await
    }

    /// The invoke Teams sends when `aad` taps the card action titled
    /// `title` (searched in show-cards too) on activity `activity_id`,
    /// with `inputs` filled in. Deliver it with `teams_deliver` (twice, to
    /// see a redelivery).
    pub fn teams_tap_activity(
        &self,
        aad: &str,
        activity_id: &str,
        title: &str,
        inputs: Value,
    ) -> Result<Value, String> {
        self.teams_tap_row_activity(aad, activity_id, title, None, inputs)
    }

    /// The same, for the action titled `title` whose data names `job` (one
    /// row of a card whose rows have the same actions); the first when `None`.
    pub fn teams_tap_row_activity(
        &self,
        aad: &str,
        activity_id: &str,
        title: &str,
        job: Option<&str>,
        inputs: Value,
    ) -> Result<Value, String> {
        let user = self.teams_user(aad).ok_or("no such Teams user")?;
        let sent = self
            .state()
            .bf
            .activities
            .iter()
            .find(|a| a.id == activity_id)
            .cloned()
            .ok_or("no such activity")?;
        let card = sent.card().ok_or("the activity has no card")?;
        let action = find_action(card, title, job)
            .ok_or_else(|| format!("the card has no action {title:?} {job:?}"))?;
        let mut data = action["data"].clone();
        if let (Some(d), Some(i)) = (data.as_object_mut(), inputs.as_object()) {
            d.extend(i.clone());
        }
        let mut a = self.activity_from(&user, "invoke", Some((&sent.conversation, "personal")));
        a["name"] = json!("adaptiveCard/action");
        a["replyToId"] = json!(activity_id);
        a["value"] = json!({
            "action": { "type": "Action.Execute", "title": title, "verb": action["verb"], "data": data },
            "trigger": "manual",
        });
        self.state().bf.next += 1;
        Ok(a)
    }

    /// Taps a card action once and returns the service's answer (the invoke response).
    pub async fn teams_tap(
        &self,
        aad: &str,
        activity_id: &str,
        title: &str,
        inputs: Value,
    ) -> Result<Value, String> {
        self.teams_tap_row(aad, activity_id, title, None, inputs)
            .await
    }

    /// Taps the action titled `title` on the row for `job` (the first such
    /// action when `None`) and returns the service's answer.
    pub async fn teams_tap_row(
        &self,
        aad: &str,
        activity_id: &str,
        title: &str,
        job: Option<&str>,
        inputs: Value,
    ) -> Result<Value, String> {
        let a = self.teams_tap_row_activity(aad, activity_id, title, job, inputs)?;
        let reply = self.teams_deliver(&a).await?;
        if reply.status != 200 {
            return Err(format!("invoke answered {}: {}", reply.status, reply.body));
        }
        let body: Value = serde_json::from_str(&reply.body).map_err(|e| e.to_string())?;
        // Teams replaces the card with the one in the answer.
        if body["type"] == crate::chat::teams::cards::CARD_CONTENT_TYPE {
            let mut s = self.state();
            if let Some(sent) = s.bf.activities.iter_mut().find(|x| x.id == activity_id) {
                let old = sent.activity.clone();
                sent.edits.push(old);
                sent.activity["attachments"][0]["content"] = body["value"].clone();
            }
        }
        Ok(body)
    }
}

/// An `Action.Execute` by title (and the job its data names), in the
/// card's actions, its body's action sets and inside `Action.ShowCard`s.
fn find_action<'a>(card: &'a Value, title: &str, job: Option<&str>) -> Option<&'a Value> {
    let sets = card["body"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "ActionSet")
        .flat_map(|e| e["actions"].as_array().into_iter().flatten());
    for a in card["actions"].as_array().into_iter().flatten().chain(sets) {
        let t = a["title"].as_str().unwrap_or_default();
        let titled = t == title || t.trim_start_matches("✓ ") == title;
        if a["type"] == "Action.Execute" && titled && job.is_none_or(|j| a["data"]["job"] == j) {
            return Some(a);
        }
        if a["type"] == "Action.ShowCard" {
            if let Some(found) = find_action(&a["card"], title, job) {
                return Some(found);
            }
        }
    }
    None
}

pub(crate) fn router() -> Router<SimWorkspace> {
    Router::new()
        .route(
            "/botframework/.well-known/openidconfiguration",
            get(metadata),
        )
        .route("/botframework/keys", get(keys))
        .route("/botframework/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/botframework/{tenant}/oauth2/v2.0/authorize",
            get(sign_in_authorize),
        )
        .route(
            "/botframework/{tenant}/discovery/v2.0/keys",
            get(sign_in_keys),
        )
        .route(
            "/botframework/connector/v3/conversations",
            post(create_conversation),
        )
        .route(
            "/botframework/connector/v3/conversations/{conversation}/activities",
            post(send_activity),
        )
        .route(
            "/botframework/connector/v3/conversations/{conversation}/activities/{id}",
            put(update_activity),
        )
        .route(
            "/botframework/connector/v3/conversations/{conversation}/pagedmembers",
            get(paged_members),
        )
        .route(
            "/botframework/connector/v3/conversations/{conversation}/members/{member}",
            get(member),
        )
}

async fn metadata(State(sim): State<SimWorkspace>) -> Json<Value> {
    let base = sim.bf_base();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "jwks_uri": format!("{base}/keys"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

async fn keys() -> Json<Value> {
    Json(json!({ "keys": [{
        "kty": "RSA", "use": "sig", "kid": KID, "n": KEY.n, "e": KEY.e,
        // Like a registration with Web Chat and Direct Line enabled too: the
        // service must still take only Teams' activities.
        "endorsements": ["msteams", "webchat", "directline"],
    }]}))
}

/// Entra's client-credentials grant, as the bot uses it.
async fn token(
    State(sim): State<SimWorkspace>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let aad_error = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    };
    if tenant != TENANT && tenant != "botframework.com" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS90002: Tenant not found.",
        );
    }
    if field("grant_type") == "authorization_code" {
        return sign_in_token(&sim, &tenant, &form);
    }
    if field("grant_type") != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003",
        );
    }
    if field("client_id") != APP_ID || field("client_secret") != APP_PASSWORD {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let graph = field("scope") == crate::chat::teams::graph::GRAPH_SCOPE;
    if field("scope") != crate::chat::teams::connector::BOT_FRAMEWORK_SCOPE && !graph {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_scope", "AADSTS70011");
    }
    let token = {
        use rand::Rng;
        let n: u128 = sim.state().rng.gen();
        format!("sim-bf-access-{n:032x}")
    };
    if graph {
        sim.state().bf.graph_tokens.push(token.clone());
    } else {
        sim.state().bf.tokens.push(token.clone());
    }
    Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }))
        .into_response()
}

fn connector_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// The bearer check and injected faults every connector call goes through;
/// `Some` is the answer to give instead.
async fn gate(sim: &SimWorkspace, headers: &HeaderMap, operation: &str) -> Option<Response> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let known = bearer.is_some_and(|t| sim.state().bf.tokens.iter().any(|k| k == t));
    if !known {
        sim.state().bf.calls.push((operation.into(), 401));
        return Some(connector_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        ));
    }
    match sim.pick_fault(operation) {
        Some(FaultKind::RateLimited { retry_after }) => {
            sim.state().bf.calls.push((operation.into(), 429));
            sim.state().rate_limited += 1;
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry_after.to_string())],
                    Json(json!({ "error": { "code": "TooManyRequests", "message": "Too many requests" } })),
                )
                    .into_response(),
            )
        }
        Some(FaultKind::ServerError { .. }) => {
            sim.state().bf.calls.push((operation.into(), 500));
            Some(connector_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceError",
                "Internal error",
            ))
        }
        Some(FaultKind::Hang { seconds, .. }) => {
            tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
            None
        }
        Some(FaultKind::Slow { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            None
        }
        None => None,
    }
}

/// A conversation the bot may post to: someone's 1:1 chat with the app
/// installed, or an installed team's channel.
fn conversation_open(sim: &SimWorkspace, conversation: &str) -> bool {
    let s = sim.state();
    s.bf.users
        .iter()
        .any(|u| u.conversation.as_deref() == Some(conversation))
        || s.bf.teams.iter().any(|(t, on)| *on && t == conversation)
}

/// Checks an outgoing activity's shape as the connector does.
fn check_activity(activity: &Value) -> Result<(), &'static str> {
    if activity["type"] != "message" {
        return Err("Activity type must be message");
    }
    let attachments = activity["attachments"].as_array();
    if activity["text"].as_str().is_none_or(str::is_empty) && attachments.is_none_or(Vec::is_empty)
    {
        return Err("Activity must have text or attachments");
    }
    for a in attachments.into_iter().flatten() {
        if a["contentType"] == crate::chat::teams::cards::CARD_CONTENT_TYPE
            && (a["content"]["type"] != "AdaptiveCard" || !a["content"]["version"].is_string())
        {
            return Err("Invalid Adaptive Card");
        }
    }
    if activity.to_string().len() > crate::chat::teams::cards::MAX_ACTIVITY_BYTES {
        return Err("Message size too large");
    }
    Ok(())
}

async fn create_conversation(
    State(sim): State<SimWorkspace>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&sim, &headers, "createConversation").await {
        return r;
    }
    let member = body["members"][0]["id"].as_str().unwrap_or_default();
    let found = sim
        .state()
        .bf
        .users
        .iter()
        .find(|u| u.id == member || u.aad_object_id == member)
        .cloned();
    let status = match &found {
        Some(BfUser {
            conversation: Some(_),
            ..
        }) => 201,
        Some(_) => 403,
        None => 404,
    };
    sim.state()
        .bf
        .calls
        .push(("createConversation".into(), status));
    match found {
        Some(BfUser {
            conversation: Some(c),
            ..
        }) => (StatusCode::CREATED, Json(json!({ "id": c }))).into_response(),
        // Teams refuses a proactive chat with someone who has not got the app.
        Some(_) => connector_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The bot is not part of the conversation roster.",
        ),
        None => connector_error(StatusCode::NOT_FOUND, "NotFound", "User not found"),
    }
}

async fn send_activity(
    State(sim): State<SimWorkspace>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    Json(activity): Json<Value>,
) -> Response {
    if let Some(r) = gate(&sim, &headers, "sendToConversation").await {
        return r;
    }
    if !conversation_open(&sim, &conversation) {
        sim.state()
            .bf
            .calls
            .push(("sendToConversation".into(), 403));
        return connector_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The bot is not part of the conversation roster.",
        );
    }
    if let Err(why) = check_activity(&activity) {
        sim.state()
            .bf
            .calls
            .push(("sendToConversation".into(), 400));
        return connector_error(StatusCode::BAD_REQUEST, "BadArgument", why);
    }
    keep_card(&activity);
    let mut s = sim.state();
    s.bf.next += 1;
    let id = format!("1{:012}", 500_000_000 + s.bf.next);
    s.bf.activities.push(BfActivity {
        conversation: conversation.clone(),
        id: id.clone(),
        activity,
        edits: Vec::new(),
    });
    s.bf.calls.push(("sendToConversation".into(), 201));
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

async fn update_activity(
    State(sim): State<SimWorkspace>,
    Path((conversation, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(activity): Json<Value>,
) -> Response {
    if let Some(r) = gate(&sim, &headers, "updateActivity").await {
        return r;
    }
    if let Err(why) = check_activity(&activity) {
        sim.state().bf.calls.push(("updateActivity".into(), 400));
        return connector_error(StatusCode::BAD_REQUEST, "BadArgument", why);
    }
    keep_card(&activity);
    let mut s = sim.state();
    let Some(sent) =
        s.bf.activities
            .iter_mut()
            .find(|a| a.conversation == conversation && a.id == id)
    else {
        s.bf.calls.push(("updateActivity".into(), 404));
        return connector_error(
            StatusCode::NOT_FOUND,
            "ActivityNotFoundInConversation",
            "Activity not found",
        );
    };
    let old = std::mem::replace(&mut sent.activity, activity);
    sent.edits.push(old);
    s.bf.calls.push(("updateActivity".into(), 200));
    Json(json!({ "id": id })).into_response()
}

/// Every card Teams would show (sent, updated, or answered to an invoke)
/// is kept for `.ci/validate_cards.py` when `MOMENTUM_CARDS_DIR` is set.
fn keep_card(activity: &Value) {
    if let Some(card) = activity["attachments"][0]["content"].as_object() {
        super::api::keep_card_for_validation(&Value::Object(card.clone()));
    }
}

fn member_json(u: &BfUser) -> Value {
    json!({
        "id": u.id, "name": u.name, "aadObjectId": u.aad_object_id,
        "email": u.email, "userPrincipalName": u.email, "tenantId": TENANT, "userRole": "user",
    })
}

/// A team's roster, two members a page (so paging is exercised).
async fn paged_members(
    State(sim): State<SimWorkspace>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&sim, &headers, "getPagedMembers").await {
        return r;
    }
    if !sim
        .state()
        .bf
        .teams
        .iter()
        .any(|(t, on)| *on && *t == conversation)
    {
        return connector_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The bot is not part of the conversation roster.",
        );
    }
    let users = sim.state().bf.users.clone();
    let start: usize = q
        .get("continuationToken")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = users.iter().skip(start).take(2).map(member_json).collect();
    let next = (start + 2 < users.len()).then(|| (start + 2).to_string());
    sim.state().bf.calls.push(("getPagedMembers".into(), 200));
    Json(json!({ "members": page, "continuationToken": next })).into_response()
}

async fn member(
    State(sim): State<SimWorkspace>,
    Path((_conversation, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&sim, &headers, "getConversationMember").await {
        return r;
    }
    let found = sim
        .state()
        .bf
        .users
        .iter()
        .find(|u| u.id == member || u.aad_object_id == member)
        .map(member_json);
    match found {
        Some(m) => Json(m).into_response(),
        None => connector_error(
            StatusCode::NOT_FOUND,
            "MemberNotFoundInConversation",
            "Member not found",
        ),
    }
}

/// `/_sim/teams/*`: drive the Teams side by hand (a local run, or a script):
/// add people, install the app for them or in a team, write in a chat, tap
/// a card action, and list what the bot sent.
pub(crate) fn control_router() -> Router<SimWorkspace> {
    Router::new()
        .route("/_sim/teams/users", post(control_add_user))
        .route("/_sim/teams/install", post(control_install))
        .route("/_sim/teams/install_in_team", post(control_install_in_team))
        .route("/_sim/teams/say", post(control_say))
        .route("/_sim/teams/tap", post(control_tap))
        .route("/_sim/teams/activities", get(control_activities))
}

fn control_answer(r: Result<Value, String>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

fn text_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, String> {
    body[name]
        .as_str()
        .ok_or_else(|| format!("{name} is required (a string)"))
}

async fn control_add_user(State(sim): State<SimWorkspace>, Json(b): Json<Value>) -> Response {
    control_answer((|| {
        let aad = sim.teams_add_user(
            text_field(&b, "name")?,
            text_field(&b, "email")?,
            b["time_zone"].as_str().unwrap_or("UTC"),
            b["locale"].as_str().unwrap_or("en-US"),
        );
        Ok(json!({ "aad_object_id": aad, "chat": format!("teams:{TENANT}/{aad}") }))
    })())
}

async fn control_install(State(sim): State<SimWorkspace>, Json(b): Json<Value>) -> Response {
    let r = match text_field(&b, "aad_object_id") {
        Ok(aad) => sim
            .teams_install(aad)
            .await
            .map(|c| json!({ "conversation": c })),
        Err(e) => Err(e),
    };
    control_answer(r)
}

async fn control_install_in_team(
    State(sim): State<SimWorkspace>,
    Json(b): Json<Value>,
) -> Response {
    let r = match text_field(&b, "aad_object_id") {
        Ok(aad) => sim
            .teams_install_in_team(aad)
            .await
            .map(|c| json!({ "channel": c, "sponsor_channel": format!("teams:{TENANT}/{c}") })),
        Err(e) => Err(e),
    };
    control_answer(r)
}

async fn control_say(State(sim): State<SimWorkspace>, Json(b): Json<Value>) -> Response {
    let r = match (text_field(&b, "aad_object_id"), text_field(&b, "text")) {
        (Ok(aad), Ok(text)) => sim
            .teams_say(aad, text)
            .await
            .map(|reply| json!({ "status": reply.status })),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    control_answer(r)
}

async fn control_tap(State(sim): State<SimWorkspace>, Json(b): Json<Value>) -> Response {
    let r = match (
        text_field(&b, "aad_object_id"),
        text_field(&b, "activity"),
        text_field(&b, "title"),
    ) {
        (Ok(aad), Ok(activity), Ok(title)) => {
            sim.teams_tap(aad, activity, title, b["inputs"].clone())
                .await
        }
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => Err(e),
    };
    control_answer(r)
}

async fn control_activities(State(sim): State<SimWorkspace>) -> Json<Value> {
    let all = sim.state().bf.activities.clone();
    Json(json!(all))
}

/// "Sign in with Microsoft": Entra's authorize page, as the person the
/// workspace's browser is signed in as (`login_hint`, an Entra object id).
async fn sign_in_authorize(
    State(sim): State<SimWorkspace>,
    Path(tenant): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let bad = |why: &str| (StatusCode::BAD_REQUEST, why.to_string()).into_response();
    if tenant != TENANT {
        return bad("AADSTS90002: Tenant not found.");
    }
    if q.get("client_id").map(String::as_str) != Some(APP_ID) {
        return bad("AADSTS700016: Application not found in the directory.");
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return bad("AADSTS900144: response_type=code is required");
    }
    let (Some(redirect_uri), Some(user)) = (q.get("redirect_uri"), q.get("login_hint")) else {
        return bad("redirect_uri and login_hint are required here");
    };
    if sim.teams_user(user).is_none() {
        return bad("AADSTS50034: The user account does not exist in this directory.");
    }
    let code = format!("entra-{}", sim.state().bf.next + 1000);
    sim.state().bf.next += 1;
    sim.state().oidc_codes.push(super::openid::OidcCode {
        code: code.clone(),
        user: user.clone(),
        nonce: q.get("nonce").cloned(),
        redirect_uri: redirect_uri.clone(),
        used: false,
        entra: true,
    });
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return bad("redirect_uri is not a URL");
    };
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair(
            "state",
            q.get("state").map(String::as_str).unwrap_or_default(),
        );
    axum::response::Redirect::to(target.as_str()).into_response()
}

async fn sign_in_keys() -> Json<Value> {
    Json(json!({ "keys": [public_jwk(ENTRA_KID)] }))
}

const ENTRA_KID: &str = "sim-entra-signin";

/// The authorization-code grant: an ID token naming the person (tid, oid).
fn sign_in_token(
    sim: &SimWorkspace,
    tenant: &str,
    form: &std::collections::HashMap<String, String>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let refuse =
        |error: &str| (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    if field("client_id") != APP_ID || field("client_secret") != APP_PASSWORD {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let found = {
        let mut s = sim.state();
        let Some(c) = s
            .oidc_codes
            .iter_mut()
            .find(|c| c.entra && !c.used && c.code == field("code"))
        else {
            return refuse("invalid_grant");
        };
        if c.redirect_uri != field("redirect_uri") {
            return refuse("invalid_grant");
        }
        c.used = true;
        c.clone()
    };
    let Some(user) = sim.teams_user(&found.user) else {
        return refuse("invalid_grant");
    };
    let now = sim.now().as_second();
    let mut claims = json!({
        "iss": format!("{}/{tenant}/v2.0", sim.bf_base()),
        "aud": APP_ID,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "sub": user.aad_object_id,
        "oid": user.aad_object_id,
        "tid": tenant,
        "preferred_username": user.email,
        "name": user.name,
        "ver": "2.0",
    });
    if let Some(n) = &found.nonce {
        claims["nonce"] = json!(n);
    }
    Json(json!({
        "token_type": "Bearer",
        "scope": "openid email profile",
        "expires_in": 3599,
        "access_token": format!("sim-entra-access-{}", found.code),
        "id_token": sign(&claims, ENTRA_KID),
    }))
    .into_response()
}
