//! Admin API bearer tokens, stored only as SHA-256 hashes.

use super::{millis, OrgId, Result, Store};
use jiff::Timestamp;

/// A live token, found by its hash.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub org: OrgId,
    pub scope: String,
    pub name: String,
    /// `None` for the whole organisation, else a JSON list of program keys.
    pub programs: Option<String>,
}

impl Store {
    pub async fn create_token(
        &self,
        org: OrgId,
        name: &str,
        scope: &str,
        programs: Option<&str>,
        hash: &str,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (org_id, name, scope, programs, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(scope)
        .bind(programs)
        .bind(hash)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?)
    }

    /// The organisation, scope, name and programs of a live token, found by its hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>> {
        let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT org_id, scope, name, programs FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(o, scope, name, programs)| StoredToken {
            org: OrgId(o),
            scope,
            name,
            programs,
        }))
    }
}
