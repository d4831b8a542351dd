//! Each participant's own planned dates: set over the API, from a schedule
//! CSV or in the program file; session usage, the next session and the
//! schedule are computed from them (own date, else cohort's, else program's).

use crate::helpers::*;
use serde_json::{json, Value};

impl TestApp {
    async fn participant_id(&self, handle: &str) -> i64 {
        let who = momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &self.user_id(handle));
        self.app.overview(&who).await.unwrap().unwrap().programs[0]
            .participant_id
            .0
    }

    async fn put_dates(&self, participant: i64, body: Value) -> reqwest::Response {
        self.http
            .put(format!(
                "{}/api/v1/programs/leaders-2026/participants/{participant}/sessions",
                self.url
            ))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn own_schedule(&self, participant: i64) -> Value {
        let resp = self
            .get(
                &self.admin_token,
                &format!("/api/v1/programs/leaders-2026/participants/{participant}/sessions"),
            )
            .await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    async fn post_schedule(&self, csv: &str, dry_run: bool) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/api/v1/programs/leaders-2026/schedule?dry_run={dry_run}",
                self.url
            ))
            .bearer_auth(&self.admin_token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap()
    }
}

/// A session's row as stored: (completed_on, source, planned_on, planned_source).
async fn stored(
    t: &TestApp,
    participant: i64,
    number: i64,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    sqlx::query_as(
        "SELECT completed_on, source, planned_on, planned_source FROM sessions \
         WHERE org_id = $1 AND participant_id = $2 AND number = $3",
    )
    .bind(t.org.id.0)
    .bind(participant)
    .bind(number)
    .fetch_optional(t.store.pool())
    .await
    .unwrap()
    .unwrap_or_default()
}

fn planned(schedule: &Value, number: usize) -> (Value, Value) {
    let s = &schedule["sessions"][number - 1];
    (s["planned"].clone(), s["from"].clone())
}

/// Six of eighteen meet their coach for session 2 on 30 September, not on
/// the program's 21 September: the week of 21 September expects only the
/// other twelve's session 2, so everyone attending as planned is 100%.
#[tokio::test]
async fn session_usage_counts_each_participants_own_dates() {
    let t = spawn_app().await;
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let people = participant_handles();
    t.small_steps_for(&people).await;
    for p in people.iter().take(6) {
        let id = t.participant_id(p).await;
        let resp = t
            .put_dates(
                id,
                json!({"sessions": [{"number": 2, "planned": "2026-09-30"}]}),
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    for p in people.iter().skip(6) {
        t.complete_session(p, 2, "2026-09-21").await;
    }
    t.clock.set("2026-09-28T08:00:00Z".parse().unwrap());
    let weeks: Vec<Value> = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/aggregates")
        .await
        .json()
        .await
        .unwrap();
    let w39 = weeks.iter().find(|w| w["week"] == "2026-W39").unwrap();
    assert_eq!(
        w39["session_usage"], 100,
        "30 of 30 sessions due by each person's dates (83% by the program's): {w39}"
    );
    // The six's next session is their own 30 September; the others' is
    // the program's session 3.
    let who = |h: &str| momentum::domain::ChatIdentity::slack("T0SIMTEAM1", &t.user_id(h));
    let early = t.app.overview(&who(&people[0])).await.unwrap().unwrap();
    assert_eq!(
        early.programs[0].next_session,
        Some((2, Some("2026-09-30".parse().unwrap())))
    );
    let other = t.app.overview(&who(&people[10])).await.unwrap().unwrap();
    assert_eq!(
        other.programs[0].next_session,
        Some((3, Some("2026-10-05".parse().unwrap())))
    );
}

/// The API sets a participant's whole list (the same call twice changes
/// nothing), `null` keeps a session planned without a date, and every
/// wrong field is named with nothing applied.
#[tokio::test]
async fn own_dates_over_the_api_are_idempotent_and_checked() {
    let t = spawn_app().await;
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let jana = t.participant_id("jana.novakova").await;
    let body = json!({"sessions": [
        {"number": 2, "planned": "2026-09-23"},
        {"number": 3, "planned": null},
    ]});
    let first: Value = t.put_dates(jana, body.clone()).await.json().await.unwrap();
    let second: Value = t.put_dates(jana, body).await.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(planned(&first, 1), (json!("2026-09-07"), json!("program")));
    assert_eq!(planned(&first, 2), (json!("2026-09-23"), json!("own")));
    assert_eq!(planned(&first, 3), (Value::Null, json!("own")));
    assert_eq!(t.own_schedule(jana).await, first);

    // Wrong: a session the program does not plan, a date that is not one,
    // a session twice. Each is named; nothing changes.
    let resp = t
        .put_dates(
            jana,
            json!({"sessions": [
                {"number": 9, "planned": "2026-09-23"},
                {"number": 2, "planned": "soon"},
                {"number": 4, "planned": "2026-10-20"},
                {"number": 4, "planned": "2026-10-21"},
            ]}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.unwrap();
    for field in [
        "sessions[0].number",
        "sessions[1].planned",
        "sessions[3].number",
    ] {
        assert!(text.contains(field), "{field} not named in {text}");
    }
    assert_eq!(t.own_schedule(jana).await, first);
    let resp = t.put_dates(jana, json!({"dates": []})).await;
    assert_eq!(resp.status(), 422);
    let resp = t.put_dates(999_999, json!({"sessions": []})).await;
    assert_eq!(resp.status(), 404);

    // An empty list: back to the program's dates.
    let back: Value = t
        .put_dates(jana, json!({"sessions": []}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(planned(&back, 2), (json!("2026-09-21"), json!("program")));
}

/// The program file gives cohorts and participants dates of their own; a
/// date given since by the API survives re-applying the file, and a
/// participant entry without `sessions` leaves their dates alone.
#[tokio::test]
async fn the_program_file_plans_cohort_and_own_dates() {
    let t = spawn_app().await;
    let yaml = PROGRAM
        .replace(
            "  - { key: autumn-2026, name: Autumn 2026 }",
            "  - { key: autumn-2026, name: Autumn 2026, sessions: [{ number: 2, planned: 2026-09-22 }] }",
        )
        .replace(
            "email: jana.novakova@acme.example,",
            "email: jana.novakova@acme.example, sessions: [{ number: 1, planned: 2026-09-08 }, { number: 3, planned: 2026-10-06 }],",
        );
    assert!(yaml.contains("planned: 2026-09-22") && yaml.contains("planned: 2026-09-08"));
    let resp = t.apply_yaml(&t.admin_token, &yaml).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let jana = t.participant_id("jana.novakova").await;
    let s = t.own_schedule(jana).await;
    assert_eq!(planned(&s, 1), (json!("2026-09-08"), json!("own")));
    assert_eq!(planned(&s, 2), (json!("2026-09-22"), json!("cohort")));
    assert_eq!(planned(&s, 3), (json!("2026-10-06"), json!("own")));
    // The API moves session 3; applying the same file again keeps that.
    t.put_dates(
        jana,
        json!({"sessions": [{"number": 1, "planned": "2026-09-08"}, {"number": 3, "planned": "2026-10-09"}]}),
    )
    .await;
    assert_eq!(t.apply_yaml(&t.admin_token, &yaml).await.status(), 200);
    assert_eq!(
        planned(&t.own_schedule(jana).await, 3).0,
        json!("2026-10-09")
    );
    // Wrong numbers and dates in the file are named.
    let bad = yaml.replace(
        "{ number: 3, planned: 2026-10-06 }",
        "{ number: 8, planned: 6.10.2026 }",
    );
    let resp = t.apply_yaml(&t.admin_token, &bad).await;
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.unwrap();
    assert!(text.contains("participants[0].sessions"), "{text}");
    assert!(text.contains("not a date"), "{text}");
}

/// A schedule CSV: every row's problem named before anything is applied;
/// then own dates, completions and a group session in one upload.
#[tokio::test]
async fn a_schedule_csv_plans_and_completes_sessions() {
    let t = spawn_app().await;
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let bad = "email;cohort;session;planned;completed\n\
        jana.novakova@acme.example;;2;2026-09-23;\n\
        nobody@acme.example;;2;2026-09-23;\n\
        tomas.dvorak@acme.example;;2;23/09/2026;\n\
        ;autumn-2026;9;;2026-09-07\n";
    let resp = t.post_schedule(bad, false).await;
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.unwrap();
    for named in [
        "line 3",
        "nobody@acme.example",
        "line 4",
        "23/09/2026",
        "line 5",
    ] {
        assert!(text.contains(named), "{named} not in {text}");
    }
    assert!(!text.contains("line 2"), "{text}");
    let jana = t.participant_id("jana.novakova").await;
    assert_eq!(planned(&t.own_schedule(jana).await, 2).1, json!("program"));
    assert_eq!(t.count("sessions").await, 0, "nothing applied");

    let good = "email,cohort,session,planned,completed\n\
        ,autumn-2026,1,,2026-09-07\n\
        jana.novakova@acme.example,,2,2026-09-23,\n\
        tomas.dvorak@acme.example,,2,2026-09-24,2026-09-24\n";
    let checked: Value = t.post_schedule(good, true).await.json().await.unwrap();
    assert_eq!(checked["applied"], false);
    assert_eq!(t.count("sessions").await, 0, "a dry run applies nothing");
    let resp = t.post_schedule(good, false).await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["outcome"]["dates_set"], 2, "{out}");
    let cohort_size = out["outcome"]["completions_recorded"].as_u64().unwrap() - 1;
    assert!(cohort_size >= 10, "{out}");
    assert_eq!(
        planned(&t.own_schedule(jana).await, 2).0,
        json!("2026-09-23")
    );
    let tomas = t.own_schedule(t.participant_id("tomas.dvorak").await).await;
    assert_eq!(tomas["sessions"][1]["completed_on"], "2026-09-24");
    // The same file again: nothing new.
    let again: Value = t.post_schedule(good, false).await.json().await.unwrap();
    assert_eq!(again["outcome"]["completions_recorded"], 0, "{again}");
}

/// The Slack DM messages asking whether a session happened, for a handle.
fn session_checks(t: &TestApp, handle: &str) -> Vec<momentum::chat::sim::SimMessage> {
    let channel = momentum::chat::sim::SimWorkspace::dm_channel(&t.user_id(handle));
    t.sim
        .messages_in(&channel)
        .into_iter()
        .filter(|m| m.content.text.contains("happen"))
        .collect()
}

/// On the planned date at 17:00 local, everyone whose session was not
/// reported is asked whether it happened: "yes" completes it from chat
/// (once, with the platform's report), "it moved" plans it on the new day
/// and asks again then, "cancelled" keeps it without a date; a day already
/// past is refused.
#[tokio::test]
async fn participants_confirm_their_sessions_in_chat() {
    let t = spawn_app().await;
    let asking = PROGRAM.replace(NO_SESSION_QUESTION, "");
    assert_eq!(t.apply_yaml(&t.admin_token, &asking).await.status(), 200);
    let people = participant_handles();
    let (jana, eva, petr, reported) = (&people[0], &people[1], &people[2], &people[3]);
    for p in &people {
        t.complete_session(p, 1, "2026-09-07").await;
    }
    // Session 2 (21 September): one participant's is reported before the evening.
    t.clock.set("2026-09-21T12:00:00Z".parse().unwrap());
    t.complete_session(reported, 2, "2026-09-21").await;
    t.advance_to("2026-09-21T15:00:00Z").await;
    assert!(
        session_checks(&t, reported).is_empty(),
        "a reported session is not asked about"
    );
    let asked = session_checks(&t, jana);
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].content.text.contains("session 2"),
        "{}",
        asked[0].content.text
    );

    // Yes: completed from chat on the planned day; the webhook after it is one completion.
    let user = t.user_id(jana);
    let channel = momentum::chat::sim::SimWorkspace::dm_channel(&user);
    t.sim
        .tap(&user, &channel, &asked[0].ts, "session:yes")
        .await
        .unwrap();
    assert!(
        t.eventually(|| {
            session_checks(&t, jana)[0]
                .content
                .blocks
                .to_string()
                .contains("it happened")
        })
        .await
    );
    let jana_id = t.participant_id(jana).await;
    assert_eq!(
        stored(&t, jana_id, 2).await,
        (Some("2026-09-21".into()), Some("chat".into()), None, None)
    );
    // HR's view does not move with her tap.
    assert_eq!(
        t.own_schedule(jana_id).await["sessions"][1]["completed_on"],
        Value::Null
    );
    let again: Value = t
        .post_session(
            &t.admin_token,
            "leaders-2026",
            json!({"participant": {"email": format!("{jana}@acme.example")}, "session": 2}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["recorded"], false, "{again}");

    // It moved: a day already past is refused (nothing changes), a later one is planned.
    let user = t.user_id(eva);
    let channel = momentum::chat::sim::SimWorkspace::dm_channel(&user);
    let ts = session_checks(&t, eva)[0].ts.clone();
    let eva_id = t.participant_id(eva).await;
    t.sim
        .pick_date(&user, &channel, &ts, "session:moved", "2026-09-18")
        .await
        .unwrap();
    assert!(
        t.eventually(|| t
            .sim
            .ephemerals_for(&user)
            .iter()
            .any(|e| e.text.contains("2026-09-18")))
            .await
    );
    assert_eq!(stored(&t, eva_id, 2).await, (None, None, None, None));
    t.sim
        .pick_date(&user, &channel, &ts, "session:moved", "2026-09-24")
        .await
        .unwrap();
    assert_eq!(
        stored(&t, eva_id, 2).await,
        (None, None, Some("2026-09-24".into()), Some("chat".into()))
    );
    assert_eq!(
        planned(&t.own_schedule(eva_id).await, 2),
        (json!("2026-09-21"), json!("program")),
        "HR's view does not move with her answer"
    );
    // Cancelled: planned without a date; nobody asks about it again.
    let user = t.user_id(petr);
    let channel = momentum::chat::sim::SimWorkspace::dm_channel(&user);
    let ts = session_checks(&t, petr)[0].ts.clone();
    t.sim
        .tap(&user, &channel, &ts, "session:cancelled")
        .await
        .unwrap();
    let petr_id = t.participant_id(petr).await;
    assert_eq!(
        stored(&t, petr_id, 2).await,
        (None, None, None, Some("chat".into()))
    );

    // 24 September, 17:00: Eva is asked again about session 2; Petr is not.
    t.advance_to("2026-09-24T15:00:00Z").await;
    let eva_asked = session_checks(&t, eva);
    assert_eq!(eva_asked.len(), 2);
    assert!(eva_asked[1].content.text.contains("session 2"));
    assert_eq!(session_checks(&t, petr).len(), 1);
}

/// A program whose coaching platform always reports sessions turns the
/// question off.
#[tokio::test]
async fn a_program_can_turn_the_session_question_off() {
    let t = spawn_app().await;
    assert!(PROGRAM.contains(NO_SESSION_QUESTION));
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let people = participant_handles();
    t.advance_to("2026-09-07T15:00:00Z").await;
    assert!(session_checks(&t, &people[0]).is_empty());
    let bad = PROGRAM.replace(
        "  nudges:\n",
        "  session_confirmation: { at: \"25:00\" }\n  nudges:\n",
    );
    let resp = t.apply_yaml(&t.admin_token, &bad).await;
    assert_eq!(resp.status(), 422);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("program.session_confirmation.at"));
}
