//! The admin API: atomic applies with field-named errors, token scopes, and
//! organisations that never see each other.

use crate::helpers::*;
use momentum::app::Scope;
use serde_json::{json, Value};

const BAD: &str = include_str!("../fixtures/bad_program.yaml");

fn paths(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["path"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn an_invalid_file_is_refused_with_every_mistake_and_changes_nothing() {
    let t = spawn_app().await;
    let resp = t.apply_yaml(&t.admin_token, BAD).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let errors = paths(&body);
    for expected in [
        "program.time_zone: \"Mars/Olympus\" is not a known time zone",
        "program.nudges[0].at: \"25:00\" is not a time of day",
        "program.nudges[1].days_after_session: -2 is out of range",
        "program.nudges[2].sessions[0]: session 7 is not planned",
        "participants[1]: duplicate participant",
        "program.colour: unknown field",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "missing {expected:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert_eq!(t.count("programs").await, 0);
    assert_eq!(t.count("people").await, 0);
    assert_eq!(t.count("participants").await, 0);
}

#[tokio::test]
async fn applying_twice_is_idempotent_and_prune_is_explicit() {
    let t = spawn_app().await;
    let first: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["created"], true);
    assert_eq!(first["participants_added"], 18);
    assert_eq!(first["unresolved"], json!([]));
    let again: Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(again["participants_added"], 0);
    assert_eq!(again["participants_unchanged"], 18);
    assert_eq!(t.count("participants").await, 18);

    // A file without the last participant keeps them unless --prune is asked for.
    let shorter: String = PROGRAM
        .lines()
        .filter(|l| !l.contains("filip.benes"))
        .collect::<Vec<_>>()
        .join("\n");
    let kept: Value = t
        .apply_yaml(&t.admin_token, &shorter)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["participants_not_in_file"], 1);
    assert_eq!(kept["participants_deactivated"], 0);
    let pruned: Value = t
        .http
        .post(format!("{}/api/v1/programs?prune=true", t.url))
        .bearer_auth(&t.admin_token)
        .header("Content-Type", "application/yaml")
        .body(shorter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pruned["participants_deactivated"], 1);
    let list: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/participants")
        .await
        .json()
        .await
        .unwrap();
    let inactive: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == false)
        .collect();
    assert_eq!(inactive.len(), 1);
    assert_eq!(inactive[0]["email"], "filip.benes@acme.example");
}

#[tokio::test]
async fn json_bodies_give_the_same_errors_and_unknown_media_types_are_refused() {
    let t = spawn_app().await;
    let doc: Value = serde_norway::from_str(BAD).unwrap();
    let resp = t
        .http
        .post(format!("{}/api/v1/programs", t.url))
        .bearer_auth(&t.admin_token)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(paths(&resp.json().await.unwrap()).len(), 6);
    let resp = t
        .http
        .post(format!("{}/api/v1/programs", t.url))
        .bearer_auth(&t.admin_token)
        .header("Content-Type", "application/xml")
        .body("<program/>")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let resp = t
        .http
        .post(format!("{}/api/v1/programs", t.url))
        .bearer_auth(&t.admin_token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn unresolved_people_are_reported_not_dropped() {
    let t = spawn_app().await;
    let file = PROGRAM.replace("jana.novakova@acme.example", "jana.n@elsewhere.example");
    let out: Value = t
        .apply_yaml(&t.admin_token, &file)
        .await
        .json()
        .await
        .unwrap();
    let unresolved: Vec<String> = serde_json::from_value(out["unresolved"].clone()).unwrap();
    assert_eq!(
        unresolved,
        vec!["jana.n@elsewhere.example: no chat user has this email".to_string()]
    );
    assert_eq!(out["participants_added"], 18);
    let jana = t.participant_status("jana.n@elsewhere.example").await;
    assert_eq!(jana["reachability"], "not_found_in_chat");
    assert_eq!(jana["reason"], "no chat user has this email");
}

#[tokio::test]
async fn a_sessions_token_cannot_apply_programs_and_no_token_sees_nothing() {
    let t = spawn_app().await;
    let sessions = t.token(Scope::SessionsWrite).await;
    let resp = t.apply_yaml(&sessions, &PROGRAM).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(t.count("programs").await, 0);
    assert_eq!(t.get(&sessions, "/api/v1/programs").await.status(), 403);
    assert_eq!(
        t.apply_yaml("mtm_not-a-token", &PROGRAM).await.status(),
        401
    );
    let resp = t
        .http
        .get(format!("{}/api/v1/programs", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The sessions token can do its one job.
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let resp = t
        .post_session(
            &sessions,
            "leaders-2026",
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1}),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn one_organisations_token_sees_nothing_of_another() {
    let t = spawn_app().await;
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let other = t.app.create_org("Other Corp", "UTC", "en").await.unwrap();
    let other_admin = t
        .app
        .create_token(other.id, "other", Scope::Admin)
        .await
        .unwrap();
    let other_sessions = t
        .app
        .create_token(other.id, "other", Scope::SessionsWrite)
        .await
        .unwrap();

    let list: Value = t
        .get(&other_admin, "/api/v1/programs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    assert_eq!(
        t.get(&other_admin, "/api/v1/programs/leaders-2026/participants")
            .await
            .status(),
        404
    );
    assert_eq!(
        t.get(&other_admin, "/api/v1/programs/leaders-2026/delivery")
            .await
            .status(),
        404
    );
    let resp = t
        .post_session(
            &other_sessions,
            "leaders-2026",
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1}),
        )
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(t.count("sessions").await, 0);
    // Only the program's own schedule is planned (its weekly digest and
    // monthly pulse question); nothing follows from the refused session.
    let person_jobs: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND recipient_person_id IS NOT NULL \
         AND purpose <> 'pulse_question'",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(person_jobs, 0);
}

#[tokio::test]
async fn participants_list_shows_who_can_be_reached_and_nothing_anyone_did() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    // Jana gets her nudge, answers it and pauses; Eva never answers (her
    // reminder goes out); Tomáš gets nothing at all.
    t.complete_session("jana.novakova", 1, "2026-09-07").await;
    t.complete_session("eva.cerna", 1, "2026-09-07").await;
    t.advance_to("2026-09-08T07:30:00Z").await;
    let user = t.user_id("jana.novakova");
    t.name_step("jana.novakova", "Delegate the weekly report")
        .await;
    t.sim
        .slash_command(&user, "/momentum", "pause")
        .await
        .unwrap();
    t.advance_to("2026-09-12T12:00:00Z").await;
    let list: Value = t
        .get(&t.admin_token, "/api/v1/programs/leaders-2026/participants")
        .await
        .json()
        .await
        .unwrap();
    let first = &list[0];
    assert_eq!(first["reachability"], "reachable");
    // Jana and Eva look exactly alike, and like someone who got nothing.
    let same = |p: &Value| {
        let mut p = p.clone();
        for who in ["id", "name", "email", "chat", "manager", "focus"] {
            p[who] = Value::Null;
        }
        p
    };
    let eva = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "eva.cerna@acme.example")
        .unwrap();
    let tomas = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "tomas.dvorak@acme.example")
        .unwrap();
    assert_eq!(same(first), same(eva));
    assert_eq!(same(first), same(tomas));
    // Eva did not share her focus: it is not shown; Jana did.
    assert_eq!(eva["focus"], Value::Null);
    assert_eq!(first["focus"], "delegation");
    assert_eq!(
        first["chat"],
        format!(
            "slack:{}/{}",
            t.sim.config.team_id,
            t.user_id("jana.novakova")
        )
    );
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    for private in [
        "answer",
        "answers",
        "reports",
        "notes",
        "note",
        "paused",
        "messages_sent",
        "messages_skipped",
        "messages_failed",
        "delivery",
        "delivery_problem",
    ] {
        assert!(
            !keys.iter().any(|k| k.as_str() == private),
            "{private} exposed: {keys:?}"
        );
    }
}

#[tokio::test]
async fn bad_session_reports_get_clear_errors() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let cases = [
        (
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 9}),
            422,
            "session 9 is not planned",
        ),
        (
            json!({"participant": {"email": "nobody@acme.example"}, "session": 1}),
            404,
            "no such participant",
        ),
        (
            json!({"participant": {}, "session": 1}),
            422,
            "name the participant",
        ),
        (
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1, "completed_on": "yesterday"}),
            422,
            "not a date",
        ),
        (
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1, "extra": true}),
            422,
            "unknown field",
        ),
    ];
    for (body, status, text) in cases {
        let resp = t
            .post_session(&t.admin_token, "leaders-2026", body.clone())
            .await;
        assert_eq!(resp.status(), status, "{body}");
        let text_body = resp.text().await.unwrap();
        assert!(text_body.contains(text), "{body} → {text_body}");
    }
    assert_eq!(
        t.post_session(
            &t.admin_token,
            "no-such-program",
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1})
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn openapi_document_and_health_are_served() {
    let t = spawn_app().await;
    assert_eq!(
        t.http
            .get(format!("{}/healthz", t.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = t
        .http
        .get(format!("{}/readyz", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    let doc: Value = t
        .http
        .get(format!("{}/openapi.json", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/programs",
        "/api/v1/programs/{key}/participants",
        "/api/v1/programs/{key}/sessions",
        "/api/v1/org-admins",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("ApplyOutcome").is_some());
}

#[tokio::test]
async fn readyz_names_what_is_missing() {
    let t = spawn_app().await;
    // The same database, but no chat workspace configured.
    let settings = momentum::config::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        slack: momentum::config::SlackSettings {
            api_url: t.settings.slack.api_url.clone(),
            ..Default::default()
        },
        teams: None,
        ..t.settings.clone()
    };
    let running = momentum::startup::service::start(
        &settings,
        momentum::crypto::SecretKey::generate(),
        momentum::startup::service::Overrides {
            background: false,
            ..momentum::startup::service::Overrides::none()
        },
    )
    .await
    .unwrap();
    let resp = t
        .http
        .get(format!("{}/readyz", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.text().await.unwrap(),
        "not ready: no chat workspace connected"
    );
    running.stop().await;
}

/// A group session completes the same number for everyone in the cohort,
/// from one call; repeated, it changes nothing; a wrong cohort or session
/// is named.
#[tokio::test]
async fn a_group_session_completes_the_session_for_the_whole_cohort() {
    let t = spawn_app().await;
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let post = |path: &str, body: Value| {
        let req = t
            .http
            .post(format!("{}/api/v1/programs/leaders-2026/{path}", t.url))
            .bearer_auth(&t.admin_token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let body = json!({"session": 1, "completed_on": "2026-09-07", "external_id": "group-1"});
    let resp = post("cohorts/autumn-2026/sessions", body.clone()).await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    let members = out["participants"].as_u64().unwrap();
    assert!(members >= 10, "{out}");
    assert_eq!(out["recorded"].as_u64(), Some(members));
    let completed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE org_id = $1 AND number = 1 AND completed_on IS NOT NULL",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(completed as u64, members);
    // Everyone's small-step nudge is planned, each at their own local time.
    let nudges: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND purpose = 'small_step'",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(nudges as u64, members);
    // Again: nothing new.
    let again: Value = post("cohorts/autumn-2026/sessions", body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["recorded"], 0, "{again}");
    // What is wrong is named.
    let resp = post("cohorts/spring-2027/sessions", json!({"session": 1})).await;
    assert_eq!(resp.status(), 404);
    let resp = post("cohorts/autumn-2026/sessions", json!({"session": 9})).await;
    assert_eq!(resp.status(), 422);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("session 9 is not planned"));
    let resp = post(
        "cohorts/autumn-2026/sessions",
        json!({"session": 2, "completed_on": "soon"}),
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("completed_on"));
}
