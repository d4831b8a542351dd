//! Admin API bearer tokens, stored only as SHA-256 hashes.

use super::{millis, OrgId, Result, Store};
use jiff::Timestamp;

impl Store {
    pub async fn create_token(
        &self,
        org: OrgId,
        name: &str,
        scope: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (org_id, name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(scope)
        .bind(hash)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?)
    }

    /// The organisation, scope and name of a live token, found by its hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<(OrgId, String, String)>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT org_id, scope, name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(o, s, n)| (OrgId(o), s, n)))
    }
}
