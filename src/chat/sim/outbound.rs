//! What the simulated workspace sends to the service, shaped and signed as
//! Slack sends it: `block_actions` interactions as a form-encoded `payload=`,
//! slash commands as form fields, both with `X-Slack-Signature` v0.

use super::api::message_json;
use super::{SimWorkspace, APP_ID};
use crate::chat::slack::verify::sign;
use serde_json::json;

/// The service's answer to something the workspace delivered.
#[derive(Debug, Clone)]
pub struct InboundReply {
    pub status: u16,
    pub body: String,
}

impl SimWorkspace {
    /// The form body Slack posts when `user` taps button `action_id` on a message.
    pub fn tap_body(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
    ) -> Result<String, String> {
        self.tap_row_body(user, channel, ts, action_id, None)
    }

    /// The same, for the button `action_id` whose value is `value` (one row
    /// of a message whose rows have the same buttons); the first when `None`.
    pub fn tap_row_body(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        value: Option<&str>,
    ) -> Result<String, String> {
        let m = self
            .message(channel, ts)
            .ok_or_else(|| format!("no message {ts} in {channel}"))?;
        let (_, label, value, _) = m
            .buttons()
            .into_iter()
            .find(|(id, _, v, _)| id == action_id && value.is_none_or(|want| v == want))
            .ok_or_else(|| format!("the message has no button {action_id} {value:?}"))?;
        let action = json!({
            "action_id": action_id,
            "text": { "type": "plain_text", "text": label, "emoji": true },
            "value": value,
            "type": "button",
        });
        self.block_actions_body(user, &m, action)
    }

    /// The form body Slack posts when `user` picks the option whose value
    /// starts with `prefix` from the overflow menu `action_id`.
    pub fn choose_body(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        prefix: &str,
    ) -> Result<String, String> {
        let m = self
            .message(channel, ts)
            .ok_or_else(|| format!("no message {ts} in {channel}"))?;
        let option = m
            .content
            .blocks
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .find(|e| e["action_id"] == action_id)
            .and_then(|e| {
                e["options"]
                    .as_array()?
                    .iter()
                    .find(|o| o["value"].as_str().is_some_and(|v| v.starts_with(prefix)))
                    .cloned()
            })
            .ok_or_else(|| format!("the message has no {action_id} option {prefix}"))?;
        let action =
            json!({ "action_id": action_id, "selected_option": option, "type": "overflow" });
        self.block_actions_body(user, &m, action)
    }

    fn block_actions_body(
        &self,
        user: &str,
        m: &super::SimMessage,
        mut action: serde_json::Value,
    ) -> Result<String, String> {
        let u = self
            .user(user)
            .ok_or_else(|| format!("no user {user} in the workspace"))?;
        let (action_id, value) = (action["action_id"].clone(), action["value"].clone());
        let block_id = m
            .content
            .blocks
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| {
                b["element"]["action_id"] == action_id
                    || b["elements"].as_array().into_iter().flatten().any(|e| {
                        e["action_id"] == action_id && (value.is_null() || e["value"] == value)
                    })
            })
            .and_then(|b| b["block_id"].as_str())
            .unwrap_or_default()
            .to_string();
        let action_ts = self.next_ts();
        action["block_id"] = json!(block_id);
        action["action_ts"] = json!(action_ts);
        let team = &self.config.team_id;
        let (channel, ts) = (&m.channel, &m.ts);
        // A date picker's choice is also in the message's state, as Slack
        // sends it.
        let mut values = json!({});
        if let Some(date) = action.get("selected_date") {
            values[&block_id] = json!({
                action_id.as_str().unwrap_or_default(): {"type": "datepicker", "selected_date": date}
            });
        }
        let payload = json!({
            "type": "block_actions",
            "user": { "id": u.id, "username": u.name, "name": u.name, "team_id": team },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": { "type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false },
            "trigger_id": self.issue_trigger(&u.id),
            "team": { "id": team, "domain": "momentum-local" },
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": { "id": channel, "name": "directmessage" },
            "message": message_json(self, m),
            "state": { "values": values },
            "response_url": format!("https://hooks.slack.com/actions/{team}/1/sim"),
            "actions": [action],
        });
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish())
    }

    /// The form body of a slash command typed by `user`.
    pub fn command_body(&self, user: &str, command: &str, text: &str) -> Result<String, String> {
        let u = self
            .user(user)
            .ok_or_else(|| format!("no user {user} in the workspace"))?;
        let team = &self.config.team_id;
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "deprecated-verification-token")
            .append_pair("team_id", team)
            .append_pair("team_domain", "momentum-local")
            .append_pair("channel_id", &SimWorkspace::dm_channel(&u.id))
            .append_pair("channel_name", "directmessage")
            .append_pair("user_id", &u.id)
            .append_pair("user_name", &u.name)
            .append_pair("command", command)
            .append_pair("text", text)
            .append_pair("api_app_id", APP_ID)
            .append_pair("is_enterprise_install", "false")
            .append_pair(
                "response_url",
                &format!("https://hooks.slack.com/commands/{team}/1/sim"),
            )
            .append_pair("trigger_id", &self.issue_trigger(&u.id))
            .finish())
    }

    /// The `X-Slack-Request-Timestamp` and `X-Slack-Signature` for a body, now.
    pub fn signature_headers(&self, body: &str) -> (String, String) {
        let ts = self.now().as_second();
        (
            ts.to_string(),
            sign(&self.config.signing_secret, ts, body.as_bytes()),
        )
    }

    /// Posts a signed form body to the service at `path`.
    pub async fn deliver(&self, path: &str, body: String) -> Result<InboundReply, String> {
        self.deliver_with_type(path, body, "application/x-www-form-urlencoded")
            .await
    }

    async fn deliver_with_type(
        &self,
        path: &str,
        body: String,
        content_type: &str,
    ) -> Result<InboundReply, String> {
        if self.socket_mode_on() {
            // The same payloads, in Socket Mode's envelopes.
            let (kind, payload) = match path {
                "/slack/interactions" => {
                    let form = super::socket::form_to_json(&body);
                    let payload = form["payload"]
                        .as_str()
                        .and_then(|p| serde_json::from_str(p).ok())
                        .ok_or("an interaction without a payload")?;
                    ("interactive", payload)
                }
                "/slack/commands" => ("slash_commands", super::socket::form_to_json(&body)),
                "/slack/events" => (
                    "events_api",
                    serde_json::from_str(&body).map_err(|e| e.to_string())?,
                ),
                other => return Err(format!("nothing goes to {other} over Socket Mode")),
            };
            return self.deliver_socket(kind, payload).await;
        }
        let base = self
            .state()
            .service_url
            .clone()
            .ok_or("the workspace has no service URL to deliver to")?;
        let (ts, sig) = self.signature_headers(&body);
        let resp = self
            .http
            .post(format!("{base}{path}"))
            .header("Content-Type", content_type)
            .header("X-Slack-Request-Timestamp", ts)
            .header("X-Slack-Signature", sig)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the service did not answer: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Ok(InboundReply { status, body })
    }

    /// Tells the service, as Slack's Events API does, that a message with
    /// metadata was posted (`message_metadata_posted`). Sent in the background.
    pub(crate) fn announce_metadata(&self, m: &super::SimMessage) {
        let Some(metadata) = m.metadata.clone() else {
            return;
        };
        let event = json!({
            "token": "deprecated-verification-token",
            "team_id": self.config.team_id,
            "api_app_id": APP_ID,
            "event": {
                "type": "message_metadata_posted",
                "app_id": APP_ID,
                "bot_id": super::BOT_ID,
                "user_id": super::BOT_USER_ID,
                "team_id": self.config.team_id,
                "channel_id": m.channel,
                "metadata": metadata,
                "message_ts": m.ts,
                "event_ts": m.ts,
            },
            "type": "event_callback",
            "event_id": format!("Ev{}", m.ts.replace('.', "")),
            "event_time": self.now().as_second(),
        });
        let sim = self.clone();
        tokio::spawn(async move {
            if let Err(e) = sim.deliver_json("/slack/events", event.to_string()).await {
                tracing::debug!(error = %e, "metadata event not delivered");
            }
        });
    }

    /// Tells the service, as Slack's Events API does, that a person's
    /// profile changed (`user_change`, which carries the whole user object).
    pub(crate) fn announce_user_change(&self, user: &super::SimUser) {
        let event = self.user_change_event(user);
        let sim = self.clone();
        tokio::spawn(async move {
            if let Err(e) = sim.deliver_json("/slack/events", event.to_string()).await {
                tracing::debug!(error = %e, "user_change event not delivered");
            }
        });
    }

    /// The `user_change` event Slack sends when someone's profile changes
    /// (deliver it with `deliver_json`, again to see a retry).
    pub fn user_change_event(&self, user: &super::SimUser) -> serde_json::Value {
        self.member_event("user_change", user)
    }

    /// An event about a member (`user_change`, `team_join`) carrying the
    /// whole user object, as Slack sends them.
    pub fn member_event(&self, kind: &str, user: &super::SimUser) -> serde_json::Value {
        json!({
            "token": "deprecated-verification-token",
            "team_id": self.config.team_id,
            "api_app_id": APP_ID,
            "event": {
                "type": kind,
                "user": super::api::user_json(self, user, true),
                "cache_ts": self.now().as_second(),
                "event_ts": format!("{}.000100", self.now().as_second()),
            },
            "type": "event_callback",
            "event_id": format!("Ev{}{}{}", if kind == "team_join" { "J" } else { "U" }, user.id, self.now().as_millisecond()),
            "event_time": self.now().as_second(),
        })
    }

    /// Posts a signed JSON body (Events API) to the service at `path`.
    pub async fn deliver_json(&self, path: &str, body: String) -> Result<InboundReply, String> {
        self.deliver_with_type(path, body, "application/json").await
    }

    /// `user` taps a button: delivered to `/slack/interactions` as Slack would.
    pub async fn tap(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
    ) -> Result<InboundReply, String> {
        let body = self.tap_body(user, channel, ts, action_id)?;
        self.deliver("/slack/interactions", body).await
    }

    /// `user` taps button `action_id` on the row whose buttons carry `value`.
    pub async fn tap_row(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        value: &str,
    ) -> Result<InboundReply, String> {
        let body = self.tap_row_body(user, channel, ts, action_id, Some(value))?;
        self.deliver("/slack/interactions", body).await
    }

    /// The form body Slack posts when `user` types `text` into the message's
    /// text input `action_id` and presses Enter (an input block with
    /// `dispatch_action`). Slack's client keeps the text within the input's
    /// `max_length`: longer text is refused here, as the client would.
    pub fn enter_text_body(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        text: &str,
    ) -> Result<String, String> {
        let m = self
            .message(channel, ts)
            .ok_or_else(|| format!("no message {ts} in {channel}"))?;
        let input = m
            .content
            .input()
            .filter(|b| b["element"]["action_id"] == action_id)
            .ok_or_else(|| format!("the message has no text input {action_id}"))?;
        if input["dispatch_action"] != true {
            return Err(format!("the input {action_id} does not send on Enter"));
        }
        let max = input["element"]["max_length"].as_u64().unwrap_or(3000) as usize;
        if text.chars().count() > max {
            return Err(format!(
                "the input {action_id} takes at most {max} characters"
            ));
        }
        let action = json!({ "action_id": action_id, "type": "plain_text_input", "value": text });
        self.block_actions_body(user, &m, action)
    }

    /// `user` types into a message's text input and presses Enter.
    pub async fn enter_text(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        text: &str,
    ) -> Result<InboundReply, String> {
        let body = self.enter_text_body(user, channel, ts, action_id, text)?;
        self.deliver("/slack/interactions", body).await
    }

    /// `user` picks `date` (YYYY-MM-DD) in a message's date picker.
    pub async fn pick_date(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        date: &str,
    ) -> Result<InboundReply, String> {
        let m = self
            .message(channel, ts)
            .ok_or_else(|| format!("no message {ts} in {channel}"))?;
        let has_picker = m.content.blocks.as_array().into_iter().flatten().any(|b| {
            b["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["type"] == "datepicker" && e["action_id"] == action_id)
        });
        if !has_picker {
            return Err(format!("the message has no date picker {action_id}"));
        }
        let action = json!({ "action_id": action_id, "type": "datepicker", "selected_date": date });
        let body = self.block_actions_body(user, &m, action)?;
        self.deliver("/slack/interactions", body).await
    }

    /// `user` picks an option from a message's overflow menu.
    pub async fn choose(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        action_id: &str,
        prefix: &str,
    ) -> Result<InboundReply, String> {
        let body = self.choose_body(user, channel, ts, action_id, prefix)?;
        self.deliver("/slack/interactions", body).await
    }

    /// `user` types a slash command: delivered to `/slack/commands`.
    pub async fn slash_command(
        &self,
        user: &str,
        command: &str,
        text: &str,
    ) -> Result<InboundReply, String> {
        let body = self.command_body(user, command, text)?;
        self.deliver("/slack/commands", body).await
    }
}
