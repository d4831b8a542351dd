//! `/momentum` for participants (status, notes, my-data, forget-me) and for
//! HR admins (programs, health, digest preview), in their language.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::demo::HR_ADMIN;
use serde_json::Value;

async fn say(t: &TestApp, handle: &str, text: &str) -> String {
    let reply = t
        .sim
        .slash_command(&t.user_id(handle), "/momentum", text)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["response_type"], "ephemeral");
    body["text"].as_str().unwrap().to_string()
}

/// Jana completes session 1, names her small step on the day-after nudge,
/// and taps "did it" on Friday's follow-up, which repeats the step back.
async fn jana_reports(t: &TestApp) {
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    t.name_step("jana.novakova", JANAS_STEP).await;
    // Friday 16:00 in Prague: the follow-up.
    t.advance_to("2026-09-11T14:00:00Z").await;
    let check = t.report_on_follow_up("jana.novakova", "report:done").await;
    assert!(check.content.blocks.to_string().contains(JANAS_STEP));
}

/// The small step Jana names: her words, for her eyes only.
const JANAS_STEP: &str = "Let Eva run Monday's stand-up";

#[tokio::test]
async fn status_shows_a_participant_their_own_progress() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    let status = say(&t, "jana.novakova", "status").await;
    for expected in [
        "Leadership Academy 2026",
        "your focus: delegation",
        "1 of 5 done",
        "next: session 2, planned for 2026-09-21",
        "1 week in a row",
        "did it (session 1, 2026-09-11)",
        "Your small step (session 1): Let Eva run Monday's stand-up",
        "Private notes: 0",
    ] {
        assert!(status.contains(expected), "{expected:?} in {status}");
    }
    // Her manager is not a participant: nothing about Jana for him.
    let pavel = say(&t, "pavel.svoboda", "status").await;
    assert!(pavel.contains("not enrolled"), "{pavel}");
    assert!(!pavel.contains("delegation"), "{pavel}");
}

#[tokio::test]
async fn a_private_note_is_stored_sealed_and_only_its_author_gets_it_back() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    let secret = "Asked Eva to lead Monday's stand-up; felt uneasy";
    let saved = say(&t, "jana.novakova", &format!("note {secret}")).await;
    assert!(saved.contains("Only you can read it"), "{saved}");
    // Without text, the command opens the note form (with its trigger id).
    assert!(say(&t, "jana.novakova", "note")
        .await
        .contains("The note form is open"));
    assert_eq!(t.sim.open_modals(&t.user_id("jana.novakova")).len(), 1);
    let long = "x".repeat(3001);
    let refused = say(&t, "jana.novakova", &format!("note {long}")).await;
    assert!(
        refused.contains("3001 characters") && refused.contains("at most 3000"),
        "{refused}"
    );
    assert_eq!(t.count("notes").await, 1, "the refused note was not stored");
    // Sealed at rest: the text is nowhere in the table.
    let blobs: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM notes")
        .fetch_all(t.store.pool())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&blobs[0]).contains("Eva"));
    // A manager cannot write a note (not a participant) and reads none.
    let pavel = say(&t, "pavel.svoboda", "note I saw her try").await;
    assert!(pavel.contains("not enrolled"), "{pavel}");

    // my-data: a file in her DM with her note and report; Pavel's has neither.
    let reply = say(&t, "jana.novakova", "my-data").await;
    assert!(reply.contains("on its way"), "{reply}");
    let jana_dm = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    assert!(t.eventually(|| !t.sim.files_in(&jana_dm).is_empty()).await);
    let file = &t.sim.files_in(&jana_dm)[0];
    let data: Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(data["notes"][0]["text"], secret);
    assert_eq!(data["reports"][0]["answer"], "done");
    assert_eq!(data["person"]["email"], "jana.novakova@acme.example");
    assert_eq!(data["participations"][0]["focus"], "delegation");
    say(&t, "pavel.svoboda", "my-data").await;
    let pavel_dm = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    assert!(t.eventually(|| !t.sim.files_in(&pavel_dm).is_empty()).await);
    let his = String::from_utf8_lossy(&t.sim.files_in(&pavel_dm)[0].bytes).into_owned();
    assert!(his.contains("pavel.svoboda@acme.example"), "{his}");
    for private in ["Eva", "\"done\"", "delegation", "jana"] {
        assert!(
            !his.contains(private),
            "{private} in the manager's data: {his}"
        );
    }
    // Someone Momentum knows nothing about.
    let nobody = say(&t, HR_ADMIN, "my-data").await;
    assert!(nobody.contains("stores nothing about you"), "{nobody}");
}

#[tokio::test]
async fn forget_me_asks_first_then_erases_every_trace_and_keeps_them_out() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    say(&t, "jana.novakova", "note Talked to Eva about the budget").await;
    let jana = t.user_id("jana.novakova");
    let ask = say(&t, "jana.novakova", "forget-me").await;
    assert!(ask.contains("/momentum forget-me confirm"), "{ask}");
    assert_eq!(t.count("notes").await, 1, "asking erases nothing");
    let done = say(&t, "jana.novakova", "forget-me confirm").await;
    assert!(done.contains("erased"), "{done}");

    let stored = t.all_stored_text().await;
    for trace in [
        "jana.novakova@acme.example",
        &jana,
        "Jana Nováková",
        "Talked to Eva",
    ] {
        assert!(!stored.contains(trace), "{trace:?} is still stored");
    }
    assert_eq!(
        t.count("erasures").await,
        2,
        "her email and chat identity, hashed"
    );
    // Everyone else is untouched.
    assert!(stored.contains("tomas.dvorak@acme.example"));
    // The next program file that still lists her does not enrol her again.
    let applied: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(applied["erased_skipped"], 1, "{applied}");
    assert!(!t
        .all_stored_text()
        .await
        .contains("jana.novakova@acme.example"));
    let again = say(&t, "jana.novakova", "status").await;
    assert!(again.contains("not enrolled"), "{again}");
}

#[tokio::test]
async fn hr_admins_see_their_programs_health_and_digest_preview_others_do_not() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    let help = say(&t, HR_ADMIN, "help").await;
    assert!(help.contains("For HR admins"), "{help}");
    assert!(!say(&t, "jana.novakova", "help")
        .await
        .contains("For HR admins"));

    let programs = say(&t, HR_ADMIN, "programs").await;
    assert!(
        programs.contains("Leadership Academy 2026") && programs.contains("18 enrolled"),
        "{programs}"
    );
    // Nothing HR sees moves with one person's tap: only composed weeks.
    let health = say(&t, HR_ADMIN, "health leaders-2026").await;
    for expected in ["Enrolled: 18", "No week composed yet"] {
        assert!(health.contains(expected), "{expected:?} in {health}");
    }
    assert!(!health.contains("started"), "{health}");
    t.clock.set("2026-09-14T08:00:00Z".parse().unwrap());
    let preview = say(&t, HR_ADMIN, "digest preview leaders-2026").await;
    assert!(preview.contains("2026-W37"), "{preview}");
    assert!(!preview.contains("Jana"), "aggregates only: {preview}");
    let health = say(&t, HR_ADMIN, "health leaders-2026").await;
    for expected in [
        "Week 2026-W37 (the last composed week): started 1",
        "Messages sent that week: 2",
    ] {
        assert!(health.contains(expected), "{expected:?} in {health}");
    }

    for (who, text) in [
        ("jana.novakova", "programs"),
        ("pavel.svoboda", "health leaders-2026"),
        ("jana.novakova", "digest preview leaders-2026"),
    ] {
        let refused = say(&t, who, text).await;
        assert!(
            refused.contains("HR admins") || refused.contains("not an admin"),
            "{who} {text}: {refused}"
        );
    }
    let unknown = say(&t, HR_ADMIN, "health no-such-program").await;
    assert!(
        unknown.contains("not an admin of a program \"no-such-program\""),
        "{unknown}"
    );
}

#[tokio::test]
async fn replies_come_in_the_persons_slack_language() {
    let t = spawn_app().await;
    t.sim.set_locale(&t.user_id("jana.novakova"), "cs-CZ");
    jana_reports(&t).await;
    // Enrolled by email, her Slack language was learned with one users.list
    // sweep: even her first nudge spoke Czech.
    let dm = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    let nudge = t.sim.messages_in(&dm).remove(0);
    assert!(
        nudge.content.text.starts_with("Sezení 1 programu"),
        "{}",
        nudge.content.text
    );
    assert_eq!(t.sim.call_count("users.list"), 1);
    let status = say(&t, "jana.novakova", "status").await;
    assert!(status.contains("vaše téma: delegation"), "{status}");
    assert!(status.contains("splněno"), "{status}");
    let help = say(&t, "jana.novakova", "nonsense").await;
    assert!(help.contains("drží váš program v chodu"), "{help}");
    // Others stay in English.
    assert!(say(&t, "tomas.dvorak", "help")
        .await
        .contains("keeps your program going"));
    // The home tab and the note form speak Czech too.
    let jana = t.user_id("jana.novakova");
    t.sim.open_home(&jana, "EvCS1").await.unwrap();
    assert!(
        t.eventually(|| t
            .sim
            .home_of(&jana)
            .is_some_and(|h| h.to_string().contains("Přidat soukromou poznámku")))
            .await
    );
    t.sim.tap_home(&jana, "note:open").await.unwrap();
    let modal = t.sim.open_modals(&jana).pop().expect("the note form");
    assert_eq!(modal.view["title"]["text"], "Soukromá poznámka");
}

#[tokio::test]
async fn notes_stay_readable_after_the_master_key_is_rotated_and_only_with_the_new_key() {
    use momentum::crypto::SecretKey;
    let t = spawn_app().await;
    jana_reports(&t).await;
    say(&t, "jana.novakova", "note Before the rotation").await;
    let new = SecretKey::generate();
    let rotated = t.app.rotate_master_key(&new).await.unwrap().unwrap();
    assert!(rotated >= 1);
    let jana = momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &t.user_id("jana.novakova"));
    let with_new = momentum::startup::build_app(
        t.store.clone(),
        std::sync::Arc::new(t.clock.clone()),
        momentum::chat::Chats::default(),
        new,
    );
    let notes = with_new.my_notes(&jana).await.unwrap();
    assert_eq!(notes[0].1, "Before the rotation");
    // The old master key no longer opens anything, and says so.
    let err = t.app.my_notes(&jana).await.unwrap_err();
    assert!(err.to_string().contains("encryption key"), "{err}");
    // A rotation with the wrong current key changes nothing.
    let wrong = SecretKey::generate();
    let with_wrong = momentum::startup::build_app(
        t.store.clone(),
        std::sync::Arc::new(t.clock.clone()),
        momentum::chat::Chats::default(),
        wrong,
    );
    let refused = with_wrong
        .rotate_master_key(&SecretKey::generate())
        .await
        .unwrap();
    assert!(refused.is_err());
    assert_eq!(with_new.my_notes(&jana).await.unwrap().len(), 1);
}

#[tokio::test]
async fn languages_are_learned_across_pages_of_a_big_workspace() {
    let t = spawn_app().await;
    for i in 0..1100 {
        t.sim.add_user(
            &format!("extra{i}"),
            &format!("Extra {i}"),
            &format!("extra{i}@else.example"),
            "UTC",
        );
    }
    let late = t.sim.add_user(
        "late.joiner",
        "Late Joiner",
        "late@acme.example",
        "Europe/Prague",
    );
    t.sim.set_locale(&late, "cs-CZ");
    let program = PROGRAM.replace(
        "participants:\n",
        "participants:\n  - { name: Late Joiner, email: late@acme.example, focus: feedback }\n",
    );
    let applied = t.apply_yaml(&t.admin_token, &program).await;
    assert_eq!(applied.status(), 200);
    // One sweep in pages of 200 finds everyone, languages included.
    assert_eq!(t.sim.call_count("users.list"), 6);
    assert_eq!(t.sim.call_count("users.lookupByEmail"), 0);
    let locale: Option<String> =
        sqlx::query_scalar("SELECT locale FROM people WHERE email = 'late@acme.example'")
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    assert_eq!(locale.as_deref(), Some("cs-CZ"));
}

#[tokio::test]
async fn hr_erases_a_person_through_the_admin_api_with_clear_errors() {
    let t = spawn_app().await;
    jana_reports(&t).await;
    let post = |token: String, body: &'static str| {
        let (http, url) = (t.http.clone(), format!("{}/api/v1/erasures", t.url));
        async move {
            http.post(url)
                .bearer_auth(token)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for (body, status) in [
        ("{}", 422),
        (
            r#"{"email": "jana.novakova@acme.example", "chat": "slack:T0SIMTEAM1/U1"}"#,
            422,
        ),
        (r#"{"email": "not an email"}"#, 422),
        (r#"{"chat": "U123"}"#, 422),
        (r#"{"mail": "x@y.z"}"#, 422),
        ("not json", 422),
        (r#"{"email": "nobody@acme.example"}"#, 404),
    ] {
        let resp = post(t.admin_token.clone(), body).await;
        assert_eq!(
            resp.status(),
            status,
            "{body}: {}",
            resp.text().await.unwrap()
        );
    }
    let sessions_only = t.token(momentum::app::Scope::SessionsWrite).await;
    assert_eq!(
        post(sessions_only, r#"{"email": "jana.novakova@acme.example"}"#)
            .await
            .status(),
        403
    );
    assert!(
        t.all_stored_text()
            .await
            .contains("jana.novakova@acme.example"),
        "nothing erased yet"
    );
    let resp = post(
        t.admin_token.clone(),
        r#"{"email": "jana.novakova@acme.example"}"#,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let erased: Value = resp.json().await.unwrap();
    assert_eq!(erased["participations"], 1);
    let stored = t.all_stored_text().await;
    assert!(!stored.contains("jana.novakova@acme.example") && !stored.contains("Jana Nováková"));
    assert_eq!(
        post(
            t.admin_token.clone(),
            r#"{"email": "jana.novakova@acme.example"}"#
        )
        .await
        .status(),
        404,
        "already gone"
    );
    // The audit log says who did what, and nothing about whom.
    let audit = t
        .get(&t.admin_token, "/api/v1/audit")
        .await
        .text()
        .await
        .unwrap();
    let entries: Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(entries[0]["action"], "person.erase", "{audit}");
    assert_eq!(entries[0]["actor"], "api token \"test\"");
    assert_eq!(entries[1]["action"], "program.apply");
    assert_eq!(entries[1]["subject"], "leaders-2026");
    assert!(!audit.contains("jana"), "{audit}");
}
