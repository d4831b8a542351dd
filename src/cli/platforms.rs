//! `slack-manifest` and `teams-package`: what an operator uploads to create
//! the Slack app and the Teams app of a deployment.

use anyhow::{bail, Context, Result};
use momentum::chat::slack::manifest::manifest;
use momentum::chat::teams::package::{package, PackageOptions};
use std::path::PathBuf;

// `momentum slack-manifest`'s flags.
#[derive(clap::Args)]
pub struct SlackManifest {
    /// Where Slack reaches this deployment, e.g. https://momentum.acme.example
    #[arg(long)]
    base_url: String,
    /// Receive events over Socket Mode (no public request URLs).
    #[arg(long)]
    socket_mode: bool,
    /// The app's id once created (subscribes it to its own delivery metadata).
    #[arg(long)]
    app_id: Option<String>,
}

// `momentum teams-package`'s flags.
#[derive(clap::Args)]
pub struct TeamsPackage {
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
}

pub fn slack_manifest(args: SlackManifest) -> Result<i32> {
    let SlackManifest {
        base_url,
        socket_mode,
        app_id,
    } = args;
    let parsed = url::Url::parse(&base_url)
        .map_err(|e| anyhow::anyhow!("--base-url {base_url:?} is not a URL: {e}"))?;
    if parsed.scheme() != "https" || parsed.host().is_none() {
        bail!("--base-url must be an https:// address: Slack sends requests to HTTPS only");
    }
    if app_id
        .as_deref()
        .is_some_and(|a| !a.starts_with('A') || a.len() < 5)
    {
        bail!("--app-id looks like A0123ABCD (Basic Information → App ID)");
    }
    print!("{}", manifest(&base_url, socket_mode, app_id.as_deref()));
    Ok(0)
}

pub fn teams_package(args: TeamsPackage) -> Result<i32> {
    let zip = package(&PackageOptions {
        app_id: args.app_id,
        base_url: args.base_url,
        version: args.version,
        developer: args.developer,
    })?;
    let out = args.out;
    std::fs::write(&out, zip).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} — upload it in Teams admin center → Teams apps → Manage apps → Upload new app",
        out.display()
    );
    Ok(0)
}
