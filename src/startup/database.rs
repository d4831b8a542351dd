//! The configured database, opened in one place: the service and every
//! command start here, so a connection error reads the same everywhere and
//! nothing acts on a database that is not migrated.

use super::StartupError;
use crate::config::{redact_url, Settings};
use crate::store::Store;
use std::path::Path;

/// `MOMENTUM_DATABASE_URL`, connected as it is.
async fn connect(settings: &Settings) -> Result<Store, StartupError> {
    Store::connect(&settings.database_url)
        .await
        .map_err(|source| StartupError::OpenDatabase {
            url: redact_url(&settings.database_url),
            source,
        })
}

/// The configured database with every migration applied.
pub async fn open(settings: &Settings) -> Result<Store, StartupError> {
    let store = connect(settings).await?;
    store.migrate().await.map_err(StartupError::Migrate)?;
    Ok(store)
}

/// `momentum migrate`: applies the pending migrations; their names.
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    let store = connect(settings).await?;
    let pending = store.pending_migrations().await.unwrap_or_default();
    store.migrate().await.map_err(StartupError::Migrate)?;
    Ok(pending)
}

/// `momentum backup`: a consistent copy of the SQLite database at `to`,
/// taken while the service may run; as it is, not migrated.
pub async fn backup(settings: &Settings, to: &Path) -> Result<(), StartupError> {
    let store = connect(settings).await?;
    store
        .backup_sqlite(to)
        .await
        .map_err(|source| StartupError::Backup {
            path: to.to_path_buf(),
            source,
        })
}
