//! Organisations: found by name, listed, and linked to the chat workspaces
//! (Slack workspaces, Teams tenants) whose people and channels their
//! programs may name.

use super::{App, AppResult};
use crate::domain::Platform;
use crate::store::{Org, OrgId};

impl App {
    pub async fn orgs(&self) -> AppResult<Vec<Org>> {
        Ok(self.store.orgs().await?)
    }

    pub async fn org(&self, id: OrgId) -> AppResult<Org> {
        Ok(self.store.org(id).await?)
    }

    /// The organisation a chat workspace (Slack team, Teams tenant) is
    /// linked to.
    pub async fn org_for_workspace(
        &self,
        platform: Platform,
        workspace: &str,
    ) -> AppResult<Option<OrgId>> {
        Ok(self.store.org_for_workspace(platform, workspace).await?)
    }

    pub async fn org_named(&self, name: &str) -> AppResult<Option<Org>> {
        Ok(self.store.org_by_name(name).await?)
    }

    /// Links a Slack workspace (team id) or a Teams tenant to `org`.
    pub async fn link_workspace(&self, org: OrgId, platform: Platform, id: &str) -> AppResult<()> {
        Ok(self
            .store
            .link_workspace(org, platform, id, self.clock.now())
            .await?)
    }

    /// The workspaces linked to `org`, as (platform, workspace id).
    pub async fn workspaces(&self, org: OrgId) -> AppResult<Vec<(Platform, String)>> {
        Ok(self.store.workspaces(org).await?)
    }
}
