//! `serve`, `migrate` and `backup`: the service and its database.

use super::{secret_key, settings};
use anyhow::Result;
use momentum::startup::{database, service};
use std::path::{Path, PathBuf};

// `momentum backup`'s flags.
#[derive(clap::Args)]
pub struct Backup {
    /// Where to write the copy (must not exist).
    file: PathBuf,
}

pub async fn serve(config: Option<&Path>) -> Result<i32> {
    let s = settings(config)?;
    let key = secret_key(&s)?;
    service::run(s, key, shutdown_signal()).await?;
    Ok(0)
}

pub async fn migrate(config: Option<&Path>) -> Result<i32> {
    let applied = database::migrate(&settings(config)?).await?;
    println!(
        "migrations applied: {}",
        if applied.is_empty() {
            "none pending".into()
        } else {
            applied.join(", ")
        }
    );
    Ok(0)
}

pub async fn backup(config: Option<&Path>, args: Backup) -> Result<i32> {
    let shown = super::progress::Progress::counter("backing up");
    let backup = database::backup(&settings(config)?, &args.file).await;
    shown.clear();
    backup?;
    println!("backup written to {}", args.file.display());
    Ok(0)
}

/// Ctrl-C, or SIGTERM (docker stop, Kubernetes).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
