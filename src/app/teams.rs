//! Microsoft Teams' conversation references, kept for the Teams adapter
//! (`chat::teams::References`) and for the inbound route: who a person is in
//! the tenant, their 1:1 chat with the app, the channels the app is in.

use super::{App, AppResult};
use crate::chat::teams::References;
use crate::chat::ChatError;
use crate::clock::SharedClock;
use crate::domain::errors::with_causes;
use crate::domain::teams::{TeamsConversation, TeamsUser};
use crate::domain::{OrgId, Platform};
use crate::store::{Store, StoreError};
use async_trait::async_trait;
use std::sync::Arc;

/// The references in the store, as the Teams adapter asks for them.
pub struct StoredReferences {
    store: Store,
    clock: SharedClock,
}

impl StoredReferences {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    async fn org(&self, tenant: &str) -> Result<Option<OrgId>, ChatError> {
        self.store
            .org_for_workspace(Platform::Teams, tenant)
            .await
            .map_err(unavailable)
    }
}

fn unavailable(e: StoreError) -> ChatError {
    ChatError::Transient(format!("database: {}", with_causes(&e)))
}

#[async_trait]
impl References for StoredReferences {
    async fn user(
        &self,
        tenant: &str,
        aad_object_id: &str,
    ) -> Result<Option<TeamsUser>, ChatError> {
        self.store
            .teams_user(tenant, aad_object_id)
            .await
            .map_err(unavailable)
    }

    async fn user_by_email(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<TeamsUser>, ChatError> {
        self.store
            .teams_user_by_email(tenant, email)
            .await
            .map_err(unavailable)
    }

    async fn remember_user(&self, user: &TeamsUser) -> Result<(), ChatError> {
        let Some(org) = self.org(&user.tenant_id).await? else {
            return Ok(());
        };
        self.store
            .save_teams_user(org, user, self.clock.now())
            .await
            .map_err(unavailable)
    }

    async fn service_url(
        &self,
        tenant: &str,
        conversation: &str,
    ) -> Result<Option<String>, ChatError> {
        self.store
            .teams_service_url(tenant, conversation)
            .await
            .map_err(unavailable)
    }

    async fn tenant_service_url(&self, tenant: &str) -> Result<Option<String>, ChatError> {
        self.store
            .teams_tenant_service_url(tenant)
            .await
            .map_err(unavailable)
    }

    async fn installed_conversations(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, String)>, ChatError> {
        if self.org(tenant).await?.is_none() {
            return Ok(Vec::new());
        }
        self.store
            .teams_installed_conversations(tenant)
            .await
            .map_err(unavailable)
    }

    async fn keep_chart(&self, tenant: &str, id: &str, png: &[u8]) -> Result<(), ChatError> {
        let org = self
            .org(tenant)
            .await?
            .ok_or_else(|| ChatError::Permanent("the tenant has no organisation".into()))?;
        self.store
            .save_chart(org, id, png, self.clock.now())
            .await
            .map_err(unavailable)
    }
}

impl App {
    /// The conversation references a Teams port keeps through.
    pub fn teams_references(&self) -> Arc<dyn References> {
        Arc::new(StoredReferences::new(
            self.store.clone(),
            self.clock.clone(),
        ))
    }

    /// Keeps how to reach a person who wrote or acted in Teams (ids,
    /// language, time zone, their 1:1 chat); no name, no words.
    pub async fn remember_teams_user(&self, org: OrgId, user: &TeamsUser) -> AppResult<()> {
        Ok(self
            .store
            .save_teams_user(org, user, self.clock.now())
            .await?)
    }

    /// The app was removed from a person's Teams: no 1:1 chat any more.
    pub async fn forget_teams_conversation(
        &self,
        tenant: &str,
        aad_object_id: &str,
    ) -> AppResult<()> {
        Ok(self
            .store
            .forget_teams_conversation(tenant, aad_object_id)
            .await?)
    }

    /// The app was added to (or removed from) a team's channel.
    pub async fn remember_teams_conversation(
        &self,
        org: OrgId,
        conversation: &TeamsConversation<'_>,
    ) -> AppResult<()> {
        Ok(self
            .store
            .save_teams_conversation(org, conversation, self.clock.now())
            .await?)
    }
}
