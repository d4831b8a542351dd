//! The HR console's login links and sessions (hashes only: a database
//! copy does not let anyone sign in).

use super::{millis, OrgId, Result, Store};
use jiff::Timestamp;

impl Store {
    pub async fn add_console_link(
        &self,
        org: OrgId,
        token_hash: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_links (token_hash, org_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(org.0)
        .bind(millis(now))
        .bind(millis(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses a login link: its organisation the first time, before it
    /// expires; `None` after that (one statement, so two clicks cannot both
    /// sign in).
    pub async fn use_console_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OrgId>> {
        let used = sqlx::query(
            "UPDATE console_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(millis(now))
        .bind(token_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if used != 1 {
            return Ok(None);
        }
        let org: Option<i64> =
            sqlx::query_scalar("SELECT org_id FROM console_links WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(org.map(OrgId))
    }

    pub async fn add_console_session(
        &self,
        org: OrgId,
        session_hash: &str,
        csrf: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (session_hash, org_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash)
        .bind(org.0)
        .bind(csrf)
        .bind(millis(now))
        .bind(millis(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A live session's organisation and CSRF token.
    pub async fn console_session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OrgId, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT org_id, csrf FROM console_sessions WHERE session_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(o, c)| (OrgId(o), c)))
    }

    pub async fn end_console_session(&self, session_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
