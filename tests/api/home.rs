//! The home tab and the private-note modal, through Slack's real payloads:
//! `app_home_opened` → `views.publish`, a button → `views.open` with the
//! action's trigger id, the modal's `view_submission` → stored note.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::clock::Clock;
use momentum::demo::HR_ADMIN;
use serde_json::Value;

/// Jana completes session 1, names her small step, and taps "did it" on
/// Friday's follow-up; returns the follow-up's channel and ts.
async fn jana_reports(t: &TestApp) -> (String, String) {
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    t.name_step("jana.novakova", "Ask Petr to lead the budget review")
        .await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    let check = t.report_on_follow_up("jana.novakova", "report:done").await;
    (check.channel, check.ts)
}

async fn home_text(t: &TestApp, handle: &str, event_id: &str) -> String {
    let user = t.user_id(handle);
    let before = t.sim.call_count("views.publish");
    let reply = t.sim.open_home(&user, event_id).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        t.eventually(|| t.sim.call_count("views.publish") > before)
            .await,
        "no home tab for {handle}"
    );
    t.sim.home_of(&user).unwrap().to_string()
}

#[tokio::test]
async fn the_home_tab_shows_a_participant_their_progress_and_an_admin_their_programs() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    let home = home_text(&t, "jana.novakova", "EvHOME1").await;
    for expected in [
        "Leadership Academy 2026",
        "*Your focus:* delegation",
        "1 of 5 done",
        "session 2, 2026-09-21",
        "did it (session 1, 2026-09-11)",
        "Your small step (session 1): *Ask Petr to lead the budget review*",
        "Add a private note",
        "Pause nudges",
    ] {
        assert!(home.contains(expected), "{expected:?} in {home}");
    }
    assert!(!home.contains("Programs you administer"));

    // Slack retries the same event: handled once.
    let published = t.sim.call_count("views.publish");
    let again = t
        .sim
        .open_home(&t.user_id("jana.novakova"), "EvHOME1")
        .await
        .unwrap();
    assert_eq!(again.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.sim.call_count("views.publish"), published);

    let hr = home_text(&t, HR_ADMIN, "EvHOME2").await;
    for expected in [
        "Programs you administer",
        "*Enrolled*\\n18",
        "*Started* (no week yet)\\n–",
        "*Messages sent* (no week yet)\\n–",
    ] {
        assert!(hr.contains(expected), "{expected:?} in {hr}");
    }
    // Nothing live: Jana's tap this week shows nowhere before the week is composed.
    assert!(!hr.contains("Active this week"), "{hr}");
    // A manager sees no participant's progress.
    let pavel = home_text(&t, "pavel.svoboda", "EvHOME3").await;
    assert!(pavel.contains("not enrolled in a program here"), "{pavel}");
    for private in ["delegation", "did it", "Jana"] {
        assert!(
            !pavel.contains(private),
            "{private} on the manager's home tab"
        );
    }
}

#[tokio::test]
async fn a_note_written_in_the_modal_from_a_nudge_is_stored_for_its_author() {
    let t = spawn_app().await;
    let (channel, ts) = jana_reports(&t).await;
    let jana = t.user_id("jana.novakova");
    let reply = t.sim.tap(&jana, &channel, &ts, "note:open").await.unwrap();
    assert_eq!(reply.status, 200);
    let modals = t.sim.open_modals(&jana);
    assert_eq!(modals.len(), 1, "views.open with the tap's trigger id");
    let modal = &modals[0];
    let job_id: i64 = modal.view["private_metadata"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Empty: the modal stays open with the field's error.
    let empty = t.sim.submit_view(&jana, &modal.id, "   ").await.unwrap();
    let answer: Value = serde_json::from_str(&empty.body).unwrap();
    assert_eq!(answer["response_action"], "errors");
    assert!(answer["errors"]["note"].as_str().unwrap().contains("empty"));
    assert_eq!(t.sim.open_modals(&jana).len(), 1);
    assert_eq!(t.count("notes").await, 0);

    let text = "Delegated the budget review to Petr; it went better than I feared";
    let saved = t.sim.submit_view(&jana, &modal.id, text).await.unwrap();
    assert_eq!((saved.status, saved.body.as_str()), (200, ""));
    assert!(t.sim.open_modals(&jana).is_empty(), "the modal closed");
    let stored: Option<i64> = sqlx::query_scalar("SELECT job_id FROM notes")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert_eq!(
        stored,
        Some(job_id),
        "the note is about the nudge it came from"
    );
    let who = momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &jana);
    let notes = t.app.my_notes(&who).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].1, text);
    // Her manager has no notes, and cannot read hers.
    let pavel = momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &t.user_id("pavel.svoboda"));
    assert!(t.app.my_notes(&pavel).await.unwrap().is_empty());
    // The home tab follows.
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| h.to_string().contains("Private notes: 1")))
            .await
    );
}

#[tokio::test]
async fn pausing_from_the_home_tab_pauses_and_the_tab_offers_resume() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    home_text(&t, "jana.novakova", "EvHOME4").await;
    let jana = t.user_id("jana.novakova");
    let reply = t.sim.tap_home(&jana, "home:pause").await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| h.to_string().contains("Resume nudges")))
            .await
    );
    assert!(paused(&t, "jana.novakova@acme.example").await);
    t.sim.tap_home(&jana, "home:resume").await.unwrap();
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| h.to_string().contains("Pause nudges")))
            .await
    );
    assert!(!paused(&t, "jana.novakova@acme.example").await);
}

/// The cadence editor's fields as Slack submits them.
fn cadence_values(
    nudges: &str,
    quiet: &str,
    days: &[&str],
    reminder: &str,
) -> serde_json::Map<String, Value> {
    let options: Vec<Value> = days
        .iter()
        .map(|d| serde_json::json!({"text": {"type": "plain_text", "text": d}, "value": d}))
        .collect();
    serde_json::json!({
        "nudges": {"text": {"type": "plain_text_input", "value": nudges}},
        "quiet_hours": {"text": {"type": "plain_text_input", "value": quiet}},
        "working_days": {"days": {"type": "checkboxes", "selected_options": options}},
        "reminder_after_days": {"days": {"type": "number_input", "value": reminder}},
    })
    .as_object()
    .unwrap()
    .clone()
}

#[tokio::test]
async fn an_admin_edits_the_cadence_in_a_modal_with_field_errors_and_all_or_nothing() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let hr = t.user_id(HR_ADMIN);
    home_text(&t, HR_ADMIN, "EvCAD1").await;
    t.sim.tap_home(&hr, "cadence:open").await.unwrap();
    let modal = t.sim.open_modals(&hr).pop().expect("the cadence editor");
    let shown = modal.view.to_string();
    assert!(shown.contains("small_step 1 09:30"), "{shown}");
    assert!(
        shown.contains("manager_checkin 3 10:00 sessions 1,2,3,4"),
        "{shown}"
    );

    // Wrong time and quiet hours: both fields named, nothing changed.
    let bad = cadence_values("small_step 1 25:00", "19:00", &["mon", "tue"], "2");
    let reply = t.sim.submit_values(&hr, &modal.id, bad).await.unwrap();
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["response_action"], "errors", "{answer}");
    assert!(
        answer["errors"]["quiet_hours"]
            .as_str()
            .unwrap()
            .contains("FROM-TO"),
        "{answer}"
    );
    let bad = cadence_values("small_step 1 25:00", "19:00-08:00", &["mon"], "2");
    let answer: Value =
        serde_json::from_str(&t.sim.submit_values(&hr, &modal.id, bad).await.unwrap().body)
            .unwrap();
    assert!(answer["errors"]["nudges"].as_str().is_some(), "{answer}");
    let program = t
        .store
        .program_by_key(t.org.id, "leaders-2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(program.spec.nudges.len(), 3, "nothing half-applied");

    // A good cadence applies, and future nudges follow it.
    let good = cadence_values(
        "small_step 2 10:00",
        "20:00-07:00",
        &["mon", "tue", "wed", "thu", "fri"],
        "0",
    );
    let reply = t.sim.submit_values(&hr, &modal.id, good).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    let program = t
        .store
        .program_by_key(t.org.id, "leaders-2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(program.spec.nudges.len(), 1);
    assert_eq!(program.spec.reminder_after_days, 0);
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 0);
    assert_eq!(
        t.advance_to("2026-09-09T08:00:00Z").await.sent,
        1,
        "day 2 at 10:00 Prague"
    );

    // A participant has no editor.
    let jana = home_text(&t, "jana.novakova", "EvCAD2").await;
    assert!(!jana.contains("cadence:open"));
}

#[tokio::test]
async fn a_waiting_pulse_is_answered_in_a_form_from_the_home_tab() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM_WITH_PULSES).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    // The baseline pulse: Monday 10:00 in Prague.
    t.advance_to("2026-09-07T08:00:00Z").await;
    let jana = t.user_id("jana.novakova");
    let home = home_text(&t, "jana.novakova", "EvPULSE1").await;
    assert!(home.contains("A quick pulse is waiting"), "{home}");
    t.sim.tap_home(&jana, "pulse:open").await.unwrap();
    let modal = t.sim.open_modals(&jana).pop().expect("the pulse form");
    assert!(modal.view.to_string().contains("How confident are you"));

    let nothing = serde_json::Map::new();
    let reply = t
        .sim
        .submit_values(&jana, &modal.id, nothing)
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["response_action"], "errors", "{answer}");

    let mut picked = serde_json::Map::new();
    picked.insert(
        "value".into(),
        serde_json::json!({"value": {"type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "4"}, "value": "4"}}}),
    );
    let reply = t.sim.submit_values(&jana, &modal.id, picked).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    let stored: Vec<(String, i64)> = sqlx::query_as("SELECT kind, value FROM pulses")
        .fetch_all(t.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, vec![("self".to_string(), 4)]);
    // The pulse message shows the answer, and the home tab no longer asks.
    let dm = SimWorkspace::dm_channel(&jana);
    assert!(
        t.eventually(|| t.sim.messages_in(&dm).iter().any(|m| !m.edits.is_empty()))
            .await
    );
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| !h.to_string().contains("A quick pulse is waiting")))
            .await
    );
}

#[tokio::test]
async fn the_latest_unanswered_nudge_is_snoozed_from_the_home_tab() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    let home = home_text(&t, "jana.novakova", "EvSNZ1").await;
    assert!(
        home.contains("Snooze my latest nudge to tomorrow"),
        "{home}"
    );
    let jana = t.user_id("jana.novakova");
    t.sim.tap_home(&jana, "home:snooze").await.unwrap();
    let dm = SimWorkspace::dm_channel(&jana);
    assert!(
        t.eventually(|| t.sim.messages_in(&dm)[0]
            .content
            .blocks
            .to_string()
            .contains("I will remind you"))
            .await,
        "the nudge says when it comes back"
    );
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| !h.to_string().contains("Snooze my latest nudge")))
            .await
    );
    // It comes back on Wednesday morning, once.
    assert_eq!(t.advance_to("2026-09-09T06:59:00Z").await.sent, 0);
    assert_eq!(t.advance_to("2026-09-09T09:00:00Z").await.sent, 1);
}

/// Whether a participant is paused, from the store (HR's list never says).
async fn paused(t: &TestApp, email: &str) -> bool {
    let until: Option<i64> = sqlx::query_scalar(
        "SELECT pa.paused_until FROM participants pa JOIN people pe ON pe.id = pa.person_id \
         WHERE pa.org_id = $1 AND pe.email = $2",
    )
    .bind(t.org.id.0)
    .bind(email)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    until.is_some_and(|u| u > t.clock.now().as_millisecond())
}

/// A participant deletes the step she named from her home tab: the tab no
/// longer shows it, and neither does the nudge it answered.
#[tokio::test]
async fn a_participant_deletes_her_step_from_the_home_tab() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.small_steps_for(&["jana.novakova".to_string()]).await;
    let nudge = t
        .name_step("jana.novakova", "Ask Petr to chair the Monday meeting")
        .await;
    let home = home_text(&t, "jana.novakova", "EvHOME9").await;
    assert!(home.contains("chair the Monday meeting"), "{home}");
    let jana = t.user_id("jana.novakova");
    let reply = t.sim.tap_home(&jana, "home:step_delete").await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| !h.to_string().contains("chair the Monday meeting")))
            .await
    );
    assert!(
        t.eventually(
            || t.sim.message(&nudge.channel, &nudge.ts).is_some_and(|m| !m
                .content
                .blocks
                .to_string()
                .contains("chair the Monday"))
        )
        .await,
        "the nudge no longer shows the deleted step"
    );
    assert_eq!(t.count("steps").await, 1, "the nudge stays answered");
}
