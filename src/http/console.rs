//! The HR console under `/admin`: server-rendered pages from
//! `templates/admin/`, in English or Czech. Sign-in is a one-time login link
//! made for one person (`momentum admin login-link --for`) or a chat
//! platform's account, and opens a session in an HttpOnly, SameSite=Strict
//! cookie; every page needs it and shows only its organisation; every form
//! carries the session's CSRF token. An organisation admin's session
//! reaches every program; a program admin's only theirs (403 for any other
//! key, whether it exists or not), without creating programs or changing k,
//! `metrics:` or `admins`.

use super::AppState;
use crate::app::enrolment::CsvUpload;
use crate::app::ConsoleSession;
use crate::domain::enrolment::CsvRow;
use crate::domain::ParticipantId;
use crate::templates;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::{json, Value};
use std::collections::HashMap;

const COOKIE: &str = "momentum_console";

/// The console's words in a language (`templates/admin/strings/`).
fn strings(lang: &str) -> (Value, Value) {
    let (t, hints) = match lang {
        "cs" => (
            include_str!("../../templates/admin/strings/cs.json"),
            include_str!("../../templates/admin/strings/hints.cs.json"),
        ),
        _ => (
            include_str!("../../templates/admin/strings/en.json"),
            include_str!("../../templates/admin/strings/hints.en.json"),
        ),
    };
    let parse = |text: &str| {
        serde_json::from_str(text).unwrap_or_else(|e| {
            // Compiled in and tested: only a broken edit gets here.
            tracing::error!(lang, error = %e, "the console's strings do not parse");
            Value::Null
        })
    };
    (parse(t), parse(hints))
}

/// Czech when the browser prefers it (or `?lang=cs`), else English.
fn language(headers: &HeaderMap, query: &HashMap<String, String>) -> &'static str {
    let wanted = query.get("lang").map(String::as_str).or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
    });
    match wanted {
        Some(l) if l.trim_start().starts_with("cs") => "cs",
        _ => "en",
    }
}

fn page(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    match templates::render_page(name, ctx) {
        Ok(html) => (
            status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "page not rendered").into_response()
        }
    }
}

/// A short page (`message.html`) with one of the strings' title/text pairs.
pub(super) fn message(status: StatusCode, lang: &str, which: &str) -> Response {
    let (t, _) = strings(lang);
    let title = t[format!("{which}_title")]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let text = t[which].as_str().unwrap_or_default().to_string();
    page(
        status,
        "admin/message.html",
        context! { t, lang, title, text },
    )
}

/// The signed-out page, with "Sign in with Slack" when it is set up.
fn signed_out(state: &AppState, lang: &str) -> Response {
    let (t, _) = strings(lang);
    let title = t["signed_out_title"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let text = t["signed_out"].as_str().unwrap_or_default().to_string();
    let providers: Vec<&str> = state.sign_in.iter().map(|c| c.provider.name()).collect();
    page(
        StatusCode::UNAUTHORIZED,
        "admin/message.html",
        context! { t, lang, title, text, providers },
    )
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

pub(super) fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    super::cookies::read(headers, name)
}

/// 403 for a program outside the session's reach (whether it exists or not).
fn out_of_reach(s: &ConsoleSession, key: &str, lang: &str) -> Option<Response> {
    (!s.reach.covers(key)).then(|| message(StatusCode::FORBIDDEN, lang, "out_of_reach"))
}

/// 403 unless the session is an organisation admin's.
fn org_admin_only(s: &ConsoleSession, lang: &str) -> Option<Response> {
    (!s.is_org_admin()).then(|| message(StatusCode::FORBIDDEN, lang, "needs_org_admin"))
}

/// A refusal with the app's words (they name the field).
fn refused(lang: &str, text: String) -> Response {
    let (t, _) = strings(lang);
    let title = t["needs_org_admin_title"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    page(
        StatusCode::FORBIDDEN,
        "admin/message.html",
        context! { t, lang, title, text },
    )
}

/// Sets the session cookie and goes to the console.
pub(super) fn signed_in(state: &AppState, cookie: &str) -> Response {
    let set = super::cookies::set(
        COOKIE,
        cookie,
        "/admin",
        cookie::SameSite::Strict,
        crate::app::console::SESSION_LIFETIME.as_secs(),
        super::states::over_https(state),
    );
    ([(header::SET_COOKIE, set)], Redirect::to("/admin")).into_response()
}

/// A request from a signed-in browser: its language, its cookie and its
/// session. Extracting it answers signed-out requests (401) by itself.
pub struct Signed {
    lang: &'static str,
    cookie: String,
    s: ConsoleSession,
}

impl axum::extract::FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let lang = language(&parts.headers, &query);
        let (cookie, s) = session(state, &parts.headers, lang).await?;
        Ok(Signed { lang, cookie, s })
    }
}

/// The signed-in session, or the page to show instead.
async fn session(
    state: &AppState,
    headers: &HeaderMap,
    lang: &str,
) -> Result<(String, ConsoleSession), Response> {
    let Some(cookie) = cookie_value(headers) else {
        return Err(signed_out(state, lang));
    };
    match state.app.console_session(&cookie).await {
        Ok(Some(s)) => Ok((cookie, s)),
        Ok(None) => Err(signed_out(state, lang)),
        Err(e) => {
            tracing::error!(error = %e, "console session not read");
            Err((StatusCode::SERVICE_UNAVAILABLE, "try again").into_response())
        }
    }
}

/// `GET /admin/login?token=…`: a login link; sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = language(&headers, &query);
    let token = query.get("token").map(String::as_str).unwrap_or_default();
    match state.app.console_sign_in(token).await {
        Ok(Some((cookie, _))) => signed_in(&state, &cookie),
        Ok(None) => message(StatusCode::UNAUTHORIZED, lang, "link_invalid"),
        Err(crate::app::AppError::Forbidden(_)) => {
            message(StatusCode::FORBIDDEN, lang, "not_admin")
        }
        Err(e) => {
            tracing::error!(error = %e, "console sign-in failed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// `POST /admin/logout` (form with `csrf`).
pub async fn logout(
    State(state): State<AppState>,
    signed: Signed,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let Signed { lang, cookie, s } = signed;
    if !csrf_ok(&s, &form) {
        return message(StatusCode::FORBIDDEN, lang, "forbidden");
    }
    if let Err(e) = state.app.console_sign_out(&cookie).await {
        tracing::error!(error = %e, "console sign-out failed");
    }
    let clear = super::cookies::set(
        COOKIE,
        "",
        "/admin",
        cookie::SameSite::Strict,
        0,
        super::states::over_https(&state),
    );
    (
        [(header::SET_COOKIE, clear)],
        message(StatusCode::OK, lang, "signed_out"),
    )
        .into_response()
}

/// Compares the form's token with the session's in constant time.
fn csrf_ok(s: &ConsoleSession, form: &HashMap<String, String>) -> bool {
    use subtle::ConstantTimeEq;
    form.get("csrf")
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(s.csrf.as_bytes())))
}

/// `GET /admin`: the programs the session reaches, with their health.
pub async fn programs(State(state): State<AppState>, signed: Signed) -> Response {
    let Signed { lang, s, .. } = signed;
    let app = &state.app;
    let rows = match app.programs(s.org).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|p| s.reach.covers(&p.key))
        .collect();
    let mut programs = Vec::new();
    for p in &rows {
        let health = match app.program_health(s.org, p).await {
            Ok(h) => h,
            Err(e) => return unavailable(e),
        };
        let last: Option<Value> = app
            .last_digest(s.org, p.id)
            .await
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_str(&b).ok());
        // Operational problems only: behavioural ones are not "problems".
        let problems: i64 = health
            .problems
            .iter()
            .filter(|c| !c.behavioural)
            .filter_map(|c| c.count)
            .sum();
        programs.push(json!({
            "health": health,
            "momentum": last.as_ref().map(|d| d["momentum"].clone()).filter(|v| !v.is_null()),
            "change": last.as_ref().map(|d| d["momentum_change"].clone()).filter(|v| !v.is_null()),
            "problems": problems,
        }));
    }
    let (t, _) = strings(lang);
    let title = t["programs"].as_str().unwrap_or_default().to_string();
    page(
        StatusCode::OK,
        "admin/programs.html",
        context! { t, lang, title, csrf => s.csrf, programs, org_admin => s.is_org_admin(), who => s.who },
    )
}

/// `GET /admin/programs/{key}`: one program of the signed-in organisation.
pub async fn program(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    let Signed { lang, s, .. } = signed;
    if let Some(refused) = out_of_reach(&s, &key, lang) {
        return refused;
    }
    let app = &state.app;
    let program = match app.find_program(s.org, &key).await {
        Ok(Some(p)) => p,
        Ok(None) => return message(StatusCode::NOT_FOUND, lang, "not_found"),
        Err(e) => return unavailable(e),
    };
    let health = match app.program_health(s.org, &program).await {
        Ok(h) => h,
        Err(e) => return unavailable(e),
    };
    let (t, all_hints) = strings(lang);
    // What HR can do, by category.
    let hints: HashMap<String, Value> = health
        .problems
        .iter()
        .map(|p| p.category.as_str())
        .map(|c| (c.to_string(), all_hints[c].clone()))
        .filter(|(_, h)| !h.is_null())
        .collect();
    let digest = match app.digest(s.org, &key, None).await {
        Ok(d) => crate::app::digest_text(&program.name, lang, &d).ok(),
        Err(_) => None,
    };
    // People still being matched to chat accounts, and who could not be.
    let resolution = app
        .program_resolution(s.org, program.id)
        .await
        .ok()
        .map(|r| {
            let done = (r.people - r.resolving).max(0);
            let number = |n: i64| crate::app::grouped(n, lang);
            context! {
                done => number(done), people => number(r.people), resolving => r.resolving,
                minutes => r.minutes_left.map(|m| crate::app::grouped(m.ceil().max(1.0) as i64, lang)),
                not_found => r.not_found,
            }
        });
    let title = health.name.clone();
    let (target_behaviour, business_goal) = (
        program.spec.target_behaviour.clone(),
        program.spec.business_goal.clone(),
    );
    page(
        StatusCode::OK,
        "admin/program.html",
        context! {
            t, lang, title, csrf => s.csrf, health, hints, digest, target_behaviour, business_goal,
            notices => program.spec.notices, resolution,
        },
    )
}

/// `GET /admin/programs/{key}/schedule?zone=…`: the schedule preview.
pub async fn schedule(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    use crate::domain::time::Zone;
    let Signed { lang, s, .. } = signed;
    if let Some(refused) = out_of_reach(&s, &key, lang) {
        return refused;
    }
    let (t, _) = strings(lang);
    let asked = query
        .get("zone")
        .map(|z| z.trim())
        .filter(|z| !z.is_empty());
    let (zone, error) = match asked.map(Zone::parse) {
        None => (None, None),
        Some(Ok(z)) => (Some(z), None),
        Some(Err(_)) => (
            None,
            Some(format!(
                "{:?} {}",
                asked.unwrap_or_default(),
                t["bad_zone"].as_str().unwrap_or_default()
            )),
        ),
    };
    let participant = query
        .get("participant")
        .and_then(|p| p.trim().parse::<ParticipantId>().ok());
    let preview = match state
        .app
        .schedule_preview(s.org, &key, zone, participant)
        .await
    {
        Ok(Some(x)) => x,
        Ok(None) => return message(StatusCode::NOT_FOUND, lang, "not_found"),
        Err(e) => return unavailable(e),
    };
    // The participants' zones first (labelled with their names), then a few
    // others to try ("someone in Sydney").
    let mut zones: Vec<(String, String)> = preview
        .people
        .iter()
        .filter_map(|(_, who, zone)| Some((zone.clone()?, who.clone())))
        .collect();
    for z in [
        "Europe/Prague",
        "Europe/London",
        "America/New_York",
        "Asia/Singapore",
        "Australia/Sydney",
    ] {
        zones.push((z.to_string(), String::new()));
    }
    let people: Vec<(i64, String)> = preview
        .people
        .iter()
        .map(|(id, who, _)| (*id, who.clone()))
        .collect();
    let title = t["schedule"].as_str().unwrap_or_default().to_string();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        status,
        "admin/schedule.html",
        context! {
            t, lang, title, csrf => s.csrf, name => preview.program, key, zone => preview.zone.name(),
            zones, entries => preview.entries, error, people, participant,
        },
    )
}

/// What a CSV upload page takes.
#[derive(PartialEq)]
enum CsvKind {
    Enrolment,
    Schedule,
}

/// A CSV upload page: what it takes, its template and the strings key of
/// its title.
struct CsvPage {
    kind: CsvKind,
    template: &'static str,
    title: &'static str,
}

const ENROL_PAGE: CsvPage = CsvPage {
    kind: CsvKind::Enrolment,
    template: "admin/enrol.html",
    title: "enrol",
};
const SESSIONS_PAGE: CsvPage = CsvPage {
    kind: CsvKind::Schedule,
    template: "admin/sessions.html",
    title: "sessions_import",
};

/// The program's name for a page about it, or the page that says why not.
async fn program_name(
    state: &AppState,
    s: &ConsoleSession,
    key: &str,
    lang: &str,
) -> Result<String, Response> {
    if let Some(refused) = out_of_reach(s, key, lang) {
        return Err(refused);
    }
    match state.app.program_named(s.org, key).await {
        Ok(p) => Ok(p.name),
        Err(crate::app::AppError::NotFound(_)) => {
            Err(message(StatusCode::NOT_FOUND, lang, "not_found"))
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// An empty upload form.
async fn csv_form(state: &AppState, signed: Signed, key: String, upload: &CsvPage) -> Response {
    let Signed { lang, s, .. } = signed;
    let name = match program_name(state, &s, &key, lang).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let (t, _) = strings(lang);
    let title = t[upload.title].as_str().unwrap_or_default().to_string();
    page(
        StatusCode::OK,
        upload.template,
        context! { t, lang, title, csrf => s.csrf, key, name, csv => "" },
    )
}

/// What an upload form sent: (the CSV, whether to apply it), once its
/// session token and the program's reach are checked.
fn csv_sent(
    s: &ConsoleSession,
    key: &str,
    lang: &str,
    form: &HashMap<String, String>,
) -> Result<(String, bool), Box<Response>> {
    if !csrf_ok(s, form) {
        return Err(Box::new(message(StatusCode::FORBIDDEN, lang, "forbidden")));
    }
    if let Some(refused) = out_of_reach(s, key, lang) {
        return Err(Box::new(refused));
    }
    let csv = form.get("csv").cloned().unwrap_or_default();
    let apply = form.get("action").map(String::as_str) == Some("apply");
    Ok((csv, apply))
}

/// The upload page after a preview or an apply: every row's problems, or
/// what was applied (the form starts empty again).
fn csv_result<R: serde::Serialize + CsvRow, O: serde::Serialize>(
    signed: Signed,
    key: String,
    name: String,
    (csv, apply): (String, bool),
    result: crate::app::AppResult<Option<CsvUpload<R, O>>>,
    upload: &CsvPage,
) -> Response {
    let Signed { lang, s, .. } = signed;
    let result = match result {
        Ok(Some(r)) => r,
        Ok(None) => return message(StatusCode::NOT_FOUND, lang, "not_found"),
        Err(crate::app::AppError::Invalid(errs)) => CsvUpload::FileProblem(errs.to_string()),
        Err(crate::app::AppError::Forbidden(why)) => return refused(lang, why),
        Err(e) => return unavailable(e),
    };
    let (t, _) = strings(lang);
    let title = t[upload.title].as_str().unwrap_or_default().to_string();
    let (status, file_problem, rows, outcome, csv) = match result {
        CsvUpload::FileProblem(why) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some(why), None, None, csv)
        }
        CsvUpload::Preview(rows) => {
            let bad = rows.iter().any(|r| !r.problems().is_empty());
            let status = if apply && bad {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            (status, None, Some(rows), None, csv)
        }
        CsvUpload::Applied { outcome, .. } => {
            (StatusCode::OK, None, None, Some(outcome), String::new())
        }
    };
    let ready = rows
        .as_ref()
        .is_some_and(|r| r.iter().all(|r| r.problems().is_empty()));
    page(
        status,
        upload.template,
        context! { t, lang, title, csrf => s.csrf, key, name, csv, file_problem, rows, ready, outcome },
    )
}

/// `GET /admin/programs/{key}/enrol`: the enrolment form.
pub async fn enrol_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    csv_form(&state, signed, key, &ENROL_PAGE).await
}

/// `POST /admin/programs/{key}/enrol` (`csrf`, `csv`, `action` = preview
/// or apply): every row's problems, or all rows enrolled at once.
pub async fn enrol(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    csv_post(&state, signed, key, &form, &ENROL_PAGE).await
}

/// `GET /admin/programs/{key}/sessions`: the schedule import form.
pub async fn sessions_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    csv_form(&state, signed, key, &SESSIONS_PAGE).await
}

/// `POST /admin/programs/{key}/sessions` (`csrf`, `csv`, `action` =
/// preview or apply): every row's problems, or the whole schedule applied.
pub async fn sessions_import(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    csv_post(&state, signed, key, &form, &SESSIONS_PAGE).await
}

/// A CSV sent from an upload page: checked (the session's token, the
/// program's reach), read or applied by the app, and shown.
async fn csv_post(
    state: &AppState,
    signed: Signed,
    key: String,
    form: &HashMap<String, String>,
    upload: &CsvPage,
) -> Response {
    let (csv, apply) = match csv_sent(&signed.s, &key, signed.lang, form) {
        Ok(sent) => sent,
        Err(page) => return *page,
    };
    let name = match program_name(state, &signed.s, &key, signed.lang).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let (app, s) = (&state.app, &signed.s);
    let (org, reach, actor) = (s.org, &s.reach, s.actor());
    if upload.kind == CsvKind::Enrolment {
        let result = app
            .enrol_from_csv(org, &key, &csv, apply, reach, &actor)
            .await;
        csv_result(signed, key, name, (csv, apply), result, upload)
    } else {
        let result = app
            .import_schedule(org, &key, &csv, apply, reach, &actor)
            .await;
        csv_result(signed, key, name, (csv, apply), result, upload)
    }
}

/// `GET /admin/programs/{key}/edit`: the program's fields in a form.
pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    let Signed { lang, s, .. } = signed;
    if let Some(refused) = out_of_reach(&s, &key, lang) {
        return refused;
    }
    let form = match state.app.program_edit_form(s.org, &key).await {
        Ok(Some(f)) => f,
        Ok(None) => return message(StatusCode::NOT_FOUND, lang, "not_found"),
        Err(e) => return unavailable(e),
    };
    edit_page(StatusCode::OK, lang, &s, &key, form, HashMap::new(), false)
}

fn edit_page(
    status: StatusCode,
    lang: &str,
    s: &ConsoleSession,
    key: &str,
    form: crate::app::editing::ProgramEdit,
    errors: HashMap<&str, String>,
    saved: bool,
) -> Response {
    let (t, _) = strings(lang);
    let title = t["edit"].as_str().unwrap_or_default().to_string();
    let name = form.name.clone();
    page(
        status,
        "admin/edit.html",
        context! {
            t, lang, title, csrf => s.csrf.clone(), key, name, form, errors, saved,
            org_admin => s.is_org_admin(),
        },
    )
}

/// `POST /admin/programs/{key}/edit`: applied all at once, or every wrong
/// field named and nothing changed.
pub async fn edit(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Signed { lang, s, .. } = signed;
    // Repeated fields (the working days' checkboxes) need the raw pairs.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let csrf: HashMap<String, String> = [("csrf".to_string(), field("csrf"))].into();
    if !csrf_ok(&s, &csrf) {
        return message(StatusCode::FORBIDDEN, lang, "forbidden");
    }
    if let Some(refused) = out_of_reach(&s, &key, lang) {
        return refused;
    }
    let mut form = crate::app::editing::ProgramEdit {
        name: field("name"),
        target_behaviour: field("target_behaviour"),
        business_goal: field("business_goal"),
        metrics_alpha: field("metrics_alpha"),
        metrics_points: field("metrics_points"),
        metrics_share: field("metrics_share"),
        metrics_weeks: field("metrics_weeks"),
        anonymity_threshold: field("anonymity_threshold"),
        themes: field("themes"),
        sessions: field("sessions"),
        nudges: field("nudges"),
        quiet_hours: field("quiet_hours"),
        working_days: pairs
            .iter()
            .filter(|(n, _)| n == "working_days")
            .map(|(_, v)| v.clone())
            .collect(),
        holidays: field("holidays"),
        reminder_after_days: field("reminder_after_days"),
    };
    // A program admin's browser does not send k and the momentum settings
    // (disabled inputs): they stay as they are, and the page shows them.
    if !s.is_org_admin() {
        if let Ok(Some(now)) = state.app.program_edit_form(s.org, &key).await {
            for (mine, theirs) in [
                (&mut form.anonymity_threshold, now.anonymity_threshold),
                (&mut form.metrics_alpha, now.metrics_alpha),
                (&mut form.metrics_points, now.metrics_points),
                (&mut form.metrics_share, now.metrics_share),
                (&mut form.metrics_weeks, now.metrics_weeks),
            ] {
                if mine.trim().is_empty() {
                    *mine = theirs;
                }
            }
        }
    }
    match state
        .app
        .edit_program(s.org, &key, &form, &s.reach, &s.actor())
        .await
    {
        Ok(Some(Ok(_))) => edit_page(StatusCode::OK, lang, &s, &key, form, HashMap::new(), true),
        Ok(Some(Err(errors))) => {
            let by_field = by_field(errors);
            edit_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                &s,
                &key,
                form,
                by_field,
                false,
            )
        }
        Ok(None) => message(StatusCode::NOT_FOUND, lang, "not_found"),
        // A program admin's change to k or `metrics:`: under its field, nothing changed.
        Err(crate::app::AppError::Forbidden(why)) => {
            let field = why.split(':').next().unwrap_or_default();
            match EDIT_FIELDS.iter().find(|f| **f == field) {
                Some(f) => edit_page(
                    StatusCode::FORBIDDEN,
                    lang,
                    &s,
                    &key,
                    form,
                    [(*f, why)].into(),
                    false,
                ),
                None => refused(lang, why),
            }
        }
        Err(e) => unavailable(e),
    }
}

/// The edit form's fields that may carry a refusal.
const EDIT_FIELDS: [&str; 5] = [
    "anonymity_threshold",
    "metrics_alpha",
    "metrics_points",
    "metrics_share",
    "metrics_weeks",
];

/// `GET /admin/programs/new`: a new program from a template.
pub async fn new_form(State(_state): State<AppState>, signed: Signed) -> Response {
    let Signed { lang, s, .. } = signed;
    if let Some(refused) = org_admin_only(&s, lang) {
        return refused;
    }
    let form = crate::app::creation::NewProgram {
        template: "five-sessions".into(),
        ..Default::default()
    };
    new_page(StatusCode::OK, lang, &s, form, HashMap::new())
}

fn new_page(
    status: StatusCode,
    lang: &str,
    s: &ConsoleSession,
    form: crate::app::creation::NewProgram,
    errors: HashMap<&str, String>,
) -> Response {
    let (t, _) = strings(lang);
    let title = t["new_program"].as_str().unwrap_or_default().to_string();
    page(
        status,
        "admin/new.html",
        context! { t, lang, title, csrf => s.csrf.clone(), form, errors },
    )
}

/// `POST /admin/programs`: creates it, or names each wrong field.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let Signed { lang, s, .. } = signed;
    if !csrf_ok(&s, &form) {
        return message(StatusCode::FORBIDDEN, lang, "forbidden");
    }
    if let Some(refused) = org_admin_only(&s, lang) {
        return refused;
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let new = crate::app::creation::NewProgram {
        template: field("template"),
        key: field("key").trim().to_string(),
        name: field("name"),
        first_session: field("first_session"),
    };
    match state
        .app
        .create_program(s.org, &new, &s.reach, &s.actor())
        .await
    {
        Ok(Ok(outcome)) => {
            Redirect::to(&format!("/admin/programs/{}", outcome.program_key)).into_response()
        }
        Ok(Err(errors)) => {
            let by_field = by_field(errors);
            new_page(StatusCode::UNPROCESSABLE_ENTITY, lang, &s, new, by_field)
        }
        Err(crate::app::AppError::Forbidden(why)) => refused(lang, why),
        Err(e) => unavailable(e),
    }
}

/// A download for a signed-in session, or the page to show instead;
/// `action` names it in the audit log (exports are; the chart is not).
async fn download(
    state: &AppState,
    signed: Signed,
    key: &str,
    action: Option<&str>,
    make: impl AsyncFnOnce(
        crate::domain::OrgId,
    ) -> crate::app::AppResult<(&'static str, String, Vec<u8>)>,
) -> Response {
    let Signed { lang, s, .. } = signed;
    if let Some(refused) = out_of_reach(&s, key, lang) {
        return refused;
    }
    match state.app.find_program(s.org, key).await {
        Ok(Some(_)) => {}
        Ok(None) => return message(StatusCode::NOT_FOUND, lang, "not_found"),
        Err(e) => return unavailable(e),
    }
    match make(s.org).await {
        Ok((content_type, filename, bytes)) => {
            if let Some(action) = action {
                state.app.audit(s.org, &s.actor(), action, Some(key)).await;
            }
            (
                [
                    (header::CONTENT_TYPE, content_type.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(crate::app::AppError::Invalid(_)) => {
            message(StatusCode::NOT_FOUND, lang, "no_digest_yet")
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /admin/programs/{key}/program.yaml`: the program as a program file,
/// for version control (its participants are managed here and in HR's CSV).
pub async fn program_file(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    let app = state.app.clone();
    let k = key.clone();
    download(
        &state,
        signed,
        &key,
        Some("program.download"),
        async move |org| {
            let program = app
                .find_program(org, &k)
                .await?
                .ok_or_else(|| crate::app::AppError::NotFound(k.clone()))?;
            let doc = program
                .spec
                .file_with(program.spec.source["program"].clone());
            let yaml = serde_norway::to_string(&doc).unwrap_or_default();
            Ok((
                "application/yaml; charset=utf-8",
                format!("{k}.yaml"),
                yaml.into_bytes(),
            ))
        },
    )
    .await
}

/// `GET /admin/programs/{key}/chart.png`: last week's digest chart.
pub async fn chart(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
) -> Response {
    let app = state.app.clone();
    let k = key.clone();
    download(&state, signed, &key, None, async move |org| {
        let digest = app.digest(org, &k, None).await?;
        let week = crate::domain::metrics::week::ProgramWeek::parse_iso(&digest.week)
            .ok_or_else(|| crate::app::AppError::NotFound(digest.week.clone()))?;
        let png = app.digest_chart(org, &k, &week).await?;
        Ok(("image/png", format!("{k}-{}.png", digest.week), png))
    })
    .await
}

/// `GET /admin/programs/{key}/aggregates/csv|json`: weekly aggregates, with
/// the digest's suppression (no figure about fewer than k people).
pub async fn aggregates(
    State(state): State<AppState>,
    signed: Signed,
    Path((key, format)): Path<(String, String)>,
) -> Response {
    if format != "csv" && format != "json" {
        return message(StatusCode::NOT_FOUND, signed.lang, "not_found");
    }
    let app = state.app.clone();
    let k = key.clone();
    download(
        &state,
        signed,
        &key,
        Some("aggregates.export"),
        async move |org| {
            let digests = app.aggregates(org, &k).await?;
            Ok(if format == "json" {
                (
                    "application/json",
                    format!("{k}-aggregates.json"),
                    serde_json::to_vec_pretty(&digests).unwrap_or_default(),
                )
            } else {
                (
                    "text/csv; charset=utf-8",
                    format!("{k}-aggregates.csv"),
                    crate::app::aggregates_csv(&digests).into_bytes(),
                )
            })
        },
    )
    .await
}

/// Each form field's mistakes, joined.
fn by_field(errors: Vec<(&'static str, String)>) -> HashMap<&'static str, String> {
    let mut out: HashMap<&str, String> = HashMap::new();
    for (field, m) in errors {
        out.entry(field)
            .and_modify(|e| {
                e.push_str("; ");
                e.push_str(&m);
            })
            .or_insert(m);
    }
    out
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console page failed");
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_in_both_languages() {
        for lang in ["en", "cs"] {
            let (t, hints) = strings(lang);
            assert!(t["programs"].is_string() && hints["stale"].is_string());
            let title = "T <b>";
            let text = "x";
            let html =
                templates::render_page("admin/message.html", context! { t, lang, title, text })
                    .unwrap();
            assert!(html.contains("T &lt;b&gt;"), "escaped: {html}");
        }
    }
}

#[cfg(test)]
mod strings_tests {
    use super::strings;

    #[test]
    fn the_console_strings_parse_in_both_languages_with_the_same_keys() {
        let (en, en_hints) = strings("en");
        let (cs, cs_hints) = strings("cs");
        for (a, b) in [(&en, &cs), (&en_hints, &cs_hints)] {
            let keys = |v: &serde_json::Value| {
                let mut k: Vec<String> =
                    v.as_object().expect("an object").keys().cloned().collect();
                k.sort();
                k
            };
            assert_eq!(keys(a), keys(b));
        }
    }
}
