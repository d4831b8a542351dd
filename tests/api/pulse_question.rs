//! The pulse question: a recurring rule's one-tap question, sent in each
//! participant's own time (a day off moves it to the next working day),
//! counted as a prompt for engagement, its mean with n in the digest.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use serde_json::Value;

/// The sample program with its monthly pulse question (no welcome).
fn program() -> String {
    PROGRAM_WITH_WELCOME.replace("  welcome: true ", "  welcome: false")
}

#[tokio::test]
async fn the_monthly_pulse_question_reaches_everyone_in_their_own_time_and_the_digest_shows_its_mean(
) {
    let t = spawn_app().await;
    let resp = t.apply_yaml(&t.admin_token, &program()).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let people = participant_handles();
    // Thursday 1 October, 10:00 in Prague (08:00Z); London and New York later.
    t.advance_to("2026-10-01T07:59:00Z").await;
    let jana = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    assert!(t.sim.messages_in(&jana).is_empty());
    t.advance_to("2026-10-01T08:00:00Z").await;
    let asked = t.sim.messages_in(&jana);
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0]
            .content
            .text
            .starts_with("Pulse question: How much did your small steps"),
        "{}",
        asked[0].content.text
    );
    assert_eq!(asked[0].buttons().len(), 5, "1 to 5, one tap");
    let sarah = SimWorkspace::dm_channel(&t.user_id("sarah.mitchell"));
    assert!(
        t.sim.messages_in(&sarah).is_empty(),
        "10:00 in London is 09:00Z"
    );
    t.advance_to("2026-10-01T14:00:00Z").await;
    // Eleven answer: 4 × 4, 7 × 3 → mean 3.4 (n = 11).
    for (i, p) in people.iter().enumerate().take(11) {
        let user = t.user_id(p);
        let dm = SimWorkspace::dm_channel(&user);
        let m = t.sim.messages_in(&dm).remove(0);
        let value = if i < 4 { 4 } else { 3 };
        let reply = t
            .sim
            .tap(&user, &dm, &m.ts, &format!("pulse:{value}"))
            .await
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pulses WHERE org_id = $1 AND kind = 'question'")
            .bind(t.org.id.0)
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, 11);
    // The next one: Sunday 1 November moves to Monday the 2nd, 10:00 in
    // Prague (09:00Z after the clocks went back), planned once for Jana.
    let next: Vec<(String, i64)> = sqlx::query_as(
        "SELECT j.period, j.due_at FROM jobs j JOIN people p ON p.id = j.recipient_person_id \
         WHERE j.org_id = $1 AND j.purpose = 'pulse_question' AND j.state = 'pending' AND p.email = $2",
    )
    .bind(t.org.id.0)
    .bind("jana.novakova@acme.example")
    .fetch_all(t.store.pool())
    .await
    .unwrap();
    let due: jiff::Timestamp = "2026-11-02T09:00:00Z".parse().unwrap();
    assert_eq!(
        next,
        vec![("pq:2026-11-01".to_string(), due.as_millisecond())]
    );

    // The digest of that week (composed Monday 5 October, 09:30 Prague).
    t.advance_to("2026-10-05T07:30:00Z").await;
    let weeks: Vec<Value> = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .json()
        .await
        .unwrap();
    let d = weeks.iter().find(|w| w["week"] == "2026-W40").unwrap();
    assert_eq!(d["provisional"], false);
    assert_eq!(d["pulse"]["mean"], 3.4, "{d}");
    assert_eq!(d["pulse"]["n"], 11, "{d}");
    // The pulse question is a prompt: everyone was asked, 11 responded.
    assert_eq!(
        (d["asked"].as_u64(), d["responded"].as_u64()),
        (Some(18), Some(11))
    );
    assert_eq!(d["engagement"], 61, "11 of 18");
    let digest = t
        .app
        .digest(
            t.org.id,
            "leaders-2026",
            momentum::domain::metrics::ProgramWeek::parse_iso("2026-W40"),
        )
        .await
        .unwrap();
    let text = momentum::app::digest_text("Leaders", "en", &digest).unwrap();
    assert!(
        text.contains("Pulse question: 3.4 on average (n = 11)"),
        "{text}"
    );
    assert!(
        text.contains("Target behaviour: Leaders give clear, timely feedback"),
        "{text}"
    );
}

#[tokio::test]
async fn a_pulse_rule_without_a_question_is_refused_with_the_field_named() {
    let t = spawn_app().await;
    let file = program().replace(
        ", question: \"How much did your small steps this month change how you lead?\", scale: { min: 1, max: 5 }",
        "",
    );
    let resp = t.apply_yaml(&t.admin_token, &file).await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("program.recurring[1].question"), "{body}");
    assert_eq!(t.count("programs").await, 0);
}
