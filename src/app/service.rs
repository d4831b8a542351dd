//! What the service's own endpoints ask of the data: whether the database
//! answers and is migrated (`/readyz`), a digest's chart by its id, each
//! inbound event handled once, and the organisation's audit log.

use super::{App, AppResult};
use crate::domain::ProgramId;
use crate::store::audit::AuditEntry;
use crate::store::OrgId;

impl App {
    /// Whether the database answers (within two seconds).
    pub async fn database_answers(&self) -> bool {
        self.store.ping().await
    }

    /// Migrations this build knows that the database has not applied yet.
    pub async fn pending_migrations(&self) -> AppResult<Vec<String>> {
        Ok(self.store.pending_migrations().await?)
    }

    /// A digest's chart (PNG), kept for cards that show images by URL.
    pub async fn chart(&self, id: &str) -> AppResult<Option<Vec<u8>>> {
        Ok(self.store.chart(id).await?)
    }

    /// Claims an inbound event by its key (platform, workspace, event id):
    /// `false` when it was handled already.
    pub async fn claim_inbound_event(&self, key: &str) -> AppResult<bool> {
        Ok(self
            .store
            .claim_inbound_event(key, self.clock.now())
            .await?)
    }

    /// Lets a claimed event go, so that its platform's retry is handled.
    pub async fn release_inbound_event(&self, key: &str) -> AppResult<()> {
        Ok(self.store.release_inbound_event(key).await?)
    }

    /// The newest `limit` entries of the organisation's audit log.
    pub async fn audit_log(&self, org: OrgId, limit: i64) -> AppResult<Vec<AuditEntry>> {
        Ok(self.store.audit_log(org, limit).await?)
    }

    /// The body (JSON) of a program's latest stored digest.
    pub async fn last_digest(&self, org: OrgId, program: ProgramId) -> AppResult<Option<String>> {
        Ok(self.store.last_digest(org, program).await?)
    }
}
