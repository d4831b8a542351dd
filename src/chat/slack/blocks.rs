//! Block Kit messages from `templates/slack/<locale>/`, always with a
//! notification fallback `text`, checked against Slack's limits.

use crate::chat::{ChatError, Message};
use crate::templates;
use minijinja::context;
use slack_morphism::prelude::*;

/// Slack refuses messages with more blocks than this.
pub const MAX_BLOCKS: usize = 50;
/// Slack truncates (and may refuse) fallback text past this length.
pub const MAX_TEXT: usize = 4000;

/// The Block Kit JSON (`{"text": …, "blocks": […]}`) for a message.
pub fn render_json(message: &Message) -> Result<serde_json::Value, ChatError> {
    let rendered = match message {
        Message::Nudge {
            job_id,
            purpose,
            program,
            session,
            recorded,
            snoozed_until,
            reminder_job,
            locale,
        } => templates::render_json(
            "slack",
            locale,
            "nudge.json",
            context! {
                job_id, purpose => purpose.as_str(), program, session,
                recorded => recorded.map(|a| a.as_str()), snoozed_until,
                reminder => reminder_job.is_some(),
            },
        ),
        Message::Checkin {
            job_id,
            participant,
            program,
            theme,
            recorded,
            reminder_job,
            locale,
        } => templates::render_json(
            "slack",
            locale,
            "checkin.json",
            context! {
                job_id, participant, program, theme, recorded => recorded.map(|a| a.as_str()),
                reminder => reminder_job.is_some(),
            },
        ),
        Message::Digest {
            program,
            digest,
            chart_file,
            locale,
            ..
        } => templates::render_json(
            "slack",
            locale,
            "digest.json",
            context! { d => digest, program, chart_file },
        ),
    };
    rendered.map_err(|e| ChatError::Permanent(format!("message could not be rendered: {e}")))
}

/// The same message as slack-morphism content, ready to post.
pub fn render(message: &Message) -> Result<SlackMessageContent, ChatError> {
    let json = render_json(message)?;
    let text = json["text"].as_str().unwrap_or_default().to_string();
    let blocks: Vec<SlackBlock> = serde_json::from_value(json["blocks"].clone())
        .map_err(|e| ChatError::Permanent(format!("message is not valid Block Kit: {e}")))?;
    if text.is_empty() || text.chars().count() > MAX_TEXT || blocks.len() > MAX_BLOCKS {
        return Err(ChatError::Permanent(
            "message is outside Slack's limits".into(),
        ));
    }
    Ok(SlackMessageContent::new()
        .with_text(text)
        .with_blocks(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Answer, JobPurpose};

    #[test]
    fn nudges_have_fallback_text_and_three_buttons() {
        let m = Message::Nudge {
            job_id: 9,
            purpose: JobPurpose::SmallStep,
            program: "Leaders".into(),
            session: 1,
            recorded: Some(Answer::Partly),
            snoozed_until: None,
            reminder_job: None,
            locale: "en".into(),
        };
        let c = render(&m).unwrap();
        assert!(c.text.unwrap().contains("small step"));
        let json = render_json(&m).unwrap();
        let actions = json["blocks"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(actions["elements"].as_array().unwrap().len(), 3);
        assert_eq!(actions["elements"][1]["style"], "primary");
    }
}
