//! The `momentum` command line.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use momentum::app::Scope;
#[cfg(feature = "local")]
use momentum::chat::sim::{SimConfig, SimWorkspace};
use momentum::clock::{SharedClock, SystemClock};
use momentum::config::Settings;
use momentum::crypto::SecretKey;
use momentum::domain::metrics::ProgramWeek;
use momentum::domain::program::ProgramFile;
use momentum::domain::Platform;
use momentum::startup::{self, ServiceOptions};
use momentum::store::{Org, Store};
#[cfg(feature = "local")]
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    Demo {
        /// Random seed for how the simulated people behave.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Print only the summary, not every conversation.
        #[arg(long)]
        summary_only: bool,
        /// Instead of the scripted run: the playground, a web page of the
        /// local workspace to click through (and the HR console).
        #[arg(long)]
        web: bool,
        /// Where the playground listens (with --web).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Copy the SQLite database consistently while the service runs (for
    /// PostgreSQL use pg_dump). Restore by stopping the service and putting
    /// the copy in the database file's place.
    Backup {
        /// Where to write the copy (must not exist).
        file: PathBuf,
    },
    /// Erase a person at their request (as `/momentum forget-me` and the
    /// admin API do): their rows go, aggregates already computed stay.
    Erase {
        /// Their work email.
        #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
        email: Option<String>,
        /// Their chat identity, e.g. slack:T0123/U0456.
        #[arg(long)]
        chat: Option<String>,
        /// The organisation (needed when there are several).
        #[arg(long)]
        org: Option<String>,
    },
    /// Rotate keys. `--data`: re-key every organisation's data (a fresh
    /// data key, every note, starting point and token sealed again under it,
    /// in batches; run it again to finish one that was interrupted).
    /// `--new-key`: re-wrap every organisation's keys with a new master key,
    /// then start the service with it. Both: the data first.
    RotateKey {
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
    },
    /// Print the Slack app manifest for this deployment, to paste into
    /// "Create New App → From a manifest".
    SlackManifest {
        /// Where Slack reaches this deployment, e.g. https://momentum.acme.example
        #[arg(long)]
        base_url: String,
        /// Receive events over Socket Mode (no public request URLs).
        #[arg(long)]
        socket_mode: bool,
        /// The app's id once created (subscribes it to its own delivery metadata).
        #[arg(long)]
        app_id: Option<String>,
    },
    /// Write the Teams app package (manifest.json and icons, zipped) to
    /// upload in Teams admin center → Manage apps → Upload.
    TeamsPackage {
        /// The Azure Bot's Microsoft App ID (a GUID).
        #[arg(long, env = "MICROSOFT_APP_ID")]
        app_id: String,
        /// Where Teams reaches this deployment, e.g. https://momentum.acme.example
        #[arg(long, env = "MOMENTUM_PUBLIC_URL")]
        base_url: String,
        /// The package version; raise it for every upload of a change.
        #[arg(long, default_value = "1.0.0")]
        version: String,
        /// Who publishes the app (shown in Teams' app details).
        #[arg(long, default_value = "Momentum")]
        developer: String,
        #[arg(long, default_value = "momentum-teams.zip")]
        out: PathBuf,
    },
    /// Print performance figures: loading a program with the largest holiday
    /// calendar, planning N participants × 36 rules, and dispatching to the
    /// local workspace with Slack's limits off and on.
    #[cfg(feature = "local")]
    Bench {
        #[arg(long, default_value_t = 10_000)]
        participants: usize,
        #[arg(long, default_value_t = 4_000)]
        dispatch_jobs: usize,
        /// How long to measure sending under Slack's limits.
        #[arg(long, default_value_t = 20)]
        limited_seconds: u64,
        /// Also measure on PostgreSQL (a scratch schema is created there).
        #[arg(long, env = "MOMENTUM_BENCH_DATABASE_URL")]
        postgres: Option<String>,
        /// Participants in the digest's program.
        #[arg(long, default_value_t = 10_000)]
        digest_participants: usize,
        /// One-tap reports in it, spread over 40 weeks.
        #[arg(long, default_value_t = 1_000_000)]
        digest_reports: i64,
        /// Taps posted to the interaction endpoint at full speed.
        #[arg(long, default_value_t = 10_000)]
        taps: usize,
    },
    /// Validate program files; prints every mistake with its field path.
    CheckConfig {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
    Export {
        #[arg(long)]
        program: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        #[arg(long)]
        org: Option<String>,
    },
    /// Run the local chat workspace (a simulated Slack) as a server, so that
    /// `momentum serve` with SLACK_API_URL pointing at it works like a real deployment.
    #[cfg(feature = "local")]
    Sim {
        /// Where the simulated Slack Web API listens.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// The Momentum service that taps and slash commands are sent to.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        service_url: String,
        /// The signing secret the workspace signs requests with (use the same as SLACK_SIGNING_SECRET).
        #[arg(
            long,
            env = "SLACK_SIGNING_SECRET",
            default_value = "sim-signing-secret"
        )]
        signing_secret: String,
        /// The bot token the workspace accepts (use the same as SLACK_BOT_TOKEN).
        #[arg(long, env = "SLACK_BOT_TOKEN", default_value = "xoxb-sim-local-token")]
        bot_token: String,
        /// Enforce Slack's published rate limits (answer 429 with Retry-After).
        #[arg(long)]
        slack_limits: bool,
        /// Add this many extra people (`Person N`, pN@bench.example) for load tests.
        #[arg(long, default_value_t = 0)]
        extra_users: usize,
        /// Answer every chat.postMessage this many milliseconds late.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Send message_metadata_posted events to the service.
        #[arg(long)]
        metadata_events: bool,
        /// Deliver taps, commands and events over Socket Mode (the service
        /// connects with SLACK_APP_TOKEN=xapp-1-A0SIMAPP-sim-app-token).
        #[arg(long)]
        socket_mode: bool,
        /// Inject failures, as JSON: [{"method": "chat.postMessage", "share": 0.1,
        /// "kind": "rate_limited", "retry_after": 2}, {"method": "*", "share": 0.05,
        /// "kind": "server_error", "after": false}, {"kind": "hang", "seconds": 12, "after": true, …}]
        #[arg(long)]
        faults_json: Option<String>,
    },
    /// The server build has no local workspace: these say so instead of
    /// clap's "unrecognized subcommand".
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Demo(NotInThisBuild),
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Sim(NotInThisBuild),
    #[cfg(not(feature = "local"))]
    #[command(hide = true)]
    Bench(NotInThisBuild),
}

/// Whatever was given to a command this build does not have.
#[cfg(not(feature = "local"))]
#[derive(clap::Args)]
struct NotInThisBuild {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum ProgramCommand {
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

#[derive(Subcommand)]
enum DigestCommand {
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation with its own data key.
    Create {
        #[arg(long)]
        name: String,
        /// Default IANA time zone, e.g. Europe/Prague.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Default language: en or cs.
        #[arg(long, default_value = "en")]
        locale: String,
        /// Link a Slack workspace (team id, T…) to it.
        #[arg(long)]
        slack_team: Option<String>,
        /// Link a Microsoft Teams tenant (its tenant id) to it.
        #[arg(long)]
        teams_tenant: Option<String>,
    },
    /// Link a Slack workspace or a Teams tenant to an existing organisation:
    /// a program may only name people and channels of its own workspaces.
    Link {
        #[arg(long)]
        org: Option<String>,
        /// A Slack workspace (team id, T…).
        #[arg(long, required_unless_present = "teams_tenant")]
        slack_team: Option<String>,
        /// A Microsoft Teams tenant id.
        #[arg(long)]
        teams_tenant: Option<String>,
    },
    /// List organisations.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
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

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a one-time link that signs in to the HR console (valid 15
    /// minutes, once) as one person: for first set-up, or where no sign-in
    /// provider is configured. An organisation admin's link reaches every
    /// program; a program admin's (a program file's `admins:`) only theirs.
    LoginLink {
        #[arg(long)]
        org: Option<String>,
        /// Who the link is for: their work email or chat identity (slack:T…/U…).
        #[arg(long = "for", value_name = "EMAIL_OR_CHAT")]
        for_person: String,
        /// Where the console is reached; MOMENTUM_PUBLIC_URL, else the listen address.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Make a person an organisation admin: in the HR console they see and
    /// change every program, create programs and set k, metrics and admins.
    Grant {
        #[arg(long)]
        org: Option<String>,
        /// Their work email.
        #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
        email: Option<String>,
        /// Their chat identity, e.g. slack:T0123/U0456.
        #[arg(long)]
        chat: Option<String>,
    },
    /// Revoke a person's organisation admin grant; their organisation-wide
    /// console sessions end with it.
    Revoke {
        #[arg(long)]
        org: Option<String>,
        #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
        email: Option<String>,
        #[arg(long)]
        chat: Option<String>,
    },
    /// List the organisation admins (id, email or chat identity, granted by, when).
    List {
        #[arg(long)]
        org: Option<String>,
    },
}

#[cfg(not(feature = "local"))]
const NO_LOCAL_WORKSPACE: &str = "this momentum is the server build, without the local workspace \
     (the cargo feature `local`): demo, sim and bench are not in it. Build with the default \
     features for them, e.g. `cargo run --release -- demo`";

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    momentum::telemetry::init(match cli.command {
        #[cfg(feature = "local")]
        Command::Demo { .. } => "warn",
        Command::CheckConfig { .. } => "warn",
        // The digest's data generator is slow on purpose: no slow-statement warnings.
        #[cfg(feature = "local")]
        Command::Bench { .. } => "error,sqlx=error",
        _ => "info",
    });
    let code = match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> Result<i32> {
    let settings = || Settings::load(cli.config.as_deref()).context("reading settings");
    match cli.command {
        #[cfg(not(feature = "local"))]
        Command::Demo(_) | Command::Sim(_) | Command::Bench(_) => bail!(NO_LOCAL_WORKSPACE),
        #[cfg(feature = "local")]
        Command::Demo {
            web: true, listen, ..
        } => {
            momentum::playground::serve(listen).await?;
            Ok(0)
        }
        #[cfg(feature = "local")]
        Command::Demo {
            seed, summary_only, ..
        } => {
            momentum::demo::run(seed, summary_only).await?;
            Ok(0)
        }
        Command::CheckConfig { files } => Ok(check_config(&files)),
        #[cfg(feature = "local")]
        Command::Bench {
            participants,
            dispatch_jobs,
            limited_seconds,
            postgres,
            digest_participants,
            digest_reports,
            taps,
        } => {
            momentum::bench::run(momentum::bench::BenchOptions {
                participants,
                dispatch_jobs,
                limited_seconds,
                postgres,
                digest_participants,
                digest_reports,
                taps,
            })
            .await?;
            Ok(0)
        }
        Command::Migrate => {
            let s = settings()?;
            let store = open_store(&s).await?;
            let pending = store.pending_migrations().await.unwrap_or_default();
            store.migrate().await?;
            println!(
                "migrations applied: {}",
                if pending.is_empty() {
                    "none pending".into()
                } else {
                    pending.join(", ")
                }
            );
            Ok(0)
        }
        Command::Serve => serve(settings()?).await.map(|_| 0),
        Command::Org { command } => {
            let s = settings()?;
            let store = open_store(&s).await?;
            store.migrate().await?;
            match command {
                OrgCommand::Create {
                    name,
                    time_zone,
                    locale,
                    slack_team,
                    teams_tenant,
                } => {
                    let app = startup::build_app(
                        store.clone(),
                        clock(),
                        Default::default(),
                        secret_key(&s)?,
                    );
                    let org = app
                        .create_org(&name, &time_zone, &locale)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    link_workspaces(&store, &org, slack_team, teams_tenant).await?;
                    println!("organisation {} created (id {})", org.name, org.id.0);
                }
                OrgCommand::Link {
                    org,
                    slack_team,
                    teams_tenant,
                } => {
                    let org = pick_org(&store, org.as_deref()).await?;
                    for linked in link_workspaces(&store, &org, slack_team, teams_tenant).await? {
                        println!("{linked} linked to {}", org.name);
                    }
                }
                OrgCommand::List => {
                    for o in store.orgs().await? {
                        let ws = store.workspaces(o.id).await?;
                        let ws: Vec<String> = ws
                            .iter()
                            .map(|(p, w)| format!("{}:{w}", p.as_str()))
                            .collect();
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            o.id.0,
                            o.name,
                            o.time_zone,
                            o.locale,
                            ws.join(",")
                        );
                    }
                }
            }
            Ok(0)
        }
        Command::Admin {
            command:
                AdminCommand::LoginLink {
                    org,
                    for_person,
                    base_url,
                },
        } => {
            let s = settings()?;
            let (app, org) = local_app(&s, org.as_deref()).await?;
            let person = momentum::domain::PersonRef::parse_short(&for_person)
                .map_err(|e| anyhow::anyhow!("--for: {e}"))?;
            let token = match app.console_login_token(org.id, &person).await {
                Ok(t) => t,
                Err(momentum::app::AppError::Invalid(errs)) => bail!(
                    "--for: {} in {}",
                    errs.iter()
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                    org.name
                ),
                Err(e) => bail!("{e}"),
            };
            let base = base_url
                .or_else(|| s.public_url.clone())
                .unwrap_or_else(|| format!("http://{}", s.listen));
            println!("{}/admin/login?token={token}", base.trim_end_matches('/'));
            Ok(0)
        }
        Command::Admin {
            command: AdminCommand::Grant { org, email, chat },
        } => {
            let s = settings()?;
            let (app, org) = local_app(&s, org.as_deref()).await?;
            let person = admin_person(email.as_deref(), chat.as_deref())?;
            let grant = app
                .grant_org_admin(org.id, &person, "cli")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} is an organisation admin of {} (grant {})",
                grant.email.or(grant.chat).unwrap_or_default(),
                org.name,
                grant.id
            );
            Ok(0)
        }
        Command::Admin {
            command: AdminCommand::Revoke { org, email, chat },
        } => {
            let s = settings()?;
            let (app, org) = local_app(&s, org.as_deref()).await?;
            let person = admin_person(email.as_deref(), chat.as_deref())?;
            let given = email.or(chat).unwrap_or_default();
            if app
                .revoke_org_admin(org.id, &person, "cli")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("{given} is no longer an organisation admin of {}", org.name);
                Ok(0)
            } else {
                bail!("{given:?} is not an organisation admin of {}", org.name)
            }
        }
        Command::Admin {
            command: AdminCommand::List { org },
        } => {
            let s = settings()?;
            let (app, org) = local_app(&s, org.as_deref()).await?;
            for a in app.store.org_admins(org.id).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.email.or(a.chat).unwrap_or_default(),
                    a.granted_by,
                    a.granted_at
                );
            }
            Ok(0)
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    org,
                    scope,
                    name,
                    programs,
                },
        } => {
            let s = settings()?;
            let store = open_store(&s).await?;
            store.migrate().await?;
            let scope = Scope::parse(&scope)
                .with_context(|| format!("{scope:?} is not a scope (admin or sessions:write)"))?;
            let org = pick_org(&store, org.as_deref()).await?;
            let app = startup::build_app(store, clock(), Default::default(), secret_key(&s)?);
            let programs: Vec<String> = programs
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let reach = if programs.is_empty() {
                momentum::app::Reach::Organisation
            } else {
                momentum::app::Reach::Programs(programs.clone())
            };
            let token = match app.create_token_within(org.id, &name, scope, &reach).await {
                Ok(t) => t,
                Err(momentum::app::AppError::Invalid(errs)) => bail!(
                    "--programs: {}",
                    errs.iter()
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
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
        Command::Program {
            command: ProgramCommand::Archive { key, org },
        } => {
            let s = settings()?;
            let store = open_store(&s).await?;
            store.migrate().await?;
            let org = pick_org(&store, org.as_deref()).await?;
            if store.archive_program(org.id, &key, clock().now()).await? {
                store
                    .audit(org.id, "cli", "program.archive", Some(&key), clock().now())
                    .await?;
                println!("program {key:?} archived: nothing more will be sent for it");
                Ok(0)
            } else {
                bail!("no program {key:?} in {}", org.name)
            }
        }
        Command::Program {
            command: ProgramCommand::Apply { file, prune, org },
        } => {
            let s = settings()?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let doc: serde_json::Value = match serde_norway::from_str(&text) {
                Ok(d) => d,
                Err(e) => bail!(
                    "{}: not a readable YAML or JSON document: {e}",
                    file.display()
                ),
            };
            if let Err(errs) = ProgramFile::from_value(&doc) {
                print_errors(&file, &errs);
                return Ok(1);
            }
            let store = open_store(&s).await?;
            store.migrate().await?;
            let org = pick_org(&store, org.as_deref()).await?;
            let chats = startup::connect_slack(&s, &store, &clock()).await?;
            let app = startup::build_app(store, clock(), chats, secret_key(&s)?);
            match app.apply_program(org.id, &doc, prune).await {
                Ok(out) => {
                    app.audit(org.id, "cli", "program.apply", Some(&out.program_key))
                        .await;
                    println!("{}", serde_json::to_string_pretty(&out)?);
                    Ok(0)
                }
                Err(momentum::app::AppError::Invalid(errs)) => {
                    print_errors(&file, &errs);
                    Ok(1)
                }
                Err(e) => bail!("{e}"),
            }
        }
        Command::Digest {
            command:
                DigestCommand::Preview {
                    program,
                    week,
                    chart,
                    org,
                },
        } => {
            let week = match week.as_deref().map(ProgramWeek::parse_iso) {
                Some(None) => bail!("--week: use an ISO week such as 2026-W48"),
                Some(w) => w,
                None => None,
            };
            let (app, org) = local_app(&settings()?, org.as_deref()).await?;
            let digest = app.digest(org.id, &program, week).await?;
            println!("{}", {
                let p = app.program_named(org.id, &program).await?;
                momentum::app::digest_text(&p.name, &p.spec.locale, &digest)?
            });
            let week = ProgramWeek::parse_iso(&digest.week).context("the digest's week")?;
            let png = app.digest_chart(org.id, &program, &week).await?;
            let path = chart
                .unwrap_or_else(|| PathBuf::from(format!("digest-{program}-{}.png", digest.week)));
            std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
            println!("\nchart: {}", path.display());
            Ok(0)
        }
        Command::Export {
            program,
            format,
            org,
        } => {
            let (app, org) = local_app(&settings()?, org.as_deref()).await?;
            let digests = app.aggregates(org.id, &program).await?;
            app.audit(org.id, "cli", "aggregates.export", Some(&program))
                .await;
            match format {
                ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&digests)?),
                ExportFormat::Csv => print!("{}", momentum::app::aggregates_csv(&digests)),
            }
            Ok(0)
        }
        Command::Backup { file } => {
            let s = settings()?;
            let store = open_store(&s).await?;
            store.backup_sqlite(&file).await?;
            println!("backup written to {}", file.display());
            Ok(0)
        }
        Command::Erase { email, chat, org } => {
            let s = settings()?;
            let store = open_store(&s).await?;
            store.migrate().await?;
            let org = pick_org(&store, org.as_deref()).await?;
            let given = email.or(chat).unwrap_or_default();
            let who = momentum::domain::PersonRef::parse_short(&given)
                .map_err(|e| anyhow::anyhow!("{given:?}: {e}"))?;
            let app = startup::build_app(store, clock(), Default::default(), secret_key(&s)?);
            match app
                .erase_named(org.id, &who)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
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
        Command::RotateKey {
            new_key,
            data,
            batch,
            settle_seconds,
        } => {
            let s = settings()?;
            let old = secret_key(&s)?;
            let new = match new_key {
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
            if !(1..=10_000).contains(&batch) {
                bail!("--batch: {batch} is not from 1 to 10000");
            }
            let store = open_store(&s).await?;
            store.migrate().await?;
            let app = startup::build_app(store.clone(), clock(), Default::default(), old);
            if data {
                let report = app
                    .rekey_data(&momentum::app::keys::RekeyOptions {
                        batch,
                        settle: Duration::from_secs(settle_seconds.min(600)),
                        max_batches: None,
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e} (run it again to go on)"))?;
                for org in store.orgs().await? {
                    store
                        .audit(org.id, "cli", "key.rekey", None, clock().now())
                        .await?;
                }
                println!(
                    "re-keyed the data of {} organisations: {} sealed values under new data keys",
                    report.organisations, report.resealed
                );
            }
            if let Some(new) = new {
                match app.rotate_master_key(&new).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                    Ok(n) => {
                        for org in store.orgs().await? {
                            store
                                .audit(org.id, "cli", "key.rotate", None, clock().now())
                                .await?;
                        }
                        println!("re-wrapped the keys of {n} organisations: start the service with the new MOMENTUM_SECRET_KEY");
                    }
                    Err((org, e)) => anyhow::bail!(
                        "organisation {org:?}: its keys do not open with the current MOMENTUM_SECRET_KEY ({e}); nothing was changed"
                    ),
                }
            }
            Ok(0)
        }
        Command::TeamsPackage {
            app_id,
            base_url,
            version,
            developer,
            out,
        } => {
            let zip = momentum::chat::teams::package::package(
                &momentum::chat::teams::package::PackageOptions {
                    app_id,
                    base_url,
                    version,
                    developer,
                },
            )?;
            std::fs::write(&out, zip).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote {} — upload it in Teams admin center → Teams apps → Manage apps → Upload new app",
                out.display()
            );
            Ok(0)
        }
        Command::SlackManifest {
            base_url,
            socket_mode,
            app_id,
        } => {
            let parsed = url::Url::parse(&base_url)
                .map_err(|e| anyhow::anyhow!("--base-url {base_url:?} is not a URL: {e}"))?;
            if parsed.scheme() != "https" || parsed.host().is_none() {
                anyhow::bail!(
                    "--base-url must be an https:// address: Slack sends requests to HTTPS only"
                );
            }
            if app_id
                .as_deref()
                .is_some_and(|a| !a.starts_with('A') || a.len() < 5)
            {
                anyhow::bail!("--app-id looks like A0123ABCD (Basic Information → App ID)");
            }
            print!(
                "{}",
                momentum::chat::slack::manifest::manifest(
                    &base_url,
                    socket_mode,
                    app_id.as_deref()
                )
            );
            Ok(0)
        }
        #[cfg(feature = "local")]
        Command::Sim {
            listen,
            service_url,
            signing_secret,
            bot_token,
            slack_limits,
            extra_users,
            latency_ms,
            metadata_events,
            socket_mode,
            faults_json,
        } => {
            let sim = SimWorkspace::new(
                SimConfig {
                    signing_secret,
                    bot_token,
                    service_url: Some(service_url.clone()),
                    ..Default::default()
                },
                clock(),
            );
            momentum::demo::seed_workspace(&sim);
            for i in 0..extra_users {
                sim.add_user(
                    &format!("p{i}"),
                    &format!("Person {i}"),
                    &format!("p{i}@bench.example"),
                    "Europe/Prague",
                );
            }
            if slack_limits {
                sim.set_limits(Some(&momentum::chat::slack::limits::SlackLimits::default()));
            }
            use momentum::chat::sim::{Fault, FaultKind};
            let mut faults: Vec<Fault> = match &faults_json {
                Some(j) => {
                    serde_json::from_str(j).context("--faults-json is not a list of faults")?
                }
                None => Vec::new(),
            };
            if latency_ms > 0 {
                faults.push(Fault::new(
                    "chat.postMessage",
                    1.0,
                    FaultKind::Slow { millis: latency_ms },
                ));
            }
            sim.set_faults(faults);
            sim.set_metadata_events(metadata_events);
            sim.use_socket_mode(socket_mode);
            let (addr, handle) = sim.serve(listen).await?;
            println!(
                "local Slack workspace {} on http://{addr}/api (sends taps to {service_url})",
                sim.config.team_id
            );
            println!("point the service at it: SLACK_API_URL=http://{addr}/api SLACK_BOT_TOKEN={} SLACK_SIGNING_SECRET=…", sim.config.bot_token);
            {
                use momentum::chat::sim::botframework::{APP_ID, APP_PASSWORD, TENANT};
                println!(
                    "and as Microsoft Teams (Bot Framework): MICROSOFT_APP_ID={APP_ID} MICROSOFT_APP_PASSWORD={APP_PASSWORD} \
                     MICROSOFT_APP_TENANT_ID={TENANT} MOMENTUM_TEAMS_LOGIN_URL={} MOMENTUM_TEAMS_OPENID_METADATA_URL={} \
                     MOMENTUM_TEAMS_SERVICE_URL={}",
                    sim.teams_login_url(),
                    sim.teams_openid_metadata_url(),
                    sim.teams_service_url()
                );
            }
            tokio::select! {
                _ = handle => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(0)
        }
    }
}

/// `--email` or `--chat`, checked; the error names the flag.
fn admin_person(email: Option<&str>, chat: Option<&str>) -> Result<momentum::domain::PersonRef> {
    momentum::app::access::admin_person(email, chat).map_err(|e| match e {
        momentum::app::AppError::Invalid(errs) => anyhow::anyhow!(
            "{}",
            errs.iter()
                .map(|e| format!("--{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    })
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// An app on the configured database with no chat connections (for
/// commands that only read), and the organisation to act for.
async fn local_app(s: &Settings, org: Option<&str>) -> Result<(Arc<momentum::app::App>, Org)> {
    let store = open_store(s).await?;
    store.migrate().await?;
    let org = pick_org(&store, org).await?;
    let app = startup::build_app(store, clock(), Default::default(), secret_key(s)?);
    Ok((app, org))
}

fn secret_key(s: &Settings) -> Result<SecretKey> {
    s.secret_key.clone().context(
        "MOMENTUM_SECRET_KEY is not set. It encrypts every organisation's data key; make one with\n  \
         head -c 32 /dev/urandom | base64\nand keep it safe: without it, encrypted data cannot be read.",
    )
}

async fn open_store(s: &Settings) -> Result<Store> {
    Store::connect(&s.database_url).await.with_context(|| {
        format!(
            "opening the database {}",
            momentum::config::redact_url(&s.database_url)
        )
    })
}

/// Links the given Slack workspace and Teams tenant to `org`; what was
/// linked (`slack:T…`, `teams:…`).
async fn link_workspaces(
    store: &Store,
    org: &Org,
    slack_team: Option<String>,
    teams_tenant: Option<String>,
) -> Result<Vec<String>> {
    let mut linked = Vec::new();
    for (platform, id) in [
        (Platform::Slack, slack_team),
        (Platform::Teams, teams_tenant),
    ] {
        if let Some(id) = id {
            store
                .link_workspace(org.id, platform, &id, clock().now())
                .await?;
            linked.push(format!("{}:{id}", platform.as_str()));
        }
    }
    Ok(linked)
}

async fn pick_org(store: &Store, name: Option<&str>) -> Result<Org> {
    match name {
        Some(n) => store
            .org_by_name(n)
            .await?
            .with_context(|| format!("no organisation named {n:?}")),
        None => {
            let mut orgs = store.orgs().await?;
            match orgs.len() {
                1 => Ok(orgs.remove(0)),
                0 => bail!("no organisation yet: create one with `momentum org create --name …`"),
                _ => bail!("there are several organisations: name one with --org"),
            }
        }
    }
}

fn print_errors(file: &std::path::Path, errs: &momentum::domain::ConfigErrors) {
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

fn check_config(files: &[PathBuf]) -> i32 {
    let mut failed = false;
    for file in files {
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

async fn serve(s: Settings) -> Result<()> {
    let key = secret_key(&s)?;
    tracing::info!(settings = ?s, "starting");
    let store = open_store(&s).await?;
    store.migrate().await.context("applying migrations")?;
    let clock = clock();
    let chats = startup::connect_slack_or_retry(&s, &store, &clock).await?;
    let app = startup::build_app(store.clone(), clock, chats, key);
    let slack_oauth = startup::slack_oauth(&s)?;
    if slack_oauth.is_some() {
        startup::connect_installations(&app, &s).await?;
    }
    let teams = startup::connect_teams(&s, &app).await?;
    if app.chats.is_empty() && slack_oauth.is_none() && teams.is_none() {
        tracing::warn!("no chat workspace connected (set SLACK_BOT_TOKEN, SLACK_CLIENT_ID for OAuth install, or MICROSOFT_APP_ID for Teams): nothing can be sent");
    }
    let running = startup::start(
        app,
        ServiceOptions {
            listen: s.listen,
            slack_signing_secret: s.slack.signing_secret.clone(),
            dispatcher_interval: Some(Duration::from_secs(1)),
            lease: jiff::SignedDuration::from_secs(i64::from(s.lease_seconds)),
            retry_base_seconds: i64::from(s.retry_base_seconds),
            retention_days: (s.retention_days > 0).then_some(s.retention_days),
            slack_oauth,
            slack_socket: match &s.slack.app_token {
                Some(token) => Some((
                    momentum::chat::slack::http_client(&s.slack.api_url)
                        .map_err(anyhow::Error::msg)?,
                    token.clone(),
                )),
                None => None,
            },
            teams,
            public_url: s.public_url.clone(),
            sign_in: startup::sign_in_providers(&s),
            metrics_token: s.metrics_token.clone(),
            metrics_refresh: Some(Duration::from_secs(15)),
            bookings_refresh: Some(Duration::from_secs(600)),
        },
    )
    .await
    .with_context(|| format!("listening on {}", s.listen))?;
    tracing::info!(addr = %running.addr, "listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    store.close().await;
    Ok(())
}

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
