//! `token create`: admin API tokens.

use super::{app, messages, pick_org, settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use momentum::app::{AppError, Reach, Scope};
use std::path::Path;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an admin API token; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        org: Option<String>,
        /// `admin`, or `sessions:write` for a coaching platform's webhook.
        #[arg(long, default_value = "admin")]
        scope: String,
        /// What the token is for, e.g. "coaching platform webhook".
        #[arg(long, default_value = "api")]
        name: String,
        /// Only these programs (keys, comma-separated): other programs,
        /// new programs, a program's admins, k and metrics, erasures, the
        /// audit log and organisation admins are refused (403). Without it
        /// the token reaches the whole organisation.
        #[arg(long, value_delimiter = ',')]
        programs: Vec<String>,
    },
}

pub async fn run(config: Option<&Path>, command: TokenCommand) -> Result<i32> {
    let TokenCommand::Create {
        org,
        scope,
        name,
        programs,
    } = command;
    let s = settings(config)?;
    // The scope is checked before the database is opened.
    let scope = Scope::parse(&scope)
        .with_context(|| format!("{scope:?} is not a scope (admin or sessions:write)"))?;
    let app = app(&s).await?;
    let org = pick_org(&app, org.as_deref()).await?;
    let programs: Vec<String> = programs
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let reach = if programs.is_empty() {
        Reach::Organisation
    } else {
        Reach::Programs(programs.clone())
    };
    let token = match app.create_token_within(org.id, &name, scope, &reach).await {
        Ok(t) => t,
        Err(AppError::Invalid(errs)) => bail!("--programs: {}", messages(&errs)),
        Err(e) => bail!("{e}"),
    };
    app.audit(org.id, "cli", "token.create", None).await;
    eprintln!(
        "token for {} with scope {}{} (shown once; store it safely):",
        org.name,
        scope.as_str(),
        if programs.is_empty() {
            String::new()
        } else {
            format!(", programs {}", programs.join(", "))
        }
    );
    println!("{token}");
    Ok(0)
}
