//! `POST /api/messages`: everything Teams sends the bot. The bearer token is
//! verified before anything is read into the store; the tenant must be
//! linked to an organisation. Installs and roster changes keep conversation
//! references; messages in the 1:1 chat are commands (`status` answers with
//! a card); card taps (`adaptiveCard/action` invokes) are answered with the
//! updated card, so the person sees what was recorded.

use super::commands::handle_command;
use super::AppState;
use crate::app::dates::SessionRefusal;
use crate::app::{StartingPoint, StepChoice, StepRefusal, Tap, TapAnswer, TapResult};
use crate::chat::teams::activity::Activity;
use crate::chat::teams::{cards, TeamsBot, TeamsChat};
use crate::chat::{ChatPort, Delivered, Message, SessionAnswer};
use crate::domain::teams::{TeamsConversation, TeamsUser};
use crate::domain::time::Snooze;
use crate::domain::OrgId;
use crate::domain::{Answer, ChatIdentity, CheckinAnswer, JobId, Platform};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// One verified activity from a linked tenant.
struct Inbound<'a> {
    state: &'a AppState,
    bot: Arc<TeamsBot>,
    org: OrgId,
    tenant: String,
    service_url: String,
    activity: &'a Activity,
}

pub async fn messages(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(bot) = state.teams.clone() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "Teams is not configured (MICROSOFT_APP_ID)",
        );
    };
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if authorization.is_none() {
        return refuse(StatusCode::UNAUTHORIZED, "no bearer token in Authorization");
    }
    let activity: Activity = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a Bot Framework activity: {e}"),
            )
        }
    };
    let (Some(channel), Some(service_url)) = (&activity.channel_id, &activity.service_url) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "an activity needs channelId and serviceUrl",
        );
    };
    // Web Chat or Direct Line on the same registration would let whoever
    // holds that channel's secret name any tenant and user: Teams only.
    if channel != "msteams" {
        tracing::warn!(channel = %channel, "refused an activity from a channel other than Teams");
        return refuse(
            StatusCode::UNAUTHORIZED,
            &format!("only Microsoft Teams activities are accepted, not channel {channel:?}"),
        );
    }
    let now = state.app.clock.now().as_second();
    if let Err(e) = bot
        .auth
        .verify(authorization, channel, service_url, now)
        .await
    {
        tracing::warn!(reason = %e, "refused an unverified Teams request");
        let status = if e.is_unavailable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        };
        return refuse(status, &e.to_string());
    }
    let Some(tenant) = activity.tenant().map(str::to_string) else {
        return refuse(StatusCode::BAD_REQUEST, "the activity names no tenant");
    };
    let org = match state.app.org_for_workspace(Platform::Teams, &tenant).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::warn!(tenant = %tenant, "a Teams tenant that is not linked to an organisation");
            return refuse(
                StatusCode::FORBIDDEN,
                "this tenant is not linked to an organisation (momentum org create --teams-tenant)",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "tenant look-up failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    };
    if state
        .app
        .chats
        .for_workspace(Platform::Teams, &tenant)
        .is_none()
    {
        let port = TeamsChat::new(bot.clone(), &tenant, state.app.teams_references());
        state.app.chats.add(Arc::new(port) as Arc<dyn ChatPort>);
    }
    let inbound = Inbound {
        state: &state,
        bot,
        org,
        tenant,
        service_url: service_url.clone(),
        activity: &activity,
    };
    if let Err(e) = inbound.remember_sender().await {
        tracing::error!(error = %e, "could not store a Teams conversation reference");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again");
    }
    match activity.kind.as_str() {
        "installationUpdate" => inbound.installation_update().await,
        "conversationUpdate" => inbound.conversation_update().await,
        "message" => inbound.message().await,
        "invoke" if activity.name.as_deref() == Some("adaptiveCard/action") => {
            inbound.card_action().await
        }
        _ => StatusCode::OK.into_response(),
    }
}

impl Inbound<'_> {
    fn sender(&self) -> Option<ChatIdentity> {
        let aad = self.activity.from.as_ref()?.aad_object_id.as_deref()?;
        Some(ChatIdentity {
            platform: Platform::Teams,
            workspace: self.tenant.clone(),
            user: aad.to_string(),
        })
    }

    /// Keeps how to reach the sender: their ids, language and time zone,
    /// and the 1:1 conversation when this is it. No name, no words.
    async fn remember_sender(&self) -> crate::app::AppResult<()> {
        let a = self.activity;
        let Some(from) = &a.from else { return Ok(()) };
        let Some(aad) = &from.aad_object_id else {
            return Ok(());
        };
        // The app's own removal arrives from the person who removed it.
        let removing = a.kind == "installationUpdate"
            && a.action.as_deref().is_some_and(|x| x.starts_with("remove"));
        let personal = a.is_personal() && !removing;
        let user = TeamsUser {
            tenant_id: self.tenant.clone(),
            aad_object_id: aad.clone(),
            user_id: Some(from.id.clone()),
            locale: a.locale.clone(),
            time_zone: a.local_timezone.clone(),
            conversation_id: personal
                .then(|| a.conversation.as_ref().map(|c| c.id.clone()))
                .flatten(),
            service_url: Some(self.service_url.clone()),
            ..Default::default()
        };
        self.state.app.remember_teams_user(self.org, &user).await
    }

    /// The app added to or removed from a person's Teams (personal scope) or
    /// a team (channel scope).
    async fn installation_update(&self) -> Response {
        let a = self.activity;
        let removed = a.action.as_deref().is_some_and(|x| x.starts_with("remove"));
        let app = &self.state.app;
        let done = if a.is_personal() {
            match (removed, self.sender()) {
                (true, Some(who)) => app.forget_teams_conversation(&self.tenant, &who.user).await,
                _ => Ok(()),
            }
        } else {
            match &a.conversation {
                Some(c) => {
                    app.remember_teams_conversation(
                        self.org,
                        &TeamsConversation {
                            tenant: &self.tenant,
                            conversation_id: &c.id,
                            team_id: a.team(),
                            service_url: &self.service_url,
                            installed: !removed,
                        },
                    )
                    .await
                }
                None => Ok(()),
            }
        };
        match done {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => {
                tracing::error!(error = %e, "installation not stored");
                refuse(StatusCode::SERVICE_UNAVAILABLE, "try again")
            }
        }
    }

    /// Members added to a conversation: when one is the bot, the app was
    /// installed there (a team's channel conversation is kept for rosters).
    async fn conversation_update(&self) -> Response {
        let a = self.activity;
        let bot_id = a.recipient.as_ref().map(|r| r.id.as_str());
        let added_bot = a
            .members_added
            .iter()
            .flatten()
            .any(|m| Some(m.id.as_str()) == bot_id);
        let removed_bot = a
            .members_removed
            .iter()
            .flatten()
            .any(|m| Some(m.id.as_str()) == bot_id);
        if (added_bot || removed_bot) && !a.is_personal() {
            if let Some(c) = &a.conversation {
                if let Err(e) = self
                    .state
                    .app
                    .remember_teams_conversation(
                        self.org,
                        &TeamsConversation {
                            tenant: &self.tenant,
                            conversation_id: &c.id,
                            team_id: a.team(),
                            service_url: &self.service_url,
                            installed: added_bot,
                        },
                    )
                    .await
                {
                    tracing::error!(error = %e, "team conversation not stored");
                    return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again");
                }
            }
        }
        StatusCode::OK.into_response()
    }

    fn port(&self) -> TeamsChat {
        TeamsChat::new(
            self.bot.clone(),
            &self.tenant,
            self.state.app.teams_references(),
        )
    }

    /// A message in the 1:1 chat: a command. Handled once per activity id
    /// (Teams may deliver it again); the reply follows through the connector.
    async fn message(&self) -> Response {
        let a = self.activity;
        let Some(who) = self.sender() else {
            return StatusCode::OK.into_response();
        };
        if !a.is_personal() {
            // Momentum talks about a person only with that person.
            return StatusCode::OK.into_response();
        }
        let key = format!(
            "teams:{}:{}",
            self.tenant,
            a.id.as_deref().unwrap_or_default()
        );
        match self.state.app.claim_inbound_event(&key).await {
            Ok(true) => {}
            Ok(false) => return StatusCode::OK.into_response(),
            Err(e) => {
                tracing::error!(error = %e, "message not claimed");
                return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again");
            }
        }
        let text = a.command_text();
        let (state, port) = (self.state.clone(), self.port());
        tokio::spawn(async move {
            if let Err(e) = reply_to_command(&state, &port, &who, &text).await {
                tracing::warn!(error = %e, "could not answer a Teams message");
            }
        });
        StatusCode::OK.into_response()
    }

    /// A tap on a card (`Action.Execute`): answered with the card to show.
    async fn card_action(&self) -> Response {
        let a = self.activity;
        let Some(who) = self.sender() else {
            return invoke(cards::error_response(400, "a card action needs a person"));
        };
        let action = a.value.as_ref().map(|v| &v["action"]);
        let verb = action.and_then(|x| x["verb"].as_str()).unwrap_or_default();
        let data = action.map(|x| x["data"].clone()).unwrap_or(Value::Null);
        let job = data["job"].as_str().and_then(|j| j.parse::<JobId>().ok());
        let at = Delivered {
            channel: a
                .conversation
                .as_ref()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            ts: a.reply_to_id.clone().unwrap_or_default(),
        };
        let answer = match verb {
            "report" => data["answer"]
                .as_str()
                .and_then(Answer::parse)
                .map(TapAnswer::Report),
            "checkin" => data["answer"]
                .as_str()
                .and_then(CheckinAnswer::parse)
                .map(TapAnswer::Checkin),
            // A long scale's choice: `value_JOB` in a manager's day message.
            "pulse" => data["value"]
                .as_str()
                .or_else(|| data[format!("value_{}", job.map_or(0, |j| j.0))].as_str())
                .and_then(|v| v.trim().parse().ok())
                .map(TapAnswer::Scale),
            _ => None,
        };
        let response = match (verb, answer, job) {
            (_, Some(answer), Some(job_id)) => self.tap(who, job_id, answer, at).await,
            ("snooze", _, Some(job_id)) => self.snooze(who, job_id, &data, at).await,
            ("note", _, job) => self.note(who, job, &data).await,
            ("step" | "step_pick" | "step_none" | "step_delete", _, Some(job_id)) => {
                let choice = match verb {
                    "step" => {
                        StepChoice::Named(data["step"].as_str().unwrap_or_default().to_string())
                    }
                    "step_pick" => match data["pick"].as_str().and_then(|p| p.parse().ok()) {
                        Some(i) => StepChoice::Suggestion(i),
                        None => StepChoice::Named(String::new()),
                    },
                    "step_none" => StepChoice::NoStep,
                    _ => StepChoice::Delete,
                };
                self.step(who, job_id, choice, at).await
            }
            ("session_yes" | "session_moved" | "session_cancelled", _, Some(job_id)) => {
                let answer = match verb {
                    "session_yes" => Some(SessionAnswer::Happened),
                    "session_cancelled" => Some(SessionAnswer::Cancelled),
                    _ => data["moved"]
                        .as_str()
                        .and_then(|d| crate::domain::dates::plan_date(d).ok())
                        .map(SessionAnswer::MovedTo),
                };
                self.session(who, job_id, answer, at).await
            }
            ("onboarding", _, _) => self.onboarding_form(who, &data).await,
            ("onboard", _, _) => self.onboard(who, &data).await,
            // A card of an older (or newer) version: said plainly, not
            // shown as a failed tap.
            _ => {
                let locale = self.state.app.locale_for(&who).await;
                let text = command_reply(&voice(&locale), "stale_button", minijinja::context! {});
                Ok(cards::message_response(&text))
            }
        };
        match response {
            Ok(body) => invoke(body),
            Err(e) => {
                tracing::error!(error = %e, verb, "card action failed");
                // 503 makes Teams show the tap failed; the person taps again.
                refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not saved, please tap again",
                )
            }
        }
    }

    async fn tap(
        &self,
        who: ChatIdentity,
        job_id: JobId,
        answer: TapAnswer,
        at: Delivered,
    ) -> crate::app::AppResult<Value> {
        // The same activity delivered again has the same id.
        let delivery_key = hex::encode(Sha256::digest(
            format!(
                "teams|{}|{}|{}",
                self.tenant,
                who.user,
                self.activity.id.as_deref().unwrap_or_default()
            )
            .as_bytes(),
        ));
        let tap = Tap {
            who,
            job_id,
            answer,
            delivery_key,
            message: at.clone(),
        };
        Ok(match self.state.app.take_tap(&tap).await? {
            TapResult::Recorded { job } => {
                answer_card(self.state.app.tap_updates(&tap, &job).await, &at)
            }
            TapResult::Duplicate { shown } => shown_card(shown.as_ref()),
            TapResult::Refused(why) => {
                tracing::info!(reason = ?why, job = job_id.0, "tap not recorded");
                cards::error_response(400, "this card is not yours to answer")
            }
        })
    }

    /// The small step, named on the card: the card shows it, or says
    /// plainly why it was not saved.
    async fn step(
        &self,
        who: ChatIdentity,
        job_id: JobId,
        choice: StepChoice,
        at: Delivered,
    ) -> crate::app::AppResult<Value> {
        let outcome = self
            .state
            .app
            .choose_step(&who, job_id, choice, &at)
            .await?;
        let locale = self.state.app.locale_for(&who).await;
        let (reply, ctx) = match outcome {
            Ok(updates) => return Ok(answer_card(updates, &at)),
            Err(StepRefusal::Empty) => ("step_empty", minijinja::context! {}),
            Err(StepRefusal::TooLong { length }) => (
                "step_too_long",
                minijinja::context! { length, max => crate::app::STEP_MAX_CHARS },
            ),
            Err(StepRefusal::NotYours) => ("stale_button", minijinja::context! {}),
        };
        Ok(cards::message_response(&command_reply(
            &voice(&locale),
            reply,
            ctx,
        )))
    }

    /// What the participant said about a session: the card shows it, or
    /// says plainly why it was not saved (no date picked, a day past).
    async fn session(
        &self,
        who: ChatIdentity,
        job_id: JobId,
        answer: Option<SessionAnswer>,
        at: Delivered,
    ) -> crate::app::AppResult<Value> {
        let locale = self.state.app.locale_for(&who).await;
        let Some(answer) = answer else {
            let text = command_reply(&voice(&locale), "session_date_bad", minijinja::context! {});
            return Ok(cards::message_response(&text));
        };
        let outcome = self
            .state
            .app
            .answer_session_check(&who, job_id, answer, &at)
            .await?;
        let (reply, ctx) = match outcome {
            Ok(updates) => return Ok(answer_card(updates, &at)),
            Err(SessionRefusal::PastDate(date)) => (
                "session_date_past",
                minijinja::context! { date => date.to_string() },
            ),
            Err(SessionRefusal::NotYours) => ("stale_button", minijinja::context! {}),
        };
        Ok(cards::message_response(&command_reply(
            &voice(&locale),
            reply,
            ctx,
        )))
    }

    async fn snooze(
        &self,
        who: ChatIdentity,
        job_id: JobId,
        data: &Value,
        at: Delivered,
    ) -> crate::app::AppResult<Value> {
        let Some(snooze) = data["when"].as_str().and_then(Snooze::parse) else {
            return Ok(cards::error_response(400, "not a Momentum snooze option"));
        };
        Ok(
            match self.state.app.snooze(&who, job_id, snooze, &at).await? {
                Some((_, _, message)) => shown_card(Some(&message)),
                None => cards::error_response(400, "this card is not yours to answer"),
            },
        )
    }

    async fn note(
        &self,
        who: ChatIdentity,
        job: Option<JobId>,
        data: &Value,
    ) -> crate::app::AppResult<Value> {
        let text = data["note"].as_str().unwrap_or_default();
        let locale = self.state.app.locale_for(&who).await;
        let voice = voice(&locale);
        let outcome = match self.state.app.add_note(&who, text, job).await? {
            Ok(()) => "note_saved",
            Err(crate::app::NoteRefusal::Empty) => "note_how",
            Err(crate::app::NoteRefusal::TooLong { .. }) => "note_too_long",
            Err(crate::app::NoteRefusal::NotEnrolled) => "not_enrolled",
        };
        let max = crate::app::NOTE_MAX_CHARS;
        let length = text.trim().chars().count();
        Ok(cards::message_response(&command_reply(
            &voice,
            outcome,
            minijinja::context! { max, length },
        )))
    }

    async fn onboarding_form(
        &self,
        who: ChatIdentity,
        data: &Value,
    ) -> crate::app::AppResult<Value> {
        let Some(id) = data["participant"].as_str().and_then(|p| p.parse().ok()) else {
            return Ok(cards::error_response(400, "which participation?"));
        };
        Ok(match self.state.app.onboarding_form(&who, id).await? {
            Some(view) => match cards::render_view(&view) {
                Ok(card) => cards::card_response(card),
                Err(e) => cards::error_response(500, &e.to_string()),
            },
            None => cards::error_response(400, "this is not one of your programs"),
        })
    }

    async fn onboard(&self, who: ChatIdentity, data: &Value) -> crate::app::AppResult<Value> {
        let Some(id) = data["participant"].as_str().and_then(|p| p.parse().ok()) else {
            return Ok(cards::error_response(400, "which participation?"));
        };
        let field = |k: &str| data[k].as_str().unwrap_or_default().to_string();
        let input = StartingPoint {
            goal: field("goal"),
            context: field("context"),
            blocker: field("blocker"),
            focus: field("focus"),
            share_focus: data["share"] == "true",
        };
        Ok(
            match self
                .state
                .app
                .record_starting_point(&who, id, &input)
                .await?
            {
                Ok(()) => {
                    let locale = self.state.app.locale_for(&who).await;
                    match cards::render_named(
                        &locale,
                        "recorded.json",
                        minijinja::context! { outcome => "onboarding" },
                    ) {
                        Ok(card) => cards::card_response(card),
                        Err(e) => cards::error_response(500, &e.to_string()),
                    }
                }
                Err(errors) => {
                    let text: Vec<String> =
                        errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
                    cards::message_response(&text.join("; "))
                }
            },
        )
    }
}

/// An invoke's answer: always HTTP 200, the outcome in the body.
fn invoke(body: Value) -> Response {
    Json(body).into_response()
}

/// The card that replaces the tapped one.
/// The answer to a card action: the card acted on (`at`) is replaced by
/// the invoke's answer; any other showing the same job (the nudge a
/// reminder repeats) is updated in the background.
fn answer_card(updates: Vec<crate::app::MessageUpdate>, at: &Delivered) -> Value {
    let mut shown = None;
    for (port, place, message) in updates {
        if place == *at {
            shown = Some(message);
        } else {
            tokio::spawn(async move {
                if let Err(e) = port.update(&place, &message).await {
                    tracing::warn!(error = %e, "could not update a card");
                }
            });
        }
    }
    shown_card(shown.as_ref())
}

fn shown_card(message: Option<&Message>) -> Value {
    match message.map(cards::render) {
        Some(Ok(card)) => cards::card_response(card),
        Some(Err(e)) => {
            tracing::error!(error = %e, "card not rendered");
            cards::error_response(500, "the card could not be shown")
        }
        None => cards::message_response("Recorded."),
    }
}

fn voice(locale: &str) -> super::commands::Voice<'_> {
    super::commands::Voice {
        platform: "teams",
        locale,
    }
}

fn command_reply(voice: &super::commands::Voice, outcome: &str, ctx: minijinja::Value) -> String {
    super::commands::reply(voice, outcome, ctx)
}

/// What the person typed in the 1:1 chat: `status` and `note` answer with
/// cards, everything else as in Slack, with Teams' wording.
async fn reply_to_command(
    state: &AppState,
    port: &TeamsChat,
    who: &ChatIdentity,
    text: &str,
) -> Result<(), crate::chat::ChatError> {
    let command = text.trim().to_ascii_lowercase();
    let locale = state.app.locale_for(who).await;
    if command == "status" {
        if let Ok(Some(overview)) = state.app.overview(who).await {
            let card =
                cards::render_named(&locale, "status.json", minijinja::context! { overview })?;
            return port.send_card_to(who, &card).await;
        }
    }
    if command == "note" && state.app.is_enrolled(who).await.unwrap_or(false) {
        let form = crate::chat::View::NoteForm {
            job_id: None,
            locale: locale.clone(),
        };
        return port.send_card_to(who, &cards::render_view(&form)?).await;
    }
    let reply = handle_command(state, who, text, None).await;
    port.reply_text(who, &reply).await
}
