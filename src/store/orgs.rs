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
    /// Its hash key, wrapped; `None` until the keys are bound (an
    /// organisation made before binding).
    pub wrapped_hash_key: Option<Vec<u8>>,
    /// The data key the data is being re-keyed to, wrapped.
    pub wrapped_next_data_key: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, name, time_zone, locale, data_key, hash_key, next_data_key";

/// An organisation's wrapped keys, as stored.
#[derive(Debug, Clone)]
pub struct WrappedKeys {
    pub data: Vec<u8>,
    pub hash: Vec<u8>,
    pub next_data: Option<Vec<u8>>,
}

fn org(row: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: OrgId(col(row, "id")?),
        name: col(row, "name")?,
        time_zone: col(row, "time_zone")?,
        locale: col(row, "locale")?,
        wrapped_data_key: col(row, "data_key")?,
        wrapped_hash_key: col(row, "hash_key")?,
        wrapped_next_data_key: col(row, "next_data_key")?,
    })
}

impl Store {
    /// Creates an organisation; `keys` wraps its keys once its id is known
    /// (they are bound to it).
    pub async fn create_org(
        &self,
        name: &str,
        time_zone: &str,
        locale: &str,
        keys: impl FnOnce(OrgId) -> WrappedKeys,
        now: Timestamp,
    ) -> Result<Org> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO orgs (name, time_zone, locale, data_key, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(time_zone)
        .bind(locale)
        .bind(Vec::<u8>::new())
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(StoreError::Conflict(format!(
                "an organisation named {name:?} already exists"
            )));
        };
        let keys = keys(OrgId(id));
        sqlx::query("UPDATE orgs SET data_key = $1, hash_key = $2 WHERE id = $3")
            .bind(keys.data)
            .bind(keys.hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.org(OrgId(id)).await
    }

    /// Stores an organisation's first bound keys, replacing the unbound data
    /// key; false when they were bound already (by another replica).
    pub async fn bind_org_keys(&self, org: OrgId, keys: &WrappedKeys) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE orgs SET data_key = $1, hash_key = $2 WHERE id = $3 AND hash_key IS NULL",
        )
        .bind(keys.data.clone())
        .bind(keys.hash.clone())
        .bind(org.0)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Starts re-keying: stores the new data key unless one is waiting
    /// already (a re-key interrupted earlier goes on with it).
    pub async fn begin_rekey(&self, org: OrgId, wrapped_next: &[u8]) -> Result<()> {
        sqlx::query("UPDATE orgs SET next_data_key = $1 WHERE id = $2 AND next_data_key IS NULL")
            .bind(wrapped_next.to_vec())
            .bind(org.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends re-keying once every sealed value is under the new data key.
    pub async fn finish_rekey(&self, org: OrgId) -> Result<()> {
        sqlx::query(
            "UPDATE orgs SET data_key = next_data_key, next_data_key = NULL \
             WHERE id = $1 AND next_data_key IS NOT NULL",
        )
        .bind(org.0)
        .execute(&self.pool)
        .await?;
        Ok(())
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

    /// Replaces every organisation's wrapped keys in one transaction (master
    /// key rotation): `rewrap` opens an organisation's keys with the old
    /// master key and wraps them with the new one. Sealed data is untouched.
    /// Nothing changes if any organisation's keys fail to open.
    pub async fn rewrap_org_keys<E>(
        &self,
        rewrap: impl Fn(&Org) -> std::result::Result<WrappedKeys, E>,
    ) -> Result<std::result::Result<usize, (String, E)>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM orgs ORDER BY id"))
            .fetch_all(&mut *tx)
            .await?;
        let orgs: Vec<Org> = rows.iter().map(org).collect::<Result<_>>()?;
        for o in &orgs {
            let keys = match rewrap(o) {
                Ok(k) => k,
                Err(e) => return Ok(Err((o.name.clone(), e))),
            };
            sqlx::query(
                "UPDATE orgs SET data_key = $1, hash_key = $2, next_data_key = $3 WHERE id = $4",
            )
            .bind(keys.data)
            .bind(keys.hash)
            .bind(keys.next_data)
            .bind(o.id.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(orgs.len()))
    }
}
