//! Migrations are embedded in the binary, one folder per backend with the same
//! file names (listed by build.rs). They are forward-only: take a backup
//! before upgrading.

use super::{Backend, Result};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;

type Embedded = &'static [(i64, &'static str, &'static str)];

// `SQLITE` and `POSTGRES`: every `migrations/<backend>/NNNN_name.sql`, by
// number, as (number, name, SQL). build.rs writes the list from the folders
// (and fails the build when they do not name the same migrations), so the
// numbers and names recorded in existing databases' `_sqlx_migrations` stay
// what they were when the list was kept by hand.
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_list_the_same_migrations_in_order() {
        let names = |list: Embedded| -> Vec<(i64, &str)> {
            list.iter().map(|(v, n, _)| (*v, *n)).collect()
        };
        assert_eq!(names(SQLITE), names(POSTGRES));
        assert!(SQLITE.len() >= 19);
        assert_eq!(SQLITE[0].0, 1);
        assert_eq!(SQLITE[0].1, "foundation");
        assert_eq!(SQLITE[5].1, "lean_indexes");
        assert!(SQLITE.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(SQLITE.iter().all(|(_, _, sql)| !sql.trim().is_empty()));
    }
}
