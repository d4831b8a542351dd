//! Participants' planned dates from the coaching platform's bookings: an
//! iCalendar upload (POST /api/v1/programs/{key}/bookings) and the
//! program's `bookings_feed`, read hourly.

use crate::helpers::{spawn_app, TestApp, PROGRAM};
use momentum::app::Scope;
use serde_json::Value;

const FEED: &str = "https://coaching.example/feeds/acme.ics?token=s3cret";

/// A calendar of `events` (each a few lines), as a platform exports it.
fn calendar(events: &[&str]) -> String {
    let body: String = events
        .iter()
        .map(|e| {
            let lines: String = e.lines().map(|l| format!("{}\r\n", l.trim())).collect();
            format!("BEGIN:VEVENT\r\n{lines}END:VEVENT\r\n")
        })
        .collect();
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Coaching Platform//EN\r\n{body}END:VCALENDAR\r\n")
}

/// One booking of `who` (a handle of the sample program) with the coach.
fn booking(uid: &str, who: &str, start: &str) -> String {
    format!(
        "UID:{uid}\nDTSTART{start}\nORGANIZER;CN=Coach:mailto:coach@coaching.example\n\
         ATTENDEE;CN=Coach:mailto:coach@coaching.example\nATTENDEE:mailto:{who}@acme.example\nSUMMARY:Coaching"
    )
}

async fn upload(app: &TestApp, token: &str, ctype: &str, body: String) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/programs/leaders-2026/bookings", app.url))
        .bearer_auth(token)
        .header("Content-Type", ctype)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A participant's planned sessions: (number, planned, from).
async fn planned(app: &TestApp, handle: &str) -> Vec<(u64, Option<String>, String)> {
    let id = app
        .participant_status(&format!("{handle}@acme.example"))
        .await["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .get(
            &app.admin_token,
            &format!("/api/v1/programs/leaders-2026/participants/{id}/sessions"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["number"].as_u64().unwrap(),
                s["planned"].as_str().map(str::to_string),
                s["from"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn session(n: u64, on: &str, from: &str) -> (u64, Option<String>, String) {
    (n, Some(on.to_string()), from.to_string())
}

/// The service with the sample program, and a token for the platform.
async fn sample_program() -> (TestApp, String) {
    let app = spawn_app().await;
    let resp = app.apply_yaml(&app.admin_token, &PROGRAM).await;
    assert_eq!(resp.status(), 200);
    let token = app.token(Scope::SessionsWrite).await;
    (app, token)
}

#[tokio::test]
async fn bookings_plan_each_participants_next_sessions_and_move_with_them() {
    let (app, token) = sample_program().await;
    app.complete_session("jana.novakova", 1, "2026-09-07").await;
    let first = calendar(&[
        // Jana's session 1, done: not a session to plan.
        &booking("j1", "jana.novakova", ":20260907T080000Z"),
        &booking("j2", "jana.novakova", ":20260923T080000Z"),
        &booking("j3", "jana.novakova", ";TZID=Europe/Prague:20261006T100000"),
        // 22:30 UTC on the 22nd is the 23rd in Prague, Tomáš's zone.
        &booking("t1", "tomas.dvorak", ":20260922T223000Z"),
        &booking("x1", "someone.else", ":20260923T080000Z"),
        "UID:c1\nSTATUS:CANCELLED\nDTSTART:20260924T080000Z\nATTENDEE:mailto:eva.cerna@acme.example",
    ]);
    let resp = upload(&app, &token, "text/calendar", first).await;
    assert_eq!(resp.status(), 200);
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["unknown_attendees"], 1, "{outcome}");
    assert_eq!(outcome["events_skipped"], 1, "{outcome}");
    assert_eq!(outcome["dates_set"], 3, "{outcome}");
    // Eva is named (her booking was cancelled): three participants.
    assert_eq!(outcome["matched"], 3, "{outcome}");

    let jana = planned(&app, "jana.novakova").await;
    assert_eq!(
        jana[1..4],
        [
            session(2, "2026-09-23", "own"),
            session(3, "2026-10-06", "own"),
            session(4, "2026-10-19", "program"),
        ]
    );
    let tomas = planned(&app, "tomas.dvorak").await;
    assert_eq!(
        tomas[..2],
        [
            session(1, "2026-09-23", "own"),
            session(2, "2026-09-21", "program")
        ]
    );
    assert_eq!(
        planned(&app, "eva.cerna").await[0],
        session(1, "2026-09-07", "program")
    );

    // Jana's booking moves to the 25th and her October one is cancelled:
    // session 2 moves, session 3 follows the program again.
    let moved = calendar(&[
        &booking("j2", "jana.novakova", ":20260925T080000Z"),
        &format!(
            "{}\nSTATUS:CANCELLED",
            booking("j3", "jana.novakova", ";TZID=Europe/Prague:20261006T100000")
        ),
        &booking("t1", "tomas.dvorak", ":20260922T223000Z"),
    ]);
    let resp = upload(&app, &token, "text/calendar", moved.clone()).await;
    assert_eq!(resp.status(), 200);
    let jana = planned(&app, "jana.novakova").await;
    assert_eq!(
        jana[1..3],
        [
            session(2, "2026-09-25", "own"),
            session(3, "2026-10-05", "program")
        ]
    );

    // A date set through the API for that session stays over the calendar's.
    let tomas_id = app.participant_status("tomas.dvorak@acme.example").await["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .http
        .put(format!(
            "{}/api/v1/programs/leaders-2026/participants/{tomas_id}/sessions",
            app.url
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"sessions": [{"number": 1, "planned": "2026-09-30"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = upload(&app, &token, "text/calendar", moved).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        planned(&app, "tomas.dvorak").await[0],
        session(1, "2026-09-30", "own")
    );
}

#[tokio::test]
async fn a_calendar_that_is_not_icalendar_or_too_large_changes_nothing() {
    let (app, token) = sample_program().await;
    let field_error = |body: &Value| {
        (
            body["errors"][0]["path"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };

    let resp = upload(
        &app,
        &token,
        "text/calendar",
        "name,email\nJana,jana.novakova@acme.example\n".into(),
    )
    .await;
    assert_eq!(resp.status(), 422);
    let (path, message) = field_error(&resp.json().await.unwrap());
    assert_eq!(path, "calendar");
    assert!(message.contains("not an iCalendar file"), "{message}");

    // A good booking, then an unreadable one: nothing is applied.
    let broken = calendar(&[
        &booking("j1", "jana.novakova", ":20260923T080000Z"),
        &booking("t1", "tomas.dvorak", ":2026-09-23"),
    ]);
    let resp = upload(&app, &token, "text/calendar", broken).await;
    assert_eq!(resp.status(), 422);
    let (path, message) = field_error(&resp.json().await.unwrap());
    assert_eq!(path, "calendar");
    assert!(
        message.contains("DTSTART") && message.starts_with("line "),
        "{message}"
    );
    assert_eq!(
        planned(&app, "jana.novakova").await[0],
        session(1, "2026-09-07", "program")
    );

    let big = calendar(&[&format!(
        "UID:big\nDESCRIPTION:{}",
        "x".repeat(3 * 1024 * 1024)
    )]);
    let resp = upload(&app, &token, "text/calendar", big).await;
    assert_eq!(resp.status(), 413);
    let (path, message) = field_error(&resp.json().await.unwrap());
    assert_eq!(path, "calendar");
    assert!(message.contains("more than the 2048 KiB"), "{message}");

    let resp = upload(&app, &token, "application/json", "{}".into()).await;
    assert_eq!(resp.status(), 415);
    let resp = upload(&app, "not-a-token", "text/calendar", calendar(&[])).await;
    assert_eq!(resp.status(), 401);
}

/// The sample program with a bookings feed.
fn with_feed(feed: &str) -> String {
    PROGRAM.replacen(
        "  key: leaders-2026\n",
        &format!("  key: leaders-2026\n  bookings_feed: \"{feed}\"\n"),
        1,
    )
}

#[tokio::test]
async fn the_bookings_feed_is_read_every_hour() {
    let app = spawn_app().await;
    let resp = app
        .apply_yaml(
            &app.admin_token,
            &with_feed("http://coaching.example/feed.ics"),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["path"], "program.bookings_feed", "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("https only"));

    assert_eq!(
        app.apply_yaml(&app.admin_token, &with_feed(FEED))
            .await
            .status(),
        200
    );
    app.feeds.serve(
        FEED,
        &calendar(&[&booking("j1", "jana.novakova", ":20260921T080000Z")]),
    );
    assert_eq!(app.app.refresh_booking_feeds().await.unwrap(), 1);
    assert_eq!(
        planned(&app, "jana.novakova").await[0],
        session(1, "2026-09-21", "own")
    );

    // The booking moves; within the hour the feed is not read again.
    app.feeds.serve(
        FEED,
        &calendar(&[&booking("j1", "jana.novakova", ":20260924T080000Z")]),
    );
    app.clock.set("2026-09-07T05:59:00Z".parse().unwrap());
    assert_eq!(app.app.refresh_booking_feeds().await.unwrap(), 0);
    assert_eq!(
        planned(&app, "jana.novakova").await[0],
        session(1, "2026-09-21", "own")
    );
    // An hour on, it is, and the date moves.
    app.clock.set("2026-09-07T06:00:00Z".parse().unwrap());
    assert_eq!(app.app.refresh_booking_feeds().await.unwrap(), 1);
    assert_eq!(
        planned(&app, "jana.novakova").await[0],
        session(1, "2026-09-24", "own")
    );
    assert_eq!(app.feeds.reads.load(std::sync::atomic::Ordering::SeqCst), 2);

    // A feed that stops answering changes nothing and is tried an hour later.
    app.feeds.serve(FEED, "<html>maintenance</html>");
    app.clock.set("2026-09-07T07:00:00Z".parse().unwrap());
    assert_eq!(app.app.refresh_booking_feeds().await.unwrap(), 0);
    assert_eq!(app.feeds.reads.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(
        planned(&app, "jana.novakova").await[0],
        session(1, "2026-09-24", "own")
    );
}
