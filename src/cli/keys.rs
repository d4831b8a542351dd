//! `rotate-key`: the data re-keyed under fresh data keys, the organisations'
//! keys re-wrapped under a new master key, or both.

use super::progress::{thousands, Progress};
use super::{app, failed, settings};
use anyhow::{bail, Context, Result};
use momentum::app::keys::{RekeyOptions, RekeyProgress, RekeyReport};
use momentum::crypto::SecretKey;
use std::path::Path;
use std::time::Duration;

// `momentum rotate-key`'s flags.
#[derive(clap::Args)]
pub struct RotateKey {
    /// The new master key (32 bytes, base64); `-` reads it from stdin.
    #[arg(
        long,
        env = "MOMENTUM_NEW_SECRET_KEY",
        required_unless_present = "data"
    )]
    new_key: Option<String>,
    /// Re-key the data under fresh data keys (the service may keep running).
    #[arg(long)]
    data: bool,
    /// Sealed values rewritten per transaction.
    #[arg(long, default_value_t = 500)]
    batch: i64,
    /// Seconds to wait after storing a new data key, so that a request
    /// that read the old one finishes its write first.
    #[arg(long, default_value_t = 5)]
    settle_seconds: u64,
}

pub async fn run(config: Option<&Path>, args: RotateKey) -> Result<i32> {
    let s = settings(config)?;
    // Without the current key nothing can be re-keyed: said before anything is read.
    super::secret_key(&s)?;
    let new = match args.new_key {
        None => None,
        Some(given) => {
            let text = if given == "-" {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line
            } else {
                given
            };
            Some(SecretKey::from_base64(&text).context("the new key")?)
        }
    };
    let batch = args.batch;
    if !(1..=10_000).contains(&batch) {
        bail!("--batch: {batch} is not from 1 to 10000");
    }
    let app = app(&s).await?;
    if args.data {
        let shown = std::sync::Arc::new(std::sync::Mutex::new(Progress::counter("re-keying")));
        let to_show = shown.clone();
        let progress = RekeyProgress(std::sync::Arc::new(move |r: &RekeyReport| {
            if let Ok(mut p) = to_show.lock() {
                p.note(
                    r.resealed + r.organisations as u64,
                    &format!(
                        "{} sealed values under new data keys, {} organisations done",
                        thousands(r.resealed),
                        r.organisations
                    ),
                );
            }
        }));
        let report = app
            .rekey_data(&RekeyOptions {
                batch,
                settle: Duration::from_secs(args.settle_seconds.min(600)),
                max_batches: None,
                progress: Some(progress),
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e} (run it again to go on)"));
        if let Ok(m) = std::sync::Arc::try_unwrap(shown) {
            if let Ok(p) = m.into_inner() {
                p.clear();
            }
        }
        let report = report?;
        app.audit_every_org("cli", "key.rekey")
            .await
            .map_err(failed)?;
        println!(
            "re-keyed the data of {} organisations: {} sealed values under new data keys",
            report.organisations, report.resealed
        );
    }
    if let Some(new) = new {
        match app.rotate_master_key(&new).await.map_err(failed)? {
            Ok(n) => {
                app.audit_every_org("cli", "key.rotate")
                    .await
                    .map_err(failed)?;
                println!("re-wrapped the keys of {n} organisations: start the service with the new MOMENTUM_SECRET_KEY");
            }
            Err((org, e)) => bail!(
                "organisation {org:?}: its keys do not open with the current MOMENTUM_SECRET_KEY ({e}); nothing was changed"
            ),
        }
    }
    Ok(0)
}
