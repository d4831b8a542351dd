//! Digest charts served by URL (for Teams cards, which show images by URL).

use super::{millis, OrgId, Result, Store};
use jiff::Timestamp;

impl Store {
    pub async fn save_chart(&self, org: OrgId, id: &str, png: &[u8], now: Timestamp) -> Result<()> {
        sqlx::query("INSERT INTO charts (id, org_id, png, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(org.0)
            .bind(png.to_vec())
            .bind(millis(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The chart with this id: whoever has the URL may see it (the id is
    /// random and long, and the chart holds what the digest shows).
    pub async fn chart(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT png FROM charts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
