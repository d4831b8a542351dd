//! The HR console over HTTP: a one-time login link opens a session of one
//! organisation; pages need it; forms need its CSRF token; another
//! organisation's session sees none of this one's programs. These sessions
//! are an organisation admin's (`scoping.rs` has program admins').

use crate::helpers::*;
use reqwest::redirect::Policy;

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Signs in an organisation admin of `org` with a fresh link; returns the
/// session cookie.
pub(crate) async fn sign_in(t: &TestApp, org: momentum::store::OrgId) -> String {
    let token = t.org_admin_login_token(org).await;
    let resp = browser()
        .get(format!("{}/admin/login?token={token}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

/// Posts a form as the signed-in browser: (status, Location, body).
pub(crate) async fn post_form(
    t: &TestApp,
    path: &str,
    cookie: &str,
    pairs: &[(&str, String)],
) -> (u16, Option<String>, String) {
    let resp = browser()
        .post(format!("{}{path}", t.url))
        .header("Cookie", cookie)
        .form(pairs)
        .send()
        .await
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (resp.status().as_u16(), location, resp.text().await.unwrap())
}

pub(crate) async fn get(t: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = browser().get(format!("{}{path}", t.url));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_login_link_signs_in_once_and_the_console_shows_the_programs_health() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    for path in ["/admin", "/admin/programs/leaders-2026"] {
        let (status, body) = get(&t, path, None).await;
        assert_eq!(status, 401, "{path} signed out");
        assert!(body.contains("momentum admin login-link"), "{body}");
    }
    let token = t.org_admin_login_token(t.org.id).await;
    let cookie = sign_in_with(&t, &token).await;
    // The same link does not work twice.
    let again = browser()
        .get(format!("{}/admin/login?token={token}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);

    let (status, body) = get(&t, "/admin", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Leadership Academy 2026"), "{body}");
    assert!(body.contains("<th scope=\"col\">Enrolled</th>"), "{body}");
    assert!(body.contains(">18<"), "18 enrolled: {body}");
    let (status, body) = get(&t, "/admin/programs/leaders-2026?lang=cs", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Zapsaní") && body.contains("Problémy s doručením"),
        "{body}"
    );
    assert_eq!(get(&t, "/admin/programs/nope", Some(&cookie)).await.0, 404);
}

pub(crate) async fn sign_in_with(t: &TestApp, token: &str) -> String {
    let resp = browser()
        .get(format!("{}/admin/login?token={token}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn an_expired_link_and_another_organisations_session_see_nothing() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let token = t.org_admin_login_token(t.org.id).await;
    t.clock.advance(jiff::SignedDuration::from_mins(16));
    let late = browser()
        .get(format!("{}/admin/login?token={token}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 401, "a link lasts 15 minutes");

    let other = t.app.create_org("Other", "UTC", "en").await.unwrap();
    let cookie = sign_in(&t, other.id).await;
    let (status, body) = get(&t, "/admin", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Leadership"), "{body}");
    assert_eq!(
        get(&t, "/admin/programs/leaders-2026", Some(&cookie))
            .await
            .0,
        404
    );
    // A forged cookie is no session.
    assert_eq!(
        get(&t, "/admin", Some("momentum_console=forged")).await.0,
        401
    );
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let t = spawn_app().await;
    let cookie = sign_in(&t, t.org.id).await;
    let other_cookie = sign_in(&t, t.org.id).await;
    let (_, page) = get(&t, "/admin", Some(&other_cookie)).await;
    let other_csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let post = |cookie: String, form: Vec<(&'static str, String)>| {
        let url = format!("{}/admin/logout", t.url);
        async move {
            browser()
                .post(url)
                .header("Cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(cookie.clone(), vec![]).await, 403, "no token");
    assert_eq!(
        post(cookie.clone(), vec![("csrf", other_csrf)]).await,
        403,
        "another session's token"
    );
    assert_eq!(
        get(&t, "/admin", Some(&cookie)).await.0,
        200,
        "still signed in"
    );
    let (_, page) = get(&t, "/admin", Some(&cookie)).await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(post(cookie.clone(), vec![("csrf", csrf)]).await, 200);
    assert_eq!(get(&t, "/admin", Some(&cookie)).await.0, 401, "signed out");
}

#[tokio::test]
async fn the_schedule_preview_shows_local_times_across_a_dst_change_and_why_one_moved() {
    let t = spawn_app().await;
    // The "how did it go?" check now falls on Saturday at 07:00.
    let program = PROGRAM.replace(
        "one_tap_check, days_after_session: 4, at: \"16:00\"",
        "one_tap_check, days_after_session: 5, at: \"07:00\"",
    );
    assert_ne!(program, *PROGRAM);
    t.apply_yaml(&t.admin_token, &program).await;
    let cookie = sign_in(&t, t.org.id).await;
    let (status, body) = get(&t, "/admin/programs/leaders-2026/schedule", Some(&cookie)).await;
    assert_eq!(status, 200);
    // Prague leaves summer time on 25 October: the same 09:30, another offset.
    assert!(
        body.contains("2026-10-20 09:30") && body.contains("UTC+02:00"),
        "{body}"
    );
    assert!(
        body.contains("2026-11-03 09:30") && body.contains("UTC+01:00"),
        "{body}"
    );
    // Each participant's zone is offered under their name.
    assert!(body.contains("label=\"Sarah Mitchell\""), "{body}");
    // Saturday 12 Sep 07:00 moves to Monday 08:00, and says why.
    assert!(body.contains("Mon 2026-09-14 08:00"), "{body}");
    assert!(
        body.contains("2026-09-12 is not a working day; 2026-09-13 is not a working day; 07:00 is in quiet hours"),
        "{body}"
    );
    let (status, body) = get(
        &t,
        "/admin/programs/leaders-2026/schedule?zone=Australia/Sydney",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200);
    // Sydney starts summer time on 4 October.
    assert!(
        body.contains("UTC+10:00") && body.contains("UTC+11:00"),
        "{body}"
    );
    let (status, body) = get(
        &t,
        "/admin/programs/leaders-2026/schedule?zone=Mars/Olympus",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("is not a time zone"), "{body}");
    assert_eq!(
        get(&t, "/admin/programs/leaders-2026/schedule", None)
            .await
            .0,
        401
    );
}

/// A CSV upload page's form (`preview` or `apply`): its status and page.
async fn post_csv(
    t: &TestApp,
    path: &str,
    cookie: &str,
    csrf: &str,
    csv: String,
    action: &str,
) -> (u16, String) {
    let form = [
        ("csrf", csrf.to_string()),
        ("csv", csv),
        ("action", action.to_string()),
    ];
    let (status, _, body) = post_form(t, path, cookie, &form).await;
    (status, body)
}

pub(crate) async fn csrf_of(t: &TestApp, cookie: &str) -> String {
    let (_, page) = get(t, "/admin", Some(cookie)).await;
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_csv_with_mistakes_is_refused_row_by_row_and_the_corrected_one_enrols_everyone() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let cookie = sign_in(&t, t.org.id).await;
    let csrf = csrf_of(&t, &cookie).await;
    let before = t.count("participants").await;
    let post = |csv: &str, action: &'static str| {
        let csv = csv.to_string();
        post_csv(
            &t,
            "/admin/programs/leaders-2026/enrol",
            &cookie,
            &csrf,
            csv,
            action,
        )
    };
    let wrong = "Name;Work email;Manager;Time zone;Cohort\n\
                 Olga Malá;olga.mala@acme.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n\
                 Karel Velký;karel.velky-at-acme.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n\
                 Iva Nová;iva.nova@acme.example;pavel.svoboda@acme.example;Europe/Praha;autumn-2026\n";
    let (status, body) = post(wrong, "preview").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("karel.velky-at-acme.example is not an email"),
        "{body}"
    );
    assert!(body.contains("Praha is not a time zone"), "{body}");
    assert!(
        !body.contains("value=\"apply\""),
        "no apply while rows are wrong"
    );
    let (status, _) = post(wrong, "apply").await;
    assert_eq!(status, 422, "apply refuses a file with problems");
    assert_eq!(t.count("participants").await, before, "nothing enrolled");

    let right = wrong
        .replace("karel.velky-at-acme.example", "karel.velky@acme.example")
        .replace("Europe/Praha", "Europe/Prague");
    let (status, body) = post(&right, "preview").await;
    assert_eq!(status, 200);
    assert!(body.contains("Enrol 3 people"), "{body}");
    let (status, body) = post(&right, "apply").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Enrolled: 3 added"), "{body}");
    // Nobody in the chat workspace has these emails: listed, not dropped.
    assert!(
        body.contains("Not found in chat") && body.contains("olga.mala@acme.example"),
        "{body}"
    );
    assert_eq!(t.count("participants").await, before + 3);
    // Without the session's token, nothing happens.
    let resp = browser()
        .post(format!("{}/admin/programs/leaders-2026/enrol", t.url))
        .header("Cookie", cookie.clone())
        .form(&[("csv", right.as_str()), ("action", "apply")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn the_program_file_chart_and_aggregates_download_for_the_session_only() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    // Two weeks on: a complete program week exists.
    t.advance_to("2026-09-21T08:00:00Z").await;
    let cookie = sign_in(&t, t.org.id).await;
    let (status, yaml) = get(
        &t,
        "/admin/programs/leaders-2026/program.yaml",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200);
    let reparsed = momentum::domain::ProgramFile::parse_yaml(&yaml).expect("a valid program file");
    assert_eq!(reparsed.program.key, "leaders-2026");
    let png = browser()
        .get(format!("{}/admin/programs/leaders-2026/chart.png", t.url))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let (status, csv) = get(
        &t,
        "/admin/programs/leaders-2026/aggregates/csv",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("week,"), "{csv}");
    let (status, json) = get(
        &t,
        "/admin/programs/leaders-2026/aggregates/json",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200);
    assert!(json.trim_start().starts_with('['), "{json}");
    assert_eq!(
        get(
            &t,
            "/admin/programs/leaders-2026/aggregates/xml",
            Some(&cookie)
        )
        .await
        .0,
        404
    );
    for path in ["program.yaml", "chart.png", "aggregates/csv"] {
        let path = format!("/admin/programs/leaders-2026/{path}");
        assert_eq!(get(&t, &path, None).await.0, 401, "{path}");
    }
    let other = t.app.create_org("Other", "UTC", "en").await.unwrap();
    let foreign = sign_in(&t, other.id).await;
    assert_eq!(
        get(
            &t,
            "/admin/programs/leaders-2026/program.yaml",
            Some(&foreign)
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn editing_a_program_names_each_wrong_field_and_applies_all_or_nothing() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let cookie = sign_in(&t, t.org.id).await;
    let csrf = csrf_of(&t, &cookie).await;
    let (status, page) = get(&t, "/admin/programs/leaders-2026/edit", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("small_step 1 09:30") && page.contains("19:00-08:00"),
        "{page}"
    );
    let post = |pairs: Vec<(&'static str, String)>| {
        let (t, cookie) = (&t, cookie.clone());
        async move {
            let (status, _, body) =
                post_form(t, "/admin/programs/leaders-2026/edit", &cookie, &pairs).await;
            (status, body)
        }
    };
    let form = |quiet: &str, threshold: &str, nudges: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Leadership Academy 2026".to_string()),
            ("sessions", "1 2026-09-07\n2 2026-09-21".to_string()),
            ("nudges", nudges.to_string()),
            ("quiet_hours", quiet.to_string()),
            ("working_days", "mon".to_string()),
            ("working_days", "tue".to_string()),
            ("working_days", "wed".to_string()),
            ("holidays", "2026-12-24".to_string()),
            ("themes", "feedback, delegation".to_string()),
            ("anonymity_threshold", threshold.to_string()),
            ("reminder_after_days", "2".to_string()),
        ]
    };
    let (status, page) = post(form("19:00", "five", "small_step 1 25:00")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"quiet_hours-error\""), "{page}");
    assert!(page.contains("id=\"anonymity_threshold-error\""), "{page}");
    let program: String = sqlx::query_scalar("SELECT spec FROM programs")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert!(program.contains("\"16:00\""), "nothing changed");
    // The form's own checks pass; the program file's validation refuses 25:00.
    let (status, page) = post(form("19:00-08:00", "5", "small_step 1 25:00")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"nudges-error\""), "{page}");
    let (status, page) = post(form("20:00-07:30", "6", "small_step 2 10:00")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Saved"), "{page}");
    let (_, page) = get(&t, "/admin/programs/leaders-2026/edit", Some(&cookie)).await;
    assert!(
        page.contains("small_step 2 10:00") && page.contains("20:00-07:30"),
        "{page}"
    );
    assert!(page.contains("value=\"6\""), "{page}");
}

#[tokio::test]
async fn the_momentum_settings_and_what_the_program_is_for_are_edited_with_field_named_errors() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let cookie = sign_in(&t, t.org.id).await;
    let csrf = csrf_of(&t, &cookie).await;
    let (_, page) = get(&t, "/admin/programs/leaders-2026/edit", Some(&cookie)).await;
    // The sample's settings, as the form shows them.
    assert!(
        page.contains("id=\"metrics_alpha\" name=\"metrics_alpha\" value=\"0.5\""),
        "{page}"
    );
    assert!(
        page.contains("value=\"Leaders give clear, timely feedback"),
        "{page}"
    );
    let form = |alpha: &str, points: &str, share: &str, weeks: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Leadership Academy 2026".to_string()),
            (
                "target_behaviour",
                "Leaders delegate one decision a week.".to_string(),
            ),
            ("business_goal", "".to_string()),
            ("sessions", "1 2026-09-07\n2 2026-09-21".to_string()),
            ("nudges", "small_step 1 09:30".to_string()),
            ("quiet_hours", "19:00-08:00".to_string()),
            ("working_days", "mon".to_string()),
            ("holidays", "".to_string()),
            ("themes", "feedback, delegation".to_string()),
            ("anonymity_threshold", "5".to_string()),
            ("reminder_after_days", "2".to_string()),
            ("metrics_alpha", alpha.to_string()),
            ("metrics_points", points.to_string()),
            ("metrics_share", share.to_string()),
            ("metrics_weeks", weeks.to_string()),
        ]
    };
    let before: String = sqlx::query_scalar("SELECT spec FROM programs")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    let (status, _, page) = post_form(
        &t,
        "/admin/programs/leaders-2026/edit",
        &cookie,
        &form("1.5", "0", "0.3", "2"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"metrics_alpha-error\""), "{page}");
    assert!(
        page.contains("program.metrics.alpha: 1.5 is out of range"),
        "{page}"
    );
    assert!(page.contains("id=\"metrics_points-error\""), "{page}");
    let after: String = sqlx::query_scalar("SELECT spec FROM programs")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert_eq!(before, after, "nothing applied");
    let (status, _, page) = post_form(
        &t,
        "/admin/programs/leaders-2026/edit",
        &cookie,
        &form("0.4", "15", "0.25", "3"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let program = t
        .store
        .program_by_key(t.org.id, "leaders-2026")
        .await
        .unwrap()
        .unwrap();
    let m = program.spec.metrics;
    assert_eq!(
        (
            m.alpha,
            m.dropping_points,
            m.dropping_share,
            m.dropping_weeks
        ),
        (0.4, 15, 0.25, 3)
    );
    assert_eq!(
        program.spec.target_behaviour.as_deref(),
        Some("Leaders delegate one decision a week.")
    );
    assert_eq!(program.spec.business_goal, None, "emptied");
    // The program page is headed by what the program is for.
    let (_, page) = get(&t, "/admin/programs/leaders-2026", Some(&cookie)).await;
    assert!(
        page.contains("Leaders delegate one decision a week."),
        "{page}"
    );
}

#[tokio::test]
async fn a_program_is_created_from_the_five_session_template() {
    let t = spawn_app().await;
    let cookie = sign_in(&t, t.org.id).await;
    let csrf = csrf_of(&t, &cookie).await;
    assert_eq!(get(&t, "/admin/programs/new", Some(&cookie)).await.0, 200);
    let create = |key: &str, date: &str| {
        let form = [
            ("csrf", csrf.clone()),
            ("template", "five-sessions".to_string()),
            ("name", "Leaders 2027".to_string()),
            ("key", key.to_string()),
            ("first_session", date.to_string()),
        ];
        let (t, cookie) = (&t, cookie.clone());
        async move { post_form(t, "/admin/programs", &cookie, &form).await }
    };
    let (status, _, page) = create("Leaders 2027", "2027-02-30").await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"first_session-error\""), "{page}");
    assert_eq!(t.count("programs").await, 0, "nothing created");
    let (status, _, page) = create("Leaders 2027", "2027-02-01").await;
    assert_eq!(
        status, 422,
        "the key is refused by the program file's validation"
    );
    assert!(page.contains("id=\"key-error\""), "{page}");
    let (status, location, _) = create("leaders-2027", "2027-02-01").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/admin/programs/leaders-2027"));
    let (_, page) = get(&t, "/admin/programs/leaders-2027/edit", Some(&cookie)).await;
    assert!(
        page.contains("1 2027-02-01") && page.contains("5 2027-03-29"),
        "{page}"
    );
    let (status, _, page) = create("leaders-2027", "2027-02-01").await;
    assert_eq!(status, 422);
    assert!(page.contains("exists already"), "{page}");
}

/// Follows "Sign in with Slack" through the local workspace as `user`;
/// returns the callback's answer (status, Set-Cookie, body).
pub(crate) async fn sign_in_with_slack(t: &TestApp, user: &str) -> (u16, Option<String>, String) {
    sign_in_at(t, "slack", user).await
}

/// The same with any provider (`slack`, `microsoft`).
pub(crate) async fn sign_in_at(
    t: &TestApp,
    provider: &str,
    user: &str,
) -> (u16, Option<String>, String) {
    let client = browser();
    let start = client
        .get(format!("{}/admin/signin/{provider}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let nonce = start.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let at_slack = client
        .get(format!("{authorize}&login_hint={user}"))
        .send()
        .await
        .unwrap();
    assert_eq!(at_slack.status(), 303, "{}", at_slack.text().await.unwrap());
    let back = at_slack.headers()["location"].to_str().unwrap().to_string();
    let resp = client
        .get(back)
        .header("Cookie", nonce)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string());
    (status, cookie, resp.text().await.unwrap())
}

#[tokio::test]
async fn an_hr_admin_signs_in_with_slack_and_nobody_else_does() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let (status, body) = get(&t, "/admin", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("/admin/signin/slack"), "{body}");
    // Klára is the program's HR admin (its file's admins).
    let klara = t.user_id("klara.vesela");
    let (status, cookie, _) = sign_in_with_slack(&t, &klara).await;
    assert_eq!(status, 303);
    let (status, body) = get(&t, "/admin", cookie.as_deref()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Leadership Academy 2026"), "{body}");
    // A participant is not an HR admin.
    let jana = t.user_id("jana.novakova");
    let (status, cookie, body) = sign_in_with_slack(&t, &jana).await;
    assert_eq!(status, 403, "{body}");
    assert!(cookie.is_none());
    // Another browser's callback (not its nonce) is refused.
    let client = browser();
    let start = client
        .get(format!("{}/admin/signin/slack", t.url))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let at_slack = client
        .get(format!("{authorize}&login_hint={klara}"))
        .send()
        .await
        .unwrap();
    let back = at_slack.headers()["location"].to_str().unwrap().to_string();
    let stolen = client
        .get(back)
        .header("Cookie", "momentum_signin=someone-elses")
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 401);
    // A callback with a state Momentum did not hand out is refused.
    let forged = browser()
        .get(format!(
            "{}/admin/signin/slack/callback?code=x&state=forged",
            t.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn a_teams_hr_admin_signs_in_with_microsoft() {
    use momentum::chat::sim::botframework::TENANT;
    let t = spawn_app().await;
    let hr = t
        .sim
        .teams_add_user("Hana HR", "hana.hr@acme.example", "Europe/Prague", "en-US");
    let jana = t
        .sim
        .teams_add_user("Jana", "jana.t@acme.example", "Europe/Prague", "en-US");
    let program = format!(
        "version: 1\nprogram:\n  key: teams-pilot\n  name: Teams Pilot\n  admins: [\"teams:{TENANT}/{hr}\"]\n  \
         sessions:\n    - {{ number: 1, planned: 2026-09-07 }}\n  nudges:\n    - {{ kind: small_step, days_after_session: 1, at: \"09:30\" }}\n"
    );
    let resp = t.apply_yaml(&t.admin_token, &program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (_, signed_out) = get(&t, "/admin", None).await;
    assert!(
        signed_out.contains("/admin/signin/microsoft"),
        "{signed_out}"
    );
    let (status, cookie, body) = sign_in_at(&t, "microsoft", &hr).await;
    assert_eq!(status, 303, "{body}");
    let (status, body) = get(&t, "/admin", cookie.as_deref()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Teams Pilot"), "{body}");
    let (status, cookie, _) = sign_in_at(&t, "microsoft", &jana).await;
    assert_eq!(status, 403);
    assert!(cookie.is_none());
}

#[tokio::test]
async fn a_stored_program_below_the_new_minimum_k_is_raised_and_flagged_not_unloadable() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    // Stored by an older version that allowed k = 2.
    let spec: String = sqlx::query_scalar("SELECT spec FROM programs")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    let spec = spec.replace("\"anonymity_threshold\":5", "\"anonymity_threshold\":2");
    assert!(spec.contains("\"anonymity_threshold\":2"), "{spec}");
    sqlx::query("UPDATE programs SET spec = $1")
        .bind(&spec)
        .execute(t.store.pool())
        .await
        .unwrap();
    let program = t
        .store
        .program_by_key(t.org.id, "leaders-2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(program.spec.anonymity_threshold, 3);
    let cookie = sign_in(&t, t.org.id).await;
    let (status, page) = get(&t, "/admin/programs/leaders-2026", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("program.anonymity_threshold was 2, below the minimum 3"),
        "{page}"
    );
}

/// The console's schedule import: each row's problem named before anything
/// is applied; then own dates from an enrolment CSV's session columns and
/// from the schedule, and a group session, all through the console.
#[tokio::test]
async fn the_console_imports_a_schedule_and_enrolment_dates_row_by_row() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let cookie = sign_in(&t, t.org.id).await;
    let csrf = csrf_of(&t, &cookie).await;
    let post = |path: &'static str, csv: &str, action: &'static str| {
        post_csv(&t, path, &cookie, &csrf, csv.to_string(), action)
    };
    let sessions = "/admin/programs/leaders-2026/sessions";
    let wrong = "email;cohort;session;planned;completed\n\
                 jana.novakova@acme.example;;2;2026-09-23;\n\
                 nikdo@acme.example;;2;2026-09-23;\n\
                 ;autumn-2026;1;;7.9.2026\n";
    let (status, body) = post(sessions, wrong, "preview").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("nikdo@acme.example is not a participant"),
        "{body}"
    );
    assert!(body.contains("completed 7.9.2026 is not a date"), "{body}");
    assert!(
        !body.contains("value=\"apply\""),
        "no apply while rows are wrong"
    );
    let (status, _) = post(sessions, wrong, "apply").await;
    assert_eq!(status, 422);
    assert_eq!(t.count("sessions").await, 0, "nothing applied");
    let right = "email;cohort;session;planned;completed\n\
                 jana.novakova@acme.example;;2;2026-09-23;\n\
                 ;autumn-2026;1;;2026-09-07\n";
    let (status, body) = post(sessions, right, "apply").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Applied: 1 planned dates set"), "{body}");
    let jana: Option<String> = sqlx::query_scalar(
        "SELECT s.planned_on FROM sessions s JOIN participants pa ON pa.id = s.participant_id \
         JOIN people pe ON pe.id = pa.person_id WHERE pe.email = $1 AND s.number = 2",
    )
    .bind("jana.novakova@acme.example")
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(jana.as_deref(), Some("2026-09-23"));

    // The enrolment CSV's session columns: a cell that is not a date is named.
    let enrol = "/admin/programs/leaders-2026/enrol";
    let with_dates = "Name;Work email;Manager;Session 3\n\
                      Olga Malá;olga.mala@acme.example;pavel.svoboda@acme.example;6. 10.\n";
    let (_, body) = post(enrol, with_dates, "preview").await;
    assert!(body.contains("6. 10. is not a date"), "{body}");
    let fixed = with_dates.replace("6. 10.", "2026-10-06");
    let (status, body) = post(enrol, &fixed, "apply").await;
    assert_eq!(status, 200, "{body}");
    let olga: Option<String> = sqlx::query_scalar(
        "SELECT s.planned_on FROM sessions s JOIN participants pa ON pa.id = s.participant_id \
         JOIN people pe ON pe.id = pa.person_id WHERE pe.email = $1 AND s.number = 3",
    )
    .bind("olga.mala@acme.example")
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(olga.as_deref(), Some("2026-10-06"));
}
