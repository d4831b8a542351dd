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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An organisation's id. Queries take it first, so none can forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OrgId(pub i64);

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
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(10).connect(&url).await?,
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

pub(crate) fn instant(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or_else(|e| {
        // Only a damaged row holds one: say so rather than quietly use 1970.
        tracing::error!(millis = ms, error = %e, "a stored time is out of range; read as 1970-01-01");
        jiff::Timestamp::UNIX_EPOCH
    })
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
