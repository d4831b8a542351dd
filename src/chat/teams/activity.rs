//! Bot Framework activities as Teams sends them to `/api/messages`: only the
//! fields Momentum reads, each optional so that an unexpected shape is
//! refused by name rather than by a parser panic.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    /// An invoke's name (`adaptiveCard/action`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
    #[serde(default)]
    pub service_url: Option<String>,
    #[serde(default)]
    pub from: Option<ChannelAccount>,
    #[serde(default)]
    pub recipient: Option<ChannelAccount>,
    #[serde(default)]
    pub conversation: Option<ConversationAccount>,
    #[serde(default)]
    pub text: Option<String>,
    /// An invoke's value, or an `Action.Submit`'s data on a message.
    #[serde(default)]
    pub value: Option<Value>,
    /// `installationUpdate`: `add`, `remove` (or `*-upgrade`).
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub members_added: Option<Vec<ChannelAccount>>,
    #[serde(default)]
    pub members_removed: Option<Vec<ChannelAccount>>,
    #[serde(default)]
    pub channel_data: Option<Value>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub local_timezone: Option<String>,
    /// The card message an invoke was tapped on.
    #[serde(default)]
    pub reply_to_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub aad_object_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    pub id: String,
    /// `personal`, `channel` or `groupChat`.
    #[serde(default)]
    pub conversation_type: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

impl Activity {
    /// The tenant the activity comes from (`channelData.tenant.id`, or the
    /// conversation's).
    pub fn tenant(&self) -> Option<&str> {
        self.channel_data
            .as_ref()
            .and_then(|d| d["tenant"]["id"].as_str())
            .or_else(|| self.conversation.as_ref()?.tenant_id.as_deref())
            .filter(|t| !t.is_empty())
    }

    /// The team a channel activity belongs to (`channelData.team.id`).
    pub fn team(&self) -> Option<&str> {
        self.channel_data
            .as_ref()
            .and_then(|d| d["team"]["id"].as_str())
    }

    pub fn is_personal(&self) -> bool {
        self.conversation
            .as_ref()
            .and_then(|c| c.conversation_type.as_deref())
            .is_none_or(|t| t == "personal")
    }

    /// What the person typed, without the `<at>Momentum</at>` mention a
    /// channel message starts with.
    pub fn command_text(&self) -> String {
        let text = self.text.as_deref().unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("<at>") {
            out.push_str(&rest[..start]);
            match rest[start..].find("</at>") {
                Some(end) => rest = &rest[start + end + "</at>".len()..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_not_part_of_the_command() {
        let a = Activity {
            text: Some("<at>Momentum</at> status ".into()),
            ..Default::default()
        };
        assert_eq!(a.command_text(), "status");
    }

    #[test]
    fn the_tenant_comes_from_channel_data_or_the_conversation() {
        let a: Activity = serde_json::from_value(serde_json::json!({
            "type": "message",
            "conversation": {"id": "a:1", "tenantId": "t-conv"},
            "channelData": {"tenant": {"id": "t-data"}}
        }))
        .unwrap();
        assert_eq!(a.tenant(), Some("t-data"));
        let b: Activity = serde_json::from_value(serde_json::json!({
            "type": "message", "conversation": {"id": "a:1", "tenantId": "t-conv"}
        }))
        .unwrap();
        assert_eq!(b.tenant(), Some("t-conv"));
    }
}
