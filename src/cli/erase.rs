//! `erase`: a person erased at their request.

use super::{app_for, failed, settings};
use anyhow::{bail, Result};
use std::path::Path;

// `momentum erase`'s flags.
#[derive(clap::Args)]
pub struct Erase {
    /// Their work email.
    #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
    email: Option<String>,
    /// Their chat identity, e.g. slack:T0123/U0456.
    #[arg(long)]
    chat: Option<String>,
    /// The organisation (needed when there are several).
    #[arg(long)]
    org: Option<String>,
}

pub async fn run(config: Option<&Path>, args: Erase) -> Result<i32> {
    let (app, org) = app_for(&settings(config)?, args.org.as_deref()).await?;
    let given = args.email.or(args.chat).unwrap_or_default();
    let who = momentum::domain::PersonRef::parse_short(&given)
        .map_err(|e| anyhow::anyhow!("{given:?}: {e}"))?;
    match app.erase_named(org.id, &who).await.map_err(failed)? {
        Some(e) => {
            app.audit(org.id, "cli", "person.erase", None).await;
            println!(
                "erased: {} participations, {} rows; weekly aggregates stay",
                e.participations, e.rows
            );
            Ok(0)
        }
        None => bail!("nobody by {given:?} in {}", org.name),
    }
}
