//! The weekly digest from real activity: sessions, nudges, taps and
//! check-ins through the chat wire, counted per PRODUCT.md, with no person
//! named or quoted.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::clock::Clock;
use serde_json::Value;

#[tokio::test]
async fn a_weeks_digest_counts_what_happened_and_names_nobody() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people = participant_handles();
    assert_eq!(people.len(), 18);
    // Small steps go out on Tuesday (09:30 local: Prague, London, New York).
    t.small_steps_for(&people).await;
    // Twelve name their small step on Wednesday.
    t.clock.set("2026-09-09T10:00:00Z".parse().unwrap());
    for p in people.iter().take(12) {
        t.name_step(p, &format!("{p} tries one thing")).await;
    }
    // Thursday 10:00: the managers' check-ins (18); the managers answer 10 of them.
    t.advance_to("2026-09-10T08:00:00Z").await;
    t.advance_to("2026-09-10T09:00:00Z").await;
    let mut answered = 0;
    for manager in ["pavel.svoboda", "hana.stastna", "richard.dolezal"] {
        let user = t.user_id(manager);
        let channel = SimWorkspace::dm_channel(&user);
        // One message a day per manager, a row per report.
        let rows: Vec<(String, String)> = t
            .sim
            .messages_in(&channel)
            .iter()
            .flat_map(|m| {
                m.buttons()
                    .into_iter()
                    .filter(|b| b.0 == "checkin:supported")
                    .map(|b| (m.ts.clone(), b.2))
            })
            .collect();
        for (i, (ts, job)) in rows.iter().enumerate() {
            let answer = if i % 2 == 0 {
                "supported"
            } else {
                "not_this_time"
            };
            t.sim
                .tap_row(&user, &channel, ts, &format!("checkin:{answer}"), job)
                .await
                .unwrap();
            answered += 1;
        }
    }
    assert_eq!(answered, 14);
    // Friday 16:00 local: the follow-ups repeat each step back; the twelve
    // answer: 6 done, 4 partly, 2 not yet.
    for at in [
        "2026-09-11T14:00:00Z",
        "2026-09-11T15:00:00Z",
        "2026-09-11T20:00:00Z",
    ] {
        t.advance_to(at).await;
    }
    let answers = [
        "done", "done", "done", "done", "done", "done", "partly", "partly", "partly", "partly",
        "not_yet", "not_yet",
    ];
    for (p, answer) in people.iter().zip(answers) {
        let check = t.report_on_follow_up(p, &format!("report:{answer}")).await;
        assert!(check.content.blocks.to_string().contains("tries one thing"));
    }
    // One changes her answer within the week: it counts once, with its latest value.
    t.report_on_follow_up(&people[0], "report:partly").await;

    // Monday: the week of 7 September is complete.
    t.clock.set("2026-09-14T08:00:00Z".parse().unwrap());
    let resp = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await;
    assert_eq!(resp.status(), 200);
    let weeks: Vec<Value> = resp.json().await.unwrap();
    let d = weeks.last().unwrap();
    assert_eq!(d["week"], "2026-W37");
    assert_eq!(d["published"], true);
    assert_eq!(
        (d["enrolled"].as_u64(), d["started"].as_u64()),
        (Some(18), Some(18))
    );
    assert_eq!(d["start_rate"], 100);
    assert_eq!(d["engagement"], 67, "12 of the 18 asked responded");
    assert_eq!(
        (d["asked"].as_u64(), d["responded"].as_u64()),
        (Some(18), Some(12))
    );
    assert_eq!(d["actions"]["done"], 5);
    assert_eq!(d["actions"]["partly"], 5);
    assert_eq!(d["actions"]["not_yet"], 2);
    assert_eq!(d["checkins_sent"], 18);
    // Four managers were asked: under k = 5 distinct managers, the rate is
    // not published (one manager's answers must not stand out).
    assert_eq!(d["manager_support_rate"], Value::Null);
    assert_eq!(d["session_usage"], 100, "18 of 18 sessions due");
    assert_eq!(d["completion_to_date"], true);
    // Four themes of 4–5 people: with k = 5 the small ones merge into "other".
    let text = d.to_string();
    for p in &people {
        let name = p.split('.').next().unwrap();
        assert!(
            !text.to_lowercase().contains(name),
            "{name} appears in {text}"
        );
    }
    // Stored: asking again gives the same digest, without recomputing.
    let again: Vec<Value> = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&again, &weeks);
    let digest = t.app.digest(t.org.id, "leaders-2026", None).await.unwrap();
    let text = momentum::app::digest_text("Leadership Academy 2026", "en", &digest).unwrap();
    assert!(
        text.contains("Engagement 67% (12 of 18 asked responded)"),
        "{text}"
    );
    assert!(text.contains("5 done, 5 partly, 2 not yet"), "{text}");
}

#[tokio::test]
async fn a_week_not_over_yet_has_no_digest() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.clock.set("2026-09-09T10:00:00Z".parse().unwrap());
    let week = momentum::domain::metrics::ProgramWeek::parse_iso("2026-W37");
    let err = t
        .app
        .digest(t.org.id, "leaders-2026", week)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not over yet"), "{err}");
}

#[tokio::test]
async fn the_digest_goes_to_the_sponsors_channel_once_a_week_at_the_set_time() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for p in participant_handles() {
        t.complete_session(&p, 1, "2026-09-07").await;
    }
    t.advance_to("2026-09-08T07:30:00Z").await;
    let sponsors = "C00000001";
    // Mondays 09:30 in Prague: 07:30Z in September.
    t.advance_to("2026-09-14T07:29:00Z").await;
    assert!(t.sim.messages_in(sponsors).is_empty());
    t.advance_to("2026-09-14T07:30:00Z").await;
    let posted = t.sim.messages_in(sponsors);
    assert_eq!(posted.len(), 1);
    let m = &posted[0];
    assert!(
        m.content
            .text
            .starts_with("Momentum digest for Leadership Academy 2026, week 2026-W37"),
        "{}",
        m.content.text
    );
    let blocks = m.content.blocks.to_string();
    assert!(blocks.contains("Momentum digest · 2026-W37"), "{blocks}");
    assert!(blocks.contains("*Started*\\n18 of 18 (100%)"), "{blocks}");
    // The chart went up the way Slack requires and shows in the message.
    let image = m
        .content
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .cloned()
        .unwrap();
    let file = t
        .sim
        .file(image["slack_file"]["id"].as_str().unwrap())
        .unwrap();
    assert!(file.title.unwrap().contains("2026-W37"));
    let png = png::Decoder::new(std::io::Cursor::new(file.bytes))
        .read_info()
        .unwrap();
    assert_eq!((png.info().width, png.info().height), (960, 600));
    assert_eq!(t.sim.call_count("files.getUploadURLExternal"), 1);
    assert_eq!(t.sim.call_count("files.completeUploadExternal"), 1);
    // Once: the dispatcher running again, or the program re-applied, sends nothing more.
    assert_eq!(t.dispatch().await.handled(), 0);
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.advance_to("2026-09-14T12:00:00Z").await;
    assert_eq!(t.sim.messages_in(sponsors).len(), 1);
    // The next one is planned for the following Monday, about the following week.
    let next: Vec<(String, String)> = sqlx::query_as(
        "SELECT period, state FROM jobs WHERE org_id = $1 AND purpose = 'digest' ORDER BY period",
    )
    .bind(t.org.id.0)
    .fetch_all(t.store.pool())
    .await
    .unwrap();
    assert_eq!(
        next,
        vec![
            ("2026-W37".to_string(), "sent".to_string()),
            ("2026-W38".to_string(), "pending".to_string())
        ]
    );
}

#[tokio::test]
async fn retention_deletes_raw_events_and_keeps_every_weeks_figures() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let people = participant_handles();
    // Small steps go out on Tuesday (09:30 local: Prague, London, New York).
    t.small_steps_for(&people).await;
    t.clock.set("2026-09-09T10:00:00Z".parse().unwrap());
    for p in people.iter().take(10) {
        let user = t.user_id(p);
        t.name_step(p, "kept only for a while").await;
        t.sim
            .slash_command(&user, "/momentum", "note kept only for a while")
            .await
            .unwrap();
    }
    // Friday's follow-ups: the ten tap "did it".
    for at in [
        "2026-09-11T14:00:00Z",
        "2026-09-11T15:00:00Z",
        "2026-09-11T20:00:00Z",
    ] {
        t.advance_to(at).await;
    }
    for p in people.iter().take(10) {
        t.report_on_follow_up(p, "report:done").await;
    }
    // Eighty days later, with a 30-day retention.
    t.clock.set("2026-11-30T08:00:00Z".parse().unwrap());
    let before: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .json()
        .await
        .unwrap();
    assert!(t.count("taps").await >= 10 && t.count("notes").await == 10);
    let removed = t.app.apply_retention(30).await.unwrap();
    assert!(
        removed.taps >= 10 && removed.answers >= 10 && removed.jobs > 0,
        "{removed:?}"
    );
    assert_eq!((removed.notes, removed.steps), (10, 10));
    for table in ["taps", "reports", "notes", "steps"] {
        assert_eq!(t.count(table).await, 0, "{table}");
    }
    let after: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "the weekly figures outlive the events");
    let w37 = after
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["week"] == "2026-W37")
        .unwrap()
        .clone();
    assert_eq!(w37["actions"]["done"], 10, "{w37}");
    // One replica a day runs it.
    let now = t.clock.now();
    let day = jiff::SignedDuration::from_hours(24);
    assert!(t
        .store
        .claim_maintenance("retention", now, day)
        .await
        .unwrap());
    assert!(!t
        .store
        .claim_maintenance("retention", now, day)
        .await
        .unwrap());
}
