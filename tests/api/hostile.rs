//! Hostile requests at every route: forged and replayed signatures, no or
//! foreign tokens, other organisations' keys, oversized, deeply nested,
//! non-UTF-8 and wrong-content-type bodies. None is accepted, none panics
//! or answers 5xx, and nothing stored changes.

use crate::helpers::*;
use reqwest::Method;

const SLACK_POSTS: [&str; 3] = ["/slack/events", "/slack/interactions", "/slack/commands"];
const API_POSTS: [&str; 3] = [
    "/api/v1/programs",
    "/api/v1/programs/leaders-2026/sessions",
    "/api/v1/erasures",
];
const API_GETS: [&str; 7] = [
    "/api/v1/programs",
    "/api/v1/programs/leaders-2026/participants",
    "/api/v1/programs/leaders-2026/delivery",
    "/api/v1/programs/leaders-2026/aggregates",
    "/api/v1/audit",
    "/api/v1/programs/leaders-2026/sessions",
    "/api/v1/org-admins",
];

async fn stored(t: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "participants",
        "jobs",
        "sessions",
        "taps",
        "notes",
        "audit_log",
        "teams_users",
        "teams_conversations",
    ] {
        out.push(t.count(table).await);
    }
    out
}

async fn send(
    t: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> u16 {
    let mut req = t
        .http
        .request(method, format!("{}{path}", t.url))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await;
    let status = resp.map(|r| r.status().as_u16()).unwrap_or(599);
    assert!(status < 500, "{path}: {status}");
    status
}

#[tokio::test]
async fn hostile_requests_at_every_route_are_refused_without_a_trace() {
    let t = spawn_app().await;
    t.apply_yaml(&t.admin_token, &PROGRAM).await;
    let other = t.app.create_org("Other", "UTC", "en").await.unwrap();
    let foreign = t
        .app
        .create_token(other.id, "other", momentum::app::Scope::Admin)
        .await
        .unwrap();
    let before = stored(&t).await;
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let huge_api = vec![b'a'; 9 * 1024 * 1024];
    let huge_slack = vec![b'a'; 600 * 1024];
    let not_utf8 = vec![0xff, 0xfe, 0x00, 0x9f];
    let json = ("Content-Type", "application/json".to_string());

    // The admin API: no token, a forged one, another organisation's (which
    // sees only its own, empty, organisation).
    for path in API_GETS {
        for auth in [
            None,
            Some("forged-token".to_string()),
            Some(foreign.clone()),
        ] {
            let mut req = t.http.get(format!("{}{path}", t.url));
            if let Some(a) = &auth {
                req = req.bearer_auth(a);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            let own_list = auth.as_ref() == Some(&foreign)
                && ["/api/v1/programs", "/api/v1/audit", "/api/v1/org-admins"].contains(&path);
            if own_list {
                assert_eq!(status, 200, "{path}");
                assert!(
                    !body.contains("leaders-2026") && !body.contains("Leadership"),
                    "{body}"
                );
            } else {
                assert!(
                    [401, 404, 405].contains(&status),
                    "{path} with {auth:?}: {status}"
                );
            }
        }
    }
    for path in API_POSTS {
        for body in [
            nested.clone(),
            not_utf8.clone(),
            b"{\"email\": \"jana.novakova@acme.example\"}".to_vec(),
        ] {
            for auth in [String::new(), format!("Bearer {foreign}")] {
                let headers = vec![json.clone(), ("Authorization", auth)];
                let status = send(&t, Method::POST, path, &headers, body.clone()).await;
                assert!([401, 404, 415, 422].contains(&status), "{path}: {status}");
            }
            // With the right token, a malformed body is refused by name.
            let headers = vec![
                json.clone(),
                ("Authorization", format!("Bearer {}", t.admin_token)),
            ];
            let status = send(&t, Method::POST, path, &headers, nested.clone()).await;
            assert!([400, 404, 415, 422].contains(&status), "{path}: {status}");
        }
        let headers = vec![
            ("Content-Type", "text/html".to_string()),
            ("Authorization", format!("Bearer {}", t.admin_token)),
        ];
        let status = send(&t, Method::POST, path, &headers, b"<p>hi</p>".to_vec()).await;
        assert!([400, 404, 415, 422].contains(&status), "{path}: {status}");
        let headers = vec![
            json.clone(),
            ("Authorization", format!("Bearer {}", t.admin_token)),
        ];
        let status = send(&t, Method::POST, path, &headers, huge_api.clone()).await;
        assert_eq!(status, 413, "{path}");
    }

    // Slack: forged, replayed (stale) and oversized, and no signature at all.
    let now = jiff::Timestamp::now().as_second();
    for path in SLACK_POSTS {
        for (ts, sig) in [
            (None, None),
            (Some(now), Some("v0=forged".to_string())),
            (
                Some(now - 3600),
                Some(momentum::chat::slack::verify::sign(
                    &t.sim.config.signing_secret,
                    now - 3600,
                    b"payload=%7B%7D",
                )),
            ),
        ] {
            let mut headers = vec![(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )];
            if let Some(ts) = ts {
                headers.push(("X-Slack-Request-Timestamp", ts.to_string()));
            }
            if let Some(sig) = sig {
                headers.push(("X-Slack-Signature", sig));
            }
            let status = send(&t, Method::POST, path, &headers, b"payload=%7B%7D".to_vec()).await;
            assert_eq!(status, 401, "{path}");
        }
        let status = send(&t, Method::POST, path, &[], huge_slack.clone()).await;
        assert_eq!(status, 413, "{path}");
        // Signed by the workspace, but garbage inside.
        for body in [nested.clone(), not_utf8.clone()] {
            let (ts, sig) = t.sim.signature_headers(&String::from_utf8_lossy(&body));
            let headers = vec![
                ("Content-Type", "application/json".to_string()),
                ("X-Slack-Request-Timestamp", ts),
                ("X-Slack-Signature", sig),
            ];
            let status = send(&t, Method::POST, path, &headers, body.clone()).await;
            assert!((400..500).contains(&status), "{path}: {status}");
        }
    }
    // Teams: no token, a forged one, garbage with a valid one, oversized,
    // and a valid token for a tenant that belongs to no organisation.
    let jana = t.sim.teams_add_user(
        "Jana Týmová",
        "jana.tymova@acme.example",
        "Europe/Prague",
        "en-US",
    );
    let mut install = t.sim.teams_activity(&jana, "installationUpdate").unwrap();
    install["action"] = serde_json::json!("add");
    let valid = t
        .sim
        .teams_token(&momentum::chat::sim::botframework::TokenSpec::default());
    for auth in [None, Some("Bearer forged".to_string())] {
        let mut headers = vec![json.clone()];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let status = send(
            &t,
            Method::POST,
            "/api/messages",
            &headers,
            install.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 401);
    }
    let signed = vec![json.clone(), ("Authorization", format!("Bearer {valid}"))];
    for body in [nested.clone(), not_utf8.clone(), b"{}".to_vec()] {
        let status = send(&t, Method::POST, "/api/messages", &signed, body).await;
        assert_eq!(status, 400);
    }
    let status = send(
        &t,
        Method::POST,
        "/api/messages",
        &signed,
        huge_slack.clone(),
    )
    .await;
    assert_eq!(status, 413);
    let mut foreign_tenant = install.clone();
    foreign_tenant["channelData"]["tenant"]["id"] =
        serde_json::json!("99999999-aaaa-bbbb-cccc-dddddddddddd");
    foreign_tenant["conversation"]["tenantId"] =
        serde_json::json!("99999999-aaaa-bbbb-cccc-dddddddddddd");
    let status = send(
        &t,
        Method::POST,
        "/api/messages",
        &signed,
        foreign_tenant.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 403);

    // The HR console: signed out, a forged cookie, a made-up login link.
    let form = vec![(
        "Content-Type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    for path in [
        "/admin/logout",
        "/admin/programs",
        "/admin/programs/leaders-2026/edit",
        "/admin/programs/leaders-2026/enrol",
    ] {
        let status = send(&t, Method::POST, path, &form, b"csrf=x&csv=a".to_vec()).await;
        assert_eq!(status, 401, "{path}");
    }
    let status = send(&t, Method::POST, "/admin/logout", &[], b"csrf=x".to_vec()).await;
    assert_eq!(status, 401, "signed out comes first, whatever the body");
    for path in [
        "/admin",
        "/admin/programs/leaders-2026",
        "/admin/programs/new",
        "/admin/programs/leaders-2026/edit",
        "/admin/programs/leaders-2026/enrol",
        "/admin/programs/leaders-2026/schedule",
        "/admin/programs/leaders-2026/program.yaml",
        "/admin/programs/leaders-2026/chart.png",
        "/admin/programs/leaders-2026/aggregates/csv",
        "/admin/login?token=forged",
    ] {
        let forged = vec![("Cookie", "momentum_console=forged".to_string())];
        let status = send(&t, Method::GET, path, &forged, vec![]).await;
        assert_eq!(status, 401, "{path}");
    }
    for path in [
        "/slack/oauth_redirect?state=x&code=y",
        "/slack/oauth_redirect",
        "/no/such/route",
    ] {
        let status = send(&t, Method::GET, path, &[], vec![]).await;
        assert!((400..500).contains(&status), "{path}: {status}");
    }

    assert_eq!(stored(&t).await, before, "nothing stored changed");
    assert_eq!(send(&t, Method::GET, "/healthz", &[], vec![]).await, 200);
}
