//! Who a message goes to. A chat identity always names its platform, so the
//! same tables hold Slack (team id + user id) and Teams (tenant id + user id).

use std::fmt;

/// Why a chat identity, channel or email is refused, naming what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "{0:?} is not a chat identity (expected slack:TEAM_ID/USER_ID or teams:TENANT_ID/USER_ID)"
    )]
    NotAChatIdentity(String),
    #[error("{0:?}: a Slack identity is a team id (T…) and a user id (U… or W…)")]
    NotASlackIdentity(String),
    #[error(
        "{0:?} is not a channel (expected slack:TEAM_ID/CHANNEL_ID or teams:TENANT_ID/CHANNEL_ID)"
    )]
    NotAChannel(String),
    #[error("{0:?} is not an email address")]
    NotAnEmail(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Slack,
    Teams,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "slack" => Some(Platform::Slack),
            "teams" => Some(Platform::Teams),
            _ => None,
        }
    }
}

/// A person on a chat platform: `slack:T0123/U0456` or `teams:<tenant>/<user>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatIdentity {
    pub platform: Platform,
    /// Slack team id or Teams tenant id.
    pub workspace: String,
    /// Slack user id or Teams user id.
    pub user: String,
}

impl ChatIdentity {
    pub fn slack(team: &str, user: &str) -> Self {
        Self {
            platform: Platform::Slack,
            workspace: team.to_string(),
            user: user.to_string(),
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let bad = || IdentityError::NotAChatIdentity(s.to_string());
        let (platform, rest) = s.trim().split_once(':').ok_or_else(bad)?;
        let platform = Platform::parse(platform).ok_or_else(bad)?;
        let (workspace, user) = rest.split_once('/').ok_or_else(bad)?;
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
        };
        if !ok(workspace) || !ok(user) {
            return Err(bad());
        }
        if platform == Platform::Slack
            && !(workspace.starts_with(['T', 'E']) && user.starts_with(['U', 'W']))
        {
            return Err(IdentityError::NotASlackIdentity(s.to_string()));
        }
        Ok(Self {
            platform,
            workspace: workspace.to_string(),
            user: user.to_string(),
        })
    }
}

impl fmt::Display for ChatIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.platform.as_str(),
            self.workspace,
            self.user
        )
    }
}

/// A channel on a chat platform: `slack:T0123/C0456`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    pub platform: Platform,
    pub workspace: String,
    pub channel: String,
}

impl ChannelRef {
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let bad = || IdentityError::NotAChannel(s.to_string());
        let (platform, rest) = s.trim().split_once(':').ok_or_else(bad)?;
        let platform = Platform::parse(platform).ok_or_else(bad)?;
        let (workspace, channel) = rest.split_once('/').ok_or_else(bad)?;
        if workspace.is_empty() || channel.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            platform,
            workspace: workspace.to_string(),
            channel: channel.to_string(),
        })
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.platform.as_str(),
            self.workspace,
            self.channel
        )
    }
}

/// A work email, lower-cased, checked for a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let t = s.trim().to_lowercase();
        let valid = match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !t.contains(char::is_whitespace)
                    && t.matches('@').count() == 1
            }
            None => false,
        };
        if valid && t.len() <= 254 {
            Ok(Self(t))
        } else {
            Err(IdentityError::NotAnEmail(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a program file names a person: by chat identity, by work email, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRef {
    pub email: Option<Email>,
    pub chat: Option<ChatIdentity>,
    pub name: Option<String>,
}

impl PersonRef {
    /// Parses the short form used for managers: an email or a chat identity.
    pub fn parse_short(s: &str) -> Result<Self, IdentityError> {
        if s.trim().starts_with("slack:") || s.trim().starts_with("teams:") {
            Ok(Self {
                email: None,
                chat: Some(ChatIdentity::parse(s)?),
                name: None,
            })
        } else {
            Ok(Self {
                email: Some(Email::parse(s)?),
                chat: None,
                name: None,
            })
        }
    }

    /// A stable key for de-duplication inside one file.
    pub fn key(&self) -> String {
        match (&self.email, &self.chat) {
            (Some(e), _) => format!("email:{e}"),
            (None, Some(c)) => c.to_string(),
            (None, None) => String::new(),
        }
    }
}
