//! The `momentum` command line: the table of commands. Each is carried out
//! in `cli/`, one file per group, through the app.

mod cli;

use clap::{Parser, Subcommand};
use cli::admin::AdminCommand;
use cli::digest::DigestCommand;
use cli::org::OrgCommand;
use cli::program::ProgramCommand;
use cli::token::TokenCommand;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "momentum",
    version,
    about = "Keeps a coaching or leadership program alive between sessions, in Slack and Teams."
)]
struct Cli {
    /// Settings file (YAML); environment variables override it.
    #[arg(long, global = true, env = "MOMENTUM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: HTTP endpoints and the dispatcher. Applies migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the sample program against the built-in local workspace with a
    /// virtual clock, and print what everyone saw.
    #[cfg(feature = "local")]
    Demo(cli::local::Demo),
    /// Copy the SQLite database consistently while the service runs (for
    /// PostgreSQL use pg_dump). Restore by stopping the service and putting
    /// the copy in the database file's place.
    Backup(cli::serve::Backup),
    /// Erase a person at their request (as `/momentum forget-me` and the
    /// admin API do): their rows go, aggregates already computed stay.
    Erase(cli::erase::Erase),
    /// Rotate keys. `--data`: re-key every organisation's data (a fresh
    /// data key, every note, starting point and token sealed again under it,
    /// in batches; run it again to finish one that was interrupted).
    /// `--new-key`: re-wrap every organisation's keys with a new master key,
    /// then start the service with it. Both: the data first.
    RotateKey(cli::keys::RotateKey),
    /// Print the Slack app manifest for this deployment, to paste into
    /// "Create New App → From a manifest".
    SlackManifest(cli::platforms::SlackManifest),
    /// Write the Teams app package (manifest.json and icons, zipped) to
    /// upload in Teams admin center → Manage apps → Upload.
    TeamsPackage(cli::platforms::TeamsPackage),
    /// Print performance figures: loading a program with the largest holiday
    /// calendar, planning N participants × 36 rules, and dispatching to the
    /// local workspace with Slack's limits off and on.
    #[cfg(feature = "local")]
    Bench(cli::local::Bench),
    /// Validate program files; prints every mistake with its field path.
    CheckConfig(cli::program::CheckConfig),
    /// Programs.
    Program {
        #[command(subcommand)]
        command: ProgramCommand,
    },
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// The HR console: login links and organisation admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The weekly momentum digest.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
    /// Weekly aggregates of a program (published figures only), to stdout.
    Export(cli::digest::Export),
    /// Run the local chat workspace (a simulated Slack) as a server, so that
    /// `momentum serve` with SLACK_API_URL pointing at it works like a real deployment.
    #[cfg(feature = "local")]
    Sim(cli::local::Sim),
    // The server build has no local workspace: these say so instead of
    // clap's "unrecognized subcommand".
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Demo(cli::NotInThisBuild),
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Sim(cli::NotInThisBuild),
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Bench(cli::NotInThisBuild),
}

impl Command {
    /// What the command logs by default (RUST_LOG overrides it).
    fn log_level(&self) -> &'static str {
        match self {
            Command::Demo(_) | Command::CheckConfig(_) => "warn",
            // The digest's data generator is slow on purpose: no slow-statement warnings.
            Command::Bench(_) => "error,sqlx=error",
            _ => "info",
        }
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    momentum::telemetry::init(cli.command.log_level());
    let code = match run(cli.command, cli.config.as_deref()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(command: Command, config: Option<&Path>) -> anyhow::Result<i32> {
    use cli::*;
    match command {
        Command::Serve => serve::serve(config).await,
        Command::Migrate => serve::migrate(config).await,
        Command::Backup(args) => serve::backup(config, args).await,
        Command::Erase(args) => erase::run(config, args).await,
        Command::RotateKey(args) => keys::run(config, args).await,
        Command::SlackManifest(args) => platforms::slack_manifest(args),
        Command::TeamsPackage(args) => platforms::teams_package(args),
        Command::CheckConfig(args) => Ok(program::check_config(&args)),
        Command::Program { command } => program::run(config, command).await,
        Command::Org { command } => org::run(config, command).await,
        Command::Admin { command } => admin::run(config, command).await,
        Command::Token { command } => token::run(config, command).await,
        Command::Digest { command } => digest::preview(config, command).await,
        Command::Export(args) => digest::export(config, args).await,
        #[cfg(feature = "local")]
        Command::Demo(args) => local::demo(args).await,
        #[cfg(feature = "local")]
        Command::Sim(args) => local::sim(args).await,
        #[cfg(feature = "local")]
        Command::Bench(args) => local::bench(args).await,
        #[cfg(not(feature = "local"))]
        Command::Demo(_) | Command::Sim(_) | Command::Bench(_) => {
            anyhow::bail!(NO_LOCAL_WORKSPACE)
        }
    }
}
