//! The local workspace's Microsoft Graph: the calls Momentum makes when an
//! admin consented (users by mail, the tenant's app catalog, installing the
//! app for a user), behind Graph tokens from the workspace's token endpoint.

use super::botframework::APP_ID;
use super::SimWorkspace;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;

const CATALOG_ID: &str = "1542629c-01b3-4a6d-8f76-1938b779e48d";

impl SimWorkspace {
    /// Graph's base URL (`MOMENTUM_TEAMS_GRAPH_URL`).
    pub fn teams_graph_url(&self) -> String {
        format!("{}/graph", self.state().own_url.clone().unwrap_or_default())
    }

    /// How many Graph calls of a kind were made.
    pub fn graph_calls(&self, kind: &str) -> usize {
        self.state()
            .bf
            .calls
            .iter()
            .filter(|(k, _)| k == kind)
            .count()
    }
}

pub(crate) fn router() -> Router<SimWorkspace> {
    Router::new()
        .route("/graph/v1.0/users", get(users))
        .route("/graph/v1.0/$batch", post(batch))
        .route("/graph/v1.0/appCatalogs/teamsApps", get(catalog))
        .route(
            "/graph/v1.0/users/{id}/teamwork/installedApps",
            post(install),
        )
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn authorised(sim: &SimWorkspace, headers: &HeaderMap, kind: &str) -> Option<Response> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = bearer.is_some_and(|t| sim.state().bf.graph_tokens.iter().any(|k| k == t));
    sim.state()
        .bf
        .calls
        .push((kind.into(), if ok { 200 } else { 401 }));
    (!ok).then(|| {
        graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        )
    })
}

/// The quoted values of an OData `$filter` (`mail eq 'a' or userPrincipalName eq 'a'`).
fn quoted(filter: &str) -> Vec<String> {
    filter
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

async fn users(
    State(sim): State<SimWorkspace>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = authorised(&sim, &headers, "graph.users") {
        return r;
    }
    Json(users_matching(&sim, &q)).into_response()
}

/// `%XX` and `+` in a query value, decoded.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Graph's JSON batching (`POST /v1.0/$batch`): up to 20 requests, each
/// answered in `responses` with its id, status, headers and body. The
/// local workspace answers the requests Momentum batches (`GET /users`
/// with a `$filter`); anything else is answered 400 inside the batch.
async fn batch(
    State(sim): State<SimWorkspace>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = authorised(&sim, &headers, "graph.batch") {
        return r;
    }
    let Some(requests) = body["requests"].as_array() else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid batch payload format.",
        );
    };
    if requests.is_empty() || requests.len() > 20 {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Number of batch request steps exceeds the maximum value of 20.",
        );
    }
    let mut responses = Vec::new();
    for r in requests {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        let url = r["url"].as_str().unwrap_or_default();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let query: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (percent_decode(k), percent_decode(v)))
            .collect();
        let answer = if r["method"] == "GET" && path.trim_start_matches('/') == "users" {
            sim.state().bf.calls.push(("graph.users".into(), 200));
            json!({
                "id": id, "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": users_matching(&sim, &query),
            })
        } else {
            json!({
                "id": id, "status": 400,
                "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "BadRequest", "message": "Resource not found for the segment."}},
            })
        };
        responses.push(answer);
    }
    Json(json!({ "responses": responses })).into_response()
}

/// `GET /users?$filter=…`'s answer: the users whose mail is quoted there.
fn users_matching(sim: &SimWorkspace, q: &HashMap<String, String>) -> Value {
    let wanted = quoted(q.get("$filter").map(String::as_str).unwrap_or_default());
    let found: Vec<Value> = sim
        .state()
        .bf
        .users
        .iter()
        .filter(|u| wanted.iter().any(|w| w.eq_ignore_ascii_case(&u.email)))
        .map(|u| {
            json!({
                "id": u.aad_object_id, "displayName": u.name, "mail": u.email,
                "userPrincipalName": u.email, "accountEnabled": true,
            })
        })
        .collect();
    json!({ "value": found })
}

async fn catalog(
    State(sim): State<SimWorkspace>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = authorised(&sim, &headers, "graph.catalog") {
        return r;
    }
    let wanted = quoted(q.get("$filter").map(String::as_str).unwrap_or_default());
    let apps = if wanted.iter().any(|w| w == APP_ID) {
        vec![
            json!({ "id": CATALOG_ID, "externalId": APP_ID, "displayName": "Momentum", "distributionMethod": "organization" }),
        ]
    } else {
        vec![]
    };
    Json(json!({ "value": apps })).into_response()
}

/// Installs the app for a user; Teams then tells the bot (asynchronously).
async fn install(
    State(sim): State<SimWorkspace>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = authorised(&sim, &headers, "graph.install") {
        return r;
    }
    let binding = body["teamsApp@odata.bind"].as_str().unwrap_or_default();
    if !binding.ends_with(&format!("/appCatalogs/teamsApps/{CATALOG_ID}")) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid teamsApp binding",
        );
    }
    let Some(user) = sim.teams_user(&id) else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
    };
    if user.conversation.is_some() {
        return graph_error(StatusCode::CONFLICT, "Conflict", "App is already installed");
    }
    let Ok((_, activity)) = sim.install_for(&id) else {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "User not found");
    };
    let deliver = sim.clone();
    tokio::spawn(async move {
        if let Err(e) = deliver.teams_deliver(&activity).await {
            tracing::warn!(error = %e, "installationUpdate not delivered");
        }
    });
    StatusCode::CREATED.into_response()
}
