//! Organisation admins: people (by work email or chat identity) who see and
//! change everything of their organisation in the HR console. Granted and
//! revoked by an operator; a revoked grant stays, with who revoked it.

use super::{col, instant, millis, OrgId, Result, Store};
use jiff::Timestamp;
use serde::Serialize;

/// A live grant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgAdmin {
    pub id: i64,
    /// The work email it was granted to (lower-case), if by email.
    pub email: Option<String>,
    /// The chat identity it was granted to (`slack:T…/U…`), if by chat.
    pub chat: Option<String>,
    /// `cli`, or `api token "…"`.
    pub granted_by: String,
    #[schema(value_type = String, example = "2026-09-07T08:00:00Z")]
    pub granted_at: Timestamp,
}

impl Store {
    /// Grants `email` or `chat` (one of them) organisation admin; a live
    /// grant to the same person is kept. Returns (the grant, whether it is new).
    pub async fn grant_org_admin(
        &self,
        org: OrgId,
        email: Option<&str>,
        chat: Option<&str>,
        granted_by: &str,
        now: Timestamp,
    ) -> Result<(OrgAdmin, bool)> {
        if let Some(existing) = self.org_admin_exactly(org, email, chat).await? {
            return Ok((existing, false));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO org_admins (org_id, email, chat, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org.0)
        .bind(email)
        .bind(chat)
        .bind(granted_by)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok((
            OrgAdmin {
                id,
                email: email.map(str::to_string),
                chat: chat.map(str::to_string),
                granted_by: granted_by.to_string(),
                granted_at: instant(millis(now))?,
            },
            true,
        ))
    }

    /// Revokes the live grant to exactly this email or chat identity;
    /// `false` when there is none. Sessions it opened end with it.
    pub async fn revoke_org_admin(
        &self,
        org: OrgId,
        email: Option<&str>,
        chat: Option<&str>,
        revoked_by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let Some(grant) = self.org_admin_exactly(org, email, chat).await? else {
            return Ok(false);
        };
        let done = sqlx::query(
            "UPDATE org_admins SET revoked_at = $1, revoked_by = $2 WHERE org_id = $3 AND id = $4 AND revoked_at IS NULL",
        )
        .bind(millis(now))
        .bind(revoked_by)
        .bind(org.0)
        .bind(grant.id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The organisation's live grants, oldest first.
    pub async fn org_admins(&self, org: OrgId) -> Result<Vec<OrgAdmin>> {
        let rows = sqlx::query(
            "SELECT id, email, chat, granted_by, granted_at FROM org_admins WHERE org_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(org_admin).collect()
    }

    /// The live grant that makes this person an organisation admin: one to
    /// their email or to their chat identity. `None` when neither has one.
    pub async fn org_admin_grant(
        &self,
        org: OrgId,
        email: Option<&str>,
        chat: Option<&str>,
    ) -> Result<Option<i64>> {
        if email.is_none() && chat.is_none() {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(
            "SELECT id FROM org_admins WHERE org_id = $1 AND revoked_at IS NULL \
             AND ((email IS NOT NULL AND email = $2) OR (chat IS NOT NULL AND chat = $3)) ORDER BY id LIMIT 1",
        )
        .bind(org.0)
        .bind(email)
        .bind(chat)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn is_org_admin(
        &self,
        org: OrgId,
        email: Option<&str>,
        chat: Option<&str>,
    ) -> Result<bool> {
        Ok(self.org_admin_grant(org, email, chat).await?.is_some())
    }

    /// The live grant to exactly this email (or, without one, this chat identity).
    async fn org_admin_exactly(
        &self,
        org: OrgId,
        email: Option<&str>,
        chat: Option<&str>,
    ) -> Result<Option<OrgAdmin>> {
        let (sql, value) = match (email, chat) {
            (Some(e), _) => (
                "SELECT id, email, chat, granted_by, granted_at FROM org_admins WHERE org_id = $1 AND revoked_at IS NULL AND email = $2 ORDER BY id LIMIT 1",
                e,
            ),
            (None, Some(c)) => (
                "SELECT id, email, chat, granted_by, granted_at FROM org_admins WHERE org_id = $1 AND revoked_at IS NULL AND chat = $2 ORDER BY id LIMIT 1",
                c,
            ),
            (None, None) => return Ok(None),
        };
        let row = sqlx::query(sql)
            .bind(org.0)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_admin).transpose()
    }
}

fn org_admin(r: &sqlx::any::AnyRow) -> Result<OrgAdmin> {
    Ok(OrgAdmin {
        id: col(r, "id")?,
        email: col(r, "email")?,
        chat: col(r, "chat")?,
        granted_by: col(r, "granted_by")?,
        granted_at: instant(col(r, "granted_at")?)?,
    })
}
