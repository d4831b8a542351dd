//! The home tab and modals: `app_home_opened` shows the home tab; its
//! buttons (and a nudge's "Add a note") act on it; the note modal's
//! submission stores the note. Slow work (views.publish) runs after answering.

use super::Handled;
use crate::app::NoteRefusal;
use crate::chat::View;
use crate::domain::{ChatIdentity, JobId, ParticipantId};
use crate::http::AppState;
use serde_json::json;
use slack_morphism::prelude::{SlackInteractionViewSubmissionEvent, SlackView};

/// `app_home_opened` on the home tab: show it, freshly built.
pub(super) fn home_opened(state: &AppState, team: &str, event: &serde_json::Value) {
    if event["tab"] != "home" {
        return;
    }
    let Some(user) = event["user"].as_str() else {
        return;
    };
    let (app, who) = (state.app.clone(), ChatIdentity::slack(team, user));
    tokio::spawn(async move { app.refresh_home(&who).await });
}

/// Opens a form for the person who acted, right away: the trigger expires
/// three seconds after the tap. `None` (not theirs, not an admin of it)
/// opens nothing.
async fn open_form(
    app: &crate::app::App,
    who: &ChatIdentity,
    trigger: &str,
    form: crate::app::AppResult<Option<View>>,
    what: &str,
) -> Handled {
    match form {
        Ok(Some(form)) => {
            if let Some(port) = app.chats.for_identity(who) {
                if let Err(e) = port.open_form(trigger, &form).await {
                    tracing::warn!(error = %e, form = what, "could not open a form");
                }
            }
            Handled::Done
        }
        Ok(None) => Handled::Done,
        Err(e) => {
            tracing::error!(error = %e, form = what, "could not build a form");
            Handled::Unavailable("try again in a minute")
        }
    }
}

/// A button that belongs to the home tab or opens a form: `note:open`
/// (value: the nudge's job id, or anything else for a note about no nudge),
/// `onboarding:open`, `pulse:open`, `cadence:open`, `home:snooze`,
/// `home:pause`, `home:resume`. `None` when the action is not one of them.
pub(super) async fn action(
    state: &AppState,
    who: ChatIdentity,
    action_id: &str,
    value: Option<&str>,
    trigger: &str,
) -> Option<Handled> {
    let app = state.app.clone();
    match action_id {
        "note:open" => {
            let job_id = value.and_then(|v| v.parse::<JobId>().ok());
            let locale = app.locale_for(&who).await;
            let form = Ok(Some(View::NoteForm { job_id, locale }));
            Some(open_form(&app, &who, trigger, form, "note form").await)
        }
        "onboarding:open" => {
            let Some(id) = value.and_then(|v| v.parse::<ParticipantId>().ok()) else {
                return Some(Handled::refused("which participation?"));
            };
            let form = app.onboarding_form(&who, id).await;
            Some(open_form(&app, &who, trigger, form, "focus form").await)
        }
        "pulse:open" => {
            let job_id = value.and_then(|v| v.parse::<JobId>().ok());
            let form = app.assessment_form(&who, job_id).await;
            Some(open_form(&app, &who, trigger, form, "pulse form").await)
        }
        "cadence:open" => {
            let Some(key) = value else {
                return Some(Handled::refused("which program's cadence?"));
            };
            let form = app.cadence_form(&who, key).await;
            Some(open_form(&app, &who, trigger, form, "cadence editor").await)
        }
        "home:snooze" => {
            match app
                .snooze_latest(&who, crate::domain::time::Snooze::TomorrowMorning)
                .await
            {
                Ok(update) => {
                    tokio::spawn(async move {
                        if let Some((_, (port, at, message))) = update {
                            if let Err(e) = port.update(&at, &message).await {
                                tracing::warn!(error = %e, "could not update the snoozed message");
                            }
                        }
                        app.refresh_home(&who).await;
                    });
                    Some(Handled::Done)
                }
                Err(e) => {
                    tracing::error!(error = %e, "snooze from the home tab not stored");
                    Some(Handled::Unavailable("not saved, please try again"))
                }
            }
        }
        "home:step_delete" => {
            let (participant, session) =
                value.and_then(|v| v.split_once(':')).and_then(|(p, s)| {
                    Some((p.parse::<ParticipantId>().ok()?, s.parse::<u32>().ok()?))
                })?;
            match app.delete_step(&who, participant, session).await {
                Ok(updates) => {
                    tokio::spawn(async move {
                        for (port, at, message) in updates.into_iter().flatten() {
                            if let Err(e) = port.update(&at, &message).await {
                                tracing::warn!(error = %e, "could not show the deleted step");
                            }
                        }
                        app.refresh_home(&who).await;
                    });
                    Some(Handled::Done)
                }
                Err(e) => {
                    tracing::error!(error = %e, "a step could not be deleted");
                    Some(Handled::Unavailable("not saved, please try again"))
                }
            }
        }
        "home:pause" | "home:resume" => {
            let done = if action_id == "home:pause" {
                app.pause(&who, None).await
            } else {
                app.resume(&who).await
            };
            if let Err(e) = done {
                tracing::error!(error = %e, "pause from the home tab not stored");
                return Some(Handled::Unavailable("not saved, please try again"));
            }
            tokio::spawn(async move { app.refresh_home(&who).await });
            Some(Handled::Done)
        }
        _ => None,
    }
}

/// The value of a modal's input block (its one element), if any.
fn input<'a>(
    ev: &'a SlackInteractionViewSubmissionEvent,
    block: &str,
) -> Option<&'a slack_morphism::prelude::SlackViewStateValue> {
    ev.view
        .state_params
        .state
        .as_ref()?
        .values
        .iter()
        .find(|(b, _)| b.as_ref() == block)
        .and_then(|(_, actions)| actions.values().next())
}

/// A text input's value (empty when left empty).
fn text_of(ev: &SlackInteractionViewSubmissionEvent, block: &str) -> String {
    input(ev, block)
        .and_then(|v| v.value.clone())
        .unwrap_or_default()
}

/// The id a modal carries in its `private_metadata` (a job, a participation).
fn metadata_id<Id: std::str::FromStr>(
    modal: &slack_morphism::prelude::SlackModalView,
) -> Option<Id> {
    modal
        .private_metadata
        .as_deref()
        .and_then(|m| m.parse().ok())
}

/// The focus form: the starting point stored sealed, focus and consent
/// recorded (the welcome's and the home tab's button open it).
async fn onboarding_submitted(
    state: &AppState,
    ev: &SlackInteractionViewSubmissionEvent,
    modal: &slack_morphism::prelude::SlackModalView,
) -> Handled {
    let who = ChatIdentity::slack(ev.team.id.as_ref(), ev.user.id.as_ref());
    let Some(participant_id) = metadata_id::<ParticipantId>(modal) else {
        return Handled::refused("a focus form without its participation");
    };
    let focus = input(ev, "focus").and_then(|v| {
        v.selected_option
            .as_ref()
            .map(|o| o.value.clone())
            .or_else(|| v.value.clone())
    });
    let share_focus = input(ev, "share")
        .and_then(|v| v.selected_options.as_ref())
        .is_some_and(|o| o.iter().any(|o| o.value == "share"));
    let starting = crate::app::StartingPoint {
        goal: text_of(ev, "goal"),
        context: text_of(ev, "context"),
        blocker: text_of(ev, "blocker"),
        focus: focus.unwrap_or_default(),
        share_focus,
    };
    match state
        .app
        .record_starting_point(&who, participant_id, &starting)
        .await
    {
        Ok(Ok(())) => {
            let app = state.app.clone();
            tokio::spawn(async move { app.refresh_home(&who).await });
            Handled::Done
        }
        Ok(Err(fields)) => {
            let errors: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(f, m)| (f.to_string(), json!(m)))
                .collect();
            Handled::Answer(json!({ "response_action": "errors", "errors": errors }))
        }
        Err(e) => {
            tracing::error!(error = %e, "starting point not stored");
            Handled::Unavailable("not saved, please try again")
        }
    }
}

/// The pulse form's answer, stored like a tap on the pulse message (which
/// then shows it).
async fn assessment_submitted(
    state: &AppState,
    ev: &SlackInteractionViewSubmissionEvent,
    modal: &slack_morphism::prelude::SlackModalView,
) -> Handled {
    let who = ChatIdentity::slack(ev.team.id.as_ref(), ev.user.id.as_ref());
    let job_id = metadata_id(modal);
    let value = input(ev, "value")
        .and_then(|v| v.selected_option.as_ref())
        .and_then(|o| o.value.parse::<i64>().ok());
    let (Some(job_id), Some(value)) = (job_id, value) else {
        return Handled::Answer(json!({
            "response_action": "errors",
            "errors": { "value": "Pick one of the numbers." }
        }));
    };
    // A re-delivered submission of the same view and value counts once.
    let view_id = ev.view.state_params.id.to_string();
    let tap = crate::app::Tap {
        who: who.clone(),
        job_id,
        answer: crate::app::TapAnswer::Scale(value),
        delivery_key: format!("slack-view|{view_id}|{value}"),
        message: crate::chat::Delivered {
            channel: String::new(),
            ts: String::new(),
        },
    };
    match state.app.take_tap(&tap).await {
        Ok(crate::app::TapResult::Recorded { job }) => {
            let app = state.app.clone();
            tokio::spawn(async move {
                for (port, at, message) in app.tap_updates(&tap, &job).await {
                    if let Err(e) = port.update(&at, &message).await {
                        tracing::warn!(error = %e, "could not update the pulse message");
                    }
                }
                app.refresh_home(&who).await;
            });
            Handled::Done
        }
        Ok(crate::app::TapResult::Duplicate { .. }) => Handled::Done,
        Ok(crate::app::TapResult::Refused(why)) => {
            tracing::info!(reason = ?why, job = job_id.0, "pulse answer not recorded");
            Handled::Answer(json!({
                "response_action": "errors",
                "errors": { "value": "This pulse is not yours to answer." }
            }))
        }
        Err(e) => {
            tracing::error!(error = %e, "pulse answer not stored");
            Handled::Unavailable("not saved, please try again")
        }
    }
}

/// The cadence editor's submission: applied whole, or each wrong field
/// named in the modal (which stays open with what HR typed).
async fn cadence_submitted(
    state: &AppState,
    ev: &SlackInteractionViewSubmissionEvent,
    modal: &slack_morphism::prelude::SlackModalView,
) -> Handled {
    let who = ChatIdentity::slack(ev.team.id.as_ref(), ev.user.id.as_ref());
    let key = modal.private_metadata.clone().unwrap_or_default();
    let submitted = crate::app::CadenceInput {
        nudges: text_of(ev, "nudges"),
        quiet_hours: text_of(ev, "quiet_hours"),
        working_days: input(ev, "working_days")
            .and_then(|v| v.selected_options.as_ref())
            .map(|o| o.iter().map(|o| o.value.clone()).collect())
            .unwrap_or_default(),
        reminder_after_days: text_of(ev, "reminder_after_days"),
    };
    match state.app.apply_cadence(&who, &key, &submitted).await {
        Ok(Ok(_)) => {
            let app = state.app.clone();
            tokio::spawn(async move { app.refresh_home(&who).await });
            Handled::Done
        }
        Ok(Err(fields)) => {
            let mut errors = serde_json::Map::new();
            for (field, message) in fields {
                let entry = errors.entry(field).or_insert_with(|| json!(""));
                let joined = match entry.as_str() {
                    Some("") | None => message,
                    Some(before) => format!("{before}; {message}"),
                };
                // Slack shows at most a couple of lines under a field.
                *entry = json!(joined.chars().take(300).collect::<String>());
            }
            Handled::Answer(json!({ "response_action": "errors", "errors": errors }))
        }
        Err(e) => {
            tracing::error!(error = %e, "the cadence could not be applied");
            Handled::Answer(json!({
                "response_action": "errors",
                "errors": { "nudges": "Momentum could not save this just now; please try again." }
            }))
        }
    }
}

/// `view_submission` of the note modal: stores the note, or answers with
/// the field's error so the modal stays open with the text in it.
pub(super) async fn submitted(
    state: &AppState,
    ev: SlackInteractionViewSubmissionEvent,
) -> Handled {
    let SlackView::Modal(modal) = &ev.view.view else {
        return Handled::Done;
    };
    match modal.callback_id.as_ref().map(|c| c.to_string()).as_deref() {
        Some("note") => {}
        Some("cadence") => return cadence_submitted(state, &ev, modal).await,
        Some("pulse") => return assessment_submitted(state, &ev, modal).await,
        Some("onboarding") => return onboarding_submitted(state, &ev, modal).await,
        _ => return Handled::Done,
    }
    let who = ChatIdentity::slack(ev.team.id.as_ref(), ev.user.id.as_ref());
    let text = text_of(&ev, "note");
    let job_id = metadata_id(modal);
    let app = state.app.clone();
    let locale = app.locale_for(&who).await;
    let error = |key: &str, ctx: minijinja::Value| {
        let message = crate::templates::render_text(
            "slack",
            &locale,
            "command_reply.txt",
            minijinja::context! { outcome => key, ..ctx },
        )
        .unwrap_or_default();
        Handled::Answer(json!({ "response_action": "errors", "errors": { "note": message } }))
    };
    match app.add_note(&who, &text, job_id).await {
        Ok(Ok(())) => {
            tokio::spawn(async move { app.refresh_home(&who).await });
            // An empty acknowledgement closes the modal.
            Handled::Done
        }
        Ok(Err(NoteRefusal::Empty)) => error("note_empty", minijinja::context! {}),
        Ok(Err(NoteRefusal::TooLong { max })) => error(
            "note_too_long",
            minijinja::context! { max, length => text.trim().chars().count() },
        ),
        Ok(Err(NoteRefusal::NotEnrolled)) => error("not_enrolled", minijinja::context! {}),
        Err(e) => {
            tracing::error!(error = %e, "note not stored");
            error("error", minijinja::context! {})
        }
    }
}
