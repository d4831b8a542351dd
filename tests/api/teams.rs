//! Microsoft Teams end to end against the local workspace's Bot Framework
//! channel: token verification, installs, proactive cards, taps that update
//! the card and are stored once, commands in the 1:1 chat.

use crate::helpers::*;
use base64::Engine;
use momentum::chat::sim::botframework::{TokenSpec, APP_ID, TENANT};
use momentum::chat::teams::auth::{AuthError, BotAuth};
use serde_json::{json, Value};

pub(crate) fn teams_program(jana: &str, pavel: &str) -> String {
    format!(
        r#"version: 1
program:
  key: teams-pilot
  name: Teams Pilot
  time_zone: Europe/Prague
  locale: en
  welcome: false
  anonymity_threshold: 5
  quiet_hours: {{ from: "19:00", to: "08:00" }}
  working_days: [mon, tue, wed, thu, fri]
  themes: [feedback, delegation]
  sessions:
    - {{ number: 1, planned: 2026-09-07 }}
    - {{ number: 2, planned: 2026-09-21 }}
  nudges:
    - {{ kind: small_step, days_after_session: 1, at: "09:30" }}
    - {{ kind: manager_checkin, days_after_session: 3, at: "10:00" }}
    - {{ kind: one_tap_check, days_after_session: 4, at: "16:00" }}
participants:
  - {{ name: Jana Týmová, chat: "teams:{TENANT}/{jana}", manager: {{ name: Pavel Vedoucí, chat: "teams:{TENANT}/{pavel}" }}, focus: delegation, share_focus_with_manager: true }}
"#
    )
}

/// A participant (her Teams language `locale`) and her manager, in the tenant.
fn jana_and_pavel(t: &TestApp, locale: &str) -> (String, String) {
    let jana = t.sim.teams_add_user(
        "Jana Týmová",
        "jana.tymova@acme.example",
        "Europe/Prague",
        locale,
    );
    let pavel = t.sim.teams_add_user(
        "Pavel Vedoucí",
        "pavel.vedouci@acme.example",
        "Europe/Prague",
        "en-US",
    );
    (jana, pavel)
}

/// An unsigned token (`alg: none`) with a valid token's claims.
fn unsigned(valid: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = valid.split('.').nth(1).unwrap();
    let header = b64.encode(r#"{"alg":"none","typ":"JWT","kid":"sim-signing-key-1"}"#);
    format!("{header}.{claims}.")
}

/// The same claims signed with HMAC instead of the issuer's RSA key.
fn hmac_signed(valid: &str) -> String {
    use hmac::Mac;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = valid.split('.').nth(1).unwrap();
    let header = b64.encode(r#"{"alg":"HS256","typ":"JWT","kid":"sim-signing-key-1"}"#);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"guess").unwrap();
    mac.update(format!("{header}.{claims}").as_bytes());
    format!(
        "{header}.{claims}.{}",
        b64.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_refused_and_change_nothing() {
    let t = spawn_app().await;
    let jana = t.sim.teams_add_user(
        "Jana Týmová",
        "jana.tymova@acme.example",
        "Europe/Prague",
        "cs-CZ",
    );
    let mut install = t.sim.teams_activity(&jana, "installationUpdate").unwrap();
    install["action"] = json!("add");
    let token = |spec: TokenSpec| Some(t.sim.teams_token(&spec));
    let valid = t.sim.teams_token(&TokenSpec::default());
    let forged: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("not a JWT", Some("abc.def.ghi".into())),
        (
            "expired",
            token(TokenSpec {
                expires_in: Some(-3600),
                ..Default::default()
            }),
        ),
        (
            "another bot's",
            token(TokenSpec {
                audience: Some("11111111-2222-3333-4444-555555555555".into()),
                ..Default::default()
            }),
        ),
        (
            "another issuer's",
            token(TokenSpec {
                issuer: Some("https://api.botframework.com".into()),
                ..Default::default()
            }),
        ),
        (
            "signed with a key the issuer does not publish",
            token(TokenSpec {
                rogue_key: true,
                ..Default::default()
            }),
        ),
        (
            "for another service URL",
            token(TokenSpec {
                service_url: Some("https://smba.trafficmanager.net/emea/".into()),
                ..Default::default()
            }),
        ),
        ("unsigned (alg none)", Some(unsigned(&valid))),
        ("HMAC-signed", Some(hmac_signed(&valid))),
    ];
    for (what, token) in &forged {
        let reply = t
            .sim
            .teams_deliver_with(&install, token.as_deref())
            .await
            .unwrap();
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
    }
    // A valid token whose key is endorsed for Web Chat too, on an activity
    // from Web Chat: refused, whatever tenant and user it names.
    let mut webchat = install.clone();
    webchat["channelId"] = json!("webchat");
    let reply = t
        .sim
        .teams_deliver_with(&webchat, Some(&valid))
        .await
        .unwrap();
    assert_eq!(reply.status, 401, "webchat: {}", reply.body);
    assert!(
        reply.body.contains("only Microsoft Teams"),
        "{}",
        reply.body
    );
    assert_eq!(
        t.count("teams_users").await,
        0,
        "nothing stored from a refused request"
    );
    // Within five minutes of expiry the clock skew is forgiven.
    let skewed = t.sim.teams_token(&TokenSpec {
        expires_in: Some(-120),
        ..Default::default()
    });
    let reply = t
        .sim
        .teams_deliver_with(&install, Some(&skewed))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(t.count("teams_users").await, 1);
}

#[tokio::test]
async fn the_simulators_issuer_is_trusted_only_where_configured() {
    let t = spawn_app().await;
    let valid = t.sim.teams_token(&TokenSpec::default());
    let service_url = t.sim.teams_service_url();
    let now = t.sim.now().as_second();
    let http = reqwest::Client::new();
    let configured = BotAuth::new(APP_ID, &t.sim.teams_openid_metadata_url(), http.clone());
    configured
        .verify(
            Some(&format!("Bearer {valid}")),
            "msteams",
            &service_url,
            now,
        )
        .await
        .unwrap();
    // A key endorsed for Teams (and Web Chat, Direct Line) does not sign
    // for a channel it is not endorsed for.
    assert_eq!(
        configured
            .verify(Some(&format!("Bearer {valid}")), "skype", &service_url, now)
            .await,
        Err(AuthError::NotEndorsed("skype".into()))
    );
    // Another issuer (another local workspace) does not know the key.
    let other = momentum::chat::sim::SimWorkspace::new(
        Default::default(),
        std::sync::Arc::new(momentum::clock::SystemClock),
    );
    let (addr, _) = other.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let elsewhere = BotAuth::new(
        APP_ID,
        &format!("http://{addr}/botframework/.well-known/openidconfiguration"),
        http,
    );
    let refused = elsewhere
        .verify(
            Some(&format!("Bearer {valid}")),
            "msteams",
            &service_url,
            now,
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    // By default the service trusts Bot Framework's published metadata only.
    assert_eq!(
        momentum::chat::teams::auth::BOT_FRAMEWORK_OPENID_METADATA,
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    );
}

/// The latest card activity in a person's 1:1 chat.
fn latest(t: &TestApp, aad: &str) -> momentum::chat::sim::botframework::BfActivity {
    let conversation = t.sim.teams_user(aad).unwrap().conversation.unwrap();
    t.sim
        .teams_activities(&conversation)
        .pop()
        .expect("a message in the chat")
}

#[tokio::test]
async fn a_teams_participant_taps_a_nudge_the_card_updates_and_a_redelivery_is_stored_once() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "cs-CZ");
    t.sim.teams_install(&jana).await.unwrap();
    t.sim.teams_install(&pavel).await.unwrap();
    let resp = t
        .apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let body = json!({"participant": {"chat": format!("teams:{TENANT}/{jana}")}, "session": 1, "completed_on": "2026-09-07"});
    let resp = t.post_session(&t.admin_token, "teams-pilot", body).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    // 09:30 in Prague: the nudge arrives as a card, in Czech (her Teams language).
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    let nudge = latest(&t, &jana);
    assert!(nudge.text().contains("jeden malý krok"), "{}", nudge.text());
    assert_eq!(nudge.card().unwrap()["version"], "1.5");

    // She names her step on the card; Teams delivers the invoke twice.
    let step = "Nechat Petra vést poradu";
    let invoke = t
        .sim
        .teams_tap_activity(&jana, &nudge.id, "Uložit krok", json!({"step": step}))
        .unwrap();
    let first = t.sim.teams_deliver(&invoke).await.unwrap();
    let again = t.sim.teams_deliver(&invoke).await.unwrap();
    for reply in [&first, &again] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["type"], "application/vnd.microsoft.card.adaptive");
        assert!(body["value"].to_string().contains("Váš krok"), "{body}");
    }
    assert_eq!(t.count("steps").await, 1, "one step per session");
    // Too long: said plainly, nothing saved.
    let long = t
        .sim
        .teams_tap(
            &jana,
            &nudge.id,
            "Uložit krok",
            json!({"step": "x".repeat(281)}),
        )
        .await
        .unwrap();
    assert_eq!(long["type"], "application/vnd.microsoft.activity.message");
    assert!(long["value"].as_str().unwrap().contains("281"), "{long}");

    // A card action of another version (a verb this one does not know) is
    // answered with a plain message, not shown as a failed tap.
    let mut unknown = invoke.clone();
    unknown["id"] = json!("activity-of-another-version");
    unknown["value"]["action"]["verb"] = json!("rate_session");
    let reply = t.sim.teams_deliver(&unknown).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        body["type"], "application/vnd.microsoft.activity.message",
        "{body}"
    );
    assert!(
        body["value"].as_str().unwrap().contains("tlačítko"),
        "{body}"
    );
    assert_eq!(t.count("taps").await, 0, "nothing recorded");

    // A private note from the card: stored sealed, echoed to nobody.
    let kept = t
        .sim
        .teams_tap(
            &jana,
            &nudge.id,
            "Uložit",
            json!({"note": "Požádala jsem Evu o zpětnou vazbu"}),
        )
        .await
        .unwrap();
    assert_eq!(
        kept["type"], "application/vnd.microsoft.activity.message",
        "{kept}"
    );
    assert!(!t.all_stored_text().await.contains("Požádala jsem Evu"));
    assert!(
        !t.all_stored_text().await.contains(step),
        "the step is sealed"
    );

    // Thursday 10:00: Pavel's check-in names her focus (she agreed to share it).
    t.advance_to("2026-09-10T08:00:00Z").await;
    let checkin = latest(&t, &pavel);
    assert!(checkin.text().contains("delegation"), "{}", checkin.text());
    assert!(
        !checkin.text().contains("Zatím ne"),
        "a manager never sees answers"
    );
    let supported = t
        .sim
        .teams_tap(&pavel, &checkin.id, "I supported this week", json!({}))
        .await
        .unwrap();
    assert!(
        supported["value"].to_string().contains("Recorded"),
        "{supported}"
    );

    assert!(!checkin.text().contains(step), "nor her step");

    // Friday 16:00: the follow-up repeats her step; "Hotovo" twice is one report.
    t.advance_to("2026-09-11T14:00:00Z").await;
    let check = latest(&t, &jana);
    assert!(check.text().contains(step), "{}", check.text());
    let invoke = t
        .sim
        .teams_tap_activity(&jana, &check.id, "Hotovo", json!({}))
        .unwrap();
    for _ in 0..2 {
        let reply = t.sim.teams_deliver(&invoke).await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.contains("Zaznamenáno"), "{}", reply.body);
    }
    // (Two taps: hers, stored once, and Pavel's on his check-in.)
    assert_eq!((t.count("reports").await, t.count("taps").await), (1, 2));
    // She changes her mind: the card shows the new answer.
    let changed = t
        .sim
        .teams_tap(&jana, &check.id, "Zatím ne", json!({}))
        .await
        .unwrap();
    assert!(
        changed["value"].to_string().contains("✓ Zatím ne"),
        "{changed}"
    );
    assert_eq!(t.count("reports").await, 1, "an answer changed, not added");

    // Jana cannot answer Pavel's card.
    let invoke = t
        .sim
        .teams_tap_activity(&pavel, &checkin.id, "I will", json!({}))
        .unwrap();
    let mut stolen = invoke.clone();
    stolen["from"] = json!({ "id": "29:1sim-user-1", "aadObjectId": jana });
    let reply = t.sim.teams_deliver(&stolen).await.unwrap();
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["statusCode"], 400, "{body}");
}

#[tokio::test]
async fn status_in_the_chat_is_a_card_and_other_commands_reply_in_text() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    let conversation = t.sim.teams_install(&jana).await.unwrap();
    t.apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;

    let reply = t.sim.teams_say(&jana, "status").await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        t.eventually(|| !t.sim.teams_activities(&conversation).is_empty())
            .await
    );
    let status = t.sim.teams_activities(&conversation).pop().unwrap();
    let text = status.text();
    assert!(
        text.contains("Teams Pilot") && text.contains("delegation"),
        "{text}"
    );
    assert!(text.contains("0 of 2 done"), "{text}");

    t.sim.teams_say(&jana, "pause").await.unwrap();
    assert!(
        t.eventually(|| t.sim.teams_activities(&conversation).len() == 2)
            .await
    );
    let help = {
        t.sim.teams_say(&jana, "what can you do").await.unwrap();
        assert!(
            t.eventually(|| t.sim.teams_activities(&conversation).len() == 3)
                .await
        );
        t.sim.teams_activities(&conversation).pop().unwrap().text()
    };
    assert!(
        help.contains("**status**") && !help.contains("/momentum"),
        "{help}"
    );
}

#[tokio::test]
async fn without_the_app_installed_a_message_is_a_delivery_problem_hr_can_act_on() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    // Only Pavel has the app; a team install gives the tenant's service URL.
    t.sim.teams_install(&pavel).await.unwrap();
    t.apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;
    let body = json!({"participant": {"chat": format!("teams:{TENANT}/{jana}")}, "session": 1, "completed_on": "2026-09-07"});
    t.post_session(&t.admin_token, "teams-pilot", body).await;
    let s = t.advance_to("2026-09-08T07:30:00Z").await;
    assert_eq!(s.sent, 0);
    // HR sees why she cannot be reached (an operational reason, per person).
    let delivery: Value = t
        .get(&t.admin_token, "/api/v1/programs/teams-pilot/participants")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        delivery.to_string().contains("app_not_installed"),
        "{delivery}"
    );
    assert_eq!(t.sim.teams_calls("createConversation", 403), 1);

    // After she removes the app, nothing more goes to her old chat either.
    t.sim.teams_install(&jana).await.unwrap();
    t.sim.teams_uninstall(&jana).await.unwrap();
    let user = t.store.teams_user(TENANT, &jana).await.unwrap().unwrap();
    assert_eq!(user.conversation_id, None);
}

#[tokio::test]
async fn work_emails_resolve_through_the_rosters_of_teams_the_app_is_in() {
    let t = spawn_app().await;
    let jana = t.sim.teams_add_user(
        "Jana Týmová",
        "Jana.Tymova@acme.example",
        "Europe/Prague",
        "en-US",
    );
    for n in 0..4 {
        t.sim.teams_add_user(
            &format!("Colleague {n}"),
            &format!("c{n}@acme.example"),
            "UTC",
            "en-US",
        );
    }
    let pavel = t.sim.teams_add_user(
        "Pavel Vedoucí",
        "pavel.vedouci@acme.example",
        "Europe/Prague",
        "en-US",
    );
    t.sim.teams_install_in_team(&pavel).await.unwrap();
    let program = teams_program(&jana, &pavel)
        .replace(
            &format!("chat: \"teams:{TENANT}/{jana}\""),
            "email: jana.tymova@acme.example",
        )
        .replace(
            &format!("chat: \"teams:{TENANT}/{pavel}\""),
            "email: pavel.vedouci@acme.example",
        );
    let resp = t.apply_yaml(&t.admin_token, &program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let list: Value = t
        .get(&t.admin_token, "/api/v1/programs/teams-pilot/participants")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["chat"], format!("teams:{TENANT}/{jana}"), "{list}");
    // The roster came in pages of two.
    assert!(t.sim.teams_calls("getPagedMembers", 200) >= 3);
}

#[tokio::test]
async fn the_weekly_digest_is_posted_to_the_sponsors_teams_channel_as_a_card_once() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    let channel = t.sim.teams_install_in_team(&pavel).await.unwrap();
    let program = teams_program(&jana, &pavel).replace(
        "  welcome: false\n",
        &format!("  welcome: false\n  sponsor_channel: \"teams:{TENANT}/{channel}\"\n  recurring:\n    - {{ purpose: digest, cron: \"30 9 * * 1\" }}\n"),
    );
    let resp = t.apply_yaml(&t.admin_token, &program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // Monday 14 September, 09:30 in Prague: last week's digest.
    t.advance_to("2026-09-14T07:30:00Z").await;
    t.dispatch().await;
    let posted = t.sim.teams_activities(&channel);
    assert_eq!(posted.len(), 1, "once");
    let text = posted[0].text();
    assert!(text.contains("Momentum digest · 2026-W37"), "{text}");
    // One participant: below the threshold, no figure is shown.
    assert!(text.contains("Not published this week"), "{text}");
    assert!(!text.contains("Jana"), "{text}");
}

#[tokio::test]
async fn with_graph_consented_emails_resolve_and_the_app_is_installed_before_the_first_nudge() {
    let t = spawn_app_with_graph().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    // Nobody has the app yet, and the bot has heard from nobody in the tenant.
    let program = teams_program(&jana, &pavel)
        .replace(
            &format!("chat: \"teams:{TENANT}/{jana}\""),
            "email: Jana.Tymova@acme.example",
        )
        .replace(
            &format!("chat: \"teams:{TENANT}/{pavel}\""),
            "email: pavel.vedouci@acme.example",
        );
    let resp = t.apply_yaml(&t.admin_token, &program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert!(t.sim.graph_calls("graph.users") >= 2);
    // Both emails asked in one call: Graph's JSON batching.
    assert_eq!(t.sim.graph_calls("graph.batch"), 1);
    let body = json!({"participant": {"email": "jana.tymova@acme.example"}, "session": 1, "completed_on": "2026-09-07"});
    let resp = t.post_session(&t.admin_token, "teams-pilot", body).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 1);
    assert_eq!(t.sim.graph_calls("graph.install"), 1);
    let conversation = t.sim.teams_user(&jana).unwrap().conversation.unwrap();
    let nudge = t.sim.teams_activities(&conversation);
    assert_eq!(nudge.len(), 1);
    assert!(
        nudge[0].text().contains("one small step"),
        "{}",
        nudge[0].text()
    );
    // Teams tells the bot about the install it made; the reference is kept.
    assert!(
        t.eventually(|| t.sim.teams_calls("createConversation", 201) == 1)
            .await
    );
}

#[tokio::test]
async fn the_welcome_card_opens_the_focus_form_and_saving_it_keeps_the_starting_point_private() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    t.sim.teams_install(&jana).await.unwrap();
    let program = teams_program(&jana, &pavel).replace("welcome: false", "welcome: true");
    t.apply_yaml(&t.admin_token, &program).await;
    // The welcome waits for the first allowed hour: 08:00 in Prague.
    assert_eq!(t.advance_to("2026-09-07T06:00:00Z").await.sent, 1);
    let welcome = latest(&t, &jana);
    assert!(
        welcome.text().contains("Welcome to **Teams Pilot**"),
        "{}",
        welcome.text()
    );

    let form = t
        .sim
        .teams_tap(&jana, &welcome.id, "Choose my focus", json!({}))
        .await
        .unwrap();
    assert_eq!(
        form["type"], "application/vnd.microsoft.card.adaptive",
        "{form}"
    );
    let inputs: Vec<&str> = form["value"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(inputs, ["goal", "context", "blocker", "focus", "share"]);

    // A focus outside the program's themes is refused by name; nothing saved.
    let wrong = t
        .sim
        .teams_tap(
            &jana,
            &welcome.id,
            "Save",
            json!({"focus": "juggling", "share": "false"}),
        )
        .await
        .unwrap();
    assert!(
        wrong["value"].as_str().unwrap().contains("focus"),
        "{wrong}"
    );
    let saved = t
        .sim
        .teams_tap(
            &jana,
            &welcome.id,
            "Save",
            json!({"goal": "Delegovat víc", "context": "Nový tým", "blocker": "Chci mít vše pod kontrolou", "focus": "feedback", "share": "false"}),
        )
        .await
        .unwrap();
    assert!(saved["value"].to_string().contains("Saved"), "{saved}");
    let focus: (String, i64) = sqlx::query_as("SELECT focus, share_focus FROM participants")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert_eq!(focus, ("feedback".to_string(), 0));
    let stored = t.all_stored_text().await;
    assert!(
        !stored.contains("Chci mít vše pod kontrolou"),
        "the blocker is sealed"
    );
}

#[tokio::test]
async fn my_data_arrives_in_the_chat_and_forget_me_erases_the_teams_reference_too() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    let conversation = t.sim.teams_install(&jana).await.unwrap();
    t.apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;
    t.sim
        .teams_say(&jana, "note Mluvila jsem s Evou")
        .await
        .unwrap();
    assert!(
        t.eventually(|| t.sim.teams_activities(&conversation).len() == 1)
            .await
    );
    t.sim.teams_say(&jana, "my-data").await.unwrap();
    // The acknowledgement and the data itself.
    assert!(
        t.eventually(|| t.sim.teams_activities(&conversation).len() == 3)
            .await
    );
    let all: String = t
        .sim
        .teams_activities(&conversation)
        .iter()
        .map(|a| a.text())
        .collect();
    assert!(
        all.contains("Mluvila jsem s Evou") && all.contains("```json"),
        "{all}"
    );

    t.sim.teams_say(&jana, "forget-me confirm").await.unwrap();
    assert!(
        t.eventually(|| t.sim.teams_activities(&conversation).len() == 4)
            .await
    );
    assert_eq!(
        t.store.teams_user(TENANT, &jana).await.unwrap(),
        None,
        "her Teams reference went with her"
    );
    assert!(!t.all_stored_text().await.contains(&jana));
}

#[tokio::test]
async fn a_429_from_the_bot_connector_is_waited_out_and_the_nudge_arrives_once() {
    use momentum::chat::sim::{Fault, FaultKind};
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    let conversation = t.sim.teams_install(&jana).await.unwrap();
    t.apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;
    let body = json!({"participant": {"chat": format!("teams:{TENANT}/{jana}")}, "session": 1, "completed_on": "2026-09-07"});
    t.post_session(&t.admin_token, "teams-pilot", body).await;
    t.sim.set_faults(vec![Fault::new(
        "sendToConversation",
        1.0,
        FaultKind::RateLimited { retry_after: 20 },
    )]);
    assert_eq!(t.advance_to("2026-09-08T07:30:00Z").await.sent, 0);
    assert_eq!(t.sim.teams_calls("sendToConversation", 429), 1);
    t.sim.set_faults(vec![]);
    // Not before Retry-After has passed.
    assert_eq!(t.advance_to("2026-09-08T07:30:10Z").await.sent, 0);
    assert_eq!(t.advance_to("2026-09-08T07:30:30Z").await.sent, 1);
    assert_eq!(t.dispatch().await.sent, 0);
    assert_eq!(t.sim.teams_activities(&conversation).len(), 1);
}

#[tokio::test]
async fn a_published_digest_card_shows_its_chart_from_this_deployment() {
    let t = spawn_app().await;
    let manager = t.sim.teams_add_user(
        "Pavel Vedoucí",
        "pavel.vedouci@acme.example",
        "Europe/Prague",
        "en-US",
    );
    let channel = t.sim.teams_install_in_team(&manager).await.unwrap();
    let mut people = String::new();
    for n in 0..6 {
        let aad = t.sim.teams_add_user(
            &format!("Person {n}"),
            &format!("p{n}@acme.example"),
            "Europe/Prague",
            "en-US",
        );
        people.push_str(&format!(
            "  - {{ name: Person {n}, chat: \"teams:{TENANT}/{aad}\", manager: {{ name: Pavel, chat: \"teams:{TENANT}/{manager}\" }}, focus: feedback }}\n"
        ));
    }
    let first = teams_program("x", "y");
    let header = first.split("participants:").next().unwrap().replace(
        "  welcome: false\n",
        &format!("  welcome: false\n  sponsor_channel: \"teams:{TENANT}/{channel}\"\n  recurring:\n    - {{ purpose: digest, cron: \"30 9 * * 1\" }}\n"),
    );
    let resp = t
        .apply_yaml(&t.admin_token, &format!("{header}participants:\n{people}"))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    t.advance_to("2026-09-14T07:30:00Z").await;
    let posted = t.sim.teams_activities(&channel);
    assert_eq!(posted.len(), 1);
    let card = posted[0].card().unwrap().to_string();
    assert!(card.contains("Engagement"), "{card}");
    let url = card
        .split("\"url\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the card shows the chart");
    assert!(url.starts_with(&t.url) && url.ends_with(".png"), "{url}");
    let png = reqwest::get(url).await.unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // Another id shows nothing.
    let other = format!("{}/charts/{}.png", t.url, "0".repeat(32));
    assert_eq!(reqwest::get(other).await.unwrap().status(), 404);
}

/// On Teams the question whether a session happened is a card with a date
/// input: a past day is said plainly, a move shows on the card and asks
/// again on the new day, where "Yes" records the session from chat.
#[tokio::test]
async fn a_teams_participant_moves_a_session_then_confirms_it() {
    let t = spawn_app().await;
    let (jana, pavel) = jana_and_pavel(&t, "en-US");
    t.sim.teams_install(&jana).await.unwrap();
    t.sim.teams_install(&pavel).await.unwrap();
    let resp = t
        .apply_yaml(&t.admin_token, &teams_program(&jana, &pavel))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // 7 September, 17:00 in Prague: session 1 was not reported.
    t.advance_to("2026-09-07T15:00:00Z").await;
    let asked = latest(&t, &jana);
    assert!(
        asked.text().contains("session 1 happen"),
        "{}",
        asked.text()
    );
    let past = t
        .sim
        .teams_tap(&jana, &asked.id, "It moved", json!({"moved": "2026-09-01"}))
        .await
        .unwrap();
    assert_eq!(past["type"], "application/vnd.microsoft.activity.message");
    assert!(
        past["value"].as_str().unwrap().contains("in the past"),
        "{past}"
    );
    let moved = t
        .sim
        .teams_tap(&jana, &asked.id, "It moved", json!({"moved": "2026-09-09"}))
        .await
        .unwrap();
    assert!(
        moved["value"].to_string().contains("moved to 2026-09-09"),
        "{moved}"
    );
    // 9 September, 17:00: asked again; yes records it from chat.
    t.advance_to("2026-09-09T15:00:00Z").await;
    let again = latest(&t, &jana);
    assert_ne!(again.id, asked.id);
    assert!(again.text().contains("2026-09-09"), "{}", again.text());
    let yes = t
        .sim
        .teams_tap(&jana, &again.id, "Yes", json!({}))
        .await
        .unwrap();
    assert!(yes["value"].to_string().contains("it happened"), "{yes}");
    let source: String = sqlx::query_scalar(
        "SELECT source FROM sessions WHERE org_id = $1 AND number = 1 AND completed_on = '2026-09-09'",
    )
    .bind(t.org.id.0)
    .fetch_one(t.store.pool())
    .await
    .unwrap();
    assert_eq!(source, "chat");
}
