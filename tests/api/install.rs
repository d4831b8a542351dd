//! Installing to more workspaces with Slack's OAuth v2, against the local
//! workspace's authorize page and `oauth.v2.access`: one organisation per
//! workspace, its token sealed, messages sent with the right token; a forged
//! or replayed redirect installs nothing; uninstalling stops all sending.

use crate::helpers::*;
use momentum::chat::sim::SimWorkspace;
use momentum::domain::Platform;
use serde_json::json;

const TEAM2: &str = "T0SIMTEAM2";

/// The second workspace's program: Ana, one nudge a day after session 1.
const SECOND_PROGRAM: &str = r#"
version: 1
program:
  key: second
  name: Second Program
  time_zone: Europe/Prague
  welcome: false
  sessions: [{ number: 1, planned: 2026-09-07 }]
  nudges: [{ kind: small_step, days_after_session: 1, at: "09:30" }]
participants:
  - { email: ana@second.example }
"#;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// "Add to Slack": the authorize link and the state cookie it set.
async fn begin(t: &TestApp) -> (String, String) {
    let resp = no_redirects()
        .get(format!("{}/slack/install", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = resp.text().await.unwrap();
    let href = html
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    // The page escapes the link as HTML does; a browser reads it back.
    (href.replace("&#x2f;", "/").replace("&amp;", "&"), cookie)
}

/// The person allows the app on Slack's page for `team` (or cancels):
/// where Slack sends them back.
async fn approve(authorize: &str, team: &str, deny: bool) -> String {
    let url = format!(
        "{authorize}&team={team}{}",
        if deny { "&deny=true" } else { "" }
    );
    let resp = no_redirects().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    resp.headers()["location"].to_str().unwrap().to_string()
}

async fn come_back(location: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = no_redirects().get(location);
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn install_team2(t: &TestApp) -> String {
    t.sim.add_team(TEAM2, "Second Workspace");
    let ana = t.sim.add_user_in(
        TEAM2,
        "ana.second",
        "Ana Second",
        "ana@second.example",
        "Europe/Prague",
    );
    let (authorize, cookie) = begin(t).await;
    assert!(
        authorize.contains("scope=chat%3Awrite") || authorize.contains("scope=chat:write"),
        "{authorize}"
    );
    let back = approve(&authorize, TEAM2, false).await;
    let (status, page) = come_back(&back, Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Momentum is installed") && page.contains("Second Workspace"),
        "{page}"
    );
    ana
}

async fn team2_org(t: &TestApp) -> momentum::store::OrgId {
    t.store
        .org_for_workspace(Platform::Slack, TEAM2)
        .await
        .unwrap()
        .expect("an organisation for the new workspace")
}

#[tokio::test]
async fn a_second_workspace_installs_and_gets_its_own_organisation_and_token() {
    let t = spawn_app().await;
    let ana = install_team2(&t).await;
    let org2 = team2_org(&t).await;
    assert_ne!(org2, t.org.id, "one organisation per workspace");
    assert!(t.app.chats.for_workspace(Platform::Slack, TEAM2).is_some());
    // The token is sealed at rest: it appears nowhere in the database.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT token_sealed FROM slack_installations")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("xoxb-"));
    assert!(!hex::encode(&sealed).contains(&hex::encode("xoxb-")));

    // HR of the second organisation runs a program there: its nudge goes out
    // with the second workspace's token, to Ana's DM.
    let token2 = t
        .app
        .create_token(org2, "hr", momentum::app::Scope::Admin)
        .await
        .unwrap();
    let applied = t.apply_yaml(&token2, SECOND_PROGRAM).await;
    assert_eq!(applied.status(), 200, "{}", applied.text().await.unwrap());
    let resp = t
        .post_session(
            &token2,
            "second",
            json!({"participant": {"email": "ana@second.example"}, "session": 1, "completed_on": "2026-09-07"}),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // The first organisation cannot see or touch the second's program.
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/programs/second/participants")
            .await
            .status(),
        404
    );
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    let dm = t.sim.messages_in(&SimWorkspace::dm_channel(&ana));
    assert_eq!(dm.len(), 1);
    assert_eq!(dm[0].team, TEAM2, "sent with the second workspace's token");
    assert!(dm[0].content.text.contains("Second Program"));
}

#[tokio::test]
async fn a_redirect_without_this_browsers_fresh_state_installs_nothing() {
    let t = spawn_app().await;
    t.sim.add_team(TEAM2, "Second Workspace");
    let (authorize, cookie) = begin(&t).await;
    let back = approve(&authorize, TEAM2, false).await;
    // Another browser (no cookie, or another install's cookie) is refused.
    let (status, _) = come_back(&back, None).await;
    assert_eq!(status, 400);
    let (_, other_cookie) = begin(&t).await;
    let (status, _) = come_back(&back, Some(&other_cookie)).await;
    assert_eq!(status, 400);
    assert!(t.store.slack_installations().await.unwrap().is_empty());
    // A state comes back once: the refused attempts used it up.
    let (status, page) = come_back(&back, Some(&cookie)).await;
    assert_eq!(status, 400, "{page}");
    // A forged state with a matching cookie was never handed out.
    let forged = back.replace("state=", "state=f0f0");
    let forged_state = forged.split("state=").nth(1).unwrap();
    let (status, _) = come_back(
        &forged,
        Some(&format!("momentum_slack_state={forged_state}")),
    )
    .await;
    assert_eq!(status, 400);
    // Cancelling on Slack's page is said plainly.
    let (authorize, cookie) = begin(&t).await;
    let back = approve(&authorize, TEAM2, true).await;
    let (status, page) = come_back(&back, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains("cancelled"), "{page}");
    // A made-up code is refused by Slack: nothing installed.
    let (authorize, cookie) = begin(&t).await;
    let back = approve(&authorize, TEAM2, false).await;
    let tampered = back.replace("code=sim-code-", "code=forged-");
    let (status, _) = come_back(&tampered, Some(&cookie)).await;
    assert_eq!(status, 400);
    assert!(t.store.slack_installations().await.unwrap().is_empty());
    assert!(t.app.chats.for_workspace(Platform::Slack, TEAM2).is_none());
}

#[tokio::test]
async fn uninstalling_deletes_the_token_and_stops_all_sending_to_the_workspace() {
    let t = spawn_app().await;
    let ana = install_team2(&t).await;
    let org2 = team2_org(&t).await;
    let token2 = t
        .app
        .create_token(org2, "hr", momentum::app::Scope::Admin)
        .await
        .unwrap();
    t.apply_yaml(&token2, SECOND_PROGRAM).await;
    t.post_session(
        &token2,
        "second",
        json!({"participant": {"email": "ana@second.example"}, "session": 1, "completed_on": "2026-09-07"}),
    )
    .await;
    let reply = t.sim.uninstall(TEAM2).await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        t.store.slack_installations().await.unwrap().is_empty(),
        "token deleted"
    );
    assert!(t.app.chats.for_workspace(Platform::Slack, TEAM2).is_none());
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 0);
    assert!(t
        .sim
        .messages_in(&SimWorkspace::dm_channel(&ana))
        .is_empty());
    let skipped: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND outcome = 'the app was uninstalled from the Slack workspace'",
    )
    .bind(org2.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(skipped, 1);
    // The first workspace goes on as before.
    assert!(t
        .app
        .chats
        .for_workspace(Platform::Slack, "T0SIMTEAM1")
        .is_some());
}

/// A program is applied for one organisation only: its people, managers,
/// admins and sponsor channel must be in that organisation's own workspaces.
/// Naming another organisation's workspace in the file, or its people's
/// emails in a CSV, reaches nobody there.
#[tokio::test]
async fn no_program_file_csv_or_api_call_reaches_another_organisations_workspace() {
    let t = spawn_app().await;
    let ana = install_team2(&t).await;
    let org2 = team2_org(&t).await;
    let token2 = t
        .app
        .create_token(org2, "hr", momentum::app::Scope::Admin)
        .await
        .unwrap();

    // Organisation A names B's person, as participant and as manager, and
    // B's channel for its digest: every field is named, nothing applied.
    let hostile = format!(
        "{}\nparticipants:\n  - {{ chat: \"slack:{TEAM2}/{ana}\" }}\n  - {{ email: jana.novakova@acme.example, manager: \"slack:{TEAM2}/{ana}\" }}\n",
        SECOND_PROGRAM
            .split("participants:")
            .next()
            .unwrap()
            .replace("welcome: false", &format!("welcome: false\n  sponsor_channel: slack:{TEAM2}/C0SECOND\n  admins: [\"slack:{TEAM2}/{ana}\"]"))
    );
    let resp = t.apply_yaml(&t.admin_token, &hostile).await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    for field in [
        "participants[0].chat",
        "participants[1].manager",
        "program.sponsor_channel",
        "program.admins[0]",
    ] {
        assert!(body.contains(field), "{field} named: {body}");
    }
    assert!(
        body.contains("not connected to this organisation"),
        "{body}"
    );
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/programs/second")
            .await
            .status(),
        404,
        "nothing applied"
    );
    // The same the other way round: B cannot name A's workspace.
    let into_a = SECOND_PROGRAM.replace(
        "{ email: ana@second.example }",
        "{ chat: \"slack:T0SIMTEAM1/U00000001\" }",
    );
    let resp = t.apply_yaml(&token2, &into_a).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("participants[0].chat"));

    // A's HR enrols B's person by email, from a CSV in the console: the
    // email is looked up in A's workspaces only, so she is listed as not
    // found and never messaged.
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let cookie = crate::console::sign_in(&t, t.org.id).await;
    let csrf = crate::console::csrf_of(&t, &cookie).await;
    let csv = "Name;Work email;Manager;Time zone;Cohort\n\
               Ana Second;ana@second.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n";
    let (status, _, body) = crate::console::post_form(
        &t,
        "/admin/programs/leaders-2026/enrol",
        &cookie,
        &[
            ("csrf", csrf),
            ("csv", csv.to_string()),
            ("action", "apply".to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Not found in chat") && body.contains("ana@second.example"),
        "{body}"
    );
    let resp = t
        .post_session(
            &t.admin_token,
            "leaders-2026",
            json!({"participant": {"email": "ana@second.example"}, "session": 1, "completed_on": "2026-09-07"}),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    t.advance_to("2026-09-10T12:00:00Z").await;
    assert!(
        t.sim
            .messages_in(&SimWorkspace::dm_channel(&ana))
            .is_empty(),
        "nothing reached B's person"
    );
}

/// "Add to Slack" is a GET anyone can repeat, and each stores a state: one
/// address gets a few a minute, then 429; expired states are purged.
#[tokio::test]
async fn starting_installs_in_a_loop_is_refused_and_stores_nothing_more() {
    let t = spawn_app().await;
    let get = |from: Option<&'static str>| {
        let mut req = no_redirects().get(format!("{}/slack/install", t.url));
        if let Some(addr) = from {
            // The test client connects from loopback, as an ingress would.
            req = req.header("X-Forwarded-For", addr);
        }
        async move { req.send().await.unwrap() }
    };
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(get(Some("203.0.113.7")).await.status().as_u16());
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10..], [429, 429]);
    let refused = get(Some("203.0.113.7")).await;
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(states(&t).await, 10, "nothing stored when refused");
    // Another client is not held up by the first.
    assert_eq!(get(Some("198.51.100.9")).await.status(), 200);
    // Ten minutes on, the states have expired: the next one purges them.
    t.clock.advance(jiff::SignedDuration::from_mins(11));
    assert_eq!(get(Some("192.0.2.1")).await.status(), 200);
    assert_eq!(states(&t).await, 1);
}

async fn states(t: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states")
        .fetch_one(t.store.pool())
        .await
        .unwrap()
}

/// The install pages come from templates, in the browser's language, with
/// what they show escaped.
#[tokio::test]
async fn the_install_pages_speak_the_browsers_language() {
    let t = spawn_app().await;
    let get = |lang: &'static str, path: &'static str| {
        let req = no_redirects()
            .get(format!("{}{path}", t.url))
            .header("Accept-Language", lang);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, page) = get("cs-CZ,cs;q=0.9", "/slack/install").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Přidat do Slacku") && page.contains("lang=\"cs\""),
        "{page}"
    );
    let (_, page) = get("en-GB", "/slack/install").await;
    assert!(page.contains("Add to Slack"), "{page}");
    // Slack's error code is shown as text, never as markup.
    let (status, page) = get(
        "en",
        "/slack/oauth_redirect?state=x&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    )
    .await;
    assert_eq!(status, 400, "no state cookie: not started here");
    assert!(page.contains("was not started here"), "{page}");
    assert!(!page.contains("<script>"));
}
