//! A manager's view: no message, command, home tab or download reveals a
//! participant's report, small step, note or self-assessment; the focus theme appears
//! only where the participant agreed to share it.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;

const NOTE: &str = "Feeling stuck with my manager about delegation of the Q4 budget";
/// The small step Jana names: her words, for her eyes only.
const STEP: &str = "Hand the Q3 forecast to Marek without checking it twice";

/// Everything Pavel (manager of Jana, who shares her focus, and Eva, who
/// does not) can see, after both reported, answered their baseline pulse
/// and Jana wrote a note.
async fn managers_world(t: &TestApp) -> String {
    t.apply_yaml(&t.admin_token, &PROGRAM_WITH_PULSES).await;
    for p in ["jana.novakova", "eva.cerna"] {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Baseline pulses Monday 10:00, nudges Tuesday 09:30, check-ins Thursday 10:00.
    t.advance_to("2026-09-07T08:00:00Z").await;
    for p in ["jana.novakova", "eva.cerna"] {
        let user = t.user_id(p);
        let dm = SimWorkspace::dm_channel(&user);
        let pulse = t.sim.messages_in(&dm).pop().unwrap();
        assert_eq!(
            t.sim
                .tap(&user, &dm, &pulse.ts, "pulse:4")
                .await
                .unwrap()
                .status,
            200
        );
    }
    t.advance_to("2026-09-08T07:30:00Z").await;
    // Jana names her small step; Eva has no step this time.
    t.name_step("jana.novakova", STEP).await;
    let eva = t.user_id("eva.cerna");
    let eva_dm = SimWorkspace::dm_channel(&eva);
    let nudge = t.sim.messages_in(&eva_dm).pop().unwrap();
    assert_eq!(
        t.sim
            .tap(&eva, &eva_dm, &nudge.ts, "step:none")
            .await
            .unwrap()
            .status,
        200
    );
    let jana = t.user_id("jana.novakova");
    let reply = t
        .sim
        .slash_command(&jana, "/momentum", &format!("note {NOTE}"))
        .await
        .unwrap();
    assert!(reply.body.contains("saved"), "{}", reply.body);
    // Thursday: the check-ins; Friday 16:00: the follow-ups, answered.
    t.advance_to("2026-09-10T08:00:00Z").await;
    t.advance_to("2026-09-11T14:00:00Z").await;
    for (p, answer) in [
        ("jana.novakova", "report:not_yet"),
        ("eva.cerna", "report:partly"),
    ] {
        t.report_on_follow_up(p, answer).await;
    }

    let pavel = t.user_id("pavel.svoboda");
    let dm = SimWorkspace::dm_channel(&pavel);
    let mut seen = String::new();
    for m in t.sim.messages_in(&dm) {
        seen.push_str(&m.content.text);
        seen.push_str(&m.content.blocks.to_string());
    }
    for text in [
        "status",
        "help",
        "my-data",
        "programs",
        "health leaders-2026",
    ] {
        seen.push_str(
            &t.sim
                .slash_command(&pavel, "/momentum", text)
                .await
                .unwrap()
                .body,
        );
    }
    assert!(t.eventually(|| !t.sim.files_in(&dm).is_empty()).await);
    for f in t.sim.files_in(&dm) {
        seen.push_str(&String::from_utf8_lossy(&f.bytes));
    }
    t.sim.open_home(&pavel, "EvPRIV1").await.unwrap();
    assert!(t.eventually(|| t.sim.home_of(&pavel).is_some()).await);
    seen.push_str(&t.sim.home_of(&pavel).unwrap().to_string());
    seen
}

#[tokio::test]
async fn a_manager_sees_the_shared_focus_and_nothing_a_participant_reported_or_wrote() {
    let t = spawn_app().await;
    let seen = managers_world(&t).await;
    // The check-ins arrived: Jana's names her shared focus, Eva's does not.
    assert!(
        seen.contains("Jana Nováková*: working on *delegation*"),
        "{seen}"
    );
    assert!(seen.contains("Eva Černá*: taking part in"), "{seen}");
    for private in [
        // Eva's focus (not shared), anyone's report, pulse or note.
        "prioritisation",
        "Not yet",
        "not_yet",
        "Partly",
        "partly",
        "\"value\": 4",
        "Recorded: *4*",
        "Feeling stuck",
        "Q4 budget",
        "Q3 forecast",
        "Marek",
    ] {
        assert!(!seen.contains(private), "the manager can see {private:?}");
    }
    // The participants' own data holds it: the test looks in the right places.
    let jana = t.user_id("jana.novakova");
    t.sim
        .slash_command(&jana, "/momentum", "my-data")
        .await
        .unwrap();
    let dm = SimWorkspace::dm_channel(&jana);
    assert!(t.eventually(|| !t.sim.files_in(&dm).is_empty()).await);
    let hers = String::from_utf8_lossy(&t.sim.files_in(&dm)[0].bytes).into_owned();
    assert!(
        hers.contains("Feeling stuck") && hers.contains("not_yet") && hers.contains(STEP),
        "{hers}"
    );
}

/// After participants name steps, nothing HR or a sponsor can reach holds
/// the words: the admin API, the console, HR's chat commands, the digest in
/// the sponsors' channel, the exports, or the database in plain text.
#[tokio::test]
async fn a_named_step_reaches_no_one_but_its_author() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people = participant_handles();
    t.small_steps_for(&people).await;
    let step = |p: &str| format!("Confidential step of {p}: skip the Thursday board prep");
    for p in &people {
        t.name_step(p, &step(p)).await;
    }
    // The week is composed and its digest posted on Monday.
    t.advance_to("2026-09-14T07:30:00Z").await;
    let mut seen = String::new();
    for m in t.sim.messages_in("C00000001") {
        seen.push_str(&m.content.text);
        seen.push_str(&m.content.blocks.to_string());
    }
    for path in [
        "/api/v1/programs",
        "/api/v1/programs/leaders-2026/participants",
        "/api/v1/programs/leaders-2026/delivery",
        "/api/v1/programs/leaders-2026/aggregates",
        "/api/v1/audit",
    ] {
        let resp = t.get(&t.admin_token, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        seen.push_str(&resp.text().await.unwrap());
    }
    let cookie = crate::console::sign_in(&t, t.org.id).await;
    for path in [
        "/admin",
        "/admin/programs/leaders-2026",
        "/admin/programs/leaders-2026/schedule",
        "/admin/programs/leaders-2026/program.yaml",
        "/admin/programs/leaders-2026/aggregates/csv",
        "/admin/programs/leaders-2026/aggregates/json",
    ] {
        let (status, body) = crate::console::get(&t, path, Some(&cookie)).await;
        assert_eq!(status, 200, "{path}");
        seen.push_str(&body);
    }
    let hr = t.user_id(momentum::demo::HR_ADMIN);
    for text in [
        "programs",
        "health leaders-2026",
        "digest preview leaders-2026",
        "status",
        "my-data",
    ] {
        seen.push_str(
            &t.sim
                .slash_command(&hr, "/momentum", text)
                .await
                .unwrap()
                .body,
        );
    }
    seen.push_str(&t.all_stored_text().await);
    assert!(seen.len() > 10_000, "the test read real pages");
    assert!(!seen.contains("Confidential step"), "a step's words leaked");
    assert!(
        !seen.contains("Thursday board prep"),
        "a step's words leaked"
    );
    // Its author still has it.
    let jana = t.user_id("jana.novakova");
    let status = t
        .sim
        .slash_command(&jana, "/momentum", "status")
        .await
        .unwrap()
        .body;
    assert!(status.contains("Thursday board prep"), "{status}");
}
