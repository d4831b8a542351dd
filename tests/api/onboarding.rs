//! Diagnose → personalize: the welcome on enrolment says what is recorded
//! and who sees what; the focus form stores the starting point sealed and
//! the participant's own focus and consent, which outlive later program
//! files and decide what their manager's check-ins say.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use serde_json::{json, Map, Value};

fn starting_point(goal: &str, theme: &str, share: bool) -> Map<String, Value> {
    let share_options: Vec<Value> = if share {
        vec![json!({"text": {"type": "plain_text", "text": "Share"}, "value": "share"})]
    } else {
        vec![]
    };
    json!({
        "goal": {"text": {"type": "plain_text_input", "value": goal}},
        "context": {"text": {"type": "plain_text_input", "value": "A team of nine, two new"}},
        "blocker": {"text": {"type": "plain_text_input", "value": null}},
        "focus": {"theme": {"type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": theme}, "value": theme}}},
        "share": {"share": {"type": "checkboxes", "selected_options": share_options}},
    })
    .as_object()
    .unwrap()
    .clone()
}

#[tokio::test]
async fn the_welcome_and_the_focus_form_put_the_participant_in_charge_of_what_is_shared() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, PROGRAM_WITH_WELCOME).await;
    // Monday 07:00 in Prague is inside quiet hours: the welcomes go at 08:00
    // local time (Prague, then London, then New York).
    assert_eq!(t.advance_to("2026-09-07T05:30:00Z").await.sent, 0);
    assert_eq!(t.advance_to("2026-09-07T06:00:00Z").await.sent, 16);
    assert_eq!(t.advance_to("2026-09-07T07:00:00Z").await.sent, 1);
    assert_eq!(t.advance_to("2026-09-07T12:00:00Z").await.sent, 1);
    let jana = t.user_id("jana.novakova");
    let dm = SimWorkspace::dm_channel(&jana);
    let welcome = t.sim.messages_in(&dm).remove(0);
    let shown = welcome.content.blocks.to_string();
    assert!(shown.contains("What I record, and who sees it"), "{shown}");
    assert!(shown.contains("forget-me"), "{shown}");
    // Applying the file again welcomes nobody twice.
    t.apply_yaml(&t.admin_token, PROGRAM_WITH_WELCOME).await;
    assert_eq!(t.advance_to("2026-09-07T13:00:00Z").await.sent, 0);

    t.sim
        .tap(&jana, &dm, &welcome.ts, "onboarding:open")
        .await
        .unwrap();
    let form = t.sim.open_modals(&jana).pop().expect("the focus form");
    assert!(
        form.view.to_string().contains("prioritisation"),
        "the program's themes"
    );
    let wrong = starting_point("x", "juggling", true);
    let answer: Value = serde_json::from_str(
        &t.sim
            .submit_values(&jana, &form.id, wrong)
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert!(
        answer["errors"]["focus"]
            .as_str()
            .unwrap()
            .contains("themes"),
        "{answer}"
    );
    let goal = "Stop redoing my team's drafts myself";
    let reply = t
        .sim
        .submit_values(&jana, &form.id, starting_point(goal, "feedback", false))
        .await
        .unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    // Her goal is sealed at rest.
    assert!(!t.all_stored_text().await.contains("redoing my team"));

    // The program file says delegation and sharing; her own choice stays.
    t.apply_yaml(&t.admin_token, PROGRAM_WITH_WELCOME).await;
    let focus: Option<String> = sqlx::query_scalar(
        "SELECT pa.focus FROM participants pa JOIN people pe ON pe.id = pa.person_id WHERE pe.email = $1",
    )
    .bind("jana.novakova@acme.example")
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(focus.as_deref(), Some("feedback"));
    // She did not share it: HR's list does not show it either.
    let status = t.participant_status("jana.novakova@acme.example").await;
    assert_eq!(status["focus"], Value::Null, "{status}");
    // Her manager's check-in no longer names a theme.
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.advance_to("2026-09-10T08:00:00Z").await;
    let pavel = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    let checkin = t
        .sim
        .messages_in(&pavel)
        .into_iter()
        .find(|m| m.content.text.contains("Jana Nováková"))
        .expect("the check-in about Jana");
    let text = checkin.content.blocks.to_string();
    assert!(text.contains("support their development"), "{text}");
    assert!(
        !text.contains("feedback") && !text.contains("delegation"),
        "{text}"
    );
    // Her download holds her starting point.
    t.sim
        .slash_command(&jana, "/momentum", "my-data")
        .await
        .unwrap();
    assert!(t.eventually(|| !t.sim.files_in(&dm).is_empty()).await);
    let data: Value = serde_json::from_slice(&t.sim.files_in(&dm)[0].bytes).unwrap();
    assert_eq!(data["participations"][0]["starting_point"]["goal"], goal);
}
