//! The simulated Slack Web API (`/api/<method>`) and the `/_sim` control
//! routes used by `momentum sim`, the demo and the tests.

use super::{
    FaultKind, SimContent, SimMessage, SimUser, SimWorkspace, APP_ID, BOT_ID, BOT_USER_ID,
};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use slack_morphism::prelude::SlackBlock;
use std::time::Duration;

/// Slack's hard limits that the simulator enforces like Slack does.
const MAX_BLOCKS: usize = 50;
const MAX_TEXT: usize = 40_000;

pub fn router(sim: SimWorkspace) -> Router {
    Router::new()
        .route("/api/{method}", get(web_api).post(web_api))
        .route("/_sim/messages", get(list_messages))
        .route("/_sim/stats", get(stats))
        .route("/_sim/users", get(list_users).post(create_user))
        .route("/_sim/tap", post(tap))
        .route("/_sim/status", post(set_status))
        .route("/_sim/command", post(command))
        .route("/_sim/upload/{file}", post(upload))
        .route("/oauth/v2/authorize", get(super::workspaces::authorize))
        .merge(super::botframework::router())
        .merge(super::botframework::control_router())
        .merge(super::graph::router())
        .merge(super::openid::router())
        .with_state(sim)
}

fn ok(mut v: Value) -> Value {
    v["ok"] = json!(true);
    v
}

fn err(code: &str) -> Value {
    json!({ "ok": false, "error": code })
}

/// Collects a call's arguments from the query string and a JSON or form body.
fn params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, &'static str> {
    let mut out = Map::new();
    let mut add_pairs = |s: &str| {
        for (k, v) in url::form_urlencoded::parse(s.as_bytes()) {
            out.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    };
    if let Some(q) = query {
        add_pairs(q);
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !body.is_empty() {
        if ctype.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => out.extend(m),
                _ => return Err("invalid_json"),
            }
        } else {
            add_pairs(std::str::from_utf8(body).map_err(|_| "invalid_form_data")?);
        }
    }
    // Form posts carry JSON arrays (blocks) as strings.
    if let Some(Value::String(s)) = out.get("blocks") {
        let parsed = serde_json::from_str(s).map_err(|_| "invalid_blocks_format")?;
        out.insert("blocks".into(), parsed);
    }
    Ok(out)
}

fn token(headers: &HeaderMap, p: &Map<String, Value>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string())
        .or_else(|| p.get("token").and_then(Value::as_str).map(String::from))
}

fn arg<'a>(p: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    p.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

async fn web_api(
    State(sim): State<SimWorkspace>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = match params(&headers, query.as_deref(), &body) {
        Ok(p) => p,
        Err(code) => return finish(&sim, method, err(code)),
    };
    if method == "apps.connections.open" {
        let answer = sim.connections_open(token(&headers, &p).as_deref());
        return finish(&sim, method, answer);
    }
    if method == "openid.connect.token" {
        let answer = sim.oidc_token(&p);
        return finish(&sim, method, answer);
    }
    if method == "oauth.v2.access" {
        let answer = sim.oauth_access(&headers, &p);
        return finish(&sim, method, answer);
    }
    let team = match token(&headers, &p).map(|t| sim.team_of_token(&t)) {
        None => return finish(&sim, method, err("not_authed")),
        Some(Err(code)) => return finish(&sim, method, err(code)),
        Some(Ok(team)) => team,
    };
    // Slack's limits first, then injected faults, as a real outage would look.
    let channel = arg(&p, "channel").map(|c| {
        if c.starts_with('U') {
            SimWorkspace::dm_channel(c)
        } else {
            c.to_string()
        }
    });
    let limiter = sim.state().limiter.clone();
    if let Some(wait) = limiter.and_then(|l| l.check(&method, channel.as_deref()).err()) {
        return too_many(&sim, &method, wait);
    }
    let fault = sim.pick_fault(&method);
    match fault {
        Some(FaultKind::RateLimited { retry_after }) => {
            return too_many(&sim, &method, retry_after)
        }
        Some(FaultKind::ServerError { after: false }) => return server_error(&sim, method),
        Some(FaultKind::Hang {
            seconds,
            after: false,
        }) => tokio::time::sleep(Duration::from_secs(seconds)).await,
        Some(FaultKind::Slow { millis }) => tokio::time::sleep(Duration::from_millis(millis)).await,
        _ => {}
    }
    let result = call(&sim, &team, &method, &p);
    match fault {
        Some(FaultKind::ServerError { after: true }) => return server_error(&sim, method),
        Some(FaultKind::Hang {
            seconds,
            after: true,
        }) => tokio::time::sleep(Duration::from_secs(seconds)).await,
        _ => {}
    }
    finish(&sim, method, result)
}

fn finish(sim: &SimWorkspace, method: String, result: Value) -> Response {
    let success = result["ok"] == json!(true);
    sim.state().calls.push((method, success));
    Json(result).into_response()
}

fn too_many(sim: &SimWorkspace, method: &str, retry_after: u64) -> Response {
    let mut s = sim.state();
    s.rate_limited += 1;
    s.calls.push((method.to_string(), false));
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after.to_string())],
        Json(err("ratelimited")),
    )
        .into_response()
}

fn server_error(sim: &SimWorkspace, method: String) -> Response {
    sim.state().calls.push((method, false));
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

/// One Web API call, made with a token of `team`.
fn call(sim: &SimWorkspace, team: &str, method: &str, p: &Map<String, Value>) -> Value {
    match method {
        "auth.test" => ok(json!({
            "url": "https://momentum-local.slack.com/",
            "team": sim.team_name(team),
            "user": "momentum",
            "team_id": team,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": false,
        })),
        "conversations.open" => {
            // A comma-separated string (form posts) or a JSON array (JSON bodies).
            let first = match p.get("users") {
                Some(Value::String(s)) => {
                    s.split(',').next().unwrap_or_default().trim().to_string()
                }
                Some(Value::Array(a)) => a
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                _ => String::new(),
            };
            if first.is_empty() {
                return err("users_list_not_supplied");
            }
            let first = first.as_str();
            match sim.user_in(team, first) {
                None => err("user_not_found"),
                Some(u) if u.deleted => err("user_disabled"),
                Some(u) => ok(json!({ "channel": { "id": SimWorkspace::dm_channel(&u.id) } })),
            }
        }
        "chat.postMessage" => post_message(sim, team, p),
        "files.getUploadURLExternal" => upload_url(sim, p),
        "files.completeUploadExternal" => complete_upload(sim, p),
        "conversations.history" => history(sim, p),
        "chat.update" => update_message(sim, p),
        "chat.postEphemeral" => post_ephemeral(sim, team, p),
        "views.publish" => sim.views_publish(p),
        "views.open" => sim.views_open(p),
        "users.info" => match arg(p, "user").and_then(|id| sim.user_in(team, id)) {
            None => err("user_not_found"),
            Some(u) => {
                ok(json!({ "user": user_json(sim, &u, arg(p, "include_locale") == Some("true")) }))
            }
        },
        "users.list" => {
            // Pages of at most `limit` (Slack caps it at 1,000); the cursor
            // is an opaque string that the next call hands back.
            let limit = arg(p, "limit")
                .and_then(|l| l.parse::<usize>().ok())
                .filter(|l| *l > 0)
                .unwrap_or(1000)
                .min(1000);
            let start = match arg(p, "cursor") {
                None => 0,
                Some(c) => match c
                    .strip_prefix("dXNlcjo")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    Some(n) => n,
                    None => return err("invalid_cursor"),
                },
            };
            let locale = arg(p, "include_locale") == Some("true");
            let members: Vec<SimUser> = sim
                .state()
                .users
                .iter()
                .filter(|u| u.team == team)
                .cloned()
                .collect();
            let page: Vec<Value> = members
                .iter()
                .skip(start)
                .take(limit)
                .map(|u| user_json(sim, u, locale))
                .collect();
            let next = if start + limit < members.len() {
                format!("dXNlcjo{}", start + limit)
            } else {
                String::new()
            };
            ok(json!({ "members": page, "response_metadata": { "next_cursor": next } }))
        }
        "users.lookupByEmail" => {
            let Some(email) = arg(p, "email") else {
                return err("invalid_email");
            };
            let email = email.to_lowercase();
            let found = sim
                .state()
                .users
                .iter()
                .find(|u| u.email == email && u.team == team)
                .cloned();
            match found {
                None => err("users_not_found"),
                Some(u) => ok(json!({ "user": user_json(sim, &u, false) })),
            }
        }
        _ => err("unknown_method"),
    }
}

pub(crate) fn user_json(sim: &SimWorkspace, u: &SimUser, include_locale: bool) -> Value {
    let offset = jiff::tz::TimeZone::get(&u.tz)
        .map(|tz| tz.to_offset(sim.now()).seconds())
        .unwrap_or(0);
    let mut v = json!({
        "id": u.id,
        "team_id": u.team,
        "name": u.name,
        "deleted": u.deleted,
        "real_name": u.real_name,
        "tz": u.tz,
        "tz_label": u.tz,
        "tz_offset": offset,
        "is_admin": false,
        "is_owner": false,
        "is_bot": u.is_bot,
        "is_app_user": false,
        "updated": 1_700_000_000,
        "profile": {
            "real_name": u.real_name,
            "display_name": u.name,
            "email": u.email,
            "status_text": u.status_text,
            "status_emoji": u.status_emoji,
            "status_expiration": u.status_expiration,
        },
    });
    if include_locale {
        v["locale"] = json!(u.locale);
    }
    v
}

/// Checks content the way Slack does: text or blocks, valid blocks, limits.
fn content(sim: &SimWorkspace, p: &Map<String, Value>) -> Result<(String, Value), &'static str> {
    let text = arg(p, "text").unwrap_or_default().to_string();
    let blocks = p.get("blocks").cloned().unwrap_or(Value::Null);
    if text.is_empty() && blocks.is_null() {
        return Err("no_text");
    }
    if text.chars().count() > MAX_TEXT {
        return Err("msg_too_long");
    }
    if !blocks.is_null() {
        let Some(list) = blocks.as_array() else {
            return Err("invalid_blocks");
        };
        if list.len() > MAX_BLOCKS {
            return Err("invalid_blocks");
        }
        if serde_json::from_value::<Vec<SlackBlock>>(blocks.clone()).is_err() {
            return Err("invalid_blocks");
        }
        for b in list.iter().filter(|b| b["type"] == "image") {
            let by_file = b["slack_file"]["id"].as_str();
            if b["alt_text"].as_str().is_none_or(str::is_empty) {
                return Err("invalid_blocks");
            }
            if let Some(id) = by_file {
                if sim.file(id).is_none() {
                    return Err("invalid_blocks");
                }
            }
        }
    }
    let blocks = if blocks.is_null() { json!([]) } else { blocks };
    keep_for_validation("message", &json!({ "text": text, "blocks": blocks }));
    Ok((text, blocks))
}

pub(crate) use crate::templates::{keep_card_for_validation, keep_for_validation};

/// `files.getUploadURLExternal`: a file id and where to post its bytes.
fn upload_url(sim: &SimWorkspace, p: &Map<String, Value>) -> Value {
    let (Some(filename), Some(length)) = (
        arg(p, "filename").filter(|f| !f.is_empty()),
        arg(p, "length").and_then(|l| l.parse::<usize>().ok()),
    ) else {
        return err("invalid_arguments");
    };
    if length == 0 || length > 1_000_000_000 {
        return err("invalid_length");
    }
    let mut s = sim.state();
    let id = format!("F{:08}", s.files.len() + 1);
    let base = s.own_url.clone().unwrap_or_default();
    s.files.push(super::SimFile {
        id: id.clone(),
        filename: filename.to_string(),
        length,
        bytes: Vec::new(),
        title: None,
        completed: false,
        channel: None,
    });
    ok(json!({ "upload_url": format!("{base}/_sim/upload/{id}"), "file_id": id }))
}

/// The bytes of an upload, posted to its upload URL (not a Web API method:
/// Slack answers `OK - <length>` as plain text).
async fn upload(
    State(sim): State<SimWorkspace>,
    axum::extract::Path(file): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut s = sim.state();
    let Some(f) = s.files.iter_mut().find(|f| f.id == file && !f.completed) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    // Form uploads wrap the bytes; the declared length is what Slack checks.
    f.bytes = body.to_vec();
    (StatusCode::OK, format!("OK - {}", f.bytes.len())).into_response()
}

/// `files.completeUploadExternal`: finishes uploads (shared to `channel_id`
/// only when one is given; the digest shows its chart in an image block).
fn complete_upload(sim: &SimWorkspace, p: &Map<String, Value>) -> Value {
    let files: Vec<Value> = match p.get("files") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
        Some(Value::Array(a)) => a.clone(),
        _ => vec![],
    };
    if files.is_empty() {
        return err("invalid_arguments");
    }
    let channel = arg(p, "channel_id").map(str::to_string);
    if let Some(c) = &channel {
        let known = match c.strip_prefix('D') {
            Some(user) => sim.user(&format!("U{user}")).is_some_and(|u| !u.deleted),
            None => sim.state().channels.iter().any(|x| x == c),
        };
        if !known {
            return err("channel_not_found");
        }
    }
    let mut s = sim.state();
    let mut done = Vec::new();
    for f in &files {
        let Some(id) = f["id"].as_str() else {
            return err("invalid_arguments");
        };
        match s.files.iter_mut().find(|x| x.id == id) {
            Some(x) if !x.bytes.is_empty() => {
                x.completed = true;
                x.channel = channel.clone();
                x.title = f["title"].as_str().map(str::to_string);
                done.push(json!({ "id": x.id, "title": x.title, "name": x.filename, "size": x.bytes.len() }));
            }
            _ => return err("file_not_found"),
        }
    }
    ok(json!({ "files": done }))
}

fn post_message(sim: &SimWorkspace, team: &str, p: &Map<String, Value>) -> Value {
    let Some(target) = arg(p, "channel") else {
        return err("channel_not_found");
    };
    let channel = if target.starts_with('U') || target.starts_with('W') {
        match sim.user_in(team, target) {
            None => return err("user_not_found"),
            Some(u) if u.deleted => return err("account_inactive"),
            Some(u) => SimWorkspace::dm_channel(&u.id),
        }
    } else if target.starts_with('D') {
        let user = format!("U{}", target.trim_start_matches('D'));
        match sim.user_in(team, &user) {
            None => return err("channel_not_found"),
            Some(u) if u.deleted => return err("account_inactive"),
            Some(_) => target.to_string(),
        }
    } else if sim.state().channels.iter().any(|c| c == target) {
        target.to_string()
    } else {
        return err("channel_not_found");
    };
    let (text, blocks) = match content(sim, p) {
        Ok(c) => c,
        Err(code) => return err(code),
    };
    let metadata = match p.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) => Some(v),
            Err(_) => return err("invalid_metadata_format"),
        },
        Some(v) => Some(v.clone()),
    };
    if metadata
        .as_ref()
        .is_some_and(|m| !m["event_type"].is_string())
    {
        return err("invalid_metadata_schema");
    }
    let ts = sim.next_ts();
    let message = SimMessage {
        team: team.to_string(),
        channel: channel.clone(),
        ts: ts.clone(),
        user: BOT_USER_ID.into(),
        content: SimContent {
            at: sim.now(),
            text,
            blocks,
        },
        edits: Vec::new(),
        metadata,
    };
    let body = message_json(sim, &message);
    let announce = message.metadata.is_some() && sim.state().metadata_events;
    if announce {
        sim.announce_metadata(&message);
    }
    sim.state().messages.push(message);
    ok(json!({ "channel": channel, "ts": ts, "message": body }))
}

/// `chat.postEphemeral`: the user must be in the channel (their DM with
/// the app, or a channel the app is in); the message is kept apart from
/// the channel's history, as Slack does.
fn post_ephemeral(sim: &SimWorkspace, team: &str, p: &Map<String, Value>) -> Value {
    let Some(channel) = arg(p, "channel") else {
        return err("channel_not_found");
    };
    let Some(user) = arg(p, "user").and_then(|u| sim.user_in(team, u)) else {
        return err("user_not_found");
    };
    if channel.starts_with('D') {
        if channel != SimWorkspace::dm_channel(&user.id) {
            return err("user_not_in_channel");
        }
    } else if !sim.state().channels.iter().any(|c| c == channel) {
        return err("channel_not_found");
    }
    let (text, _) = match content(sim, p) {
        Ok(c) => c,
        Err(code) => return err(code),
    };
    let ts = sim.next_ts();
    sim.state().ephemerals.push(super::SimEphemeral {
        channel: channel.to_string(),
        user: user.id.clone(),
        text,
    });
    ok(json!({ "message_ts": ts }))
}

fn update_message(sim: &SimWorkspace, p: &Map<String, Value>) -> Value {
    let (Some(channel), Some(ts)) = (arg(p, "channel"), arg(p, "ts")) else {
        return err("message_not_found");
    };
    let (text, blocks) = match content(sim, p) {
        Ok(c) => c,
        Err(code) => return err(code),
    };
    let now = sim.now();
    let mut state = sim.state();
    let Some(m) = state
        .messages
        .iter_mut()
        .find(|m| m.channel == channel && m.ts == ts)
    else {
        return err("message_not_found");
    };
    if m.user != BOT_USER_ID {
        return err("cant_update_message");
    }
    let previous = std::mem::replace(
        &mut m.content,
        SimContent {
            at: now,
            text: text.clone(),
            blocks,
        },
    );
    m.edits.push(previous);
    let body = message_json(sim, m);
    ok(json!({ "channel": channel, "ts": ts, "text": text, "message": body }))
}

/// `conversations.history`, newest first, with metadata on request. Apps
/// outside the Marketplace get at most 15 messages a call.
fn history(sim: &SimWorkspace, p: &Map<String, Value>) -> Value {
    let Some(channel) = arg(p, "channel") else {
        return err("channel_not_found");
    };
    let oldest: f64 = arg(p, "oldest").and_then(|o| o.parse().ok()).unwrap_or(0.0);
    let limit: usize = arg(p, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(15)
        .clamp(1, 15);
    let with_metadata = arg(p, "include_all_metadata") == Some("true");
    let state = sim.state();
    let mut found: Vec<&SimMessage> = state
        .messages
        .iter()
        .filter(|m| m.channel == channel && m.ts.parse::<f64>().unwrap_or(0.0) >= oldest)
        .collect();
    found.reverse();
    let has_more = found.len() > limit;
    let messages: Vec<Value> = found
        .into_iter()
        .take(limit)
        .map(|m| {
            let mut v = message_json(sim, m);
            if with_metadata {
                if let Some(md) = &m.metadata {
                    v["metadata"] = md.clone();
                }
            }
            v
        })
        .collect();
    ok(
        json!({ "messages": messages, "has_more": has_more, "pin_count": 0, "response_metadata": { "next_cursor": "" } }),
    )
}

pub(crate) fn message_json(sim: &SimWorkspace, m: &SimMessage) -> Value {
    json!({
        "type": "message",
        "user": m.user,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": sim.config.team_id,
        "text": m.content.text,
        "blocks": m.content.blocks,
        "ts": m.ts,
    })
}

async fn list_messages(State(sim): State<SimWorkspace>) -> Json<Value> {
    Json(json!(sim.messages()))
}

/// Counts for load tests: messages posted, messages per job id, 429s.
async fn stats(State(sim): State<SimWorkspace>) -> Json<Value> {
    let state = sim.state();
    let mut per_job: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for m in &state.messages {
        if let Some(id) = m
            .metadata
            .as_ref()
            .and_then(|md| md["event_payload"]["job_id"].as_str())
        {
            *per_job.entry(id.to_string()).or_default() += 1;
        }
    }
    let duplicated: Vec<&String> = per_job
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    Json(json!({
        "messages": state.messages.len(),
        "jobs": per_job.len(),
        "duplicated_jobs": duplicated,
        "rate_limited": state.rate_limited,
    }))
}

async fn list_users(State(sim): State<SimWorkspace>) -> Json<Value> {
    Json(json!(sim.users()))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    real_name: Option<String>,
    email: String,
    tz: Option<String>,
}

async fn create_user(State(sim): State<SimWorkspace>, Json(u): Json<NewUser>) -> Json<Value> {
    let id = sim.add_user(
        &u.name,
        u.real_name.as_deref().unwrap_or(&u.name),
        &u.email,
        u.tz.as_deref().unwrap_or("UTC"),
    );
    Json(json!({ "id": id }))
}

#[derive(Deserialize)]
struct StatusRequest {
    user: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    emoji: String,
    /// Unix seconds; 0 or absent: no expiry.
    #[serde(default)]
    expiration: i64,
}

/// A person sets their Slack status; the service hears of it (`user_change`).
async fn set_status(State(sim): State<SimWorkspace>, Json(r): Json<StatusRequest>) -> Response {
    if sim.set_status(&r.user, &r.text, &r.emoji, r.expiration) {
        Json(json!({ "ok": true })).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "user_not_found" })),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct TapRequest {
    user: String,
    channel: String,
    ts: String,
    action_id: String,
}

async fn tap(State(sim): State<SimWorkspace>, Json(t): Json<TapRequest>) -> Response {
    match sim.tap(&t.user, &t.channel, &t.ts, &t.action_id).await {
        Ok(reply) => Json(json!({ "status": reply.status, "body": reply.body })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

#[derive(Deserialize)]
struct CommandRequest {
    user: String,
    text: String,
}

async fn command(State(sim): State<SimWorkspace>, Json(c): Json<CommandRequest>) -> Response {
    match sim.slash_command(&c.user, "/momentum", &c.text).await {
        Ok(reply) => Json(json!({ "status": reply.status, "body": reply.body })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}
