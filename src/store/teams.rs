//! Microsoft Teams conversation references: how to reach a person (their
//! 1:1 chat with the app) and which team channels the app is in.

use super::{col, millis, OrgId, Result, Store};
use jiff::Timestamp;

pub use crate::domain::teams::{TeamsConversation, TeamsUser};

const USER_COLUMNS: &str = "tenant_id, aad_object_id, user_id, name, email, locale, time_zone, conversation_id, service_url";

fn user_from(r: &sqlx::any::AnyRow) -> Result<TeamsUser> {
    Ok(TeamsUser {
        tenant_id: col(r, "tenant_id")?,
        aad_object_id: col(r, "aad_object_id")?,
        user_id: col(r, "user_id")?,
        name: col(r, "name")?,
        email: col(r, "email")?,
        locale: col(r, "locale")?,
        time_zone: col(r, "time_zone")?,
        conversation_id: col(r, "conversation_id")?,
        service_url: col(r, "service_url")?,
    })
}

impl Store {
    /// Records what an activity or a roster said about a person; fields it
    /// did not say keep their stored value.
    pub async fn save_teams_user(&self, org: OrgId, u: &TeamsUser, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO teams_users (org_id, tenant_id, aad_object_id, user_id, name, email, locale, time_zone, conversation_id, service_url, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET \
             user_id = COALESCE($4, teams_users.user_id), name = COALESCE($5, teams_users.name), \
             email = COALESCE($6, teams_users.email), locale = COALESCE($7, teams_users.locale), \
             time_zone = COALESCE($8, teams_users.time_zone), \
             conversation_id = COALESCE($9, teams_users.conversation_id), \
             service_url = COALESCE($10, teams_users.service_url), updated_at = $11",
        )
        .bind(org.0)
        .bind(&u.tenant_id)
        .bind(&u.aad_object_id)
        .bind(u.user_id.clone())
        .bind(u.name.clone())
        .bind(u.email.as_ref().map(|e| e.to_lowercase()))
        .bind(u.locale.clone())
        .bind(u.time_zone.clone())
        .bind(u.conversation_id.clone())
        .bind(u.service_url.clone())
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The app was removed from the person's Teams: no 1:1 chat any more.
    pub async fn forget_teams_conversation(&self, tenant: &str, aad_object_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE teams_users SET conversation_id = NULL WHERE tenant_id = $1 AND aad_object_id = $2",
        )
        .bind(tenant)
        .bind(aad_object_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn teams_user(&self, tenant: &str, aad_object_id: &str) -> Result<Option<TeamsUser>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM teams_users WHERE tenant_id = $1 AND aad_object_id = $2"
        ))
        .bind(tenant)
        .bind(aad_object_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn teams_user_by_email(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<TeamsUser>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM teams_users WHERE tenant_id = $1 AND email = $2 LIMIT 1"
        ))
        .bind(tenant)
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The service URL to reach a conversation at (a 1:1 chat or a channel).
    pub async fn teams_service_url(
        &self,
        tenant: &str,
        conversation_id: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT service_url FROM teams_users WHERE tenant_id = $1 AND conversation_id = $2 AND service_url IS NOT NULL \
             UNION ALL SELECT service_url FROM teams_conversations WHERE tenant_id = $1 AND conversation_id = $2 LIMIT 1",
        )
        .bind(tenant)
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The tenant's most recently seen service URL (Teams serves a tenant
    /// from one region), for conversations not seen yet.
    pub async fn teams_tenant_service_url(&self, tenant: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT service_url FROM (\
               SELECT service_url, updated_at FROM teams_users WHERE tenant_id = $1 AND service_url IS NOT NULL \
               UNION ALL SELECT service_url, updated_at FROM teams_conversations WHERE tenant_id = $1) AS seen \
             ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The app was added to (or removed from) a team: its channel
    /// conversation, by the team's general channel id.
    pub async fn save_teams_conversation(
        &self,
        org: OrgId,
        c: &TeamsConversation<'_>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO teams_conversations (org_id, tenant_id, conversation_id, team_id, service_url, installed, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET \
             team_id = COALESCE($4, teams_conversations.team_id), service_url = $5, installed = $6, updated_at = $7",
        )
        .bind(org.0)
        .bind(c.tenant)
        .bind(c.conversation_id)
        .bind(c.team_id)
        .bind(c.service_url)
        .bind(i64::from(c.installed))
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Team conversations the app is installed in: (conversation id, service URL).
    pub async fn teams_installed_conversations(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT conversation_id, service_url FROM teams_conversations WHERE tenant_id = $1 AND installed = 1 ORDER BY conversation_id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "conversation_id")?, col(r, "service_url")?)))
            .collect()
    }
}
