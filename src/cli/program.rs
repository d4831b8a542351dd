//! `program apply`, `program archive` and `check-config`: program files.

use super::{app_for, clock, failed, pick_org, secret_key, settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use momentum::app::AppError;
use momentum::domain::program::ProgramFile;
use momentum::domain::ConfigErrors;
use momentum::startup::{self, database};
use std::path::{Path, PathBuf};

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
        ProgramCommand::Apply { file, prune, org } => apply(config, &file, prune, org).await,
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
            Ok(0)
        }
        Err(AppError::Invalid(errs)) => {
            print_errors(file, &errs);
            Ok(1)
        }
        Err(e) => bail!("{e}"),
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
