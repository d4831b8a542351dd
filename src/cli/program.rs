//! `program apply`, `program archive` and `check-config`: program files.

use super::progress::{thousands, Progress};
use super::{app_for, clock, failed, pick_org, secret_key, settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use momentum::app::{App, AppError, Org};
use momentum::domain::program::ProgramFile;
use momentum::domain::{ConfigErrors, ProgramId};
use momentum::startup::{self, database};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ProgramCommand {
    /// Create or update a program from a file, atomically. Participants missing
    /// from the file are kept unless --prune is given.
    Apply {
        file: PathBuf,
        /// Deactivate participants that are not in the file.
        #[arg(long)]
        prune: bool,
        /// The organisation's name (needed when there are several).
        #[arg(long)]
        org: Option<String>,
        /// Stay until everyone given by email is matched to a chat user (or
        /// found to have none), showing the progress; this command helps
        /// resolve them, beside any running service.
        #[arg(long)]
        wait: bool,
    },
    /// Archive a program after its last session and follow-up: nothing more
    /// is sent for it (pending jobs end as skipped); its data stays.
    Archive {
        key: String,
        #[arg(long)]
        org: Option<String>,
    },
}

// `momentum check-config`'s flags.
#[derive(clap::Args)]
pub struct CheckConfig {
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(config: Option<&Path>, command: ProgramCommand) -> Result<i32> {
    match command {
        ProgramCommand::Apply {
            file,
            prune,
            org,
            wait,
        } => apply(config, &file, prune, org, wait).await,
        ProgramCommand::Archive { key, org } => {
            let (app, org) = app_for(&settings(config)?, org.as_deref()).await?;
            if app
                .archive_program(org.id, &key, "cli")
                .await
                .map_err(failed)?
            {
                println!("program {key:?} archived: nothing more will be sent for it");
                Ok(0)
            } else {
                bail!("no program {key:?} in {}", org.name)
            }
        }
    }
}

/// The file is checked before the database is opened; applying it looks its
/// people up in Slack, so Slack is connected for it.
async fn apply(
    config: Option<&Path>,
    file: &Path,
    prune: bool,
    org: Option<String>,
    wait: bool,
) -> Result<i32> {
    let s = settings(config)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: serde_json::Value = match serde_norway::from_str(&text) {
        Ok(d) => d,
        Err(e) => bail!(
            "{}: not a readable YAML or JSON document: {e}",
            file.display()
        ),
    };
    if let Err(errs) = ProgramFile::from_value(&doc) {
        print_errors(file, &errs);
        return Ok(1);
    }
    let store = database::open(&s).await?;
    let chats = startup::connect_slack(&s, &store, &clock()).await?;
    let app = startup::build_app(store, clock(), chats, secret_key(&s)?);
    let org = pick_org(&app, org.as_deref()).await?;
    match app.apply_program(org.id, &doc, prune).await {
        Ok(out) => {
            app.audit(org.id, "cli", "program.apply", Some(&out.program_key))
                .await;
            println!("{}", serde_json::to_string_pretty(&out)?);
            if wait && out.resolving > 0 {
                wait_for_resolution(app.clone(), &org, out.program_id).await?;
            }
            Ok(0)
        }
        Err(AppError::Invalid(errs)) => {
            print_errors(file, &errs);
            Ok(1)
        }
        Err(e) => bail!("{e}"),
    }
}

/// Resolves the program's people given by email (sharing the work with any
/// running service through the database's claims) until no one waits,
/// showing how far it has come; then who could not be found, and why.
async fn wait_for_resolution(app: Arc<App>, org: &Org, program_id: ProgramId) -> Result<()> {
    let org = org.id;
    let owner = format!("cli-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let mut resolver: Option<tokio::task::JoinHandle<()>> = None;
    let mut progress: Option<Progress> = None;
    loop {
        let now = app
            .program_resolution(org, program_id)
            .await
            .map_err(failed)?;
        let (people, resolving) = (now.people.max(0) as u64, now.resolving.max(0) as u64);
        progress
            .get_or_insert_with(|| Progress::new("resolving", people))
            .set(people - resolving.min(people), people, now.minutes_left);
        if resolving == 0 {
            if let Some(p) = progress.take() {
                p.finish(&format!(
                    "resolved: {} people, {} not found in chat",
                    thousands(people - now.not_found.len() as u64),
                    now.not_found.len()
                ));
            }
            for line in &now.not_found {
                println!("  not found: {line}");
            }
            return Ok(());
        }
        // Rounds until no one is left to claim here; people claimed by a
        // resolver elsewhere are waited for (or taken over once its claim
        // runs out).
        if resolver.as_ref().is_none_or(|r| r.is_finished()) {
            let (app, owner) = (app.clone(), owner.clone());
            resolver = Some(tokio::spawn(async move {
                if let Err(e) = app.resolve_all(org, &owner).await {
                    tracing::warn!(error = %e, "resolving failed; trying again");
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

pub fn check_config(args: &CheckConfig) -> i32 {
    let mut failed = false;
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                failed = true;
                continue;
            }
        };
        match ProgramFile::parse_yaml(&text) {
            Ok(p) => println!(
                "{}: ok: program {:?}, {} sessions, {} nudge rules, {} participants",
                file.display(),
                p.program.key,
                p.program.session_count(),
                p.program.nudges.len(),
                p.participants.len()
            ),
            Err(errs) => {
                print_errors(file, &errs);
                failed = true;
            }
        }
    }
    i32::from(failed)
}

fn print_errors(file: &Path, errs: &ConfigErrors) {
    eprintln!(
        "{}: {} problem{}",
        file.display(),
        errs.len(),
        if errs.len() == 1 { "" } else { "s" }
    );
    for e in errs.iter() {
        eprintln!("  {e}");
    }
}
