//! Migrations are embedded in the binary, one folder per backend with the same
//! file names. They are forward-only: take a backup before upgrading.

use super::{Backend, Result};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;

type Embedded = &'static [(i64, &'static str, &'static str)];

const SQLITE: Embedded = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "delivery",
        include_str!("../../migrations/sqlite/0002_delivery.sql"),
    ),
    (
        3,
        "reminders",
        include_str!("../../migrations/sqlite/0003_reminders.sql"),
    ),
    (
        4,
        "metrics",
        include_str!("../../migrations/sqlite/0004_metrics.sql"),
    ),
    (
        5,
        "pulses",
        include_str!("../../migrations/sqlite/0005_pulses.sql"),
    ),
    (
        6,
        "lean_indexes",
        include_str!("../../migrations/sqlite/0006_lean_indexes.sql"),
    ),
];

const POSTGRES: Embedded = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "delivery",
        include_str!("../../migrations/postgres/0002_delivery.sql"),
    ),
    (
        3,
        "reminders",
        include_str!("../../migrations/postgres/0003_reminders.sql"),
    ),
    (
        4,
        "metrics",
        include_str!("../../migrations/postgres/0004_metrics.sql"),
    ),
    (
        5,
        "pulses",
        include_str!("../../migrations/postgres/0005_pulses.sql"),
    ),
    (
        6,
        "lean_indexes",
        include_str!("../../migrations/postgres/0006_lean_indexes.sql"),
    ),
];

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
