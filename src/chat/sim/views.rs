//! Home tabs and modals in the simulated workspace: `views.publish` and
//! `views.open` as Slack checks them (a modal needs a fresh trigger id from
//! the person's own action, three seconds at most), the `app_home_opened`
//! event, taps on the home tab, and a modal's `view_submission`.

use super::outbound::InboundReply;
use super::{SimWorkspace, APP_ID};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};
use slack_morphism::prelude::SlackView;

/// Slack's limits for views.
const MAX_VIEW_BLOCKS: usize = 100;
const MAX_TITLE: usize = 24;
const TRIGGER_LIFETIME: SignedDuration = SignedDuration::from_secs(3);

/// A home tab or modal as Slack shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimView {
    pub id: String,
    pub user: String,
    pub view: Value,
    /// Still open (a modal until it is submitted; a home tab always).
    pub open: bool,
}

/// A trigger id handed out with a person's action (a tap, a command).
#[derive(Debug, Clone)]
pub(crate) struct Trigger {
    id: String,
    user: String,
    at: Timestamp,
}

fn ok(mut v: Value) -> Value {
    v["ok"] = json!(true);
    v
}

fn err(code: &str) -> Value {
    json!({ "ok": false, "error": code })
}

/// The `view` argument: a JSON object, or its text in a form body.
fn view_arg(p: &Map<String, Value>) -> Result<Value, &'static str> {
    match p.get("view") {
        Some(Value::Object(o)) => Ok(Value::Object(o.clone())),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| "invalid_arguments"),
        _ => Err("invalid_arguments"),
    }
}

/// The checks Slack makes of a view's shape.
fn check_view(view: &Value, kind: &str) -> Result<(), &'static str> {
    if view["type"] != kind {
        return Err("invalid_arguments");
    }
    let blocks = view["blocks"].as_array().ok_or("invalid_arguments")?;
    if blocks.is_empty() || blocks.len() > MAX_VIEW_BLOCKS {
        return Err("invalid_arguments");
    }
    if kind == "modal"
        && view["title"]["text"]
            .as_str()
            .is_none_or(|t| t.is_empty() || t.chars().count() > MAX_TITLE)
    {
        return Err("invalid_arguments");
    }
    serde_json::from_value::<SlackView>(view.clone()).map_err(|_| "invalid_arguments")?;
    Ok(())
}

impl SimWorkspace {
    /// A trigger id for `user`'s action, valid for three seconds.
    pub(crate) fn issue_trigger(&self, user: &str) -> String {
        let now = self.now();
        self.state()
            .triggers
            .retain(|t| now.duration_since(t.at) <= TRIGGER_LIFETIME);
        let id = format!(
            "{}.{}.{}",
            now.as_millisecond(),
            self.next_ts().replace('.', ""),
            "sim"
        );
        self.state().triggers.push(Trigger {
            id: id.clone(),
            user: user.to_string(),
            at: now,
        });
        id
    }

    fn next_view_id(&self) -> String {
        format!("V{:010}", self.state().views.len() + 1)
    }

    /// `views.publish`: a person's home tab.
    pub(crate) fn views_publish(&self, p: &Map<String, Value>) -> Value {
        let Some(user) = p.get("user_id").and_then(Value::as_str) else {
            return err("invalid_arguments");
        };
        if self.user(user).is_none_or(|u| u.deleted) {
            return err("user_not_found");
        }
        let view = match view_arg(p) {
            Ok(v) => v,
            Err(code) => return err(code),
        };
        if let Err(code) = check_view(&view, "home") {
            return err(code);
        }
        super::api::keep_for_validation("home", &view);
        let id = self.next_view_id();
        let mut s = self.state();
        s.views
            .retain(|v| !(v.user == user && v.view["type"] == "home"));
        s.views.push(SimView {
            id: id.clone(),
            user: user.to_string(),
            view: view.clone(),
            open: true,
        });
        ok(json!({ "view": view_json(&self.config.team_id, &id, &view) }))
    }

    /// `views.open`: a modal, for the person whose action gave the trigger.
    pub(crate) fn views_open(&self, p: &Map<String, Value>) -> Value {
        let Some(trigger) = p.get("trigger_id").and_then(Value::as_str) else {
            return err("invalid_arguments");
        };
        let found = self
            .state()
            .triggers
            .iter()
            .find(|t| t.id == trigger)
            .cloned();
        let Some(found) = found else {
            return err("invalid_trigger_id");
        };
        if self.now().duration_since(found.at) > TRIGGER_LIFETIME {
            return err("expired_trigger_id");
        }
        let view = match view_arg(p) {
            Ok(v) => v,
            Err(code) => return err(code),
        };
        if let Err(code) = check_view(&view, "modal") {
            return err(code);
        }
        super::api::keep_for_validation("modal", &view);
        let id = self.next_view_id();
        self.state().views.push(SimView {
            id: id.clone(),
            user: found.user,
            view: view.clone(),
            open: true,
        });
        ok(json!({ "view": view_json(&self.config.team_id, &id, &view) }))
    }

    /// The home tab `user` sees now, if one was published.
    pub fn home_of(&self, user: &str) -> Option<Value> {
        self.state()
            .views
            .iter()
            .find(|v| v.user == user && v.view["type"] == "home")
            .map(|v| v.view.clone())
    }

    /// The modals open for `user`, oldest first.
    pub fn open_modals(&self, user: &str) -> Vec<SimView> {
        self.state()
            .views
            .iter()
            .filter(|v| v.user == user && v.open && v.view["type"] == "modal")
            .cloned()
            .collect()
    }

    /// `user` opens the app's home tab: the `app_home_opened` event, with
    /// `event_id` (deliver it again with the same id to test de-duplication).
    pub async fn open_home(&self, user: &str, event_id: &str) -> Result<InboundReply, String> {
        let event = json!({
            "token": "deprecated-verification-token",
            "team_id": self.config.team_id,
            "api_app_id": APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": SimWorkspace::dm_channel(user),
                "tab": "home",
                "event_ts": format!("{}.000200", self.now().as_second()),
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": self.now().as_second(),
        });
        self.deliver_json("/slack/events", event.to_string()).await
    }

    /// `user` taps button `action_id` on their home tab.
    pub async fn tap_home(&self, user: &str, action_id: &str) -> Result<InboundReply, String> {
        let (view_id, view) = self
            .state()
            .views
            .iter()
            .find(|v| v.user == user && v.view["type"] == "home")
            .map(|v| (v.id.clone(), v.view.clone()))
            .ok_or_else(|| format!("{user} has no home tab"))?;
        let (block_id, value) = view["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|b| {
                // A button in an actions block, or a section's accessory.
                let e = b["elements"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(std::iter::once(&b["accessory"]))
                    .find(|e| e["action_id"] == action_id)?;
                Some((b["block_id"].clone(), e["value"].clone()))
            })
            .ok_or_else(|| format!("the home tab has no button {action_id}"))?;
        let team = &self.config.team_id;
        let payload = json!({
            "type": "block_actions",
            "user": { "id": user, "team_id": team },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": { "type": "view", "view_id": view_id },
            "trigger_id": self.issue_trigger(user),
            "team": { "id": team, "domain": "momentum-local" },
            "view": view_json(team, &view_id, &view),
            "actions": [{
                "action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                "action_ts": self.next_ts(),
            }],
        });
        self.deliver("/slack/interactions", form_payload(&payload))
            .await
    }

    /// `user` types `text` into every input of the open modal `view_id` and
    /// presses its submit button (see `submit_values`).
    pub async fn submit_view(
        &self,
        user: &str,
        view_id: &str,
        text: &str,
    ) -> Result<InboundReply, String> {
        let view = self.open_view(user, view_id)?;
        let mut values = Map::new();
        for b in view["blocks"].as_array().into_iter().flatten() {
            if b["type"] == "input" {
                let action = b["element"]["action_id"].as_str().unwrap_or_default();
                values.insert(
                    b["block_id"].as_str().unwrap_or_default().to_string(),
                    json!({ action: { "type": b["element"]["type"], "value": text } }),
                );
            }
        }
        self.submit_values(user, view_id, values).await
    }

    /// `user` submits the open modal `view_id` with `values` as Slack's
    /// `view.state.values` (block id → action id → value): `view_submission`.
    /// The modal closes when the service answers 200 with an empty body (or
    /// `response_action: clear`).
    pub async fn submit_values(
        &self,
        user: &str,
        view_id: &str,
        values: Map<String, Value>,
    ) -> Result<InboundReply, String> {
        let view = self.open_view(user, view_id)?;
        let mut submitted = view_json(&self.config.team_id, view_id, &view);
        submitted["state"] = json!({ "values": values });
        let team = &self.config.team_id;
        let payload = json!({
            "type": "view_submission",
            "team": { "id": team, "domain": "momentum-local" },
            "user": { "id": user, "team_id": team },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self.issue_trigger(user),
            "view": submitted,
        });
        let reply = self
            .deliver("/slack/interactions", form_payload(&payload))
            .await?;
        let answer: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let closes = reply.status == 200
            && (reply.body.trim().is_empty() || answer["response_action"] == "clear");
        if closes {
            if let Some(v) = self.state().views.iter_mut().find(|v| v.id == view_id) {
                v.open = false;
            }
        }
        Ok(reply)
    }

    fn open_view(&self, user: &str, view_id: &str) -> Result<Value, String> {
        self.state()
            .views
            .iter()
            .find(|v| v.id == view_id && v.user == user && v.open)
            .map(|v| v.view.clone())
            .ok_or_else(|| format!("{user} has no open modal {view_id}"))
    }
}

/// A view as Slack echoes it: the published JSON plus its id, team and hash.
fn view_json(team: &str, id: &str, view: &Value) -> Value {
    let mut v = view.clone();
    v["id"] = json!(id);
    v["team_id"] = json!(team);
    v["hash"] = json!(format!("{}.sim", id));
    v["app_id"] = json!(APP_ID);
    v
}

fn form_payload(payload: &Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}
