//! The commands of `momentum`, one file per group of the table in
//! `main.rs`. A command reads its settings, takes the app over the database
//! `startup::database` opened, and carries out its use case through the app;
//! what is here is reading flags and printing the outcome.

pub mod admin;
pub mod digest;
pub mod erase;
pub mod keys;
#[cfg(feature = "local")]
pub mod local;
pub mod org;
pub mod platforms;
pub mod program;
pub mod progress;
pub mod serve;
pub mod token;

use anyhow::{bail, Context, Result};
use momentum::app::{App, AppError, Org};
use momentum::clock::{SharedClock, SystemClock};
use momentum::config::Settings;
use momentum::crypto::SecretKey;
use momentum::startup::{self, database};
use std::path::Path;
use std::sync::Arc;

/// The settings file (`--config`, `MOMENTUM_CONFIG`) under the environment.
pub fn settings(config: Option<&Path>) -> Result<Settings> {
    Settings::load(config).context("reading settings")
}

pub fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

pub fn secret_key(s: &Settings) -> Result<SecretKey> {
    s.secret_key.clone().context(
        "MOMENTUM_SECRET_KEY is not set. It encrypts every organisation's data key; make one with\n  \
         head -c 32 /dev/urandom | base64\nand keep it safe: without it, encrypted data cannot be read.",
    )
}

/// The app on the configured database with no chat connections, for the
/// commands that need none.
pub async fn app(s: &Settings) -> Result<Arc<App>> {
    let store = database::open(s).await?;
    Ok(startup::build_app(
        store,
        clock(),
        Default::default(),
        secret_key(s)?,
    ))
}

/// As `app`, and the organisation to act for: the one `--org` names, or
/// the only one there is.
pub async fn app_for(s: &Settings, org: Option<&str>) -> Result<(Arc<App>, Org)> {
    let app = app(s).await?;
    let org = pick_org(&app, org).await?;
    Ok((app, org))
}

pub async fn pick_org(app: &App, name: Option<&str>) -> Result<Org> {
    match name {
        Some(n) => app
            .org_named(n)
            .await
            .map_err(failed)?
            .with_context(|| format!("no organisation named {n:?}")),
        None => {
            let mut orgs = app.orgs().await.map_err(failed)?;
            match orgs.len() {
                1 => Ok(orgs.remove(0)),
                0 => bail!("no organisation yet: create one with `momentum org create --name …`"),
                _ => bail!("there are several organisations: name one with --org"),
            }
        }
    }
}

/// An app error as the command's error, said as the app says it.
pub fn failed(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// What was wrong with a flag's value, every problem.
pub fn messages(errs: &momentum::domain::ConfigErrors) -> String {
    errs.iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `--email` or `--chat`, checked; the error names the flag.
pub fn admin_person(
    email: Option<&str>,
    chat: Option<&str>,
) -> Result<momentum::domain::PersonRef> {
    momentum::app::access::admin_person(email, chat).map_err(|e| match e {
        AppError::Invalid(errs) => anyhow::anyhow!(
            "{}",
            errs.iter()
                .map(|e| format!("--{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => failed(other),
    })
}

/// What the command line of a build without the local workspace says to
/// `demo`, `sim` and `bench`.
#[cfg(not(feature = "local"))]
pub const NO_LOCAL_WORKSPACE: &str =
    "this momentum is the server build, without the local workspace \
     (the cargo feature `local`): demo, sim and bench are not in it. Build with the default \
     features for them, e.g. `cargo run --release -- demo`";

/// Whatever was given to a command this build does not have.
#[cfg(not(feature = "local"))]
#[derive(clap::Args)]
pub struct NotInThisBuild {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}
