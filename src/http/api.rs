//! The admin API under `/api/v1`, with per-organisation bearer tokens. Every
//! handler takes its organisation from the token, so one organisation's token
//! never sees another's data. A token made for some programs
//! (`momentum token create --programs`) reaches only those: 403 for any
//! other key, for organisation-wide calls (erasures, the audit log,
//! organisation admins) and for a program file that would create a program
//! or change a program's `admins`, k or `metrics:`. It never returns a
//! person's answers.

use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::app::{ApplyOutcome, AuditEntry, Erased, OrgAdmin, ParticipantStatus};
use crate::app::{CompletedSession, ParticipantLookup, Reach, Scope, SessionOutcome};
use crate::domain::delivery::DeliveryFigure;
use crate::domain::ConfigErrors;
use crate::domain::{OrgId, ParticipantId, ProgramId};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

/// Who called: their organisation, how the audit log names them, and what
/// their token reaches.
struct Caller {
    org: OrgId,
    actor: String,
    reach: Reach,
}

impl Caller {
    /// 403 for a program outside the token's reach (whether it exists or not).
    fn within(&self, key: &str) -> Result<(), ApiError> {
        if self.reach.covers(key) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("program {key:?} is not one of this token's programs"),
            ))
        }
    }

    /// 403 unless the token reaches the whole organisation.
    fn organisation_wide(&self) -> Result<(), ApiError> {
        if self.reach.is_organisation() {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this call needs an organisation-wide token; this one reaches some programs only",
            ))
        }
    }
}

/// The caller behind the bearer token, if its scope allows `needed`.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let bearer = state
        .app
        .authenticate(token)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if !bearer.scope.allows(needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token has scope {:?}; this call needs {:?}",
                bearer.scope.as_str(),
                needed.as_str()
            ),
        ));
    }
    Ok(Caller {
        org: bearer.org,
        actor: format!("api token {:?}", bearer.name),
        reach: bearer.reach,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgramSummary {
    #[schema(value_type = i64)]
    pub id: ProgramId,
    pub key: String,
    pub name: String,
    pub sessions: u32,
    pub time_zone: Option<String>,
    /// Running, ended (nothing left to send; it can be archived) or archived.
    #[serde(flatten)]
    pub state: crate::app::ProgramState,
}

/// Lists the organisation's programs (a program-scoped token: its programs).
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs",
    responses((status = 200, body = [ProgramSummary]), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_programs(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ProgramSummary>>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    let org = caller.org;
    let programs = state.app.programs(org).await?;
    let programs = programs.into_iter().filter(|p| caller.reach.covers(&p.key));
    let org_row = state.app.org(org).await?;
    let mut out = Vec::new();
    for p in programs {
        out.push(ProgramSummary {
            id: p.id,
            sessions: p.spec.session_count(),
            time_zone: p.spec.time_zone.as_ref().map(|z| z.name().to_string()),
            state: state.app.program_state(&org_row, &p).await?,
            key: p.key,
            name: p.name,
        });
    }
    Ok(Json(out))
}

/// One program, with how far matching its people to chat users has come.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgramDetail {
    #[serde(flatten)]
    pub program: ProgramSummary,
    /// People given by email are matched to chat users in the background:
    /// how many still wait, and who could not be found.
    pub resolution: crate::app::ResolutionProgress,
}

/// One program and its resolution progress ("resolving N of M", then who
/// could not be found in chat).
#[utoipa::path(get, path = "/api/v1/programs/{key}", tag = "programs",
    params(("key" = String, Path, description = "The program's key")),
    responses((status = 200, body = ProgramDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_program(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<ProgramDetail>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    if !caller.reach.covers(&key) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no program {key:?}"),
        ));
    }
    let app = &state.app;
    let p = app.program_named(caller.org, &key).await?;
    let org_row = app.org(caller.org).await?;
    let resolution = app.program_resolution(caller.org, p.id).await?;
    Ok(Json(ProgramDetail {
        program: ProgramSummary {
            id: p.id,
            sessions: p.spec.session_count(),
            time_zone: p.spec.time_zone.as_ref().map(|z| z.name().to_string()),
            state: app.program_state(&org_row, &p).await?,
            key: p.key,
            name: p.name,
        },
        resolution,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ApplyParams {
    /// Deactivate active participants that are not in the file.
    #[serde(default)]
    pub prune: bool,
}

/// Applies a program file (YAML or JSON), atomically and idempotently. An
/// invalid file changes nothing and every mistake is listed with its path.
/// A program-scoped token may apply only one of its programs, and not
/// change its `admins`, `anonymity_threshold` or `metrics` (403 naming it).
#[utoipa::path(post, path = "/api/v1/programs", tag = "programs",
    params(ApplyParams),
    request_body(content = String, description = "A program file (version 1), as YAML or JSON", content_type = "application/yaml"),
    responses(
        (status = 200, body = ApplyOutcome),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn apply_program(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ApplyParams>,
    body: Bytes,
) -> Result<Json<ApplyOutcome>, ApiError> {
    let Caller { org, actor, reach } = authorize(&state, &headers, Scope::Admin).await?;
    let ctype = content_type(&headers);
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid(ConfigErrors::single("", "the body is not UTF-8 text")))?;
    let doc: serde_json::Value = match ctype.as_str() {
        "application/json" => serde_json::from_str(text).map_err(|e| {
            ApiError::invalid(ConfigErrors::single("", format!("not valid JSON: {e}")))
        })?,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/plain" => {
            serde_norway::from_str(text).map_err(|e| {
                ApiError::invalid(ConfigErrors::single("", format!("not valid YAML: {e}")))
            })?
        }
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                "content type {other:?} is not accepted: send application/yaml or application/json"
            ),
            ))
        }
    };
    let outcome = state
        .app
        .apply_program_within(org, &doc, params.prune, &reach)
        .await?;
    state
        .app
        .audit(org, &actor, "program.apply", Some(&outcome.program_key))
        .await;
    Ok(Json(outcome))
}

/// A request's media type, lower-case, without its parameters.
fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The id of a program the caller reaches: 403 outside its reach, 404 for
/// none by that key.
async fn program_id(state: &AppState, caller: &Caller, key: &str) -> Result<ProgramId, ApiError> {
    caller.within(key)?;
    let org = caller.org;
    state
        .app
        .find_program(org, key)
        .await?
        .map(|p| p.id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no program {key:?}")))
}

/// Lists a program's participants: who is enrolled, their cohort, whether
/// Momentum can reach them (with the operational reason) and a focus theme
/// only where they chose to share it. Never what they answered, how many
/// messages they got or skipped, whether they paused or stopped, or notes.
#[utoipa::path(get, path = "/api/v1/programs/{key}/participants", tag = "programs",
    params(("key" = String, Path, description = "The program's key")),
    responses((status = 200, body = [ParticipantStatus]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_participants(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<Vec<ParticipantStatus>>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    let (org, id) = (caller.org, program_id(&state, &caller, &key).await?);
    let list = state.app.participant_statuses(org, id).await?;
    Ok(Json(list))
}

/// A program's delivery in its last composed week, as HR's health views
/// show it: messages sent, reminders (from k), and what was not delivered by
/// fixed category, behavioural ones only as counts of at least k.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryWeek {
    /// The last composed week (`2026-W48`); none before the first.
    pub week: Option<String>,
    pub sent: Option<i64>,
    pub reminders_sent: Option<i64>,
    pub problems: Vec<DeliveryFigure>,
}

/// Delivery in the last composed week, by category (never live, never by
/// person, never a behavioural count under k).
#[utoipa::path(get, path = "/api/v1/programs/{key}/delivery", tag = "programs",
    params(("key" = String, Path, description = "The program's key")),
    responses((status = 200, body = DeliveryWeek), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<DeliveryWeek>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    let org = caller.org;
    program_id(&state, &caller, &key).await?;
    let program = state.app.program_named(org, &key).await?;
    let health = state.app.program_health(org, &program).await?;
    Ok(Json(DeliveryWeek {
        week: health.week,
        sent: health.sent,
        reminders_sent: health.reminders_sent,
        problems: health.problems,
    }))
}

/// Weekly aggregates: every complete week's digest, oldest first, with the
/// same suppression as the digest (a figure about fewer than k people is
/// absent) and no free text.
#[utoipa::path(get, path = "/api/v1/programs/{key}/aggregates", tag = "programs",
    params(("key" = String, Path, description = "The program's key")),
    responses((status = 200, description = "One published digest per complete week", body = [Object]),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn aggregates(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<Vec<crate::domain::metrics::digest::Digest>>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    program_id(&state, &caller, &key).await?;
    let digests = state.app.aggregates(caller.org, &key).await?;
    state
        .app
        .audit(caller.org, &caller.actor, "aggregates.export", Some(&key))
        .await;
    Ok(Json(digests))
}

/// A completed session, as a coaching platform reports it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionReport {
    pub participant: ParticipantLookup,
    /// The session number, 1..N.
    pub session: u32,
    /// The local date it happened (YYYY-MM-DD); today in the participant's zone if absent.
    pub completed_on: Option<String>,
    /// The caller's id for this event: a repeat with the same id is one completion.
    pub external_id: Option<String>,
}

/// Records a completed session, idempotently (by participant and session
/// number, and by external id), and plans the nudges that follow it.
#[utoipa::path(post, path = "/api/v1/programs/{key}/sessions", tag = "sessions",
    params(("key" = String, Path, description = "The program's key")),
    request_body = SessionReport,
    responses(
        (status = 200, body = SessionOutcome),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<SessionOutcome>, ApiError> {
    let caller = authorize(&state, &headers, Scope::SessionsWrite).await?;
    caller.within(&key)?;
    let org = caller.org;
    let report: SessionReport = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(ConfigErrors::single(
            "",
            format!("not a session report: {e}"),
        ))
    })?;
    let completed_on = completed_on(report.completed_on.as_deref())?;
    external_id_within(report.external_id.as_deref(), 200)?;
    let outcome = state
        .app
        .record_session(
            org,
            &CompletedSession {
                program_key: &key,
                who: &report.participant,
                number: report.session,
                completed_on,
                source: "api",
                external_id: report.external_id.as_deref(),
            },
        )
        .await?;
    Ok(Json(outcome))
}

/// A session report's `completed_on`, when given (YYYY-MM-DD).
fn completed_on(given: Option<&str>) -> Result<Option<jiff::civil::Date>, ApiError> {
    given
        .map(|s| {
            s.parse().map_err(|_| {
                ApiError::invalid(ConfigErrors::single(
                    "completed_on",
                    format!("{s:?} is not a date (YYYY-MM-DD)"),
                ))
            })
        })
        .transpose()
}

/// A caller's event id: 1 to `max` characters, when given.
fn external_id_within(given: Option<&str>, max: usize) -> Result<(), ApiError> {
    if given.is_some_and(|e| e.is_empty() || e.len() > max) {
        return Err(ApiError::invalid(ConfigErrors::single(
            "external_id",
            format!("must be 1 to {max} characters"),
        )));
    }
    Ok(())
}

/// A group session, completed for everyone in a cohort.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSessionReport {
    /// The session number, 1..N.
    pub session: u32,
    /// The local date it happened (YYYY-MM-DD); today in each participant's zone if absent.
    pub completed_on: Option<String>,
    /// The caller's id for this event: a repeat with the same id is one completion.
    pub external_id: Option<String>,
}

/// Records a group session: the same session number completed for every
/// active participant of the cohort, each idempotently, with their nudges.
#[utoipa::path(post, path = "/api/v1/programs/{key}/cohorts/{cohort}/sessions", tag = "sessions",
    params(("key" = String, Path, description = "The program's key"),
           ("cohort" = String, Path, description = "The cohort's key")),
    request_body = GroupSessionReport,
    responses(
        (status = 200, body = crate::app::sessions::GroupSessionOutcome),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_group_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, cohort)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<crate::app::sessions::GroupSessionOutcome>, ApiError> {
    let caller = authorize(&state, &headers, Scope::SessionsWrite).await?;
    caller.within(&key)?;
    let report: GroupSessionReport = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(ConfigErrors::single(
            "",
            format!("not a group session report: {e}"),
        ))
    })?;
    let completed_on = completed_on(report.completed_on.as_deref())?;
    // Each participant's completion gets `ID/participant`: room for it.
    external_id_within(report.external_id.as_deref(), 180)?;
    let outcome = state
        .app
        .record_group_session(
            caller.org,
            &key,
            &cohort,
            report.session,
            completed_on,
            "api",
            report.external_id.as_deref(),
        )
        .await?;
    Ok(Json(outcome))
}

/// A participant's sessions as planned for them: their own date where they
/// have one, else their cohort's, else the program's, with what they completed.
#[utoipa::path(get, path = "/api/v1/programs/{key}/participants/{id}/sessions", tag = "sessions",
    params(("key" = String, Path, description = "The program's key"),
           ("id" = i64, Path, description = "The participant's id (from the participants list)")),
    responses((status = 200, body = crate::app::dates::OwnSchedule),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn own_schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, id)): Path<(String, ParticipantId)>,
) -> Result<Json<crate::app::dates::OwnSchedule>, ApiError> {
    let caller = authorize(&state, &headers, Scope::SessionsWrite).await?;
    caller.within(&key)?;
    Ok(Json(state.app.own_schedule(caller.org, &key, id).await?))
}

/// Sets a participant's own planned dates (their coach's calendar): the
/// whole list, so the same call twice changes nothing. A session not listed
/// follows the cohort's or the program's date; `planned: null` keeps it
/// planned without a date (cancelled, waiting for a new one).
#[utoipa::path(put, path = "/api/v1/programs/{key}/participants/{id}/sessions", tag = "sessions",
    params(("key" = String, Path, description = "The program's key"),
           ("id" = i64, Path, description = "The participant's id (from the participants list)")),
    request_body = crate::app::dates::OwnDatesInput,
    responses((status = 200, body = crate::app::dates::OwnSchedule),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_own_schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, id)): Path<(String, ParticipantId)>,
    body: Bytes,
) -> Result<Json<crate::app::dates::OwnSchedule>, ApiError> {
    let caller = authorize(&state, &headers, Scope::SessionsWrite).await?;
    caller.within(&key)?;
    let input: crate::app::dates::OwnDatesInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(ConfigErrors::single(
            "",
            format!("not a list of planned dates ({{\"sessions\": [{{\"number\": 1, \"planned\": \"YYYY-MM-DD\"}}]}}): {e}"),
        ))
    })?;
    let schedule = state
        .app
        .set_own_schedule(caller.org, &key, id, &input, "api")
        .await?;
    Ok(Json(schedule))
}

/// `?dry_run=true`: check the file and apply nothing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ScheduleParams {
    #[serde(default)]
    pub dry_run: bool,
}

/// An applied (or checked) schedule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduleResult {
    pub applied: bool,
    /// Rows read (without problems: a problem is a 422).
    pub rows: usize,
    pub outcome: Option<crate::app::dates::ScheduleOutcome>,
}

/// Imports a schedule CSV (`text/csv`): one row per participant (`email`)
/// or cohort (`cohort`, a group session) and `session`, with a `planned`
/// date (the participant's own), a `completed` date, or both. Every row's
/// problems are named (422, `errors[].field` = `line N`) before anything is
/// applied.
#[utoipa::path(post, path = "/api/v1/programs/{key}/schedule", tag = "sessions",
    params(("key" = String, Path, description = "The program's key"), ScheduleParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ScheduleResult),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(params): Query<ScheduleParams>,
    body: Bytes,
) -> Result<Json<ScheduleResult>, ApiError> {
    use crate::app::dates::ScheduleImport;
    let Caller { org, actor, reach } = authorize(&state, &headers, Scope::SessionsWrite).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid(ConfigErrors::single("", "the body is not UTF-8 text")))?;
    let imported = state
        .app
        .import_schedule(org, &key, text, !params.dry_run, &reach, &actor)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no program {key:?}")))?;
    match imported {
        ScheduleImport::FileProblem(why) => Err(ApiError::invalid(ConfigErrors::single("", why))),
        ScheduleImport::Preview(rows) => {
            let mut errs = ConfigErrors::default();
            for row in &rows {
                for p in &row.problems {
                    errs.push(
                        format!("line {}", row.line),
                        crate::domain::schedule::describe(p),
                    );
                }
            }
            if errs.is_empty() {
                Ok(Json(ScheduleResult {
                    applied: false,
                    rows: rows.len(),
                    outcome: None,
                }))
            } else {
                Err(ApiError::invalid(errs))
            }
        }
        ScheduleImport::Applied { rows, outcome } => Ok(Json(ScheduleResult {
            applied: true,
            rows: rows.len(),
            outcome: Some(outcome),
        })),
    }
}

/// Reads the coaching platform's bookings (an iCalendar file, as its
/// calendar export or feed gives it) into participants' planned dates.
/// Bookings are matched to participants by attendee email; attendees who are
/// no participant are counted, never listed. The next booking after a
/// participant's last completed session is their next session, so sending
/// the calendar again after a booking moved moves the date. A date the
/// participant gave in chat, or one set with PUT …/participants/{id}/sessions,
/// stays. A file that is not iCalendar, or is over 2 MiB, changes nothing.
#[utoipa::path(post, path = "/api/v1/programs/{key}/bookings", tag = "sessions",
    params(("key" = String, Path, description = "The program's key")),
    request_body(content = String, description = "An iCalendar file (RFC 5545) of the platform's bookings, at most 2 MiB", content_type = "text/calendar"),
    responses((status = 200, body = crate::app::bookings::BookingsImport),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_bookings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<crate::app::bookings::BookingsImport>, ApiError> {
    use crate::domain::ics::bookings::{BOOKINGS_CALENDAR, MAX_BOOKINGS_BYTES};
    let caller = authorize(&state, &headers, Scope::SessionsWrite).await?;
    caller.within(&key)?;
    let ctype = content_type(&headers);
    if !["text/calendar", "text/plain"].contains(&ctype.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {ctype:?} is not accepted: send text/calendar"),
        ));
    }
    if body.len() > MAX_BOOKINGS_BYTES {
        let message =
            crate::domain::ics::too_large(body.len(), MAX_BOOKINGS_BYTES, BOOKINGS_CALENDAR);
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::invalid(ConfigErrors::single("calendar", message))
        });
    }
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::invalid(ConfigErrors::single(
            "calendar",
            "the calendar is not UTF-8 text",
        ))
    })?;
    let outcome = state.app.import_bookings(caller.org, &key, text).await?;
    state
        .app
        .audit(caller.org, &caller.actor, "bookings.import", Some(&key))
        .await;
    Ok(Json(outcome))
}

/// Whom to erase: their work email or their chat identity (`slack:T…/U…`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub email: Option<String>,
    pub chat: Option<String>,
}

/// Erases a person at their request: their participations, answers, notes,
/// messages and identities are deleted; weekly aggregates already computed
/// stay, and a later program file listing them skips them. Needs an
/// organisation-wide token (a person may be in several programs).
#[utoipa::path(post, path = "/api/v1/erasures", tag = "people",
    request_body = ErasureRequest,
    responses((status = 200, body = Erased), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Erased>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    caller.organisation_wide()?;
    let Caller { org, actor, .. } = caller;
    let req: ErasureRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(ConfigErrors::single(
            "",
            format!("not an erasure request: {e}"),
        ))
    })?;
    let who = match (&req.email, &req.chat) {
        (Some(e), None) => {
            crate::domain::PersonRef::parse_short(e).map_err(|m| ("email", m.to_string()))
        }
        (None, Some(c)) if c.starts_with("slack:") || c.starts_with("teams:") => {
            crate::domain::PersonRef::parse_short(c).map_err(|m| ("chat", m.to_string()))
        }
        (None, Some(_)) => Err(("chat", "a chat identity looks like slack:T…/U…".to_string())),
        _ => Err(("", "give exactly one of email or chat".to_string())),
    }
    .map_err(|(field, m)| ApiError::invalid(ConfigErrors::single(field, m)))?;
    match state.app.erase_named(org, &who).await? {
        Some(erased) => {
            state.app.audit(org, &actor, "person.erase", None).await;
            Ok(Json(erased))
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "nobody by that email or chat identity in this organisation",
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// How many entries, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The organisation's audit log: who did what, when (never content). Needs
/// an organisation-wide token.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = [AuditEntry]), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    caller.organisation_wide()?;
    let org = caller.org;
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(state.app.audit_log(org, limit).await?))
}

/// Whom an organisation admin is granted to: exactly one of a work email or
/// a chat identity (`slack:T…/U…`, `teams:TENANT/USER`).
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrgAdminRequest {
    pub email: Option<String>,
    pub chat: Option<String>,
}

impl OrgAdminRequest {
    fn person(&self) -> Result<crate::domain::PersonRef, ApiError> {
        Ok(crate::app::access::admin_person(
            self.email.as_deref(),
            self.chat.as_deref(),
        )?)
    }
}

/// Lists the organisation admins: people who see and change every program
/// in the HR console (program admins, a program file's `admins:`, only
/// theirs). Needs an organisation-wide admin token.
#[utoipa::path(get, path = "/api/v1/org-admins", tag = "admins",
    responses((status = 200, body = [OrgAdmin]), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_org_admins(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<OrgAdmin>>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    caller.organisation_wide()?;
    Ok(Json(state.app.org_admins(caller.org).await?))
}

/// Grants a person organisation admin (kept if they have it already).
/// Needs an organisation-wide admin token.
#[utoipa::path(post, path = "/api/v1/org-admins", tag = "admins",
    request_body = OrgAdminRequest,
    responses((status = 200, body = OrgAdmin), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn grant_org_admin(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<OrgAdmin>, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    caller.organisation_wide()?;
    let req: OrgAdminRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(ConfigErrors::single(
            "",
            format!("not an organisation admin: {e}"),
        ))
    })?;
    let person = req.person()?;
    Ok(Json(
        state
            .app
            .grant_org_admin(caller.org, &person, &caller.actor)
            .await?,
    ))
}

/// Revokes a person's organisation admin grant (`?email=` or `?chat=`);
/// their organisation-wide console sessions end with it. Needs an
/// organisation-wide admin token.
#[utoipa::path(delete, path = "/api/v1/org-admins", tag = "admins",
    params(OrgAdminRequest),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_org_admin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(req): Query<OrgAdminRequest>,
) -> Result<StatusCode, ApiError> {
    let caller = authorize(&state, &headers, Scope::Admin).await?;
    caller.organisation_wide()?;
    let person = req.person()?;
    if state
        .app
        .revoke_org_admin(caller.org, &person, &caller.actor)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no organisation admin by that email or chat identity",
        ))
    }
}
