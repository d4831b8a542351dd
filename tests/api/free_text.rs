//! No free text ever leaves through a digest, an export or an API
//! aggregate: for random private notes, small steps, goals and blockers of participants
//! who also report, none of that text appears in any of them (property test).

use crate::helpers::*;
use proptest::prelude::*;

/// The small step a participant names, from their note's words.
fn step_of(note: &str) -> String {
    format!("step {}", note.chars().take(270).collect::<String>())
}

/// Runs one case: ten participants report and each writes `notes[i]`.
async fn case(notes: Vec<String>) -> Result<(), TestCaseError> {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people: Vec<String> = participant_handles()
        .into_iter()
        .take(notes.len())
        .collect();
    // Small steps go out on Tuesday (09:30 local: Prague, London, New York).
    t.small_steps_for(&people).await;
    t.clock.set("2026-09-09T10:00:00Z".parse().unwrap());
    for (p, note) in people.iter().zip(&notes) {
        let user = t.user_id(p);
        // Their small step: free text too.
        t.name_step(p, &step_of(note)).await;
        let reply = t
            .sim
            .slash_command(&user, "/momentum", &format!("note {note}"))
            .await
            .unwrap();
        prop_assert!(reply.body.contains("saved"), "{}", reply.body);
        // Their starting point: goal and blocker, free text too.
        let who = momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &user);
        let participant = t.app.overview(&who).await.unwrap().unwrap().programs[0].participant_id;
        let starting = momentum::app::StartingPoint {
            goal: format!("goal {note}"),
            context: String::new(),
            blocker: format!("blocker {note}"),
            focus: "feedback".into(),
            share_focus: true,
        };
        let stored = t
            .app
            .record_starting_point(&who, participant, &starting)
            .await
            .unwrap();
        prop_assert!(stored.is_ok(), "{stored:?}");
    }
    t.clock.set("2026-09-14T08:00:00Z".parse().unwrap());
    let digest = t.app.digest(t.org.id, "leaders-2026", None).await.unwrap();
    let text = momentum::app::digest_text("Leadership Academy 2026", "en", &digest).unwrap();
    let aggregates = t.app.aggregates(t.org.id, "leaders-2026").await.unwrap();
    let csv = momentum::app::aggregates_csv(&aggregates);
    let api = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .text()
        .await
        .unwrap();
    let published = [
        serde_json::to_string(&digest).unwrap(),
        text,
        csv,
        api,
        serde_json::to_string(&aggregates).unwrap(),
    ]
    .join("\n");
    for note in &notes {
        prop_assert!(!published.contains(note.trim()), "{note:?} was published");
        prop_assert!(
            !published.contains(step_of(note).trim()),
            "a step was published"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    #[test]
    fn notes_goals_and_blockers_never_appear_in_digests_exports_or_aggregates(
        notes in proptest::collection::vec("[A-Za-z]{6}[A-Za-z0-9 ,.!?]{4,40}", 10)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(case(notes))?;
    }
}
