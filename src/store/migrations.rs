//! Migrations are embedded in the binary, one folder per backend with the same
//! file names. They are forward-only: take a backup before upgrading.

use super::{Backend, Result};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;

type Embedded = &'static [(i64, &'static str, &'static str)];

/// The same list of migrations for each backend's folder.
macro_rules! migrations {
    ($dir:literal: $(($version:literal, $name:literal, $file:literal)),* $(,)?) => {
        &[$(($version, $name, include_str!(concat!("../../migrations/", $dir, "/", $file, ".sql")))),*]
    };
    ($($dir:literal => $name:ident),*) => {
        $(const $name: Embedded = migrations!($dir:
            (1, "foundation", "0001_foundation"),
            (2, "delivery", "0002_delivery"),
            (3, "reminders", "0003_reminders"),
            (4, "metrics", "0004_metrics"),
            (5, "pulses", "0005_pulses"),
            (6, "lean_indexes", "0006_lean_indexes"),
            (7, "notes_erasure", "0007_notes_erasure"),
            (8, "slack_installs", "0008_slack_installs"),
            (9, "audit", "0009_audit"),
            (10, "teams", "0010_teams"),
            (11, "charts", "0011_charts"),
            (12, "console", "0012_console"),
            (13, "measurement", "0013_measurement"),
            (14, "admins", "0014_admins"),
            (15, "keys", "0015_keys"),
            (16, "steps", "0016_steps"),
            (17, "own_dates", "0017_own_dates"),
            (18, "manager_batches", "0018_manager_batches"),
            (19, "resolution", "0019_resolution"),
            (20, "directory_sweeps", "0020_directory_sweeps"),
        );)*
    };
}

migrations!("sqlite" => SQLITE, "postgres" => POSTGRES);

#[derive(Debug)]
struct Source(Embedded);

impl MigrationSource<'static> for Source {
    fn resolve(
        self,
    ) -> futures_core::future::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

fn embedded(backend: Backend) -> Embedded {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

pub async fn migrator(backend: Backend) -> Result<Migrator> {
    Ok(Migrator::new(Source(embedded(backend))).await?)
}

pub async fn pending(pool: &AnyPool, backend: Backend) -> Result<Vec<String>> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    Ok(embedded(backend)
        .iter()
        .filter(|(v, _, _)| !applied.contains(v))
        .map(|(v, n, _)| format!("{v:04}_{n}"))
        .collect())
}
