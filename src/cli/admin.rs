//! `admin login-link`, `admin grant`, `admin revoke` and `admin list`: the
//! HR console's organisation admins and sign-in links.

use super::{admin_person, app_for, failed, messages, settings};
use anyhow::{bail, Result};
use clap::Subcommand;
use momentum::app::AppError;
use std::path::Path;

// Who is granted or revoked: one of the two.
#[derive(clap::Args)]
pub struct Person {
    /// Their work email.
    #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
    email: Option<String>,
    /// Their chat identity, e.g. slack:T0123/U0456.
    #[arg(long)]
    chat: Option<String>,
}

#[derive(Subcommand)]
pub enum AdminCommand {
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
        #[command(flatten)]
        person: Person,
    },
    /// Revoke a person's organisation admin grant; their organisation-wide
    /// console sessions end with it.
    Revoke {
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        person: Person,
    },
    /// List the organisation admins (id, email or chat identity, granted by, when).
    List {
        #[arg(long)]
        org: Option<String>,
    },
}

pub async fn run(config: Option<&Path>, command: AdminCommand) -> Result<i32> {
    let s = settings(config)?;
    match command {
        AdminCommand::LoginLink {
            org,
            for_person,
            base_url,
        } => {
            let (app, org) = app_for(&s, org.as_deref()).await?;
            let person = momentum::domain::PersonRef::parse_short(&for_person)
                .map_err(|e| anyhow::anyhow!("--for: {e}"))?;
            let token = match app.console_login_token(org.id, &person).await {
                Ok(t) => t,
                Err(AppError::Invalid(errs)) => {
                    bail!("--for: {} in {}", messages(&errs), org.name)
                }
                Err(e) => bail!("{e}"),
            };
            let base = base_url
                .or_else(|| s.public_url.clone())
                .unwrap_or_else(|| format!("http://{}", s.listen));
            println!("{}/admin/login?token={token}", base.trim_end_matches('/'));
        }
        AdminCommand::Grant { org, person } => {
            let (app, org) = app_for(&s, org.as_deref()).await?;
            let person = admin_person(person.email.as_deref(), person.chat.as_deref())?;
            let grant = app
                .grant_org_admin(org.id, &person, "cli")
                .await
                .map_err(failed)?;
            println!(
                "{} is an organisation admin of {} (grant {})",
                grant.email.or(grant.chat).unwrap_or_default(),
                org.name,
                grant.id
            );
        }
        AdminCommand::Revoke { org, person: given } => {
            let (app, org) = app_for(&s, org.as_deref()).await?;
            let person = admin_person(given.email.as_deref(), given.chat.as_deref())?;
            let given = given.email.or(given.chat).unwrap_or_default();
            if !app
                .revoke_org_admin(org.id, &person, "cli")
                .await
                .map_err(failed)?
            {
                bail!("{given:?} is not an organisation admin of {}", org.name)
            }
            println!("{given} is no longer an organisation admin of {}", org.name);
        }
        AdminCommand::List { org } => {
            let (app, org) = app_for(&s, org.as_deref()).await?;
            for a in app.org_admins(org.id).await.map_err(failed)? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.email.or(a.chat).unwrap_or_default(),
                    a.granted_by,
                    a.granted_at
                );
            }
        }
    }
    Ok(0)
}
