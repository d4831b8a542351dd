//! Storage: every SQL statement lives under this module. One store serves
//! SQLite and PostgreSQL through sqlx's `Any` driver with portable SQL (both
//! speak `$n` parameters, `ON CONFLICT` and `RETURNING`); the few real
//! differences (row locking, pragmas) are decided here by `Backend`.
//! Every query takes the organisation id, except the look-ups that find it
//! (a token hash, a chat workspace) and the dispatcher's cross-org lease.

pub mod admins;
pub mod audit;
pub mod batches;
pub mod charts;
pub mod console;
mod ids;
pub mod inbound;
pub mod installs;
pub mod jobs;
pub mod metrics;
mod migrations;
pub mod notes;
pub mod orgs;
pub mod participants;
pub mod personal;
pub mod programs;
pub mod reports;
pub mod resolution;
pub mod retention;
pub mod sealed;
pub mod sessions;
pub mod steps;
mod tap_writer;
pub mod teams;
pub mod tokens;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use jobs::{Job, JobOutcome, JobState, NewJob};
pub use orgs::Org;
pub use tap_writer::{Checked as CheckedTap, TapCheck, TapToCheck};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite:// or postgres://")]
    UnsupportedUrl(String),
    // The source's text is not repeated here: whoever prints the error
    // prints its causes after it (`domain::errors::with_causes`).
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A stored time that no longer reads (a damaged row): an error that
    /// names it, never a stand-in date.
    #[error("a stored time ({millis} ms since 1970) is out of range")]
    BadTime {
        millis: i64,
        #[source]
        source: jiff::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The ids live in the domain; the store's queries take and bind them.
pub use crate::domain::ids::{JobId, OrgId, ParticipantId, PersonId, ProgramId};

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The group-commit writer for taps, started on the first tap.
    tap_writer: Arc<std::sync::OnceLock<tap_writer::Writer>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects (creating an SQLite file on first use). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let mut url = url.to_string();
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            // One connection: SQLite has a single writer, and one connection
            // avoids lock upgrades failing between concurrent transactions.
            Backend::Sqlite => {
                options
                    .max_connections(1)
                    // An embedded file has no network to break: pinging
                    // it before each use cost a round trip to the driver's
                    // thread per tap batch.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536; \
                             PRAGMA wal_autocheckpoint = 16384;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                options
                    .max_connections(10)
                    // The planner compiles a statement it expects to read
                    // many rows (a digest's week, 25,000 prompts): about
                    // 30 ms of compiling for a read that takes 60 ms.
                    // Compiling pays off for long analytical queries; none
                    // of the service's is one.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
        };
        Ok(Self {
            pool,
            backend,
            tap_writer: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations (forward only).
    pub async fn migrate(&self) -> Result<()> {
        migrations::migrator(self.backend)
            .await?
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Migrations this build knows that the database has not applied yet.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        migrations::pending(&self.pool, self.backend).await
    }

    /// Whether the database answers.
    /// A consistent copy of an SQLite database, taken while the service
    /// runs (`VACUUM INTO`: one read transaction). PostgreSQL has pg_dump.
    pub async fn backup_sqlite(&self, to: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "backup copies an SQLite database; for PostgreSQL use pg_dump (see the README)"
                    .into(),
            ));
        }
        if to.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists already: a backup never overwrites a file",
                to.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(to.display().to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the database answers within two seconds (a cut connection
    /// would otherwise hold `/readyz` for the pool's whole acquire timeout).
    pub async fn ping(&self) -> bool {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), query).await,
            Ok(Ok(_))
        )
    }

    /// SQLite: checkpoints the write-ahead log several times a second from
    /// a connection of its own (PASSIVE: it never blocks a writer), so that
    /// the commits taps wait for need not; their own automatic checkpoint
    /// is left as a backstop for a log grown past 64 MiB. Ends with `stop`.
    pub async fn keep_log_checkpointed(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let options = self.pool.connect_options();
        let mut conn = match <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options).await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "no background checkpoints: commits will checkpoint the log");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            // Busy (another checkpoint under way) is fine: the next one catches up.
            if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!(error = %e, "checkpoint skipped");
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that reads, then writes what it read decided. On
    /// SQLite it takes the write lock at once (`BEGIN IMMEDIATE`, waiting
    /// out the busy timeout): a deferred one that read a snapshot and then
    /// found another writer (the service resolving people while `program
    /// apply` re-plans) fails at its first write with "database is locked",
    /// which no busy timeout waits out.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// Placeholders for bulk statements. SQLite gets anonymous `?`: its lookup
/// of a named parameter is linear, which makes a statement with thousands of
/// `$n` parameters quadratic. PostgreSQL gets `$n`. Bind in the same order.
pub(crate) struct Placeholders {
    backend: Backend,
    n: usize,
}

impl Placeholders {
    pub(crate) fn new(backend: Backend) -> Self {
        Self { backend, n: 0 }
    }

    /// One fresh placeholder.
    pub(crate) fn one(&mut self) -> String {
        self.n += 1;
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.n),
        }
    }

    /// `(p, p, …)` with `count` fresh placeholders.
    pub(crate) fn row(&mut self, count: usize) -> String {
        let items: Vec<String> = (0..count).map(|_| self.one()).collect();
        format!("({})", items.join(", "))
    }
}

/// A read of many thousand rows as one value: `select`'s rows (its
/// `columns`, by name) packed by the database into one JSON array of arrays.
/// On SQLite handing rows over one by one costs more than the query itself
/// (each row's values are copied and sent from the driver's thread); one
/// text value and one parse cost a fraction of that. On PostgreSQL the
/// packing itself is not free (about 30 ms for 25,000 rows): use it for
/// reads whose row count, not their query, is the cost.
/// Order is not kept: sort what needs it.
pub(crate) fn packed_rows_sql(backend: Backend, select: &str, columns: &[&str]) -> String {
    let list = columns.join(", ");
    match backend {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({list})) FROM ({select}) AS packed")
        }
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({list}))::text, '[]') FROM ({select}) AS packed"
        ),
    }
}

/// The rows of a [`packed_rows_sql`] read, each decoded as a tuple.
pub(crate) fn unpack_rows<T: serde::de::DeserializeOwned>(packed: &str) -> Result<Vec<T>> {
    serde_json::from_str(packed)
        .map_err(|e| StoreError::Conflict(format!("packed rows are unreadable: {e}")))
}

/// Reads a column, mapping decode errors into `StoreError`.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    Ok(row.try_get(name)?)
}

/// Parses a stored date (YYYY-MM-DD).
pub(crate) fn parse_date(s: &str) -> Result<jiff::civil::Date> {
    jiff::civil::Date::from_str(s)
        .map_err(|e| StoreError::Conflict(format!("stored date {s:?} is unreadable: {e}")))
}

pub(crate) fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// A stored instant (milliseconds since 1970). Only a damaged row holds
/// one out of range: its read fails with `StoreError::BadTime` (logged by
/// whoever handles the error) rather than quietly reading as 1970.
pub(crate) fn instant(ms: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms)
        .map_err(|source| StoreError::BadTime { millis: ms, source })
}

/// A database URL with its password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_stored_time_is_an_error_that_names_it_not_1970() {
        assert_eq!(instant(0).unwrap(), jiff::Timestamp::UNIX_EPOCH);
        let e = instant(i64::MAX).unwrap_err();
        assert!(matches!(
            e,
            StoreError::BadTime {
                millis: i64::MAX,
                ..
            }
        ));
        assert!(e.to_string().contains(&i64::MAX.to_string()), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn a_database_error_says_its_cause_once() {
        let cause = sqlx::Error::PoolTimedOut.to_string();
        let said = crate::domain::errors::with_causes(&StoreError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(said, format!("database error: {cause}"));
    }
}
