//! Interactions, however they arrive (HTTP or Socket Mode): one-tap
//! answers on nudges, check-ins and pulses, the "Later…" menu, and the home
//! tab's and modals' actions.

use super::{views, Handled};
use crate::app::dates::SessionRefusal;
use crate::app::{StepChoice, StepRefusal, Tap, TapAnswer, TapResult};
use crate::chat::{Delivered, SessionAnswer};
use crate::domain::time::Snooze;
use crate::domain::{Answer, ChatIdentity, CheckinAnswer, JobId};
use crate::http::AppState;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use slack_morphism::prelude::{
    SlackBlockId, SlackInteractionActionContainer, SlackInteractionEvent,
};
use std::borrow::Cow;

pub(crate) async fn handle_interaction(state: &AppState, event: SlackInteractionEvent) -> Handled {
    let ev = match event {
        SlackInteractionEvent::BlockActions(ev) => ev,
        SlackInteractionEvent::ViewSubmission(ev) => return views::submitted(state, ev).await,
        // Closed modals and the like need nothing: acknowledged.
        _ => return Handled::Done,
    };
    let (Some(user), Some(action)) = (
        ev.user.as_ref(),
        ev.actions.as_ref().and_then(|a| a.first()),
    ) else {
        return Handled::refused("block_actions without a user or an action");
    };
    let action_id = action.action_id.to_string();
    let who = ChatIdentity::slack(ev.team.id.as_ref(), user.id.as_ref());
    if let Some(answered) = views::action(
        state,
        who.clone(),
        &action_id,
        action.value.as_deref(),
        ev.trigger_id.as_ref(),
    )
    .await
    {
        return answered;
    }
    let SlackInteractionActionContainer::Message(container) = &ev.container else {
        return Handled::Done;
    };
    if let Some(kind) = action_id.strip_prefix("session:") {
        let block = action.block_id.as_ref().map(|b| b.0.clone());
        let job = block
            .as_deref()
            .and_then(|b| b.strip_prefix("session:"))
            .or(action.value.as_deref())
            .and_then(|j| j.parse::<JobId>().ok());
        // A date picker's choice is in the message's state (slack-morphism
        // does not read the action's own `selected_date`).
        let picked = ev.state.as_ref().and_then(|s| {
            s.values
                .get(&SlackBlockId(block.clone()?))?
                .get(&action.action_id)?
                .selected_date
                .clone()
        });
        let at = Delivered {
            channel: channel_of(container, &ev),
            ts: container.message_ts.to_string(),
        };
        let answer = match (kind, picked.as_deref()) {
            ("yes", _) => Some(Ok(SessionAnswer::Happened)),
            ("cancelled", _) => Some(Ok(SessionAnswer::Cancelled)),
            ("moved", Some(d)) => Some(
                crate::domain::dates::plan_date(d)
                    .map(SessionAnswer::MovedTo)
                    .map_err(|_| ()),
            ),
            ("moved", None) => Some(Err(())),
            _ => None,
        };
        return match (answer, job) {
            (Some(Ok(answer)), Some(job_id)) => {
                session_answer(state, who, job_id, answer, &at).await
            }
            (Some(Err(())), Some(_)) => {
                tell(
                    state,
                    &at.channel,
                    who,
                    "session_date_bad",
                    minijinja::context! {},
                );
                Handled::Done
            }
            _ => stale_button(state, &at.channel, who, &action_id),
        };
    }
    if let Some(choice) = step_choice(&action_id, action.value.as_deref()) {
        let job = action
            .block_id
            .as_ref()
            .and_then(|b| b.0.strip_prefix("step:"))
            .or(action.value.as_deref().filter(|_| action_id != "step:name"))
            .and_then(|j| j.parse::<JobId>().ok());
        let Some(job_id) = job else {
            return stale_button(state, &channel_of(container, &ev), who, &action_id);
        };
        let at = Delivered {
            channel: channel_of(container, &ev),
            ts: container.message_ts.to_string(),
        };
        return step(state, who, job_id, choice, &at).await;
    }
    if action_id == "snooze" {
        return snooze(
            state,
            ev.team.id.as_ref(),
            user.id.as_ref(),
            action,
            container,
        )
        .await;
    }
    let selected = action.selected_option.as_ref().map(|o| o.value.as_str());
    let button = Button {
        team: ev.team.id.as_ref(),
        user: user.id.as_ref(),
        channel: channel_of(container, &ev),
        message_ts: container.message_ts.as_ref(),
        action_id: &action_id,
        action_ts: action.action_ts.as_ref().map(|t| t.as_ref()),
    };
    match button_answer(&action_id, action.value.as_deref(), selected) {
        Some((answer, job_id)) => take(state, button, answer, job_id).await,
        None => stale_button(state, &button.channel, who, &action_id),
    }
}

/// The parts of a `block_actions` payload that a one-tap answer needs, read
/// without building the whole event: the tapped message, most of the
/// payload, is skipped unparsed. Everything else takes the full parse.
#[derive(Deserialize)]
struct ButtonPayload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    team: Option<Id<'a>>,
    #[serde(borrow)]
    user: Option<Id<'a>>,
    #[serde(borrow)]
    channel: Option<Id<'a>>,
    #[serde(borrow)]
    container: Option<Container<'a>>,
    #[serde(borrow, default)]
    actions: Vec<Action<'a>>,
}

#[derive(Deserialize)]
struct Id<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Container<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    message_ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    channel_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Action<'a> {
    #[serde(borrow)]
    action_id: Cow<'a, str>,
    #[serde(borrow)]
    value: Option<Cow<'a, str>>,
    #[serde(borrow)]
    action_ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    selected_option: Option<Selected<'a>>,
}

#[derive(Deserialize)]
struct Selected<'a> {
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// A tap on a message's answer button (or the pulse's menu), taken from the
/// raw payload: the hot path. `None` for any other interaction.
pub(crate) async fn answer_button(state: &AppState, payload: &str) -> Option<Handled> {
    let p: ButtonPayload = serde_json::from_str(payload).ok()?;
    let container = p.container.as_ref().filter(|c| c.kind == "message")?;
    let action = p.actions.first().filter(|_| p.kind == "block_actions")?;
    let selected = action.selected_option.as_ref().map(|o| o.value.as_ref());
    let (answer, job_id) = button_answer(&action.action_id, action.value.as_deref(), selected)?;
    let button = Button {
        team: &p.team.as_ref()?.id,
        user: &p.user.as_ref()?.id,
        channel: container
            .channel_id
            .as_deref()
            .or(p.channel.as_ref().map(|c| c.id.as_ref()))
            .unwrap_or_default()
            .to_string(),
        message_ts: container.message_ts.as_deref()?,
        action_id: &action.action_id,
        action_ts: action.action_ts.as_deref(),
    };
    Some(take(state, button, answer, job_id).await)
}

/// The answer and the job a button carries: buttons carry the answer in
/// their action id and the job in their value; the pulse's menu (long
/// scales) carries both in its option. `None`: not an answer button.
fn button_answer(
    action_id: &str,
    value: Option<&str>,
    selected: Option<&str>,
) -> Option<(TapAnswer, JobId)> {
    let (answer, job) = match action_id.split_once(':') {
        Some(("report", a)) => (TapAnswer::Report(Answer::parse(a)?), value?),
        Some(("checkin", a)) => (TapAnswer::Checkin(CheckinAnswer::parse(a)?), value?),
        Some(("pulse", v)) => (TapAnswer::Scale(v.parse().ok()?), value?),
        None if action_id == "pulse" => {
            let (v, job) = selected?.split_once(':')?;
            (TapAnswer::Scale(v.parse().ok()?), job)
        }
        _ => return None,
    };
    Some((answer, job.parse().ok()?))
}

/// Where a button was tapped, and by whom.
struct Button<'a> {
    team: &'a str,
    user: &'a str,
    channel: String,
    message_ts: &'a str,
    action_id: &'a str,
    action_ts: Option<&'a str>,
}

/// Stores a tap before acknowledging it, then updates the message.
async fn take(state: &AppState, button: Button<'_>, answer: TapAnswer, job_id: JobId) -> Handled {
    let Button {
        team,
        user,
        channel,
        message_ts,
        action_id,
        action_ts,
    } = button;
    // Same team, user, message, button and action_ts = the same tap
    // delivered again. The key starts with the action's time, so new keys
    // land at the end of the key index rather than on a random page of it.
    let digest = Sha256::digest(
        format!(
            "slack|{team}|{user}|{message_ts}|{action_id}|{}",
            action_ts.unwrap_or_default()
        )
        .as_bytes(),
    );
    let delivery_key = match action_ts
        .filter(|t| t.len() <= 24 && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    {
        Some(ts) => format!("{ts}:{}", hex::encode(&digest[..16])),
        None => hex::encode(digest),
    };
    let tap = Tap {
        who: ChatIdentity::slack(team, user),
        job_id,
        answer,
        delivery_key,
        message: Delivered {
            channel,
            ts: message_ts.to_string(),
        },
    };
    // Slack waits three seconds and does not retry a tap: past that, say
    // it was not saved (a dropped transaction stores nothing).
    let taken = tokio::time::timeout(
        std::time::Duration::from_millis(2500),
        state.app.take_tap(&tap),
    )
    .await;
    match taken {
        Ok(Ok(TapResult::Recorded { job })) => {
            // Slow work after the answer: Slack wants it within 3 seconds.
            let app = state.app.clone();
            tokio::spawn(async move {
                for (port, at, message) in app.tap_updates(&tap, &job).await {
                    if let Err(e) = port.update(&at, &message).await {
                        tracing::warn!(error = %e, "could not update the tapped message");
                    }
                }
            });
            Handled::Done
        }
        Ok(Ok(TapResult::Duplicate { .. })) => Handled::Done,
        Ok(Ok(TapResult::Refused(why))) => {
            tracing::info!(reason = ?why, job = job_id.0, "tap not recorded");
            Handled::Done
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "tap could not be stored");
            Handled::Unavailable("not saved, please tap again")
        }
        Err(_) => {
            tracing::error!(job = job_id.0, "tap not stored within 2.5 s");
            Handled::Unavailable("not saved, please tap again")
        }
    }
}

/// The "Later…" menu on a nudge: `1h:JOB`, `tomorrow:JOB` or `monday:JOB`.
async fn snooze(
    state: &AppState,
    team: &str,
    user: &str,
    action: &slack_morphism::prelude::SlackInteractionActionInfo,
    container: &slack_morphism::prelude::SlackInteractionActionMessageContainer,
) -> Handled {
    let value = action
        .selected_option
        .as_ref()
        .map(|o| o.value.clone())
        .unwrap_or_default();
    let parsed = value
        .split_once(':')
        .and_then(|(s, j)| Some((Snooze::parse(s)?, j.parse::<JobId>().ok()?)));
    let at = Delivered {
        channel: container
            .channel_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        ts: container.message_ts.to_string(),
    };
    let Some((snooze, job_id)) = parsed else {
        return stale_button(
            state,
            &at.channel,
            ChatIdentity::slack(team, user),
            "snooze",
        );
    };
    match state
        .app
        .snooze(&ChatIdentity::slack(team, user), job_id, snooze, &at)
        .await
    {
        Ok(Some((port, at, message))) => {
            tokio::spawn(async move {
                if let Err(e) = port.update(&at, &message).await {
                    tracing::warn!(error = %e, "could not update the snoozed message");
                }
            });
            Handled::Done
        }
        Ok(None) => Handled::Done,
        Err(e) => {
            tracing::error!(error = %e, "snooze could not be stored");
            Handled::Unavailable("not saved, please try again")
        }
    }
}

/// A verified tap on a button this version does not know (an old message's
/// after an upgrade, or a newer version's): acknowledged, since any other
/// status shows the person an error icon, and they are told privately.
fn stale_button(state: &AppState, channel: &str, who: ChatIdentity, action_id: &str) -> Handled {
    tracing::info!(action_id, "a button Momentum does not know");
    tell(state, channel, who, "stale_button", minijinja::context! {});
    Handled::Done
}

/// The step buttons and the step's text input on a small-step nudge.
fn step_choice(action_id: &str, value: Option<&str>) -> Option<StepChoice> {
    match action_id {
        "step:name" => Some(StepChoice::Named(value.unwrap_or_default().to_string())),
        "step:none" => Some(StepChoice::NoStep),
        "step:delete" => Some(StepChoice::Delete),
        _ => action_id
            .strip_prefix("step:pick:")?
            .parse()
            .ok()
            .map(StepChoice::Suggestion),
    }
}

fn channel_of(
    container: &slack_morphism::prelude::SlackInteractionActionMessageContainer,
    ev: &slack_morphism::prelude::SlackInteractionBlockActionsEvent,
) -> String {
    container
        .channel_id
        .as_ref()
        .map(|c| c.to_string())
        .or_else(|| ev.channel.as_ref().map(|c| c.id.to_string()))
        .unwrap_or_default()
}

/// Saves the step and shows it on the nudge; a step that is empty or too
/// long is said privately, and nothing is saved.
async fn step(
    state: &AppState,
    who: ChatIdentity,
    job_id: JobId,
    choice: StepChoice,
    at: &Delivered,
) -> Handled {
    let outcome = match state.app.choose_step(&who, job_id, choice, at).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "a step could not be stored");
            return Handled::Unavailable("not saved, please try again");
        }
    };
    let (reply, ctx) = match outcome {
        Ok(updates) => {
            tokio::spawn(async move {
                for (port, at, message) in updates {
                    if let Err(e) = port.update(&at, &message).await {
                        tracing::warn!(error = %e, "could not show the saved step");
                    }
                }
            });
            return Handled::Done;
        }
        Err(StepRefusal::Empty) => ("step_empty", minijinja::context! {}),
        Err(StepRefusal::TooLong { length }) => (
            "step_too_long",
            minijinja::context! { length, max => crate::app::STEP_MAX_CHARS },
        ),
        Err(StepRefusal::NotYours) => ("stale_button", minijinja::context! {}),
    };
    tell(state, &at.channel, who, reply, ctx);
    Handled::Done
}

/// Saves what the participant said about a session and shows it on the
/// question; a "moved to" day already past is said privately.
async fn session_answer(
    state: &AppState,
    who: ChatIdentity,
    job_id: JobId,
    answer: SessionAnswer,
    at: &Delivered,
) -> Handled {
    match state
        .app
        .answer_session_check(&who, job_id, answer, at)
        .await
    {
        Ok(Ok(updates)) => {
            tokio::spawn(async move {
                for (port, at, message) in updates {
                    if let Err(e) = port.update(&at, &message).await {
                        tracing::warn!(error = %e, "could not show the session answer");
                    }
                }
            });
            Handled::Done
        }
        Ok(Err(SessionRefusal::PastDate(date))) => {
            let date = date.to_string();
            tell(
                state,
                &at.channel,
                who,
                "session_date_past",
                minijinja::context! { date },
            );
            Handled::Done
        }
        Ok(Err(SessionRefusal::NotYours)) => stale_button(state, &at.channel, who, "session"),
        Err(e) => {
            tracing::error!(error = %e, "a session answer could not be stored");
            Handled::Unavailable("not saved, please try again")
        }
    }
}

/// Says `outcome` (from `command_reply.txt`) to `who` privately, after the
/// acknowledgement.
fn tell(
    state: &AppState,
    channel: &str,
    who: ChatIdentity,
    outcome: &'static str,
    ctx: minijinja::Value,
) {
    let Some(port) = state.app.chats.for_identity(&who) else {
        return;
    };
    let (app, channel) = (state.app.clone(), channel.to_string());
    tokio::spawn(async move {
        let locale = app.locale_for(&who).await;
        let voice = crate::http::commands::Voice {
            platform: who.platform.as_str(),
            locale: &locale,
        };
        let text = crate::http::commands::reply(&voice, outcome, ctx);
        if let Err(e) = port.tell_privately(&channel, &who, &text).await {
            tracing::warn!(error = %e, outcome, "could not answer privately");
        }
    });
}
