//! `demo`, `sim` and `bench`: the local workspace (the cargo feature
//! `local`), which the server build leaves out.

use super::clock;
use anyhow::{Context, Result};
use momentum::chat::sim::botframework::{APP_ID, APP_PASSWORD, TENANT};
use momentum::chat::sim::{Fault, FaultKind, SimConfig, SimWorkspace};
use momentum::chat::slack::limits::SlackLimits;
use std::net::SocketAddr;

// `momentum demo`'s flags.
#[derive(clap::Args)]
pub struct Demo {
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
    listen: SocketAddr,
}

// `momentum bench`'s flags.
#[derive(clap::Args)]
pub struct Bench {
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
    /// Taps posted to `momentum serve` with 32 in flight.
    #[arg(long, default_value_t = 50_000)]
    taps: usize,
    /// Participants given by email for the resolution's figure.
    #[arg(long, default_value_t = 10_000)]
    resolve_participants: usize,
    /// People in the local workspace they are resolved in.
    #[arg(long, default_value_t = 20_000)]
    resolve_workspace: usize,
    /// Run Slack's limits this many times faster for the resolution (the
    /// time at Slack's pace is then computed: measured × this); 1 runs it
    /// at Slack's own pace (about five minutes for the defaults).
    #[arg(long, default_value_t = 20)]
    resolve_scale: u32,
    /// Only these figures, comma-separated: holidays, plan, dispatch,
    /// digest, taps, limited, resolve (all by default).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Runs of plan, dispatch and digest each; the median is printed.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

// `momentum sim`'s flags.
#[derive(clap::Args)]
pub struct Sim {
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
}

pub async fn demo(args: Demo) -> Result<i32> {
    if args.web {
        momentum::playground::serve(args.listen).await?;
    } else {
        momentum::demo::run(args.seed, args.summary_only).await?;
    }
    Ok(0)
}

pub async fn bench(args: Bench) -> Result<i32> {
    momentum::bench::run(momentum::bench::BenchOptions {
        participants: args.participants,
        dispatch_jobs: args.dispatch_jobs,
        limited_seconds: args.limited_seconds,
        postgres: args.postgres,
        digest_participants: args.digest_participants,
        digest_reports: args.digest_reports,
        taps: args.taps,
        resolve_participants: args.resolve_participants,
        resolve_workspace: args.resolve_workspace,
        resolve_scale: args.resolve_scale,
        only: args.only,
        repeat: args.repeat,
    })
    .await?;
    Ok(0)
}

/// The local Slack (and Teams) workspace as a server, until Ctrl-C.
pub async fn sim(args: Sim) -> Result<i32> {
    let service_url = args.service_url;
    let sim = SimWorkspace::new(
        SimConfig {
            signing_secret: args.signing_secret,
            bot_token: args.bot_token,
            service_url: Some(service_url.clone()),
            ..Default::default()
        },
        clock(),
    );
    momentum::demo::seed_workspace(&sim);
    for i in 0..args.extra_users {
        sim.add_user(
            &format!("p{i}"),
            &format!("Person {i}"),
            &format!("p{i}@bench.example"),
            "Europe/Prague",
        );
    }
    if args.slack_limits {
        sim.set_limits(Some(&SlackLimits::default()));
    }
    let mut faults: Vec<Fault> = match &args.faults_json {
        Some(j) => serde_json::from_str(j).context("--faults-json is not a list of faults")?,
        None => Vec::new(),
    };
    if args.latency_ms > 0 {
        faults.push(Fault::new(
            "chat.postMessage",
            1.0,
            FaultKind::Slow {
                millis: args.latency_ms,
            },
        ));
    }
    sim.set_faults(faults);
    sim.set_metadata_events(args.metadata_events);
    sim.use_socket_mode(args.socket_mode);
    let (addr, handle) = sim.serve(args.listen).await?;
    println!(
        "local Slack workspace {} on http://{addr}/api (sends taps to {service_url})",
        sim.config.team_id
    );
    println!("point the service at it: SLACK_API_URL=http://{addr}/api SLACK_BOT_TOKEN={} SLACK_SIGNING_SECRET=…", sim.config.bot_token);
    println!(
        "and as Microsoft Teams (Bot Framework): MICROSOFT_APP_ID={APP_ID} MICROSOFT_APP_PASSWORD={APP_PASSWORD} \
         MICROSOFT_APP_TENANT_ID={TENANT} MOMENTUM_TEAMS_LOGIN_URL={} MOMENTUM_TEAMS_OPENID_METADATA_URL={} \
         MOMENTUM_TEAMS_SERVICE_URL={}",
        sim.teams_login_url(),
        sim.teams_openid_metadata_url(),
        sim.teams_service_url()
    );
    tokio::select! {
        _ = handle => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(0)
}
