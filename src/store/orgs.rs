//! Organisations and the chat workspaces that belong to them.

use super::{col, millis, OrgId, Result, Store, StoreError};
use crate::domain::Platform;
use jiff::Timestamp;
use sqlx::any::AnyRow;

#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub time_zone: String,
    pub locale: String,
    /// The organisation's data key, wrapped by `MOMENTUM_SECRET_KEY`.
    pub wrapped_data_key: Vec<u8>,
}

const COLUMNS: &str = "id, name, time_zone, locale, data_key";

fn org(row: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: OrgId(col(row, "id")?),
        name: col(row, "name")?,
        time_zone: col(row, "time_zone")?,
        locale: col(row, "locale")?,
        wrapped_data_key: col(row, "data_key")?,
    })
}

impl Store {
    pub async fn create_org(
        &self,
        name: &str,
        time_zone: &str,
        locale: &str,
        wrapped_data_key: &[u8],
        now: Timestamp,
    ) -> Result<Org> {
        let row = sqlx::query(&format!(
            "INSERT INTO orgs (name, time_zone, locale, data_key, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(name)
        .bind(time_zone)
        .bind(locale)
        .bind(wrapped_data_key.to_vec())
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => org(&r),
            None => Err(StoreError::Conflict(format!(
                "an organisation named {name:?} already exists"
            ))),
        }
    }

    pub async fn org(&self, id: OrgId) -> Result<Org> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orgs WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(org)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("no organisation {}", id.0)))
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<Org>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orgs WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org).transpose()
    }

    pub async fn orgs(&self) -> Result<Vec<Org>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM orgs ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org).collect()
    }

    /// Links a chat workspace to an organisation (idempotent). A workspace
    /// already linked to another organisation is refused.
    pub async fn link_workspace(
        &self,
        org: OrgId,
        platform: Platform,
        workspace: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO workspaces (org_id, platform, workspace_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, workspace_id) DO NOTHING",
        )
        .bind(org.0)
        .bind(platform.as_str())
        .bind(workspace)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        match self.org_for_workspace(platform, workspace).await? {
            Some(o) if o == org => Ok(()),
            _ => Err(StoreError::Conflict(format!(
                "{} workspace {workspace} belongs to another organisation",
                platform.as_str()
            ))),
        }
    }

    /// The organisation a chat workspace belongs to: how inbound chat traffic
    /// finds its organisation.
    pub async fn org_for_workspace(
        &self,
        platform: Platform,
        workspace: &str,
    ) -> Result<Option<OrgId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT org_id FROM workspaces WHERE platform = $1 AND workspace_id = $2",
        )
        .bind(platform.as_str())
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(OrgId))
    }

    pub async fn workspaces(&self, org: OrgId) -> Result<Vec<(Platform, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT platform, workspace_id FROM workspaces WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(p, w)| Platform::parse(&p).map(|p| (p, w)))
            .collect())
    }

    /// Replaces every organisation's wrapped data key in one transaction
    /// (master key rotation): `rewrap` opens a wrapped key with the old master
    /// key and wraps it with the new one. Data under the data keys (tokens,
    /// notes) is untouched. Nothing changes if any key fails to open.
    pub async fn rewrap_data_keys<E>(
        &self,
        rewrap: impl Fn(&[u8]) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<std::result::Result<usize, (String, E)>> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT id, name, data_key FROM orgs ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        for (id, name, wrapped) in &rows {
            let new = match rewrap(wrapped) {
                Ok(k) => k,
                Err(e) => return Ok(Err((name.clone(), e))),
            };
            sqlx::query("UPDATE orgs SET data_key = $1 WHERE id = $2")
                .bind(new)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(rows.len()))
    }
}
