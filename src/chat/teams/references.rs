//! What the Teams adapter remembers between calls: people's ids and 1:1
//! conversations, the service URLs Teams serves them from, the team channels
//! the app is in, and the charts cards show by URL. The adapter keeps none
//! of it itself: the app implements this over its store.

use crate::chat::ChatError;
use crate::domain::teams::TeamsUser;
use async_trait::async_trait;

/// A tenant's conversation references, as the adapter asks for them. Every
/// failure to read or write is a `ChatError` (transient for a database that
/// does not answer).
#[async_trait]
pub trait References: Send + Sync {
    /// What is known of a person by their Entra object id.
    async fn user(&self, tenant: &str, aad_object_id: &str)
        -> Result<Option<TeamsUser>, ChatError>;

    /// What is known of a person by their work email.
    async fn user_by_email(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<TeamsUser>, ChatError>;

    /// Remembers what a roster or Microsoft Graph said of a person; nothing
    /// is kept for a tenant no organisation is linked to.
    async fn remember_user(&self, user: &TeamsUser) -> Result<(), ChatError>;

    /// The service URL a conversation (a 1:1 chat or a channel) was seen at.
    async fn service_url(
        &self,
        tenant: &str,
        conversation: &str,
    ) -> Result<Option<String>, ChatError>;

    /// The tenant's most recently seen service URL.
    async fn tenant_service_url(&self, tenant: &str) -> Result<Option<String>, ChatError>;

    /// The team channels the app is installed in, as (conversation, service
    /// URL); none for a tenant no organisation is linked to.
    async fn installed_conversations(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, String)>, ChatError>;

    /// Keeps a chart (PNG) under `id`, to be served at `/charts/ID.png`.
    async fn keep_chart(&self, tenant: &str, id: &str, png: &[u8]) -> Result<(), ChatError>;
}
