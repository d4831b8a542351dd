//! Adaptive Cards 1.5 from `templates/teams/<locale>/`, and the activities
//! that carry them. Card actions are `Action.Execute` with a verb and
//! `data` (`job`, `answer`, `value`, `when`, `participant`); the invoke's
//! response replaces the card, so the person sees at once what was recorded.

use crate::chat::{ChatError, Message, View};
use crate::templates;
use minijinja::context;
use serde_json::{json, Value};

pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// Teams refuses activities larger than about 28 KB.
pub const MAX_ACTIVITY_BYTES: usize = 28 * 1024;

fn rendered(r: Result<Value, templates::TemplateError>) -> Result<Value, ChatError> {
    r.map_err(|e| ChatError::Permanent(format!("card could not be rendered: {e}")))
}

/// The card for a message.
pub fn render(message: &Message) -> Result<Value, ChatError> {
    let (name, ctx, locale) = message.template();
    rendered(templates::render_json("teams", locale, name, ctx))
}

/// The card for a form (Teams has no modals: forms are cards with inputs).
pub fn render_view(view: &View) -> Result<Value, ChatError> {
    rendered(match view {
        View::OnboardingForm { context, locale } => templates::render_json(
            "teams",
            locale,
            "onboarding_form.json",
            minijinja::Value::from_serialize(context),
        ),
        View::NoteForm { job_id, locale } => {
            templates::render_json("teams", locale, "note_form.json", context! { job_id })
        }
        View::AssessmentForm { pulse } => return render(pulse),
        View::Home { context, locale } => templates::render_json(
            "teams",
            locale,
            "status.json",
            minijinja::Value::from_serialize(context),
        ),
        View::CadenceForm { .. } => {
            return Err(ChatError::Permanent(
                "the cadence editor is in Slack and the admin API".into(),
            ))
        }
    })
}

/// A named card with a context (`status.json`, `recorded.json`).
pub fn render_named(locale: &str, name: &str, ctx: minijinja::Value) -> Result<Value, ChatError> {
    rendered(templates::render_json("teams", locale, name, ctx))
}

/// A message activity carrying one card; `summary` is what a notification
/// shows (the card's first line).
pub fn activity(card: &Value) -> Result<Value, ChatError> {
    let summary = card["body"]
        .as_array()
        .and_then(|b| b.iter().find_map(|e| e["text"].as_str()))
        .unwrap_or("Momentum")
        .replace("**", "");
    let summary: String = summary.chars().take(140).collect();
    let activity = json!({
        "type": "message",
        "summary": summary,
        "attachments": [{ "contentType": CARD_CONTENT_TYPE, "content": card }],
    });
    if activity.to_string().len() > MAX_ACTIVITY_BYTES {
        return Err(ChatError::Permanent(
            "the card is larger than Teams accepts".into(),
        ));
    }
    Ok(activity)
}

/// A plain text reply (Teams renders its markdown subset).
pub fn text_activity(text: &str) -> Value {
    json!({ "type": "message", "text": text, "textFormat": "markdown" })
}

/// The response to an `adaptiveCard/action` invoke that replaces the card.
pub fn card_response(card: Value) -> Value {
    json!({ "statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card })
}

/// The response to an invoke that shows a short message instead.
pub fn message_response(text: &str) -> Value {
    json!({ "statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text })
}

/// The response to an invoke whose data is wrong.
pub fn error_response(status: u16, message: &str) -> Value {
    json!({
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": { "code": if status == 400 { "BadRequest" } else { "InternalServerError" }, "message": message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Answer, JobId, JobPurpose};

    #[test]
    fn every_nudge_renders_a_card_in_every_locale() {
        use crate::chat::StepView;
        for locale in ["en", "cs"] {
            let steps = [
                (
                    JobPurpose::SmallStep,
                    StepView::Ask(vec!["One".into(), "Two".into()]),
                    vec!["step", "step_none"],
                ),
                (
                    JobPurpose::SmallStep,
                    StepView::Named("Ask \"Eva\"".into()),
                    vec!["step", "step_delete"],
                ),
                (JobPurpose::SmallStep, StepView::Declined, vec!["step"]),
                (
                    JobPurpose::OneTapCheck,
                    StepView::Named("Ask \"Eva\"".into()),
                    vec!["report", "report", "report"],
                ),
                (
                    JobPurpose::OneTapCheck,
                    StepView::Unnamed,
                    vec!["report", "report", "report"],
                ),
            ];
            for (purpose, step, expected) in steps {
                for recorded in [None, Some(Answer::Done), Some(Answer::NotYet)] {
                    let m = Message::Nudge {
                        job_id: JobId(42),
                        purpose,
                        program: "Leaders \"2026\"".into(),
                        session: 2,
                        recorded,
                        snoozed_until: Some("tomorrow at 09:00".into()),
                        reminder_job: Some(JobId(43)),
                        step: step.clone(),
                        locale: locale.into(),
                    };
                    let card = render(&m).unwrap();
                    crate::templates::keep_card_for_validation(&card);
                    assert_eq!(card["version"], "1.5");
                    let verbs: Vec<&str> = card["actions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|a| a["verb"].as_str())
                        .collect();
                    assert_eq!(verbs, expected, "{purpose:?} {step:?}");
                    assert_eq!(card["actions"][0]["data"]["job"], "42");
                    let text = card.to_string();
                    assert_eq!(text.contains("step_pick"), matches!(step, StepView::Ask(_)));
                    if purpose == JobPurpose::OneTapCheck {
                        assert_eq!(text.contains("Eva"), matches!(step, StepView::Named(_)));
                    }
                    activity(&card).unwrap();
                }
            }
        }
    }

    #[test]
    fn a_managers_day_is_one_card_with_a_row_of_actions_per_report() {
        for locale in ["en", "cs"] {
            for (m, choices) in [
                (crate::chat::fixtures::manager_day(false, 5, locale), 0),
                (crate::chat::fixtures::manager_day(true, 5, locale), 0),
                (crate::chat::fixtures::manager_day(true, 10, locale), 3),
            ] {
                let card = render(&m).unwrap();
                crate::templates::keep_card_for_validation(&card);
                activity(&card).unwrap();
                let body = card["body"].as_array().unwrap();
                let sets: Vec<&Value> = body.iter().filter(|e| e["type"] == "ActionSet").collect();
                assert_eq!(sets.len(), 3, "{card}");
                for (set, job) in sets.iter().zip(["11", "12", "13"]) {
                    let actions = set["actions"].as_array().unwrap();
                    assert!(actions.iter().all(|a| a["data"]["job"] == job), "{set}");
                }
                let inputs: Vec<&str> = body
                    .iter()
                    .filter(|e| e["type"] == "Input.ChoiceSet")
                    .filter_map(|e| e["id"].as_str())
                    .collect();
                assert_eq!(inputs.len(), choices, "{card}");
                assert!(inputs.iter().all(|id| id.starts_with("value_")));
                let text = card.to_string();
                assert!(
                    text.contains("delegation") && text.contains("Petr"),
                    "{text}"
                );
                assert!(
                    !text.contains("Petr**: working on") && !text.contains("Petr**: téma"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn long_scales_are_a_choice_and_short_ones_buttons() {
        for (min, max, buttons) in [(1, 5, 5), (0, 10, 1)] {
            let m = Message::Assessment {
                job_id: JobId(7),
                own: true,
                program: "P".into(),
                question: "How confident are you?".into(),
                about: None,
                min,
                max,
                recorded: Some(3),
                reminder_job: None,
                locale: "cs".into(),
            };
            let card = render(&m).unwrap();
            assert_eq!(card["actions"].as_array().unwrap().len(), buttons);
        }
    }
}
