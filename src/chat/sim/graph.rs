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
    Json(json!({ "value": found })).into_response()
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
