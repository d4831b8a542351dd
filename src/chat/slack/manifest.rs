//! The Slack app manifest for a deployment (`momentum slack-manifest`),
//! ready to paste into "Create an app → From a manifest". Every scope the
//! product needs is asked for up front: adding one later makes every
//! workspace reinstall the app.

use serde_json::{json, Value};

/// Bot scopes, and why each is needed.
pub const BOT_SCOPES: [(&str, &str); 12] = [
    ("chat:write", "send nudges, check-ins and the digest"),
    (
        "chat:write.public",
        "post the digest to a public sponsors' channel without being invited",
    ),
    (
        "im:write",
        "open the direct message with a participant or manager",
    ),
    (
        "im:history",
        "look for a message whose send timed out before sending it again",
    ),
    (
        "channels:history",
        "the same check in the sponsors' public channel",
    ),
    (
        "groups:history",
        "the same check in a private sponsors' channel",
    ),
    (
        "users:read",
        "time zone, language, out-of-office status, deactivated accounts",
    ),
    ("users:read.email", "find people by their work email"),
    ("commands", "the /momentum slash command"),
    (
        "files:write",
        "the digest's chart and a person's my-data file",
    ),
    (
        "metadata.message:read",
        "learn that a message carrying a job id arrived",
    ),
    (
        "team:read",
        "the workspace's name for HR when it is installed",
    ),
];

/// Bot events the service handles.
pub const BOT_EVENTS: [&str; 5] = [
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
    "user_change",
    "message_metadata_posted",
];

/// The manifest as YAML. With Socket Mode the request URLs are left out
/// (Slack delivers over the WebSocket); OAuth still needs the redirect URL.
/// The metadata subscription names the app itself, so it needs the app id
/// once the app exists (`app_id`); without it the manifest says so.
pub fn manifest(base_url: &str, socket_mode: bool, app_id: Option<&str>) -> String {
    let base = base_url.trim_end_matches('/');
    let mut command = json!({
        "command": "/momentum",
        "description": "Your program: status, notes, pause, snooze; HR: health, digest",
        "usage_hint": "help | status | note TEXT | pause | snooze | my-data | forget-me",
        "should_escape": false,
    });
    let mut events = json!({ "bot_events": BOT_EVENTS });
    let mut interactivity = json!({ "is_enabled": true });
    if !socket_mode {
        command["url"] = json!(format!("{base}/slack/commands"));
        events["request_url"] = json!(format!("{base}/slack/events"));
        interactivity["request_url"] = json!(format!("{base}/slack/interactions"));
    }
    if let Some(id) = app_id {
        events["metadata_subscriptions"] =
            json!([{ "app_id": id, "event_type": super::METADATA_EVENT_TYPE }]);
    }
    let manifest: Value = json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": "Momentum",
            "description": "Keeps a coaching program going between sessions",
            "long_description": "Momentum nudges each participant after every coaching session, collects one-tap reports of the small steps they take, asks their manager to confirm support, and posts a weekly aggregated digest to the sponsors' channel. Notes stay private to their author; managers see a focus theme only with consent; sponsors see group numbers only.",
            "background_color": "#1d4e89",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": true,
                "messages_tab_enabled": true,
                "messages_tab_read_only_enabled": false,
            },
            "bot_user": { "display_name": "Momentum", "always_online": true },
            "slash_commands": [command],
        },
        "oauth_config": {
            "redirect_urls": [format!("{base}/slack/oauth_redirect")],
            "scopes": { "bot": BOT_SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>() },
        },
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": true,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": false,
        },
    });
    let yaml = serde_norway::to_string(&manifest).unwrap_or_default();
    let mut head = format!(
        "# Momentum's Slack app manifest for {base}{}.\n\
         # Paste it into api.slack.com/apps → Create New App → From a manifest.\n\
         # Bot scopes, and why:\n",
        if socket_mode { " (Socket Mode)" } else { "" }
    );
    for (scope, why) in BOT_SCOPES {
        head.push_str(&format!("#   {scope}: {why}\n"));
    }
    if app_id.is_none() {
        head.push_str(
            "# After creating the app, run again with --app-id A… (Basic Information → App ID)\n\
             # and update the manifest: the metadata subscription that confirms deliveries names the app.\n",
        );
    }
    head + &yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_mode_names_every_request_url_and_socket_mode_none() {
        let http: Value = serde_norway::from_str(&manifest(
            "https://momentum.acme.example/",
            false,
            Some("A1"),
        ))
        .unwrap();
        assert_eq!(
            http["settings"]["event_subscriptions"]["request_url"],
            "https://momentum.acme.example/slack/events"
        );
        assert_eq!(
            http["features"]["slash_commands"][0]["url"],
            "https://momentum.acme.example/slack/commands"
        );
        assert_eq!(
            http["settings"]["event_subscriptions"]["metadata_subscriptions"][0]["event_type"],
            "momentum_job"
        );
        assert_eq!(
            http["oauth_config"]["scopes"]["bot"]
                .as_array()
                .unwrap()
                .len(),
            12
        );
        let socket: Value =
            serde_norway::from_str(&manifest("https://m.example", true, None)).unwrap();
        assert_eq!(socket["settings"]["socket_mode_enabled"], true);
        assert!(socket["settings"]["interactivity"]["request_url"].is_null());
        assert!(socket["features"]["slash_commands"][0]["url"].is_null());
        assert_eq!(
            socket["oauth_config"]["redirect_urls"][0],
            "https://m.example/slack/oauth_redirect"
        );
    }
}
