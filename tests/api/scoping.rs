//! Who reaches what: a program's admins see and change only their programs
//! in the console, and not a program's k, `metrics:` or admins; creating
//! programs needs an organisation admin (granted, listed and revoked from
//! the CLI or the admin API); an API token made for some programs reaches
//! only those. Anything else is 403 and changes nothing, and the audit log
//! names who did what.

use crate::console::{csrf_of, get, post_form, sign_in, sign_in_with, sign_in_with_slack};
use crate::helpers::*;
use momentum::app::{Reach, Scope};
use serde_json::{json, Value};

const KLARA: &str = "klara.vesela@acme.example";

/// The sample program (Klára its admin) and a second one, Hana's.
async fn two_programs(t: &TestApp) {
    let resp = t.apply_yaml(&t.admin_token, &PROGRAM).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = t.apply_yaml(&t.admin_token, &other_program()).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

fn other_program() -> String {
    let b = PROGRAM
        .replace("key: leaders-2026", "key: sales-2026")
        .replace("name: Leadership Academy 2026", "name: Sales Academy 2026")
        .replace(
            "admins: [klara.vesela@acme.example]",
            "admins: [hana.stastna@acme.example]",
        );
    assert!(b.contains("sales-2026") && b.contains("hana.stastna@acme.example]"));
    b
}

async fn spec(t: &TestApp, key: &str) -> String {
    sqlx::query_scalar("SELECT spec FROM programs WHERE org_id = $1 AND key = $2")
        .bind(t.org.id.0)
        .bind(key)
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

async fn audit(t: &TestApp) -> Vec<Value> {
    let log: Value = t
        .get(&t.admin_token, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    log.as_array().unwrap().clone()
}

/// The edit form's fields as a program admin's browser posts them: k and
/// the momentum settings are disabled inputs, so they are not sent.
fn program_admin_edit(csrf: &str, nudges: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("name", "Leadership Academy 2026".to_string()),
        ("sessions", "1 2026-09-07\n2 2026-09-21".to_string()),
        ("nudges", nudges.to_string()),
        ("quiet_hours", "19:00-08:00".to_string()),
        ("working_days", "mon".to_string()),
        ("working_days", "tue".to_string()),
        ("holidays", String::new()),
        ("themes", "feedback, delegation".to_string()),
        ("reminder_after_days", "2".to_string()),
    ]
}

#[tokio::test]
async fn a_program_admin_sees_and_changes_only_their_program_and_not_its_k_or_metrics() {
    let t = spawn_app().await;
    two_programs(&t).await;
    let token = t.login_token_for(t.org.id, KLARA).await;
    let cookie = sign_in_with(&t, &token).await;
    let csrf = csrf_of(&t, &cookie).await;

    let (status, list) = get(&t, "/admin", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(list.contains("Leadership Academy 2026"), "{list}");
    assert!(!list.contains("Sales Academy 2026"), "{list}");
    assert!(!list.contains("/admin/programs/new"), "no creating: {list}");
    assert!(
        list.contains(KLARA),
        "the page names who is signed in: {list}"
    );

    // Everything of the other program is refused, and so is a key that does
    // not exist: a program admin does not learn which programs exist.
    for path in [
        "/admin/programs/sales-2026",
        "/admin/programs/sales-2026/edit",
        "/admin/programs/sales-2026/schedule",
        "/admin/programs/sales-2026/enrol",
        "/admin/programs/sales-2026/program.yaml",
        "/admin/programs/sales-2026/chart.png",
        "/admin/programs/sales-2026/aggregates/csv",
        "/admin/programs/sales-2026/aggregates/json",
        "/admin/programs/no-such-program",
        "/admin/programs/new",
    ] {
        assert_eq!(get(&t, path, Some(&cookie)).await.0, 403, "{path}");
    }
    let b_before = spec(&t, "sales-2026").await;
    let participants = t.count("participants").await;
    let csv = "Name;Work email;Manager;Time zone;Cohort\n\
               Olga Malá;olga.mala@acme.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n";
    let (status, _, _) = post_form(
        &t,
        "/admin/programs/sales-2026/enrol",
        &cookie,
        &[
            ("csrf", csrf.clone()),
            ("csv", csv.to_string()),
            ("action", "apply".to_string()),
        ],
    )
    .await;
    assert_eq!(status, 403, "enrolling into another program");
    let (status, _, _) = post_form(
        &t,
        "/admin/programs/sales-2026/edit",
        &cookie,
        &program_admin_edit(&csrf, "small_step 2 10:00"),
    )
    .await;
    assert_eq!(status, 403, "editing another program");
    let (status, _, _) = post_form(
        &t,
        "/admin/programs",
        &cookie,
        &[
            ("csrf", csrf.clone()),
            ("template", "five-sessions".to_string()),
            ("name", "Mine".to_string()),
            ("key", "mine-2027".to_string()),
            ("first_session", "2027-02-01".to_string()),
        ],
    )
    .await;
    assert_eq!(status, 403, "creating a program");
    assert_eq!(spec(&t, "sales-2026").await, b_before, "B unchanged");
    assert_eq!(t.count("participants").await, participants);
    assert_eq!(t.count("programs").await, 2);

    // Their own program: k and the momentum settings are shown, not editable.
    let (status, page) = get(&t, "/admin/programs/leaders-2026/edit", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("name=\"anonymity_threshold\" value=\"5\" size=\"4\" disabled"),
        "{page}"
    );
    assert!(
        page.contains("An organisation admin changes this."),
        "{page}"
    );
    let a_before = spec(&t, "leaders-2026").await;
    for (field, value) in [
        ("anonymity_threshold", "3"),
        ("anonymity_threshold", "50"),
        ("metrics_alpha", "0.9"),
        ("metrics_points", "30"),
        ("metrics_share", "0.5"),
        ("metrics_weeks", "4"),
    ] {
        let mut form = program_admin_edit(&csrf, "small_step 2 10:00");
        form.push((field, value.to_string()));
        let (status, _, page) =
            post_form(&t, "/admin/programs/leaders-2026/edit", &cookie, &form).await;
        assert_eq!(status, 403, "{field} = {value}");
        assert!(page.contains(&format!("id=\"{field}-error\"")), "{page}");
        assert_eq!(
            spec(&t, "leaders-2026").await,
            a_before,
            "{field}: nothing changed"
        );
    }
    // Its cadence is theirs to change; the same k and settings pass.
    let mut form = program_admin_edit(&csrf, "small_step 2 10:00");
    form.push(("anonymity_threshold", "5".to_string()));
    form.push(("metrics_alpha", "0.5".to_string()));
    let (status, _, page) =
        post_form(&t, "/admin/programs/leaders-2026/edit", &cookie, &form).await;
    assert_eq!(status, 200, "{page}");
    let a = t
        .store
        .program_by_key(t.org.id, "leaders-2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.spec.nudges.len(), 1, "the nudges changed");
    assert_eq!(a.spec.anonymity_threshold, 5);
    assert_eq!(a.spec.metrics.alpha, 0.5);
    assert_eq!(a.spec.admins.len(), 1, "the admins stay");
    let (status, _, page) = post_form(
        &t,
        "/admin/programs/leaders-2026/edit",
        &cookie,
        &program_admin_edit(&csrf, "small_step 1 09:30"),
    )
    .await;
    assert_eq!(status, 200, "without k and metrics (disabled inputs)");
    assert!(
        page.contains("name=\"anonymity_threshold\" value=\"5\" size=\"4\" disabled")
            && page.contains("name=\"metrics_alpha\" value=\"0.5\""),
        "the saved page shows them: {page}"
    );

    // Their own program's pages work.
    for path in [
        "/admin/programs/leaders-2026",
        "/admin/programs/leaders-2026/schedule",
        "/admin/programs/leaders-2026/enrol",
        "/admin/programs/leaders-2026/program.yaml",
    ] {
        assert_eq!(get(&t, path, Some(&cookie)).await.0, 200, "{path}");
    }

    // The audit log names her, and no content.
    let log = audit(&t).await;
    let edits: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "program.edit")
        .collect();
    assert_eq!(edits.len(), 2, "{log:#?}");
    for e in edits {
        assert_eq!(e["actor"], format!("{KLARA} (console)"));
        assert_eq!(e["subject"], "leaders-2026");
    }
    assert!(
        log.iter().any(|e| e["action"] == "program.download"
            && e["actor"] == format!("{KLARA} (console)")
            && e["subject"] == "leaders-2026"),
        "{log:#?}"
    );
    assert!(log.iter().any(|e| e["action"] == "console.sign_in"
        && e["actor"].as_str().unwrap().starts_with(KLARA)
        && e["actor"].as_str().unwrap().contains("program admin")));
}

#[tokio::test]
async fn an_organisation_admin_does_everything_until_revoked() {
    let t = spawn_app().await;
    two_programs(&t).await;
    // Granted through the admin API; Klára signs in with Slack.
    let resp = t
        .http
        .post(format!("{}/api/v1/org-admins", t.url))
        .bearer_auth(&t.admin_token)
        .json(&json!({"email": "Klara.Vesela@acme.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let klara = t.user_id("klara.vesela");
    let (status, cookie, _) = sign_in_with_slack(&t, &klara).await;
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    let (_, list) = get(&t, "/admin", Some(&cookie)).await;
    assert!(
        list.contains("Leadership Academy 2026") && list.contains("Sales Academy 2026"),
        "{list}"
    );
    assert!(list.contains("/admin/programs/new"), "{list}");
    let csrf = csrf_of(&t, &cookie).await;
    for path in [
        "/admin/programs/sales-2026",
        "/admin/programs/sales-2026/edit",
        "/admin/programs/new",
    ] {
        assert_eq!(get(&t, path, Some(&cookie)).await.0, 200, "{path}");
    }
    assert_eq!(
        get(&t, "/admin/programs/no-such-program", Some(&cookie))
            .await
            .0,
        404,
        "an organisation admin may learn what does not exist"
    );
    // She changes another program's k, and creates a program.
    let mut form = program_admin_edit(&csrf, "small_step 1 09:30");
    form[1].1 = "Sales Academy 2026".to_string();
    form.push(("anonymity_threshold", "7".to_string()));
    let (status, _, page) = post_form(&t, "/admin/programs/sales-2026/edit", &cookie, &form).await;
    assert_eq!(status, 200, "{page}");
    let b = t
        .store
        .program_by_key(t.org.id, "sales-2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.spec.anonymity_threshold, 7);
    let (status, location, _) = post_form(
        &t,
        "/admin/programs",
        &cookie,
        &[
            ("csrf", csrf.clone()),
            ("template", "five-sessions".to_string()),
            ("name", "Leaders 2027".to_string()),
            ("key", "leaders-2027".to_string()),
            ("first_session", "2027-02-01".to_string()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/admin/programs/leaders-2027"));

    // Listed, then revoked: her organisation-wide session ends at once, and
    // her next sign-in is a program admin's again.
    let admins: Value = t
        .get(&t.admin_token, "/api/v1/org-admins")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admins[0]["email"], KLARA, "{admins}");
    assert_eq!(admins[0]["granted_by"], "api token \"test\"");
    let resp = t
        .http
        .delete(format!("{}/api/v1/org-admins?email={KLARA}", t.url))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(get(&t, "/admin", Some(&cookie)).await.0, 401);
    let (status, cookie, _) = sign_in_with_slack(&t, &klara).await;
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    let (_, list) = get(&t, "/admin", Some(&cookie)).await;
    assert!(
        list.contains("Leadership Academy 2026") && !list.contains("Sales Academy 2026"),
        "{list}"
    );
    assert_eq!(
        get(&t, "/admin/programs/sales-2026", Some(&cookie)).await.0,
        403
    );

    // Who did what: the grant and revocation by the token, her edit and
    // the program she created by her email.
    let log = audit(&t).await;
    let actor_of = |action: &str| -> Vec<String> {
        log.iter()
            .filter(|e| e["action"] == action)
            .map(|e| e["actor"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(actor_of("org_admin.grant"), vec!["api token \"test\""]);
    assert_eq!(actor_of("org_admin.revoke"), vec!["api token \"test\""]);
    assert_eq!(actor_of("program.edit"), vec![format!("{KLARA} (console)")]);
    assert_eq!(
        actor_of("program.create"),
        vec![format!("{KLARA} (console)")]
    );
    assert!(
        log.iter().all(|e| e["subject"].is_null()
            || ["leaders-2026", "sales-2026", "leaders-2027"]
                .contains(&e["subject"].as_str().unwrap())),
        "never a person: {log:#?}"
    );
}

#[tokio::test]
async fn a_login_link_names_its_person_and_is_refused_for_someone_who_is_no_admin() {
    let t = spawn_app().await;
    two_programs(&t).await;
    let person = momentum::domain::PersonRef::parse_short("jana.novakova@acme.example").unwrap();
    let refused = t.app.console_login_token(t.org.id, &person).await;
    match refused {
        Err(momentum::app::AppError::Invalid(errs)) => {
            assert_eq!(errs.0[0].path, "for");
            assert!(errs.0[0].message.contains("jana.novakova@acme.example"));
        }
        other => panic!("{other:?}"),
    }
    // By chat identity: Hana, the second program's admin, through her chat profile.
    let hana = format!(
        "slack:{}/{}",
        t.sim.config.team_id,
        t.user_id("hana.stastna")
    );
    let token = t.login_token_for(t.org.id, &hana).await;
    let cookie = sign_in_with(&t, &token).await;
    let (_, list) = get(&t, "/admin", Some(&cookie)).await;
    assert!(
        list.contains("Sales Academy 2026") && !list.contains("Leadership Academy 2026"),
        "{list}"
    );
    // A link made while Klára was an organisation admin gives her what she
    // is when it is used.
    let cookie = sign_in(&t, t.org.id).await;
    assert_eq!(
        get(&t, "/admin/programs/sales-2026", Some(&cookie)).await.0,
        200
    );
    let klara = momentum::domain::PersonRef::parse_short(KLARA).unwrap();
    t.app
        .grant_org_admin(t.org.id, &klara, "test")
        .await
        .unwrap();
    let token = t.login_token_for(t.org.id, KLARA).await;
    assert!(t
        .app
        .revoke_org_admin(t.org.id, &klara, "test")
        .await
        .unwrap());
    let cookie = sign_in_with(&t, &token).await;
    assert_eq!(
        get(&t, "/admin/programs/sales-2026", Some(&cookie)).await.0,
        403
    );
}

#[tokio::test]
async fn a_program_scoped_token_reaches_only_its_programs_and_not_their_k() {
    let t = spawn_app().await;
    two_programs(&t).await;
    let scoped = t
        .app
        .create_token_within(
            t.org.id,
            "klara's script",
            Scope::Admin,
            &Reach::Programs(vec!["leaders-2026".into()]),
        )
        .await
        .unwrap();
    let unknown = t
        .app
        .create_token_within(
            t.org.id,
            "x",
            Scope::Admin,
            &Reach::Programs(vec!["nope".into()]),
        )
        .await;
    assert!(
        matches!(unknown, Err(momentum::app::AppError::Invalid(ref e)) if e.0[0].path == "programs"),
        "{unknown:?}"
    );

    let list: Value = t
        .get(&scoped, "/api/v1/programs")
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["leaders-2026"]);
    for path in [
        "/api/v1/programs/leaders-2026/participants",
        "/api/v1/programs/leaders-2026/delivery",
        "/api/v1/programs/leaders-2026/aggregates",
    ] {
        assert_eq!(t.get(&scoped, path).await.status(), 200, "{path}");
    }
    for path in [
        "/api/v1/programs/sales-2026/participants",
        "/api/v1/programs/sales-2026/delivery",
        "/api/v1/programs/sales-2026/aggregates",
        "/api/v1/programs/no-such-program/participants",
        "/api/v1/org-admins",
        "/api/v1/audit",
    ] {
        assert_eq!(t.get(&scoped, path).await.status(), 403, "{path}");
    }
    let jobs = t.count("jobs").await;
    let resp = t
        .post_session(
            &scoped,
            "sales-2026",
            json!({"participant": {"email": "eva.cerna@acme.example"}, "session": 1}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(t.count("jobs").await, jobs);
    let resp = t
        .http
        .post(format!("{}/api/v1/org-admins", t.url))
        .bearer_auth(&scoped)
        .json(&json!({"email": KLARA}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = t
        .http
        .delete(format!("{}/api/v1/org-admins?email={KLARA}", t.url))
        .bearer_auth(&scoped)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = t
        .http
        .post(format!("{}/api/v1/erasures", t.url))
        .bearer_auth(&scoped)
        .json(&json!({"email": "eva.cerna@acme.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(t.count("org_admins").await, 0);

    // Program files: another program, or its own with k, metrics or admins
    // changed, are refused naming the field; nothing changes.
    let (a_before, b_before) = (spec(&t, "leaders-2026").await, spec(&t, "sales-2026").await);
    let resp = t
        .apply_yaml(
            &scoped,
            &other_program().replace("at: \"09:30\"", "at: \"10:30\""),
        )
        .await;
    assert_eq!(resp.status(), 403);
    for (changed, field) in [
        (
            PROGRAM.replace("anonymity_threshold: 5", "anonymity_threshold: 3"),
            "program.anonymity_threshold",
        ),
        (
            PROGRAM.replace("anonymity_threshold: 5", "anonymity_threshold: 9"),
            "program.anonymity_threshold",
        ),
        (
            PROGRAM.replace("alpha: 0.5", "alpha: 0.8"),
            "program.metrics",
        ),
        (
            PROGRAM.replace(
                "admins: [klara.vesela@acme.example]",
                "admins: [klara.vesela@acme.example, eva.cerna@acme.example]",
            ),
            "program.admins",
        ),
        (
            PROGRAM.replace("key: leaders-2026", "key: brand-new"),
            "program.key",
        ),
    ] {
        assert_ne!(changed, *PROGRAM);
        let resp = t.apply_yaml(&scoped, &changed).await;
        assert_eq!(resp.status(), 403, "{field}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().starts_with(field),
            "{field}: {body}"
        );
    }
    assert_eq!(spec(&t, "leaders-2026").await, a_before);
    assert_eq!(spec(&t, "sales-2026").await, b_before);
    assert_eq!(t.count("programs").await, 2);
    // Its own program's cadence is the token's to change.
    let resp = t
        .apply_yaml(&scoped, &PROGRAM.replace("at: \"09:30\"", "at: \"10:30\""))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let log = audit(&t).await;
    assert!(
        log.iter().any(|e| e["action"] == "program.apply"
            && e["actor"] == "api token \"klara's script\""
            && e["subject"] == "leaders-2026"),
        "{log:#?}"
    );
}

#[tokio::test]
async fn organisation_admins_are_granted_with_field_named_errors_listed_and_revoked() {
    let t = spawn_app().await;
    let post = |body: Value| {
        let t = &t;
        async move {
            let resp = t
                .http
                .post(format!("{}/api/v1/org-admins", t.url))
                .bearer_auth(&t.admin_token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = post(json!({"email": "x"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["path"], "email");
    assert_eq!(body["errors"][0]["message"], "\"x\" is not an email");
    let (status, body) = post(json!({"chat": "slack:nope"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["path"], "chat");
    let (status, _) = post(json!({})).await;
    assert_eq!(status, 422);
    let (status, _) = post(json!({"email": "a@acme.example", "chat": "slack:T1/U1"})).await;
    assert_eq!(status, 422);
    let (status, _) = post(json!({"mail": "a@acme.example"})).await;
    assert_eq!(status, 422, "unknown fields are refused");
    // Someone of a workspace this organisation is not linked to.
    let (status, body) = post(json!({"chat": "slack:T0OTHERTEAM/U0000042"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["path"], "chat");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not connected to this organisation"),
        "{body}"
    );
    assert_eq!(t.count("org_admins").await, 0);

    let (status, hana) = post(json!({"email": "Hana.Stastna@Acme.example"})).await;
    assert_eq!(status, 200);
    assert_eq!(hana["email"], "hana.stastna@acme.example");
    let (status, again) = post(json!({"email": "hana.stastna@acme.example"})).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], hana["id"], "granting twice keeps one grant");
    let (status, _) = post(json!({"chat": "slack:T0SIMTEAM1/U0000099"})).await;
    assert_eq!(status, 200);
    let list: Value = t
        .get(&t.admin_token, "/api/v1/org-admins")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[1]["chat"], "slack:T0SIMTEAM1/U0000099");
    let delete = |query: &str| {
        let url = format!("{}/api/v1/org-admins?{query}", t.url);
        let t = &t;
        async move {
            t.http
                .delete(url)
                .bearer_auth(&t.admin_token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(delete("email=hana.stastna@acme.example").await, 204);
    assert_eq!(delete("email=hana.stastna@acme.example").await, 404);
    assert_eq!(delete("email=not-an-email").await, 422);
    assert_eq!(delete("chat=slack:T0SIMTEAM1/U0000099").await, 204);
    let list: Value = t
        .get(&t.admin_token, "/api/v1/org-admins")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    // Another organisation's token sees none of this one's admins.
    let other = t.app.create_org("Other", "UTC", "en").await.unwrap();
    let theirs = t
        .app
        .create_token(other.id, "other", Scope::Admin)
        .await
        .unwrap();
    post(json!({"email": "hana.stastna@acme.example"})).await;
    let list: Value = t
        .get(&theirs, "/api/v1/org-admins")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}
