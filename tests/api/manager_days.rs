//! A manager's day: at most one check-in a working day, covering every
//! direct report due that day, a row per report answered on its own, the
//! focus theme only where shared; on Slack and on Teams.

use crate::helpers::*;
use momentum::chat::sim::botframework::TENANT;
use momentum::chat::sim::{SimMessage, SimWorkspace};
use momentum::clock::Clock;
use serde_json::{json, Value};

/// Pavel's reports: Jana and Tomáš share their focus, Eva does not.
const REPORTS: [&str; 3] = ["jana.novakova", "tomas.dvorak", "eva.cerna"];

/// The job each row's buttons answer, in order.
fn row_jobs(m: &SimMessage) -> Vec<String> {
    m.buttons()
        .into_iter()
        .filter(|b| b.0 == "checkin:supported")
        .map(|b| b.2)
        .collect()
}

/// (job, participant's email, answer) of every stored check-in.
async fn checkins(t: &TestApp) -> Vec<(i64, String, String)> {
    sqlx::query_as(
        "SELECT c.job_id, pe.email, c.answer FROM checkins c JOIN participants pa ON pa.id = c.participant_id \
         JOIN people pe ON pe.id = pa.person_id WHERE c.org_id = $1 ORDER BY c.id",
    )
    .bind(t.org.id.0)
    .fetch_all(t.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_slack_manager_gets_one_check_in_a_day_with_a_row_per_report_answered_on_its_own() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for p in REPORTS {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Thursday 10:00 in Prague: three check-ins due for Pavel, one message.
    t.advance_to("2026-09-10T08:00:00Z").await;
    let pavel = t.user_id("pavel.svoboda");
    let dm = SimWorkspace::dm_channel(&pavel);
    let sent = t.sim.messages_in(&dm);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(
        m.content.text,
        "Check-in: did you support Jana Nováková, Tomáš Dvořák, Eva Černá this week?"
    );
    let rows = row_jobs(m);
    assert_eq!(rows.len(), 3, "{}", m.content.blocks);
    let text = m.content.blocks.to_string();
    assert!(
        text.contains("*Jana Nováková*: working on *delegation*")
            && text.contains("*Tomáš Dvořák*: working on *feedback*"),
        "{text}"
    );
    // Eva did not share her focus: her row names none.
    assert!(text.contains("*Eva Černá*: taking part in"), "{text}");
    assert!(!text.contains("prioritisation"), "{text}");

    // Each report's check-in is sent on its own (the support rate counts
    // them); the weekly cap counts the one message.
    let sent_jobs: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND purpose = 'manager_checkin' AND state = 'sent'",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(sent_jobs, 3);
    let person = t
        .store
        .person_by_email(t.org.id, "pavel.svoboda@acme.example")
        .await
        .unwrap()
        .unwrap();
    let week_ago = t.clock.now() - jiff::SignedDuration::from_hours(24 * 7);
    let counted = t
        .store
        .sent_since(t.org.id, &[person.id], week_ago)
        .await
        .unwrap();
    assert_eq!(counted.get(&person.id), Some(&1));

    // The second row's tap records Tomáš's check-in only; the message shows
    // that row answered and the others still open.
    let reply = t
        .sim
        .tap_row(&pavel, &dm, &m.ts, "checkin:supported", &rows[1])
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tomas = (
        rows[1].parse::<i64>().unwrap(),
        "tomas.dvorak@acme.example".to_string(),
        "supported".to_string(),
    );
    assert_eq!(checkins(&t).await, vec![tomas.clone()]);
    let selected = || {
        t.sim
            .message(&dm, &m.ts)
            .unwrap()
            .buttons()
            .into_iter()
            .filter(|b| b.3)
            .map(|b| b.2)
            .collect::<Vec<_>>()
    };
    assert!(t.eventually(|| selected() == vec![rows[1].clone()]).await);
    assert_eq!(row_jobs(&t.sim.message(&dm, &m.ts).unwrap()), rows);

    // Monday 10:00: one reminder for the day's message, Tomáš's answer
    // showing; Jana's answer there shows on both.
    t.advance_to("2026-09-14T08:00:00Z").await;
    let reminders: Vec<SimMessage> = t
        .sim
        .messages_in(&dm)
        .into_iter()
        .filter(|m| m.content.text.starts_with("Reminder: Check-in"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(row_jobs(&reminders[0]), rows);
    t.sim
        .tap_row(&pavel, &dm, &reminders[0].ts, "checkin:will", &rows[0])
        .await
        .unwrap();
    assert_eq!(checkins(&t).await.len(), 2);
    assert!(
        t.eventually(|| selected() == vec![rows[0].clone(), rows[1].clone()])
            .await
    );
    // Sent, answered and counted per report, as before.
    assert_eq!(t.count("checkins").await, 2);
}

#[tokio::test]
async fn a_single_report_due_reads_as_one_check_in() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("eva.cerna", 1, "2026-09-07").await;
    t.complete_session("jana.novakova", 1, "2026-09-08").await;
    t.advance_to("2026-09-10T08:00:00Z").await;
    t.advance_to("2026-09-11T08:00:00Z").await;
    let dm = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    let texts: Vec<String> = t
        .sim
        .messages_in(&dm)
        .iter()
        .map(|m| m.content.blocks.to_string())
        .collect();
    // Two days, two check-ins of one row each, worded as one.
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].contains("*Eva Černá* is taking part in Leadership Academy 2026. Did you get a chance to support their development"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("*Jana Nováková* is working on *delegation*"),
        "{}",
        texts[1]
    );
}

/// The Teams pilot program with more of Pavel's reports: `(aad, name, shares focus)`.
fn teams_program(pavel: &str, reports: &[(String, &str, bool)]) -> String {
    let mut file = crate::teams::teams_program(&reports[0].0, pavel);
    for (aad, name, share) in &reports[1..] {
        file.push_str(&format!(
            "  - {{ name: {name}, chat: \"teams:{TENANT}/{aad}\", manager: {{ name: Pavel Vedoucí, chat: \"teams:{TENANT}/{pavel}\" }}, focus: delegation, share_focus_with_manager: {share} }}\n"
        ));
    }
    file
}

#[tokio::test]
async fn a_teams_manager_gets_one_card_with_a_row_per_report_and_a_tap_answers_its_row() {
    let t = spawn_app().await;
    let pavel = t.sim.teams_add_user(
        "Pavel Vedoucí",
        "pavel.vedouci@acme.example",
        "Europe/Prague",
        "en-US",
    );
    t.sim.teams_install(&pavel).await.unwrap();
    let reports: Vec<(String, &str, bool)> = [
        ("Jana Týmová", true),
        ("Ivan Malý", true),
        ("Olga Tichá", false),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, share))| {
        let email = format!("report{i}@acme.example");
        let aad = t.sim.teams_add_user(name, &email, "Europe/Prague", "en-US");
        (aad, name, share)
    })
    .collect();
    let resp = t
        .apply_yaml(&t.admin_token, &teams_program(&pavel, &reports))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    for (aad, ..) in &reports {
        let body = json!({"participant": {"chat": format!("teams:{TENANT}/{aad}")}, "session": 1, "completed_on": "2026-09-07"});
        let resp = t.post_session(&t.admin_token, "teams-pilot", body).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    t.advance_to("2026-09-10T08:00:00Z").await;
    let conversation = t.sim.teams_user(&pavel).unwrap().conversation.unwrap();
    let cards = t.sim.teams_activities(&conversation);
    assert_eq!(cards.len(), 1, "one card for three reports");
    let card = cards[0].card().unwrap().clone();
    let jobs: Vec<String> = card["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ActionSet")
        .map(|e| e["actions"][0]["data"]["job"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(jobs.len(), 3, "{card}");
    let text = cards[0].text();
    assert!(
        text.contains("**Ivan Malý**: working on **delegation**"),
        "{text}"
    );
    assert!(text.contains("**Olga Tichá**: taking part in"), "{text}");

    // The second row's tap: the card comes back with that row answered.
    let answered = t
        .sim
        .teams_tap_row(
            &pavel,
            &cards[0].id,
            "I supported this week",
            Some(&jobs[1]),
            json!({}),
        )
        .await
        .unwrap();
    let shown: Vec<Value> = answered["value"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ActionSet")
        .map(|e| e["actions"][0]["title"].clone())
        .collect();
    assert_eq!(
        shown,
        vec![
            json!("I supported this week"),
            json!("✓ I supported this week"),
            json!("I supported this week")
        ],
        "{answered}"
    );
    let stored: Vec<(i64, String)> =
        sqlx::query_as("SELECT c.job_id, c.answer FROM checkins c WHERE c.org_id = $1")
            .bind(t.org.id.0)
            .fetch_all(t.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, vec![(jobs[1].parse().unwrap(), "supported".into())]);
}

#[tokio::test]
async fn a_dispatcher_that_died_mid_send_of_a_managers_day_is_taken_over_without_a_duplicate() {
    use momentum::store::batches::SameDay;
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for p in REPORTS {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Their small steps went out on Tuesday, and their reminders on Thursday.
    t.advance_to("2026-09-08T07:30:00Z").await;
    t.advance_to("2026-09-10T07:45:00Z").await;
    t.clock.set("2026-09-10T08:00:00Z".parse().unwrap());
    // Another dispatcher leased the day's check-ins, had the first carry
    // the others, sent the message, and died before recording anything.
    let now = t.clock.now();
    let leased = t
        .store
        .lease_due_jobs(
            now,
            jiff::SignedDuration::from_secs(120),
            10,
            "the-dead-one",
        )
        .await
        .unwrap();
    assert_eq!(leased.len(), 3);
    let pavel = leased[0].recipient_person_id.unwrap();
    let day = SameDay {
        org: t.org.id,
        recipient: pavel,
        purpose: leased[0].purpose,
        program: None,
        from: now - jiff::SignedDuration::from_hours(12),
        to: now + jiff::SignedDuration::from_hours(12),
        owner: "the-dead-one",
    };
    let others: Vec<_> = leased[1..].iter().map(|j| j.id).collect();
    let carried = t
        .store
        .claim_batch(&day, leased[0].id, &others, now)
        .await
        .unwrap();
    assert_eq!(carried.len(), 3);
    t.store
        .mark_sending("the-dead-one", &[leased[0].id])
        .await
        .unwrap();
    let message = t
        .app
        .batch_message(t.org.id, leased[0].id, None)
        .await
        .unwrap();
    let ctx = t.app.job_context(&leased[0]).await.unwrap();
    let who = ctx.recipient.unwrap().chat.unwrap();
    let port = t.app.chats.for_identity(&who).unwrap();
    port.send_direct(&who, &message).await.unwrap();

    // The carried check-ins are never sent on their own; once the lease
    // expires the message is looked up, found, and every row counts as sent.
    assert_eq!(t.dispatch().await.handled(), 0);
    t.clock.set(now + jiff::SignedDuration::from_secs(121));
    let s = t.dispatch().await;
    assert_eq!((s.confirmed, s.sent), (1, 0), "{s:?}");
    let dm = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    assert_eq!(t.sim.messages_in(&dm).len(), 1);
    let states: Vec<String> = sqlx::query_scalar(
        "SELECT state FROM jobs WHERE org_id = $1 AND purpose = 'manager_checkin' ORDER BY id",
    )
    .bind(t.org.id.0)
    .fetch_all(t.store.pool())
    .await
    .unwrap();
    assert_eq!(states, vec!["sent"; 3]);
}

/// A check-in planned after the manager's message of the day went out (a
/// session reported late) waits for the next working day's message: never
/// two check-ins in one day.
#[tokio::test]
async fn a_check_in_planned_after_the_days_message_waits_for_the_next_day() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session(REPORTS[0], 1, "2026-09-07").await;
    // Thursday 10:00: Jana's check-in goes out.
    t.advance_to("2026-09-10T08:00:00Z").await;
    let pavel = t.user_id("pavel.svoboda");
    let dm = SimWorkspace::dm_channel(&pavel);
    assert_eq!(t.sim.messages_in(&dm).len(), 1);
    // At noon the platform reports Tomáš's session of Monday: his check-in
    // was due this morning, after Pavel's message of the day.
    t.clock.set("2026-09-10T10:00:00Z".parse().unwrap());
    t.complete_session(REPORTS[1], 1, "2026-09-07").await;
    t.advance_to("2026-09-10T10:05:00Z").await;
    t.advance_to("2026-09-10T15:00:00Z").await;
    assert_eq!(t.sim.messages_in(&dm).len(), 1, "one message on Thursday");
    // Friday 10:00: his check-in, in Friday's message.
    t.advance_to("2026-09-11T08:00:00Z").await;
    let sent = t.sim.messages_in(&dm);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].content.text.contains("Tomáš Dvořák"),
        "{}",
        sent[1].content.text
    );
}
