//! The configured database, opened in one place: the service and every
//! command start here, so a connection error reads the same everywhere and
//! nothing acts on a database that is not migrated.

use crate::config::{redact_url, Settings};
use crate::store::Store;
use anyhow::Context;
use std::path::Path;

/// `MOMENTUM_DATABASE_URL`, connected as it is.
async fn connect(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                redact_url(&settings.database_url)
            )
        })
}

/// The configured database with every migration applied.
pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let store = connect(settings).await?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// `momentum migrate`: applies the pending migrations; their names.
pub async fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let store = connect(settings).await?;
    let pending = store.pending_migrations().await.unwrap_or_default();
    store.migrate().await.context("applying migrations")?;
    Ok(pending)
}

/// `momentum backup`: a consistent copy of the SQLite database at `to`,
/// taken while the service may run; as it is, not migrated.
pub async fn backup(settings: &Settings, to: &Path) -> anyhow::Result<()> {
    Ok(connect(settings).await?.backup_sqlite(to).await?)
}
