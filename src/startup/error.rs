//! What can stop the service (or a command) from starting, each naming
//! the setting or file involved, with its cause kept as the source.

use crate::app::AppError;
use crate::chat::ChatError;
use crate::store::StoreError;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("opening the database {url}")]
    OpenDatabase {
        /// `MOMENTUM_DATABASE_URL`, its password redacted.
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("applying migrations")]
    Migrate(#[source] StoreError),
    #[error("backing up the database to {}", path.display())]
    Backup {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    /// The Slack Web API client (`SLACK_API_URL`) could not be built.
    #[error("the HTTP client for Slack's Web API at {api}")]
    SlackClient {
        api: String,
        #[source]
        source: crate::chat::slack::ClientError,
    },
    #[error("SLACK_BOT_TOKEN was refused by {api}")]
    SlackTokenRefused {
        api: String,
        #[source]
        source: ChatError,
    },
    #[error("Slack's Web API at {api} could not be reached")]
    SlackUnreachable {
        api: String,
        #[source]
        source: ChatError,
    },
    #[error("MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD were refused by {login_url}")]
    TeamsCredentialsRefused {
        login_url: String,
        #[source]
        source: ChatError,
    },
    /// Linking a workspace (Slack team, Teams tenant) to the organisation,
    /// or reading which are linked.
    #[error("linking the {platform} workspace {workspace} to its organisation")]
    LinkWorkspace {
        platform: &'static str,
        workspace: String,
        #[source]
        source: StoreError,
    },
    #[error("reading the organisations' Teams tenants")]
    TeamsTenants(#[source] StoreError),
    #[error("reading the Slack workspaces installed through OAuth")]
    SlackInstallations(#[source] AppError),
    #[error("listening on {addr} (MOMENTUM_LISTEN)")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl StartupError {
    /// The message with each cause after it, as the command line prints it
    /// (for `/readyz`, which shows one line).
    pub fn with_causes(&self) -> String {
        crate::domain::errors::with_causes(self)
    }
}
