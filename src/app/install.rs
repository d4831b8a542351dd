//! Slack workspaces that install the app through OAuth: one organisation per
//! workspace (per team on Enterprise Grid), the bot token sealed under that
//! organisation's data key. Uninstalling, or revoking the tokens, deletes
//! the token and stops all sending to the workspace.

use super::{App, AppError, AppResult};
use crate::domain::Platform;
use crate::store::installs::SlackInstallation;
use crate::store::OrgId;

/// What Slack's `oauth.v2.access` granted. `Debug` never shows the token.
#[derive(Clone)]
pub struct SlackGrant {
    /// The team, or the enterprise for an organisation-wide install.
    pub workspace: String,
    pub team_name: Option<String>,
    pub enterprise_id: Option<String>,
    pub bot_user_id: Option<String>,
    pub scopes: String,
    pub token: String,
}

impl std::fmt::Debug for SlackGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackGrant")
            .field("workspace", &self.workspace)
            .field("team_name", &self.team_name)
            .field("scopes", &self.scopes)
            .field("token", &"…")
            .finish()
    }
}

fn token_context(org: OrgId, workspace: &str) -> String {
    super::keys::sealed_context(
        crate::store::sealed::SealedColumn::SlackTokens,
        org,
        workspace,
    )
}

impl App {
    /// Stores a one-time OAuth or sign-in state (its hash), purging expired
    /// ones, unless `max` unexpired ones are stored: false then.
    pub async fn add_oauth_state(&self, state_hash: &str, max: i64) -> AppResult<bool> {
        Ok(self
            .store
            .add_oauth_state(state_hash, self.clock.now(), max)
            .await?)
    }

    /// Takes a state handed out within ten minutes (once: `false` when it is
    /// unknown, used or stale).
    pub async fn take_oauth_state(&self, state_hash: &str) -> AppResult<bool> {
        Ok(self
            .store
            .take_oauth_state(state_hash, self.clock.now())
            .await?)
    }

    /// Stores an installation: the workspace's organisation (created for a
    /// new workspace, named after it) and its sealed bot token.
    pub async fn install_slack(&self, grant: &SlackGrant) -> AppResult<OrgId> {
        let now = self.clock.now();
        let org = match self
            .store
            .org_for_workspace(Platform::Slack, &grant.workspace)
            .await?
        {
            Some(org) => org,
            None => {
                let name = grant
                    .team_name
                    .clone()
                    .unwrap_or_else(|| grant.workspace.clone());
                let created = match self.create_org(&name, "UTC", "en").await {
                    Err(AppError::Conflict(_)) => {
                        // Another organisation has this name: keep both apart.
                        self.create_org(&format!("{name} ({})", grant.workspace), "UTC", "en")
                            .await?
                    }
                    other => other?,
                };
                self.store
                    .link_workspace(created.id, Platform::Slack, &grant.workspace, now)
                    .await?;
                created.id
            }
        };
        let keys = self.keys(org).await?;
        let sealed = keys.seal(
            grant.token.as_bytes(),
            &token_context(org, &grant.workspace),
        );
        self.store
            .save_slack_installation(
                &SlackInstallation {
                    team_id: grant.workspace.clone(),
                    org_id: org,
                    enterprise_id: grant.enterprise_id.clone(),
                    team_name: grant.team_name.clone(),
                    bot_user_id: grant.bot_user_id.clone(),
                    scopes: grant.scopes.clone(),
                    token_sealed: sealed,
                },
                now,
            )
            .await?;
        tracing::info!(org = org.0, team = %grant.workspace, "Slack workspace installed the app");
        self.audit(
            org,
            &format!("slack:{} (install)", grant.workspace),
            "workspace.install",
            None,
        )
        .await;
        Ok(org)
    }

    /// Every installed workspace with its bot token, opened (at start-up).
    /// An installation whose token does not open is skipped and logged.
    pub async fn slack_installation_tokens(&self) -> AppResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for i in self.store.slack_installations().await? {
            let opened = match self.keys(i.org_id).await {
                Ok(keys) => keys.open(&i.token_sealed, &token_context(i.org_id, &i.team_id)),
                Err(e) => Err(e),
            };
            match opened {
                Ok(token) => out.push((i.team_id, String::from_utf8_lossy(&token).into_owned())),
                Err(e) => {
                    tracing::error!(team = %i.team_id, error = %e, "an installation's token does not open")
                }
            }
        }
        Ok(out)
    }

    /// The workspace uninstalled the app (or revoked its tokens): its token
    /// is deleted, nothing more is sent there, and pending messages to its
    /// people end as skipped. Returns whether it was installed.
    pub async fn uninstall_slack(&self, workspace: &str) -> AppResult<bool> {
        let removed = self.chats.remove(Platform::Slack, workspace);
        let Some(org) = self.store.delete_slack_installation(workspace).await? else {
            return Ok(removed);
        };
        let skipped = self
            .store
            .skip_pending_for_workspace(
                org,
                workspace,
                "the app was uninstalled from the Slack workspace",
                self.clock.now(),
            )
            .await?;
        tracing::info!(org = org.0, team = %workspace, skipped, "Slack workspace uninstalled the app");
        self.audit(
            org,
            &format!("slack:{workspace}"),
            "workspace.uninstall",
            None,
        )
        .await;
        Ok(true)
    }
}
