//! Noise limits: at most one reminder for an unanswered nudge or check-in
//! (two days after it went out, by default, at its local time; none once it
//! is answered; its buttons answer the nudge itself), snooze from the slash
//! command, and nothing while a chat status says out of office.

use crate::helpers::*;
use momentum::chat::sim::{SimMessage, SimWorkspace};

fn is_reminder(m: &SimMessage) -> bool {
    m.content.text.starts_with("Reminder:")
}

async fn small_step_job(t: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM jobs WHERE org_id = $1 AND purpose = 'small_step'")
        .bind(t.org.id.0)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

/// Jana's small step goes out on Tuesday 8 September, 09:30 in Prague.
async fn jana_nudged(t: &TestApp, program: &str) -> (String, String) {
    t.apply_yaml(&t.admin_token, program).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    let user = t.user_id("jana.novakova");
    let channel = SimWorkspace::dm_channel(&user);
    (user, channel)
}

#[tokio::test]
async fn an_unanswered_nudge_is_reminded_once_and_the_reminder_answers_it() {
    let t = spawn_app().await;
    let (user, channel) = jana_nudged(&t, &PROGRAM).await;
    assert_eq!(t.advance_to("2026-09-10T07:29:00Z").await.sent, 0);
    // Thursday 09:30 in Prague: two days later, at the nudge's local time.
    assert_eq!(t.advance_to("2026-09-10T07:30:00Z").await.sent, 1);
    let messages = t.sim.messages_in(&channel);
    assert_eq!(messages.len(), 2);
    assert!(!is_reminder(&messages[0]));
    assert!(is_reminder(&messages[1]), "{:?}", messages[1].content.text);
    assert!(messages[1]
        .content
        .blocks
        .to_string()
        .contains("gentle reminder"));

    // Naming the step on the reminder answers the nudge; both messages show it.
    let reply = t
        .sim
        .enter_text(
            &user,
            &channel,
            &messages[1].ts,
            "step:name",
            "Ask Petr first",
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let answered: Vec<Option<i64>> =
        sqlx::query_scalar("SELECT job_id FROM steps WHERE org_id = $1")
            .bind(t.org.id.0)
            .fetch_all(t.store.pool())
            .await
            .unwrap();
    assert_eq!(answered, vec![Some(small_step_job(&t).await)]);
    let shows_step = |ts: &str| {
        let m = t.sim.message(&channel, ts).unwrap();
        m.content
            .blocks
            .to_string()
            .contains("Your step: *Ask Petr first*")
    };
    assert!(t.eventually(|| shows_step(&messages[0].ts)).await);
    assert!(t.eventually(|| shows_step(&messages[1].ts)).await);

    // Never a second reminder for the same nudge, however long it runs.
    t.advance_to("2026-09-30T12:00:00Z").await;
    let small_step_reminders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND purpose = 'reminder' AND period = 'small_step:s1+1d'",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(small_step_reminders, 1);
}

#[tokio::test]
async fn an_answered_nudge_gets_no_reminder() {
    let t = spawn_app().await;
    let (user, channel) = jana_nudged(&t, &PROGRAM).await;
    let nudge = t.sim.messages_in(&channel).remove(0);
    t.sim
        .tap(&user, &channel, &nudge.ts, "step:none")
        .await
        .unwrap();
    t.advance_to("2026-09-10T07:30:00Z").await;
    assert_eq!(t.sim.messages_in(&channel).len(), 1);
    assert_eq!(t.skipped("answered before the reminder").await, 1);
}

#[tokio::test]
async fn a_snoozed_nudge_is_reminded_once_after_it_comes_back() {
    let t = spawn_app().await;
    let (user, channel) = jana_nudged(&t, &PROGRAM).await;
    let nudge = t.sim.messages_in(&channel).remove(0);
    t.clock.set("2026-09-08T09:00:00Z".parse().unwrap());
    t.sim
        .choose(&user, &channel, &nudge.ts, "snooze", "tomorrow")
        .await
        .unwrap();
    // Back on Wednesday 09:00; no reminder on Thursday (it was re-planned)…
    assert_eq!(t.advance_to("2026-09-09T07:00:00Z").await.sent, 1);
    t.advance_to("2026-09-10T12:00:00Z").await;
    let reminders = || {
        t.sim
            .messages_in(&channel)
            .iter()
            .filter(|m| is_reminder(m))
            .count()
    };
    assert_eq!(reminders(), 0);
    // …but on Friday 09:00, two days after it came back.
    t.advance_to("2026-09-11T06:59:00Z").await;
    assert_eq!(reminders(), 0);
    t.advance_to("2026-09-11T07:00:00Z").await;
    assert_eq!(reminders(), 1);
}

#[tokio::test]
async fn managers_are_reminded_of_an_unanswered_check_in_too() {
    let t = spawn_app().await;
    jana_nudged(&t, &PROGRAM).await;
    // Pavel's check-in goes Thursday 10:00, its reminder Saturday → Monday 10:00.
    t.advance_to("2026-09-10T08:00:00Z").await;
    let pavel = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    assert_eq!(t.sim.messages_in(&pavel).len(), 1);
    t.advance_to("2026-09-14T07:59:00Z").await;
    assert_eq!(t.sim.messages_in(&pavel).len(), 1);
    t.advance_to("2026-09-14T08:00:00Z").await;
    let messages = t.sim.messages_in(&pavel);
    assert_eq!(messages.len(), 2);
    assert!(messages[1].content.text.starts_with("Reminder: Check-in"));
}

#[tokio::test]
async fn a_program_can_turn_reminders_off() {
    let t = spawn_app().await;
    let program = PROGRAM.replace(
        "  working_days:",
        "  reminder_after_days: 0\n  working_days:",
    );
    let (_, channel) = jana_nudged(&t, &program).await;
    t.advance_to("2026-09-30T12:00:00Z").await;
    assert!(t.sim.messages_in(&channel).iter().all(|m| !is_reminder(m)));
    let reminders: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND purpose = 'reminder'")
            .bind(t.org.id.0)
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    assert_eq!(reminders, 0);
}

#[tokio::test]
async fn snooze_in_chat_puts_off_the_latest_unanswered_nudge() {
    let t = spawn_app().await;
    let (user, channel) = jana_nudged(&t, &PROGRAM).await;
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "snooze soon")
        .await
        .unwrap();
    assert!(reply.body.contains("not a snooze"), "{}", reply.body);
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "snooze tomorrow")
        .await
        .unwrap();
    assert!(
        reply.body.contains("come back Wed 09 Sep 09:00"),
        "{}",
        reply.body
    );
    assert_eq!(t.advance_to("2026-09-09T06:59:00Z").await.sent, 0);
    assert_eq!(t.advance_to("2026-09-09T07:00:00Z").await.sent, 1);
    let messages = t.sim.messages_in(&channel);
    t.sim
        .enter_text(
            &user,
            &channel,
            &messages[1].ts,
            "step:name",
            "Say no to one meeting",
        )
        .await
        .unwrap();
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "snooze 1h")
        .await
        .unwrap();
    assert!(reply.body.contains("no unanswered nudge"), "{}", reply.body);
}

#[tokio::test]
async fn nothing_is_sent_while_a_status_says_out_of_office() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.complete_session("tomas.dvorak", 1, "2026-09-07").await;
    let jana = t.user_id("jana.novakova");
    // Jana is on holiday until Wednesday 9 September, 00:00 UTC.
    let back: jiff::Timestamp = "2026-09-09T00:00:00Z".parse().unwrap();
    assert!(t
        .sim
        .set_status(&jana, "Vacationing", ":palm_tree:", back.as_second()));
    let away = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT away_until FROM people WHERE org_id = $1 AND user_id = $2",
        )
        .bind(t.org.id.0)
        .bind(&jana)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
    };
    for _ in 0..100 {
        if away().await.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(away().await, Some(back.as_millisecond()));
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!(
        (s.sent, s.skipped),
        (1, 1),
        "Tomáš gets his, Jana's is skipped"
    );
    assert_eq!(t.skipped("recipient out of office").await, 1);
    assert!(t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&jana))
        .is_empty());

    // Back: a status that says nothing of the sort clears it.
    t.sim.set_status(&jana, "Focusing", ":headphones:", 0);
    for _ in 0..100 {
        if away().await.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(away().await, None);
}
