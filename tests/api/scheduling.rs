//! Planning that follows change: re-planning future jobs when the program
//! changes, holiday calendars per participant, and the send window after downtime.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::clock::Clock;
use serde_json::{json, Value};

async fn due_times(t: &TestApp, purpose: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT state, due_at FROM jobs WHERE org_id = $1 AND purpose = $2 ORDER BY due_at",
    )
    .bind(t.org.id.0)
    .bind(purpose)
    .fetch_all(t.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn changing_the_rules_moves_future_jobs_and_never_touches_sent_ones() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    // The small step went out on Tuesday 09:30; the check-in and the check are still ahead.
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);

    let changed = PROGRAM
        .replace(
            "{ kind: one_tap_check, days_after_session: 4, at: \"16:00\" }",
            "{ kind: one_tap_check, days_after_session: 4, at: \"11:00\" }",
        )
        .replace(
            "{ kind: small_step, days_after_session: 1, at: \"09:30\" }",
            "{ kind: small_step, days_after_session: 1, at: \"10:30\" }",
        )
        .replace(
            "email: jana.novakova@acme.example, manager: pavel.svoboda@acme.example",
            "email: jana.novakova@acme.example, manager: hana.stastna@acme.example",
        );
    let out: Value = t
        .apply_yaml(&t.admin_token, &changed)
        .await
        .json()
        .await
        .unwrap();
    // One-tap check moved; Pavel's check-in dropped and Hana's added.
    assert_eq!(
        out["replanned"],
        json!({"added": 1, "moved": 1, "dropped": 1}),
        "{out}"
    );

    let sent_small_step = due_times(&t, "small_step").await;
    assert_eq!(
        sent_small_step,
        vec![(
            "sent".to_string(),
            "2026-09-08T07:30:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond()
        )]
    );
    let check = due_times(&t, "one_tap_check").await;
    assert_eq!(
        check[0].1,
        "2026-09-11T09:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
    );

    t.advance_to("2026-09-10T08:00:00Z").await;
    let hana = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("hana.stastna")));
    let pavel = t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("pavel.svoboda")));
    assert_eq!((hana.len(), pavel.len()), (1, 0));

    // Applying the same file again changes nothing.
    let again: Value = t
        .apply_yaml(&t.admin_token, &changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["replanned"],
        json!({"added": 0, "moved": 0, "dropped": 0})
    );
}

#[tokio::test]
async fn a_participants_holiday_calendar_moves_their_nudges() {
    let t = spawn_app().await;
    let ics = "BEGIN:VCALENDAR\\nVERSION:2.0\\nBEGIN:VEVENT\\nDTSTART;VALUE=DATE:20260908\\nSUMMARY:Local holiday\\nEND:VEVENT\\nEND:VCALENDAR\\n";
    let file = PROGRAM
        .replace(
            "  sessions:\n    - { number: 1",
            &format!("  holiday_calendars:\n    - {{ key: uk, dates: [2026-09-08] }}\n    - {{ key: cz, ics: \"{ics}\" }}\n  sessions:\n    - {{ number: 1"),
        )
        .replace("time_zone: Europe/London, share_focus_with_manager: true", "time_zone: Europe/London, holidays: uk, share_focus_with_manager: true");
    let resp = t.apply_yaml(&t.admin_token, &file).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    t.complete_session("sarah.mitchell", 1, "2026-09-07").await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    // Jana (no calendar) gets hers on Tuesday; Sarah's Tuesday is a holiday: Wednesday 09:30 London.
    t.advance_to("2026-09-08T12:00:00Z").await;
    assert_eq!(
        t.sim
            .messages_in(&SimWorkspace::dm_channel(&t.user_id("jana.novakova")))
            .len(),
        1
    );
    let sarah = SimWorkspace::dm_channel(&t.user_id("sarah.mitchell"));
    assert!(t.sim.messages_in(&sarah).is_empty());
    t.advance_to("2026-09-09T08:30:00Z").await;
    assert_eq!(t.sim.messages_in(&sarah).len(), 1);
}

/// The program file with one holiday calendar read from `ics` (escaped for YAML).
fn with_ics_calendar(ics: &str) -> String {
    PROGRAM.replace(
        "  sessions:\n    - { number: 1",
        &format!("  holiday_calendars:\n    - {{ key: us, ics: \"{ics}\" }}\n  sessions:\n    - {{ number: 1"),
    )
}

const THANKSGIVING: &str = "BEGIN:VCALENDAR\\nBEGIN:VEVENT\\nUID:t\\nDTSTART;VALUE=DATE:20201126\\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\\nSUMMARY:Thanksgiving\\nEND:VEVENT\\nEND:VCALENDAR\\n";

async fn stored_spec(t: &TestApp) -> String {
    sqlx::query_scalar("SELECT spec FROM programs WHERE org_id = $1")
        .bind(t.org.id.0)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_icalendar_is_stored_as_its_dates_and_never_read_again() {
    let t = spawn_app().await;
    let resp = t
        .apply_yaml(&t.admin_token, &with_ics_calendar(THANKSGIVING))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // Loading the program reads these dates, never the iCalendar text.
    let spec = stored_spec(&t).await;
    assert!(!spec.contains("VCALENDAR"), "{spec}");
    let stored: Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(
        stored["program"]["holiday_calendars"][0]["dates"][0],
        json!("2026-11-26")
    );
    let listed: Value = t
        .get(&t.admin_token, "/api/v1/programs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["key"], json!("leaders-2026"), "{listed}");
    let program = t.store.programs(t.org.id).await.unwrap().remove(0);
    assert!(
        program.spec.notices.is_empty(),
        "{:?}",
        program.spec.notices
    );
    // The program as downloaded applies again to the same program, a year on.
    t.clock.set("2027-09-07T05:00:00Z".parse().unwrap());
    let doc = program
        .spec
        .file_with(program.spec.source["program"].clone());
    let again = t.app.apply_program(t.org.id, &doc, false).await.unwrap();
    assert!(!again.created);
    assert_eq!(stored_spec(&t).await, spec);
}

#[tokio::test]
async fn an_icalendar_it_cannot_read_changes_nothing_and_names_the_field() {
    let t = spawn_app().await;
    let timed = THANKSGIVING.replace("DTSTART;VALUE=DATE:20201126", "DTSTART:20201126T170000Z");
    let resp = t
        .apply_yaml(&t.admin_token, &with_ics_calendar(&timed))
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["path"],
        json!("program.holiday_calendars[0].ics")
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 4: \"Thanksgiving\" is a timed event"),
        "{body}"
    );
    assert_eq!(t.count("programs").await, 0);
    assert_eq!(t.count("participants").await, 0);
}

#[tokio::test]
async fn after_downtime_in_window_jobs_go_out_once_and_stale_ones_are_skipped_with_the_reason() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.complete_session("james.carter", 1, "2026-09-07").await;
    // The service is down from Tuesday 06:00Z until 19:30Z. Jana's 09:30 Prague nudge
    // is past her working day (quiet hours from 19:00); James's 09:30 New York is not.
    let s = t.advance_to("2026-09-08T19:30:00Z").await;
    assert_eq!((s.sent, s.skipped), (1, 1));
    assert!(t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&t.user_id("jana.novakova")))
        .is_empty());
    assert_eq!(
        t.sim
            .messages_in(&SimWorkspace::dm_channel(&t.user_id("james.carter")))
            .len(),
        1
    );
    let stale = "stale: missed its delivery window (due Tue 08 Sep 09:30 local)";
    assert_eq!(t.skipped(stale).await, 1);
    assert_eq!(t.dispatch().await.handled(), 0);
}

#[tokio::test]
async fn after_stop_nothing_is_sent_until_start() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    let user = t.user_id("jana.novakova");
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "stop")
        .await
        .unwrap();
    assert!(reply.body.contains("nothing more"), "{}", reply.body);
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!((s.sent, s.skipped), (0, 1));
    let reply = t
        .sim
        .slash_command(&user, "/momentum", "start")
        .await
        .unwrap();
    assert!(reply.body.contains("Welcome back"), "{}", reply.body);
    assert_eq!(t.advance_to("2026-09-11T14:00:00Z").await.sent, 1);
    assert_eq!(t.skipped("recipient said stop").await, 1);
}

#[tokio::test]
async fn the_weekly_cap_holds_across_a_batch() {
    let t = spawn_app().await;
    let capped = PROGRAM.replace(
        "  anonymity_threshold: 5",
        "  anonymity_threshold: 5\n  weekly_cap: 1",
    );
    assert_eq!(t.apply_yaml(&t.admin_token, &capped).await.status(), 200);
    // Pavel manages four of them: two check-ins fall due on Thursday at
    // 10:00, two on Friday.
    for (handle, on) in [
        ("jana.novakova", "2026-09-07"),
        ("tomas.dvorak", "2026-09-07"),
        ("eva.cerna", "2026-09-08"),
        ("martin.prochazka", "2026-09-08"),
    ] {
        t.complete_session(handle, 1, on).await;
    }
    // Thursday's two go in one message, which counts once.
    t.advance_to("2026-09-10T08:00:00Z").await;
    let dm = SimWorkspace::dm_channel(&t.user_id("pavel.svoboda"));
    let pavel = t.sim.messages_in(&dm);
    assert_eq!(pavel.len(), 1);
    assert_eq!(pavel[0].buttons().len(), 6, "two rows of three");
    // Friday's would be a second message within the week: held back.
    t.advance_to("2026-09-11T08:00:00Z").await;
    assert_eq!(t.sim.messages_in(&dm).len(), 1);
    assert_eq!(
        t.skipped("weekly cap reached (1 messages in 7 days)").await,
        2
    );
}

#[tokio::test]
async fn a_snoozed_nudge_comes_back_the_next_morning_and_its_answer_counts_once() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.advance_to("2026-09-08T07:30:00Z").await;
    let user = t.user_id("jana.novakova");
    let channel = SimWorkspace::dm_channel(&user);
    let first = t.sim.messages_in(&channel).remove(0);
    // Tuesday 11:00 in Prague: "tomorrow morning".
    t.clock.set("2026-09-08T09:00:00Z".parse().unwrap());
    let reply = t
        .sim
        .choose(&user, &channel, &first.ts, "snooze", "tomorrow")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let says_when = || {
        t.sim
            .message(&channel, &first.ts)
            .unwrap()
            .content
            .blocks
            .to_string()
            .contains("I will remind you Wed 09 Sep 09:00")
    };
    assert!(
        t.eventually(says_when).await,
        "the message says when it comes back"
    );
    assert_eq!(t.advance_to("2026-09-09T06:59:00Z").await.sent, 0);
    assert_eq!(t.advance_to("2026-09-09T07:00:00Z").await.sent, 1);
    let messages = t.sim.messages_in(&channel);
    assert_eq!(messages.len(), 2);
    // Naming the step on the message that came back, then changing it on the
    // first one, is one answer to the one nudge.
    t.sim
        .enter_text(
            &user,
            &channel,
            &messages[1].ts,
            "step:name",
            "Plan the week on Monday",
        )
        .await
        .unwrap();
    t.sim
        .enter_text(
            &user,
            &channel,
            &first.ts,
            "step:name",
            "Plan the week on Sunday",
        )
        .await
        .unwrap();
    assert_eq!(t.count("steps").await, 1);
    // Once answered, a snooze does nothing.
    t.sim
        .choose(&user, &channel, &messages[1].ts, "snooze", "1h")
        .await
        .ok();
    assert_eq!(t.advance_to("2026-09-09T09:00:00Z").await.sent, 0);
}

#[tokio::test]
async fn an_archived_program_sends_nothing_more() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    let now = t.clock.now();
    assert!(t
        .store
        .archive_program(t.org.id, "leaders-2026", now)
        .await
        .unwrap());
    assert!(!t
        .store
        .archive_program(t.org.id, "no-such-program", now)
        .await
        .unwrap());
    let s = t.advance_to("2026-09-11T14:00:00Z").await;
    assert_eq!(s.sent, 0);
    // Small step, check-in, one-tap check, and the weekly digest.
    assert_eq!(t.skipped("program archived").await, 4);
}

#[tokio::test]
async fn a_program_ends_after_its_last_session_and_follow_up_and_can_then_be_archived() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let state = || async {
        let list: Value = t
            .get(&t.admin_token, "/api/v1/programs")
            .await
            .json()
            .await
            .unwrap();
        list[0].clone()
    };
    // Last planned session 2 November, longest follow-up 4 days, reminder 2 more.
    assert_eq!(state().await["status"], "running");
    assert_eq!(state().await["ends_on"], "2026-11-08");
    // A session done late moves the end, and its follow-ups still go out.
    t.complete_session("jana.novakova", 5, "2026-11-06").await;
    assert_eq!(state().await["ends_on"], "2026-11-12");
    let mut at: jiff::Timestamp = "2026-11-06T12:00:00Z".parse().unwrap();
    // Through Monday 16 November, when the digest of the last week goes out.
    while at < "2026-11-17T12:00:00Z".parse().unwrap() {
        at += jiff::SignedDuration::from_hours(1);
        t.clock.set(at);
        t.dispatch().await;
    }
    let s = state().await;
    assert_eq!(s["jobs_to_go"], 0, "{s}");
    assert_eq!(s["status"], "ended", "{s}");
    // Small step and one-tap check (no check-in after session 5), each reminded.
    let jana = SimWorkspace::dm_channel(&t.user_id("jana.novakova"));
    assert_eq!(t.sim.messages_in(&jana).len(), 4);
    // The sponsors had the digests of the weeks of 2 and 9 November (the
    // earlier ones were missed while the clock jumped, and skipped as stale).
    let digests: Vec<String> = sqlx::query_scalar(
        "SELECT period FROM jobs WHERE org_id = $1 AND purpose = 'digest' AND state = 'sent' ORDER BY period",
    )
    .bind(t.org.id.0)
    .fetch_all(t.store.pool())
    .await
    .unwrap();
    assert_eq!(digests, vec!["2026-W45", "2026-W46"]);
    // Nothing more is sent, however long the service keeps running.
    let before = t.sim.call_count("chat.postMessage");
    t.advance_to("2027-01-31T12:00:00Z").await;
    assert_eq!(t.sim.call_count("chat.postMessage"), before);
    let now = t.clock.now();
    t.store
        .archive_program(t.org.id, "leaders-2026", now)
        .await
        .unwrap();
    assert_eq!(state().await["status"], "archived");
}
