//! Block Kit messages from `templates/slack/<locale>/`, always with a
//! notification fallback `text`, checked against Slack's limits.

use crate::chat::{ChatError, Message, View};
use crate::templates;
use minijinja::context;
use slack_morphism::prelude::*;

/// Slack refuses messages with more blocks than this.
pub const MAX_BLOCKS: usize = 50;
/// Slack truncates (and may refuse) fallback text past this length.
pub const MAX_TEXT: usize = 4000;

/// The Block Kit JSON (`{"text": …, "blocks": […]}`) for a message.
pub fn render_json(message: &Message) -> Result<serde_json::Value, ChatError> {
    let (name, ctx, locale) = message.template();
    templates::render_json("slack", locale, name, ctx)
        .map_err(|e| ChatError::Permanent(format!("message could not be rendered: {e}")))
}

/// Slack refuses a home tab or modal with more blocks than this.
pub const MAX_VIEW_BLOCKS: usize = 100;

/// The view JSON (`{"type": "home" | "modal", …}`) for a view.
pub fn render_view_json(view: &View) -> Result<serde_json::Value, ChatError> {
    let rendered = match view {
        View::Home { context, locale } => templates::render_json(
            "slack",
            locale,
            "home.json",
            minijinja::Value::from_serialize(context),
        ),
        View::OnboardingForm { context, locale } => templates::render_json(
            "slack",
            locale,
            "onboarding_form.json",
            minijinja::Value::from_serialize(context),
        ),
        View::CadenceForm { context, locale } => templates::render_json(
            "slack",
            locale,
            "cadence_form.json",
            minijinja::Value::from_serialize(context),
        ),
        View::AssessmentForm {
            pulse:
                Message::Assessment {
                    job_id,
                    own,
                    program,
                    question,
                    about,
                    min,
                    max,
                    locale,
                    ..
                },
        } => templates::render_json(
            "slack",
            locale,
            "assessment_form.json",
            context! { job_id, own, program, question, about, min, max },
        ),
        View::AssessmentForm { .. } => {
            return Err(ChatError::Permanent("a pulse form needs a pulse".into()))
        }
        View::NoteForm { job_id, locale } => templates::render_json(
            "slack",
            locale,
            "note_form.json",
            context! { job_id, max => crate::domain::NOTE_MAX_CHARS },
        ),
    };
    let json =
        rendered.map_err(|e| ChatError::Permanent(format!("view could not be rendered: {e}")))?;
    let blocks = json["blocks"].as_array().map_or(0, Vec::len);
    if blocks == 0 || blocks > MAX_VIEW_BLOCKS {
        return Err(ChatError::Permanent(format!(
            "a view has {blocks} blocks; Slack takes 1 to {MAX_VIEW_BLOCKS}"
        )));
    }
    Ok(json)
}

/// The same view as slack-morphism's type, ready for `views.publish` / `views.open`.
pub fn render_view(view: &View) -> Result<SlackView, ChatError> {
    serde_json::from_value(render_view_json(view)?)
        .map_err(|e| ChatError::Permanent(format!("view is not valid Block Kit: {e}")))
}

/// The body of a `chat.postMessage` or `chat.update` for a message: the
/// rendered Block Kit JSON as it is, with the channel and the job's
/// metadata. Sent without a round trip through slack-morphism's block
/// types, which cost a fifth of the dispatcher's CPU a message; the tests
/// check every template against those types (`render`) and Slack's SDK.
pub fn body(
    message: &Message,
    channel: &str,
    metadata: &SlackMessageMetadata,
) -> Result<serde_json::Value, ChatError> {
    let mut json = render_json(message)?;
    within_limits(&json)?;
    let metadata = serde_json::to_value(metadata)
        .map_err(|e| ChatError::Permanent(format!("message metadata: {e}")))?;
    if let Some(o) = json.as_object_mut() {
        o.insert("channel".into(), channel.into());
        o.insert("metadata".into(), metadata);
    }
    Ok(json)
}

/// Slack's limits: a fallback text, not too long; not too many blocks.
fn within_limits(json: &serde_json::Value) -> Result<(), ChatError> {
    let text = json["text"].as_str().unwrap_or_default();
    let blocks = json["blocks"].as_array().map_or(usize::MAX, Vec::len);
    if text.is_empty() || text.chars().count() > MAX_TEXT || blocks > MAX_BLOCKS {
        return Err(ChatError::Permanent(
            "message is outside Slack's limits".into(),
        ));
    }
    Ok(())
}

/// The same message as slack-morphism content: what the tests check every
/// template against (Block Kit as slack-morphism models it).
#[cfg(test)]
pub fn render(message: &Message) -> Result<SlackMessageContent, ChatError> {
    let mut json = render_json(message)?;
    within_limits(&json)?;
    let text = json["text"].as_str().unwrap_or_default().to_string();
    let blocks: Vec<SlackBlock> = serde_json::from_value(json["blocks"].take())
        .map_err(|e| ChatError::Permanent(format!("message is not valid Block Kit: {e}")))?;
    Ok(SlackMessageContent::new()
        .with_text(text)
        .with_blocks(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Answer, JobId, JobPurpose};

    #[test]
    fn the_follow_up_repeats_the_step_and_has_three_buttons() {
        let m = Message::Nudge {
            job_id: JobId(9),
            purpose: JobPurpose::OneTapCheck,
            program: "Leaders".into(),
            session: 1,
            recorded: Some(Answer::Partly),
            snoozed_until: None,
            reminder_job: None,
            step: crate::chat::StepView::Named("Ask Eva for feedback".into()),
            locale: "en".into(),
        };
        let c = render(&m).unwrap();
        assert!(c.text.unwrap().contains("small step"));
        let json = render_json(&m).unwrap();
        assert!(json["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("You planned: *Ask Eva for feedback*"));
        let actions = json["blocks"].as_array().unwrap().last().unwrap().clone();
        // Three answers and "Add a note" (no "Later…" once answered).
        assert_eq!(actions["elements"].as_array().unwrap().len(), 4);
        assert_eq!(actions["elements"][1]["style"], "primary");
    }

    #[test]
    fn the_small_step_nudge_asks_for_the_step_with_suggestions() {
        let m = Message::Nudge {
            job_id: JobId(9),
            purpose: JobPurpose::SmallStep,
            program: "Leaders".into(),
            session: 1,
            recorded: None,
            snoozed_until: None,
            reminder_job: None,
            step: crate::chat::StepView::Ask(vec!["One".into(), "Two".into()]),
            locale: "en".into(),
        };
        let json = render_json(&m).unwrap();
        let input = &json["blocks"][1];
        assert_eq!(input["type"], "input");
        assert_eq!(input["dispatch_action"], true);
        assert_eq!(input["element"]["max_length"], 280);
        let text = json.to_string();
        assert!(text.contains("step:pick:1") && text.contains("step:none"));
        assert!(!text.contains("report:"), "{text}");
    }

    fn digest(people: usize) -> crate::domain::metrics::digest::Digest {
        use crate::domain::metrics::*;
        let facts = WeekFacts {
            participants: (0..people)
                .map(|i| ParticipantWeek {
                    enrolled: true,
                    started: true,
                    asked: true,
                    responded: i % 2 == 0,
                    groups: Groups {
                        theme: Some(["feedback", "delegation"][i % 2].into()),
                        cohort: None,
                    },
                    ..Default::default()
                })
                .collect(),
            actions: Actions {
                done: 4,
                partly: 2,
                not_yet: 1,
            },
            action_people: 7,
            checkins_sent: 6,
            checkins_supported: 4,
            checkin_managers: 5,
            ..Default::default()
        };
        let labels = Default::default();
        let week = ProgramWeek::of(jiff::civil::date(2026, 9, 14));
        let previous = digest::History {
            trends: [(
                "program".to_string(),
                Trend {
                    momentum: Some(0.9),
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        };
        digest::compose(
            &week,
            &facts,
            &previous,
            &MetricSettings::default(),
            &labels,
        )
        .digest
    }

    #[test]
    fn digests_render_as_valid_block_kit_in_both_languages() {
        for locale in ["en", "cs"] {
            for (people, chart) in [(30, Some("F00000001")), (3, None)] {
                let m = Message::Digest {
                    job_id: JobId(1),
                    program: "Leaders".into(),
                    digest: Box::new(digest(people)),
                    chart_file: chart.map(String::from),
                    locale: locale.into(),
                };
                let content = render(&m).unwrap_or_else(|e| panic!("{locale} {people}: {e}"));
                let json = render_json(&m).unwrap();
                let text = json.to_string();
                assert!(!content.text.unwrap().is_empty());
                if people == 30 {
                    assert!(text.contains("slack_file"), "{text}");
                    // Dropping from 90 to 70: shown, in the reader's language.
                    assert!(
                        text.contains(if locale == "en" {
                            "fell by 20 points"
                        } else {
                            "kleslo o 20 bodů"
                        }),
                        "{text}"
                    );
                    assert!(
                        text.contains(if locale == "en" {
                            "theme feedback"
                        } else {
                            "téma feedback"
                        }),
                        "{text}"
                    );
                    // No figure by manager: support, not control.
                    assert!(!text.contains("team"), "{text}");
                } else {
                    assert!(
                        text.contains(if locale == "en" {
                            "Not published"
                        } else {
                            "nezveřejněno"
                        }),
                        "{text}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod manager_day_tests {
    use super::*;
    use crate::chat::fixtures::manager_day;

    /// Each action block's (block id, button values, selected label).
    fn rows(json: &serde_json::Value) -> Vec<(String, Vec<String>)> {
        json["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .map(|b| {
                let values = b["elements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        e["value"].as_str().map(String::from).unwrap_or_else(|| {
                            e["options"][0]["value"].as_str().unwrap_or_default().into()
                        })
                    })
                    .collect();
                (b["block_id"].as_str().unwrap().to_string(), values)
            })
            .collect()
    }

    #[test]
    fn a_managers_day_is_one_message_with_a_row_of_buttons_per_report() {
        for locale in ["en", "cs"] {
            for m in [
                manager_day(false, 5, locale),
                manager_day(true, 5, locale),
                manager_day(true, 10, locale),
            ] {
                let content = render(&m).unwrap_or_else(|e| panic!("{locale} {m:?}: {e}"));
                assert!(content.text.unwrap().contains("Jana, Petr, Eva"));
                let json = render_json(&m).unwrap();
                crate::templates::keep_for_validation("message", &json);
                let rows = rows(&json);
                assert_eq!(rows.len(), 3, "{json}");
                for (row, job) in rows.iter().zip(["11", "12", "13"]) {
                    assert_eq!(
                        row.0,
                        format!(
                            "{}:{job}",
                            if matches!(m, Message::Checkin { .. }) {
                                "momentum_checkin"
                            } else {
                                "momentum_pulse"
                            }
                        )
                    );
                    assert!(row.1.iter().all(|v| v.ends_with(job)), "{row:?}");
                }
                let text = json.to_string();
                // Jana shares her focus; Petr does not, and none is shown for him.
                assert!(
                    text.contains("delegation")
                        && !text.contains("Petr*: working on")
                        && !text.contains("Petr*: téma"),
                    "{text}"
                );
                // Eva's answer shows on her row; the reminder names the rest.
                assert!(text.contains("✓ ") || text.contains("*3*"), "{text}");
            }
        }
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;
    use crate::domain::JobId;
    use serde_json::json;

    #[test]
    fn every_view_renders_in_every_locale_within_slacks_limits() {
        let home = json!({
            "overview": {"notes": 2, "programs": [{
                "participant_id": 3, "program": "Leaders", "focus": "delegation", "sessions_done": 1, "sessions_planned": 5,
                "next_session": [2, "2026-09-21"], "streak_weeks": 3, "paused_until": null,
                "recent": [{"session": 1, "answer": "done", "on": "2026-09-08"}],
            }]},
            "paused": false,
            "assessment_due": 12,
            "programs": [{"key": "leaders", "name": "Leaders", "status": "running", "enrolled": 18,
                          "started": 16, "anonymity_threshold": 5, "unreachable": 1, "week": "2026-W37",
                          "engagement": 67, "sent": 40, "reminders_sent": null,
                          "problems": [{"category": "paused", "behavioural": true, "count": null},
                                       {"category": "stale", "behavioural": false, "count": 1}]}],
            "digests": {"leaders": "Momentum digest: Leaders"},
        });
        let cadence = json!({"key": "leaders", "name": "Leaders", "nudges": "small_step 1 09:30",
                             "quiet_hours": "19:00-08:00", "working_days": ["mon", "fri"],
                             "reminder_after_days": 2,
                             "metrics": {"alpha": 0.5, "dropping_points": 10, "dropping_share": 0.3, "dropping_weeks": 2}});
        for locale in crate::domain::program::LOCALES {
            let locale = locale.to_string();
            for view in [
                View::Home {
                    context: home.clone(),
                    locale: locale.clone(),
                },
                View::Home {
                    context: json!({"overview": null, "programs": [], "digests": {}}),
                    locale: locale.clone(),
                },
                View::NoteForm {
                    job_id: Some(JobId(7)),
                    locale: locale.clone(),
                },
                View::NoteForm {
                    job_id: None,
                    locale: locale.clone(),
                },
                View::CadenceForm {
                    context: cadence.clone(),
                    locale: locale.clone(),
                },
                View::OnboardingForm {
                    context: json!({"participant_id": 3, "program": "Leaders",
                                    "themes": ["feedback", "delegation"], "focus": "feedback", "share": true}),
                    locale: locale.clone(),
                },
                View::OnboardingForm {
                    context: json!({"participant_id": 3, "program": "Leaders", "themes": [],
                                    "focus": null, "share": false}),
                    locale: locale.clone(),
                },
                View::AssessmentForm {
                    pulse: Message::Assessment {
                        job_id: JobId(12),
                        own: true,
                        program: "Leaders".into(),
                        question: "How confident are you giving feedback?".into(),
                        about: None,
                        min: 1,
                        max: 5,
                        recorded: None,
                        reminder_job: None,
                        locale: locale.clone(),
                    },
                },
            ] {
                let rendered = render_view(&view);
                assert!(rendered.is_ok(), "{locale} {view:?}: {rendered:?}");
                let json = render_view_json(&view).unwrap();
                let kind = json["type"].as_str().unwrap().to_string();
                crate::templates::keep_for_validation(&kind, &json);
            }
            let welcome = Message::Welcome {
                job_id: JobId(1),
                participant_id: crate::domain::ParticipantId(3),
                program: "Leaders".into(),
                locale: locale.clone(),
            };
            assert!(render(&welcome).is_ok(), "{locale} welcome");
            crate::templates::keep_for_validation("message", &render_json(&welcome).unwrap());
        }
    }
}
