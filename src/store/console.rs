//! The HR console's login links and sessions (hashes only: a database
//! copy does not let anyone sign in). A link names the person it was made
//! for; a session names its person and what it reaches.

use super::{millis, OrgId, Result, Store};
use jiff::Timestamp;

/// A live session as stored.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub org: OrgId,
    pub csrf: String,
    /// The person signed in (an email or a chat identity).
    pub who: String,
    /// `None` for an organisation admin, else a JSON list of program keys.
    pub programs: Option<String>,
}

/// What a new session is.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub org: OrgId,
    pub session_hash: &'a str,
    pub csrf: &'a str,
    pub who: &'a str,
    /// `None` for an organisation admin, else a JSON list of program keys.
    pub programs: Option<&'a str>,
    /// An organisation admin's grant: revoking it ends the session.
    pub org_admin_id: Option<i64>,
}

impl Store {
    pub async fn add_console_link(
        &self,
        org: OrgId,
        token_hash: &str,
        who: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_links (token_hash, org_id, who, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(org.0)
        .bind(who)
        .bind(millis(now))
        .bind(millis(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses a login link: its organisation and the person it was made for,
    /// the first time, before it expires; `None` after that (one statement,
    /// so two clicks cannot both sign in) and for links that name nobody.
    pub async fn use_console_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OrgId, String)>> {
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
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT org_id, who FROM console_links WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(org, who)| Some((OrgId(org), who?))))
    }

    pub async fn add_console_session(
        &self,
        s: &NewSession<'_>,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (session_hash, org_id, csrf, who, programs, org_admin_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.session_hash)
        .bind(s.org.0)
        .bind(s.csrf)
        .bind(s.who)
        .bind(s.programs)
        .bind(s.org_admin_id)
        .bind(millis(now))
        .bind(millis(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A live session: one that names its person, and is either scoped to
    /// programs or an organisation admin's whose grant is not revoked.
    pub async fn console_session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> Result<Option<StoredSession>> {
        let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT s.org_id, s.csrf, s.who, s.programs FROM console_sessions s \
             LEFT JOIN org_admins a ON a.id = s.org_admin_id AND a.org_id = s.org_id \
             WHERE s.session_hash = $1 AND s.expires_at > $2 AND s.who IS NOT NULL \
             AND (s.programs IS NOT NULL OR (a.id IS NOT NULL AND a.revoked_at IS NULL))",
        )
        .bind(session_hash)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(org, csrf, who, programs)| StoredSession {
            org: OrgId(org),
            csrf,
            who,
            programs,
        }))
    }

    pub async fn end_console_session(&self, session_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
