//! Thin inbound HTTP: verify, parse into a domain command, call the app,
//! answer fast. Routes: the admin API (`/api/v1`), Slack (`/slack/*`),
//! Teams (`/api/messages`), `/healthz`, `/readyz`, `/metrics` and
//! `/openapi.json`.

pub mod api;
pub(crate) mod commands;
pub mod console;
mod cookies;
pub mod error;
pub mod openapi;
pub mod signin;
pub mod slack;
pub mod states;
pub mod teams;

use crate::app::App;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Program files for big cohorts are large; chat payloads are not.
const API_BODY_LIMIT: usize = 8 * 1024 * 1024;
pub const SLACK_BODY_LIMIT: usize = 512 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    /// Slack's signing secret; Slack routes refuse every request without it.
    pub slack_signing_secret: Option<Arc<str>>,
    /// OAuth install to many workspaces, when configured.
    pub slack_oauth: Option<Arc<slack::SlackOAuth>>,
    /// The Teams bot; `/api/messages` refuses every request without it.
    pub teams: Option<Arc<crate::chat::teams::TeamsBot>>,
    /// Where people reach this deployment (the console's cookie is
    /// `Secure` when it is https).
    pub public_url: Option<String>,
    /// Sign-in providers for the console (Slack, Microsoft), as configured.
    pub sign_in: Vec<Arc<signin::OidcClient>>,
    /// `MOMENTUM_METRICS_TOKEN`: `/metrics` answers only scrapes bearing it.
    pub metrics_token: Option<Arc<str>>,
    /// How many OAuth and sign-in states each client address may start.
    pub state_limiter: Arc<states::StateLimiter>,
}

/// `/readyz`: 200 when the database answers, every migration is applied and
/// a chat workspace is connected; 503 naming what is missing otherwise.
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let mut problems = Vec::new();
    if !state.app.database_answers().await {
        problems.push("database unreachable".to_string());
    } else if let Ok(p) = state.app.pending_migrations().await {
        if !p.is_empty() {
            problems.push(format!("migrations not applied: {}", p.join(", ")));
        }
    }
    // With OAuth install, a deployment no workspace has installed yet is
    // ready: it must serve "Add to Slack".
    let waiting = state.app.chats.not_connected();
    for (what, why) in &waiting {
        problems.push(format!("{what}: {why}, retrying"));
    }
    if waiting.is_empty()
        && state.app.chats.is_empty()
        && state.slack_oauth.is_none()
        && state.teams.is_none()
    {
        problems.push("no chat workspace connected".to_string());
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}", problems.join("; ")),
        )
    }
}

/// `/metrics`: Prometheus text format, from memory (the job figures are
/// refreshed in the background). With `MOMENTUM_METRICS_TOKEN` set, only a
/// scrape bearing it is answered.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    if let Some(expected) = &state.metrics_token {
        use subtle::ConstantTimeEq;
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "/metrics needs the bearer token set in MOMENTUM_METRICS_TOKEN",
            )
                .into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

/// `/charts/ID.png`: a digest's chart, for Teams cards (aggregates only).
async fn chart(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let id = file.strip_suffix(".png").unwrap_or_default();
    if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return error::not_found().await.into_response();
    }
    match state.app.chart(id).await {
        Ok(Some(png)) => (
            [
                (axum::http::header::CONTENT_TYPE, "image/png"),
                (axum::http::header::CACHE_CONTROL, "private, max-age=604800"),
            ],
            png,
        )
            .into_response(),
        Ok(None) => error::not_found().await.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "chart not read");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// Counts every request by its route's pattern (never the raw path, which
/// would carry keys and ids) and status.
async fn count_requests(
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = matched
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    crate::metrics::metrics()
        .http_requests
        .get_or_create(&crate::metrics::RouteLabels {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/programs",
            get(api::list_programs).post(api::apply_program),
        )
        .route("/programs/{key}", get(api::get_program))
        .route("/programs/{key}/participants", get(api::list_participants))
        .route("/programs/{key}/sessions", post(api::record_session))
        .route(
            "/programs/{key}/cohorts/{cohort}/sessions",
            post(api::record_group_session),
        )
        .route(
            "/programs/{key}/participants/{id}/sessions",
            get(api::own_schedule).put(api::set_own_schedule),
        )
        .route("/programs/{key}/schedule", post(api::import_schedule))
        .route("/programs/{key}/bookings", post(api::import_bookings))
        .route("/programs/{key}/delivery", get(api::delivery))
        .route("/programs/{key}/aggregates", get(api::aggregates))
        .route("/erasures", post(api::erase))
        .route("/audit", get(api::audit_log))
        .route(
            "/org-admins",
            get(api::list_org_admins)
                .post(api::grant_org_admin)
                .delete(api::revoke_org_admin),
        )
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT));
    let slack = Router::new()
        .route("/events", post(slack::events))
        .route("/interactions", post(slack::interactions))
        .route("/commands", post(slack::commands))
        .route("/install", get(slack::install))
        .route("/oauth_redirect", get(slack::oauth_redirect))
        .layer(DefaultBodyLimit::max(SLACK_BODY_LIMIT));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/charts/{file}", get(chart))
        .route(
            "/api/messages",
            post(teams::messages).layer(DefaultBodyLimit::max(SLACK_BODY_LIMIT)),
        )
        .route("/admin", get(console::programs))
        .route("/admin/login", get(console::login))
        .route("/admin/signin/{provider}", get(signin::start))
        .route("/admin/signin/{provider}/callback", get(signin::callback))
        .route("/admin/logout", post(console::logout))
        .route("/admin/programs", post(console::create))
        .route("/admin/programs/new", get(console::new_form))
        .route("/admin/programs/{key}", get(console::program))
        .route("/admin/programs/{key}/schedule", get(console::schedule))
        .route(
            "/admin/programs/{key}/edit",
            get(console::edit_form).post(console::edit),
        )
        .route(
            "/admin/programs/{key}/program.yaml",
            get(console::program_file),
        )
        .route("/admin/programs/{key}/chart.png", get(console::chart))
        .route(
            "/admin/programs/{key}/aggregates/{format}",
            get(console::aggregates),
        )
        .route(
            "/admin/programs/{key}/enrol",
            get(console::enrol_form).post(console::enrol),
        )
        .route(
            "/admin/programs/{key}/sessions",
            get(console::sessions_form).post(console::sessions_import),
        )
        .nest("/api/v1", api)
        .nest("/slack", slack)
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown` resolves. Returns the bound address
/// through `bound` before serving (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small answers go out at once: without TCP_NODELAY a response written
    // in two parts waits for the client's delayed ACK (tens of ms).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    // The peer's address: sign-in and install states are rate-limited by it.
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
