//! `digest preview` and `export`: the weekly digest as sponsors read it,
//! and a program's published weekly aggregates.

use super::{app_for, settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use momentum::domain::metrics::ProgramWeek;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum DigestCommand {
    /// Print a program's digest for a week (default: the last complete one),
    /// exactly as sponsors would read it.
    Preview {
        #[arg(long)]
        program: String,
        /// An ISO week such as 2026-W48.
        #[arg(long)]
        week: Option<String>,
        /// Where to write the chart (default: digest-PROGRAM-WEEK.png here).
        #[arg(long)]
        chart: Option<PathBuf>,
        #[arg(long)]
        org: Option<String>,
    },
}

// `momentum export`'s flags.
#[derive(clap::Args)]
pub struct Export {
    #[arg(long)]
    program: String,
    #[arg(long, value_enum, default_value = "json")]
    format: ExportFormat,
    #[arg(long)]
    org: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

pub async fn preview(config: Option<&Path>, command: DigestCommand) -> Result<i32> {
    let DigestCommand::Preview {
        program,
        week,
        chart,
        org,
    } = command;
    let week = match week.as_deref().map(ProgramWeek::parse_iso) {
        Some(None) => bail!("--week: use an ISO week such as 2026-W48"),
        Some(w) => w,
        None => None,
    };
    let (app, org) = app_for(&settings(config)?, org.as_deref()).await?;
    let digest = app.digest(org.id, &program, week).await?;
    println!("{}", {
        let p = app.program_named(org.id, &program).await?;
        momentum::app::digest_text(&p.name, &p.spec.locale, &digest)?
    });
    let week = ProgramWeek::parse_iso(&digest.week).context("the digest's week")?;
    let png = app.digest_chart(org.id, &program, &week).await?;
    let path =
        chart.unwrap_or_else(|| PathBuf::from(format!("digest-{program}-{}.png", digest.week)));
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    println!("\nchart: {}", path.display());
    Ok(0)
}

pub async fn export(config: Option<&Path>, args: Export) -> Result<i32> {
    let (app, org) = app_for(&settings(config)?, args.org.as_deref()).await?;
    let digests = app.aggregates(org.id, &args.program).await?;
    app.audit(org.id, "cli", "aggregates.export", Some(&args.program))
        .await;
    match args.format {
        ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&digests)?),
        ExportFormat::Csv => print!("{}", momentum::app::aggregates_csv(&digests)),
    }
    Ok(0)
}
