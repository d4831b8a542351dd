//! Server settings: an optional YAML file, then environment variables, which
//! win. Secrets come from the environment (or the file) and never reach logs:
//! `Debug` redacts them and the database password.

use crate::crypto::SecretKey;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://momentum.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const SLACK_API_URL: &str = "https://slack.com/api";
pub const SLACK_AUTHORIZE_URL: &str = "https://slack.com/oauth/v2/authorize";

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("settings file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

/// The settings file; every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database_url: Option<String>,
    listen: Option<String>,
    secret_key: Option<String>,
    /// Where people and Slack reach this deployment (OAuth redirects).
    public_url: Option<String>,
    slack: Option<SlackFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackFile {
    signing_secret: Option<String>,
    bot_token: Option<String>,
    api_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    authorize_url: Option<String>,
    app_token: Option<String>,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: SocketAddr,
    pub secret_key: Option<SecretKey>,
    /// `MOMENTUM_PUBLIC_URL`: where people and Slack reach this deployment.
    pub public_url: Option<String>,
    pub slack: SlackSettings,
    /// How long a dispatcher's lease on a job lasts (`MOMENTUM_LEASE_SECONDS`);
    /// another replica takes a job over after this.
    pub lease_seconds: u32,
    /// The first retry's wait (`MOMENTUM_RETRY_BASE_SECONDS`, default 30).
    pub retry_base_seconds: u32,
    /// Raw events are deleted after this many days (`MOMENTUM_RETENTION_DAYS`,
    /// default 365, 0 = keep them); weekly aggregates stay.
    pub retention_days: u32,
    /// The Teams bot, when `MICROSOFT_APP_ID` is set.
    pub teams: Option<TeamsConfig>,
    /// `MOMENTUM_METRICS_TOKEN`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<String>,
}

#[derive(Clone, Default)]
pub struct SlackSettings {
    pub signing_secret: Option<String>,
    pub bot_token: Option<String>,
    pub api_url: String,
    /// Pace calls to Slack's published limits (`SLACK_RATE_LIMITS=off` only
    /// against a local workspace without limits).
    pub rate_limits: bool,
    /// OAuth install to many workspaces (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`).
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Slack's authorize page (`SLACK_AUTHORIZE_URL`; the local workspace serves its own).
    pub authorize_url: String,
    /// `SLACK_APP_TOKEN` (`xapp-…`, scope `connections:write`): receive over Socket Mode.
    pub app_token: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "…"))
            .field(
                "slack.signing_secret",
                &self.slack.signing_secret.as_ref().map(|_| "…"),
            )
            .field(
                "slack.bot_token",
                &self.slack.bot_token.as_ref().map(|_| "…"),
            )
            .field("slack.api_url", &self.slack.api_url)
            .field("slack.client_id", &self.slack.client_id)
            .field(
                "slack.client_secret",
                &self.slack.client_secret.as_ref().map(|_| "…"),
            )
            .field("public_url", &self.public_url)
            .field(
                "slack.app_token",
                &self.slack.app_token.as_ref().map(|_| "…"),
            )
            .field("teams", &self.teams)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// The store owns its URLs and how they are shown.
pub use crate::store::redact_url;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Reads the optional settings file, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let parsed = match file {
            None => SettingsFile::default(),
            Some(path) => {
                let p = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                    path: p.clone(),
                    source,
                })?;
                serde_norway::from_str(&text).map_err(|e| SettingsError::Parse {
                    path: p,
                    message: e.to_string(),
                })?
            }
        };
        let slack = parsed.slack.unwrap_or_default();
        let listen_raw = env("MOMENTUM_LISTEN")
            .or(parsed.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_raw.parse().map_err(|_| SettingsError::Invalid {
            name: "MOMENTUM_LISTEN",
            message: format!("{listen_raw:?} is not an address:port such as 127.0.0.1:8080"),
        })?;
        let secret_key = match env("MOMENTUM_SECRET_KEY").or(parsed.secret_key) {
            None => None,
            Some(k) => Some(
                SecretKey::from_base64(&k).map_err(|e| SettingsError::Invalid {
                    name: "MOMENTUM_SECRET_KEY",
                    message: e.to_string(),
                })?,
            ),
        };
        let api_url = env("SLACK_API_URL")
            .or(slack.api_url)
            .unwrap_or_else(|| SLACK_API_URL.to_string());
        if url::Url::parse(&api_url).is_err() {
            return Err(SettingsError::Invalid {
                name: "SLACK_API_URL",
                message: format!("{api_url:?} is not a URL"),
            });
        }
        let authorize_url = env("SLACK_AUTHORIZE_URL")
            .or(slack.authorize_url)
            .unwrap_or_else(|| SLACK_AUTHORIZE_URL.to_string());
        let public_url = env("MOMENTUM_PUBLIC_URL").or(parsed.public_url);
        for (name, value) in [
            ("SLACK_AUTHORIZE_URL", Some(&authorize_url)),
            ("MOMENTUM_PUBLIC_URL", public_url.as_ref()),
        ] {
            if let Some(v) = value {
                if url::Url::parse(v).is_err() {
                    return Err(SettingsError::Invalid {
                        name,
                        message: format!("{v:?} is not a URL"),
                    });
                }
            }
        }
        let app_token = env("SLACK_APP_TOKEN").or(slack.app_token);
        if app_token
            .as_deref()
            .is_some_and(|t| !t.starts_with("xapp-"))
        {
            return Err(SettingsError::Invalid {
                name: "SLACK_APP_TOKEN",
                message: "Socket Mode needs the app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write), not a bot token".into(),
            });
        }
        let client_id = env("SLACK_CLIENT_ID").or(slack.client_id);
        let client_secret = env("SLACK_CLIENT_SECRET").or(slack.client_secret);
        if client_id.is_some() != client_secret.is_some() {
            return Err(SettingsError::Invalid {
                name: "SLACK_CLIENT_ID",
                message: "OAuth install needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET".into(),
            });
        }
        if client_id.is_some() && public_url.is_none() {
            return Err(SettingsError::Invalid {
                name: "MOMENTUM_PUBLIC_URL",
                message: "OAuth install needs the address Slack redirects to, e.g. https://momentum.acme.example".into(),
            });
        }
        let lease_seconds =
            match env("MOMENTUM_LEASE_SECONDS") {
                None => 120,
                Some(v) => v.parse().ok().filter(|n| (2..=3600).contains(n)).ok_or(
                    SettingsError::Invalid {
                        name: "MOMENTUM_LEASE_SECONDS",
                        message: format!("{v:?} is not a number of seconds from 2 to 3600"),
                    },
                )?,
            };
        let retry_base_seconds =
            match env("MOMENTUM_RETRY_BASE_SECONDS") {
                None => 30,
                Some(v) => v.parse().ok().filter(|n| (1..=3600).contains(n)).ok_or(
                    SettingsError::Invalid {
                        name: "MOMENTUM_RETRY_BASE_SECONDS",
                        message: format!("{v:?} is not a number of seconds from 1 to 3600"),
                    },
                )?,
            };
        let retention_days = match env("MOMENTUM_RETENTION_DAYS") {
            None => 365,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n: &u32| *n == 0 || (30..=3650).contains(n))
                .ok_or(SettingsError::Invalid {
                    name: "MOMENTUM_RETENTION_DAYS",
                    message: format!("{v:?} is not 0 (keep) or a number of days from 30 to 3650"),
                })?,
        };
        let teams = teams_settings(public_url.as_deref())?;
        let metrics_token = env("MOMENTUM_METRICS_TOKEN");
        if metrics_token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(SettingsError::Invalid {
                name: "MOMENTUM_METRICS_TOKEN",
                message: "use at least 16 characters (e.g. head -c 24 /dev/urandom | base64)"
                    .into(),
            });
        }
        Ok(Self {
            teams,
            metrics_token,
            retention_days,
            database_url: env("MOMENTUM_DATABASE_URL")
                .or(parsed.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            listen,
            secret_key,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            slack: SlackSettings {
                signing_secret: env("SLACK_SIGNING_SECRET").or(slack.signing_secret),
                bot_token: env("SLACK_BOT_TOKEN").or(slack.bot_token),
                api_url: api_url.trim_end_matches('/').to_string(),
                rate_limits: !matches!(env("SLACK_RATE_LIMITS").as_deref(), Some("off")),
                client_id,
                client_secret,
                authorize_url,
                app_token,
            },
            lease_seconds,
            retry_base_seconds,
        })
    }
}

/// The Teams bot's registration as configured: plain values, checked here;
/// the Teams adapter turns them into its settings and fills in Microsoft's
/// own endpoints where none is given.
#[derive(Clone)]
pub struct TeamsConfig {
    /// `MICROSOFT_APP_ID`.
    pub app_id: String,
    /// `MICROSOFT_APP_PASSWORD`.
    pub app_password: String,
    /// `MICROSOFT_APP_TENANT_ID`: the bot's home tenant (required unless
    /// multi-tenant).
    pub tenant_id: Option<String>,
    /// `MICROSOFT_APP_TYPE=MultiTenant`: an older registration whose tokens
    /// come from `botframework.com`.
    pub multi_tenant: bool,
    /// `MOMENTUM_TEAMS_LOGIN_URL` (Microsoft's sign-in authority if none).
    pub login_url: Option<String>,
    /// `MOMENTUM_TEAMS_OPENID_METADATA_URL` (Bot Framework's if none).
    pub openid_metadata_url: Option<String>,
    /// `MOMENTUM_TEAMS_SERVICE_URL` (Teams' global one if none).
    pub service_url: Option<String>,
    /// `MOMENTUM_TEAMS_GRAPH_URL` (Microsoft Graph if none).
    pub graph_url: Option<String>,
    /// `MOMENTUM_TEAMS_GRAPH`: what the admin consented Graph for.
    pub graph: GraphConsent,
    /// `MOMENTUM_PUBLIC_URL`, for the charts cards show.
    pub public_url: Option<String>,
}

/// What Microsoft Graph may be used for (`MOMENTUM_TEAMS_GRAPH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphConsent {
    /// `off` (the default): people are found in the rosters of the teams
    /// the app is in.
    Off,
    /// `lookup`: people by work email (User.Read.All).
    Lookup,
    /// `install`: also install the app for a person before the first message
    /// (TeamsAppInstallation.ReadWriteSelfForUser.All).
    Install,
}

impl std::fmt::Debug for TeamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsConfig")
            .field("app_id", &self.app_id)
            .field("app_password", &"…")
            .field("tenant_id", &self.tenant_id)
            .field("multi_tenant", &self.multi_tenant)
            .field("login_url", &self.login_url)
            .field("openid_metadata_url", &self.openid_metadata_url)
            .field("service_url", &self.service_url)
            .field("graph_url", &self.graph_url)
            .field("graph", &self.graph)
            .finish()
    }
}

/// `MICROSOFT_APP_ID`, `MICROSOFT_APP_PASSWORD`, `MICROSOFT_APP_TENANT_ID`,
/// `MICROSOFT_APP_TYPE`; the endpoints can point at the local workspace.
fn teams_settings(public_url: Option<&str>) -> Result<Option<TeamsConfig>, SettingsError> {
    let Some(app_id) = env("MICROSOFT_APP_ID") else {
        return Ok(None);
    };
    let app_password = env("MICROSOFT_APP_PASSWORD").ok_or(SettingsError::Invalid {
        name: "MICROSOFT_APP_PASSWORD",
        message:
            "the Teams bot needs its client secret (Azure Bot → Configuration → Manage Password)"
                .into(),
    })?;
    let multi_tenant = match env("MICROSOFT_APP_TYPE").map(|t| t.to_ascii_lowercase()) {
        None => false,
        Some(t) if t == "singletenant" => false,
        Some(t) if t == "multitenant" => true,
        Some(_) => {
            return Err(SettingsError::Invalid {
                name: "MICROSOFT_APP_TYPE",
                message: format!(
                    "{:?} is neither SingleTenant nor MultiTenant",
                    env("MICROSOFT_APP_TYPE").unwrap_or_default()
                ),
            })
        }
    };
    let tenant_id = env("MICROSOFT_APP_TENANT_ID");
    if !multi_tenant && tenant_id.is_none() {
        return Err(SettingsError::Invalid {
            name: "MICROSOFT_APP_TENANT_ID",
            message:
                "a SingleTenant bot needs its tenant id (Azure Bot → Configuration → App Tenant ID)"
                    .into(),
        });
    }
    let url = |name: &'static str| -> Result<Option<String>, SettingsError> {
        match env(name) {
            None => Ok(None),
            Some(v) if url::Url::parse(&v).is_ok() => Ok(Some(v)),
            Some(v) => Err(SettingsError::Invalid {
                name,
                message: format!("{v:?} is not a URL"),
            }),
        }
    };
    let graph = match env("MOMENTUM_TEAMS_GRAPH").as_deref() {
        None | Some("off") => GraphConsent::Off,
        Some("lookup") => GraphConsent::Lookup,
        Some("install") => GraphConsent::Install,
        Some(other) => {
            return Err(SettingsError::Invalid {
                name: "MOMENTUM_TEAMS_GRAPH",
                message: format!("{other:?} is not off, lookup (User.Read.All) or install (also TeamsAppInstallation.ReadWriteSelfForUser.All)"),
            })
        }
    };
    Ok(Some(TeamsConfig {
        app_id,
        app_password,
        tenant_id,
        multi_tenant,
        login_url: url("MOMENTUM_TEAMS_LOGIN_URL")?,
        openid_metadata_url: url("MOMENTUM_TEAMS_OPENID_METADATA_URL")?,
        service_url: env("MOMENTUM_TEAMS_SERVICE_URL"),
        graph_url: env("MOMENTUM_TEAMS_GRAPH_URL"),
        graph,
        public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let r = redact_url("postgres://app:hunter2@db:5432/momentum");
        assert!(!r.contains("hunter2"));
        assert!(r.contains("redacted"));
        assert_eq!(redact_url("sqlite://momentum.db"), "sqlite://momentum.db");
    }
}
