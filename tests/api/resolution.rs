//! People given by email are matched to chat users in the background:
//! applying answers at once, nudges wait for the people still being
//! resolved, an interrupted round finishes without repeating look-ups or
//! losing anyone, two resolvers never do the same work, and an email no
//! workspace knows ends as "not found in chat".

use crate::helpers::*;
use momentum::chat::slack::limits::SlackLimits;
use momentum::clock::Clock;
use momentum::domain::Platform;
use serde_json::Value;

/// Calls to Slack's user directory (look-ups, pages, profiles).
fn directory_calls(t: &TestApp) -> usize {
    ["users.list", "users.lookupByEmail", "users.info"]
        .iter()
        .map(|m| t.sim.call_count(m))
        .sum()
}

async fn program_detail(t: &TestApp) -> Value {
    let resp = t.get(&t.admin_token, "/api/v1/programs/leaders-2026").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn applying_answers_before_resolving_and_nudges_wait_for_it() {
    let t = spawn_app_resolving_later(None).await;
    let applied: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    let people = applied["resolving"].as_i64().unwrap();
    assert!(people >= 18, "everyone waits to be resolved: {applied}");
    assert_eq!(t.sim.call_count("users.lookupByEmail"), 0);
    assert_eq!(t.sim.call_count("users.list"), 0);
    let detail = program_detail(&t).await;
    assert_eq!(detail["resolution"]["resolving"], people);
    assert_eq!(detail["resolution"]["people"], people);
    let jana = t.participant_status("jana.novakova@acme.example").await;
    assert_eq!(jana["reachability"], "resolving");

    // Their small steps fall due while they still wait: deferred, not skipped.
    let handles = participant_handles();
    for h in &handles {
        t.complete_session(h, 1, "2026-09-07").await;
    }
    let before = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!(before.sent, 0);
    assert_eq!(before.skipped + before.failed, 0, "{before:?}");
    assert!(before.waiting > 0, "{before:?}");

    let rounds = t.resolve().await;
    let resolved: usize = rounds.iter().map(|r| r.resolved).sum();
    assert_eq!(resolved as i64, people);
    // One page of users.list (the local workspace is small), no look-ups.
    assert_eq!(t.sim.call_count("users.list"), 1);
    assert_eq!(t.sim.call_count("users.lookupByEmail"), 0);
    let detail = program_detail(&t).await;
    assert_eq!(detail["resolution"]["resolving"], 0);
    assert_eq!(detail["resolution"]["not_found"], serde_json::json!([]));

    let mut sent = 0;
    for at in [
        "2026-09-08T07:32:00Z",
        "2026-09-08T08:30:00Z",
        "2026-09-08T13:30:00Z",
    ] {
        sent += t.advance_to(at).await.sent;
    }
    assert_eq!(sent + before.sent, handles.len(), "one small step each");
    let skipped: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND state IN ('skipped', 'failed')",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(skipped, 0);
    // Each nudge went out once.
    assert_eq!(t.sim.call_count("chat.postMessage"), sent);
}

#[tokio::test]
async fn an_unknown_email_ends_as_not_found_not_as_a_retry_loop() {
    let t = spawn_app_resolving_later(None).await;
    let file = PROGRAM.replace("jana.novakova@acme.example", "jana.n@elsewhere.example");
    assert_eq!(t.apply_yaml(&t.admin_token, &file).await.status(), 200);
    t.resolve().await;
    let jana = t.participant_status("jana.n@elsewhere.example").await;
    assert_eq!(jana["reachability"], "not_found_in_chat");
    assert_eq!(jana["reason"], "no chat user has this email");
    let detail = program_detail(&t).await;
    assert_eq!(
        detail["resolution"]["not_found"],
        serde_json::json!(["jana.n@elsewhere.example: no chat user has this email"])
    );
    // Nothing is left to try again.
    let calls = directory_calls(&t);
    assert!(t
        .app
        .resolve_waiting(None, "again")
        .await
        .unwrap()
        .is_none());
    assert_eq!(directory_calls(&t), calls);
}

#[tokio::test]
async fn applying_the_same_file_again_resolves_no_one_again() {
    let t = spawn_app_resolving_later(None).await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    t.resolve().await;
    let calls = directory_calls(&t);
    let again: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["resolving"], 0);
    assert!(t.resolve().await.is_empty());
    assert_eq!(directory_calls(&t), calls, "no one looked up again");
}

/// Slack's limits at 20 times their pace, and a remembered workspace of
/// 100,000 users: the waiting people are looked up one by one.
async fn big_workspace() -> TestApp {
    let t = spawn_app_resolving_later(Some(SlackLimits::default().scaled(20))).await;
    let team = t.sim.config.team_id.clone();
    t.store
        .remember_directory_size(t.org.id, Platform::Slack, &team, 100_000, t.clock.now())
        .await
        .unwrap();
    t
}

async fn people_resolved(t: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM people WHERE org_id = $1 AND user_id IS NOT NULL AND resolve_due_at IS NULL",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_round_interrupted_by_a_restart_finishes_without_repeating_lookups() {
    let t = big_workspace().await;
    let applied: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    let people = applied["resolving"].as_i64().unwrap() as usize;
    // The first resolver dies after a few look-ups.
    let app = t.app.clone();
    let first = tokio::spawn(async move { app.resolve_waiting(None, "dies").await });
    // Bounded: a resolver that never looks anyone up fails the test, not CI's time.
    let looked_up = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while t.sim.call_count("users.lookupByEmail") < 5 && !first.is_finished() {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(
        looked_up.is_ok() && t.sim.call_count("users.lookupByEmail") >= 5,
        "the first resolver made {} look-ups and {} directory calls in 30 s",
        t.sim.call_count("users.lookupByEmail"),
        t.sim.call_count("users.list")
    );
    first.abort();
    let _ = first.await;
    let done_before = people_resolved(&t).await;
    assert!(done_before >= 4, "look-ups are stored as they come");
    // Its claim holds until the lease runs out; then another takes over.
    assert!(t
        .app
        .resolve_waiting(None, "early")
        .await
        .unwrap()
        .is_none());
    let later =
        t.clock.now() + momentum::app::RESOLUTION_LEASE + jiff::SignedDuration::from_secs(1);
    t.clock.set(later);
    let rounds = t.app.resolve_all(t.org.id, "restarted").await.unwrap();
    assert_eq!(rounds.len(), 1);
    assert_eq!(people_resolved(&t).await as usize, people, "no one lost");
    let lookups = t.sim.call_count("users.lookupByEmail");
    // At most the one look-up in flight when the first resolver died (its
    // answer never stored) is asked again.
    assert!(
        lookups <= people + 1,
        "{lookups} look-ups for {people} people"
    );
    assert_eq!(t.sim.call_count("users.list"), 1, "one sweep for languages");
}

#[tokio::test]
async fn two_resolvers_never_do_the_same_work() {
    let t = big_workspace().await;
    let applied: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    let people = applied["resolving"].as_i64().unwrap() as usize;
    let (a, b) = tokio::join!(
        t.app.resolve_waiting(None, "replica-a"),
        t.app.resolve_waiting(None, "replica-b")
    );
    let claimed: usize = [a.unwrap(), b.unwrap()]
        .iter()
        .flatten()
        .map(|r| r.claimed)
        .sum();
    assert_eq!(claimed, people, "each person claimed once");
    assert_eq!(people_resolved(&t).await as usize, people);
    assert_eq!(t.sim.call_count("users.lookupByEmail"), people);
}

/// A figure, not a test: 2,000 participants by email in a workspace of
/// 20,000 users, Slack's limits paced at 20 times their rate (pages and
/// look-ups counted as they are; times scale by 20 back to Slack's pace).
/// `cargo test --test api resolution::figure -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn figure() {
    let t = spawn_app_resolving_later(Some(SlackLimits::default().scaled(20))).await;
    for i in 0..20_000 {
        t.sim.add_user(
            &format!("u{i}"),
            &format!("User {i}"),
            &format!("u{i}@big.example"),
            "UTC",
        );
    }
    let mut yaml = String::from(
        "version: 1\nprogram:\n  key: big\n  name: Big\n  time_zone: UTC\n  sessions:\n    - { number: 1, planned: 2026-10-01 }\n  nudges:\n    - { kind: small_step, days_after_session: 1, at: \"09:30\" }\nparticipants:\n",
    );
    for i in (0..20_000).step_by(10) {
        yaml.push_str(&format!("  - {{ email: u{i}@big.example }}\n"));
    }
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let started = std::time::Instant::now();
    let applied = t.app.apply_program(t.org.id, &doc, false).await.unwrap();
    let apply = started.elapsed();
    let started = std::time::Instant::now();
    let rounds = t.resolve().await;
    let resolve = started.elapsed();
    let resolved: usize = rounds.iter().map(|r| r.resolved).sum();
    println!(
        "applied {} participants in {apply:?} ({} waiting); resolved {resolved} in {resolve:?} at 20x pace; \
         users.list {} calls, users.lookupByEmail {} calls",
        applied.participants_added,
        applied.resolving,
        t.sim.call_count("users.list"),
        t.sim.call_count("users.lookupByEmail"),
    );
}

/// A program file naming `emails` by email alone (key `big`).
fn big_program(emails: &[String]) -> String {
    let mut yaml = String::from(
        "version: 1\nprogram:\n  key: big\n  name: Big\n  time_zone: UTC\n  sessions:\n    - { number: 1, planned: 2026-10-01 }\n  nudges:\n    - { kind: small_step, days_after_session: 1, at: \"09:30\" }\nparticipants:\n",
    );
    for e in emails {
        yaml.push_str(&format!("  - {{ email: \"{e}\" }}\n"));
    }
    yaml
}

async fn big_detail(t: &TestApp) -> Value {
    let resp = t.get(&t.admin_token, "/api/v1/programs/big").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_sweep_interrupted_by_a_restart_goes_on_from_the_page_it_reached() {
    // Slack's limits at 20 times their pace: a page every 150 ms.
    let t = spawn_app_resolving_later(Some(SlackLimits::default().scaled(20))).await;
    for i in 0..2_000 {
        t.sim.add_user(
            &format!("u{i}"),
            &format!("User {i}"),
            &format!("u{i}@big.example"),
            "UTC",
        );
    }
    let team = t.sim.config.team_id.clone();
    let users = t.sim.users().len();
    t.store
        .remember_directory_size(
            t.org.id,
            Platform::Slack,
            &team,
            users as i64,
            t.clock.now(),
        )
        .await
        .unwrap();
    let pages = users.div_ceil(200);
    // Spread over the whole directory: every page has some of them.
    let emails: Vec<String> = (0..2_000)
        .step_by(7)
        .map(|i| format!("u{i}@big.example"))
        .collect();
    let applied: Value = t
        .apply_yaml(&t.admin_token, &big_program(&emails))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        applied["resolving"].as_u64().unwrap() as usize,
        emails.len()
    );
    let app = t.app.clone();
    let first = tokio::spawn(async move { app.resolve_waiting(None, "dies").await });
    let swept = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while t.sim.call_count("users.list") < 3 && !first.is_finished() {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    first.abort();
    let _ = first.await;
    let before = t.sim.call_count("users.list");
    assert!(
        swept.is_ok() && (3..pages).contains(&before),
        "the first resolver read {before} of {pages} pages"
    );
    let progress = big_detail(&t).await;
    let left = progress["resolution"]["resolving"].as_u64().unwrap() as usize;
    assert!(left > 0 && left < emails.len(), "{progress}");
    // HR's estimate counts the pages still to read (at Slack's own pace:
    // 20 pages a minute), not the whole directory again.
    let minutes = progress["resolution"]["minutes_left"].as_f64().unwrap();
    assert!(
        minutes <= (pages - before + 1) as f64 / 20.0 + 0.1,
        "{minutes} min for {} pages left",
        pages - before
    );
    let later =
        t.clock.now() + momentum::app::RESOLUTION_LEASE + jiff::SignedDuration::from_secs(1);
    t.clock.set(later);
    t.app.resolve_all(t.org.id, "restarted").await.unwrap();
    let detail = big_detail(&t).await;
    assert_eq!(
        detail["resolution"]["resolving"], 0,
        "no one lost: {detail}"
    );
    assert_eq!(detail["resolution"]["not_found"], serde_json::json!([]));
    assert_eq!(people_resolved(&t).await as usize, emails.len());
    // From the saved page on: at most the page in flight is read again.
    let calls = t.sim.call_count("users.list");
    assert!(
        calls <= pages + 1,
        "{calls} pages read for a directory of {pages}"
    );
    assert_eq!(t.sim.call_count("users.lookupByEmail"), 0);
}

#[tokio::test]
async fn a_person_who_joins_the_workspace_after_the_apply_is_matched_by_the_event() {
    let t = spawn_app_resolving_later(None).await;
    let file = PROGRAM.replace("jana.novakova@acme.example", "jana.new@acme.example");
    assert_eq!(t.apply_yaml(&t.admin_token, &file).await.status(), 200);
    t.resolve().await;
    let jana = t.participant_status("jana.new@acme.example").await;
    assert_eq!(jana["reachability"], "not_found_in_chat");
    let calls = directory_calls(&t);
    // She joins the workspace: Slack says so (team_join).
    let (_, reply) = t
        .sim
        .join_user(
            "jana.new",
            "Jana Nová",
            "jana.new@acme.example",
            "Europe/Prague",
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let jana = t.participant_status("jana.new@acme.example").await;
    assert_eq!(jana["reachability"], "reachable", "{jana}");
    let detail = program_detail(&t).await;
    assert_eq!(detail["resolution"]["not_found"], serde_json::json!([]));
    // The event carried everything: no look-up, and no round left to run.
    assert_eq!(directory_calls(&t), calls);
    assert!(t.resolve().await.is_empty());
}

#[tokio::test]
async fn a_changed_email_is_picked_up() {
    let t = spawn_app_resolving_later(None).await;
    let file = PROGRAM.replace("jana.novakova@acme.example", "jana.n@acme.example");
    assert_eq!(t.apply_yaml(&t.admin_token, &file).await.status(), 200);
    t.resolve().await;
    assert_eq!(
        t.participant_status("jana.n@acme.example").await["reachability"],
        "not_found_in_chat"
    );
    let jana = t
        .sim
        .users()
        .into_iter()
        .find(|u| u.email == "jana.novakova@acme.example")
        .unwrap()
        .id;
    let reply = t
        .sim
        .change_email(&jana, "jana.n@acme.example")
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        t.participant_status("jana.n@acme.example").await["reachability"],
        "reachable"
    );
}

#[tokio::test]
async fn a_file_of_ten_thousand_rows_with_forty_bad_ones_is_refused_whole_naming_them() {
    let t = spawn_app_resolving_later(None).await;
    let bad: Vec<usize> = (0..40).map(|i| 17 + i * 249).collect();
    let emails: Vec<String> = (0..10_000)
        .map(|i| {
            if bad.contains(&i) {
                format!("not an email {i}")
            } else {
                format!("p{i}@big.example")
            }
        })
        .collect();
    let resp = t.apply_yaml(&t.admin_token, &big_program(&emails)).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let paths: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 40, "{paths:#?}");
    for i in &bad {
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with(&format!("participants[{i}]"))),
            "row {i} not named in {paths:#?}"
        );
    }
    assert_eq!(t.count("programs").await, 0);
    assert_eq!(t.count("people").await, 0);
}
