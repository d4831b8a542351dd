//! `org create`, `org link` and `org list`: organisations and the chat
//! workspaces linked to them.

use super::{app, app_for, failed, settings};
use anyhow::Result;
use clap::Subcommand;
use momentum::app::{App, Org};
use momentum::domain::Platform;
use std::path::Path;

#[derive(Subcommand)]
pub enum OrgCommand {
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

pub async fn run(config: Option<&Path>, command: OrgCommand) -> Result<i32> {
    let s = settings(config)?;
    match command {
        OrgCommand::Create {
            name,
            time_zone,
            locale,
            slack_team,
            teams_tenant,
        } => {
            let app = app(&s).await?;
            let org = app
                .create_org(&name, &time_zone, &locale)
                .await
                .map_err(failed)?;
            link_workspaces(&app, &org, slack_team, teams_tenant).await?;
            println!("organisation {} created (id {})", org.name, org.id.0);
        }
        OrgCommand::Link {
            org,
            slack_team,
            teams_tenant,
        } => {
            let (app, org) = app_for(&s, org.as_deref()).await?;
            for linked in link_workspaces(&app, &org, slack_team, teams_tenant).await? {
                println!("{linked} linked to {}", org.name);
            }
        }
        OrgCommand::List => {
            let app = app(&s).await?;
            for o in app.orgs().await.map_err(failed)? {
                let ws: Vec<String> = app
                    .workspaces(o.id)
                    .await
                    .map_err(failed)?
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

/// Links the given Slack workspace and Teams tenant to `org`; what was
/// linked (`slack:T…`, `teams:…`).
async fn link_workspaces(
    app: &App,
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
            app.link_workspace(org.id, platform, &id)
                .await
                .map_err(failed)?;
            linked.push(format!("{}:{id}", platform.as_str()));
        }
    }
    Ok(linked)
}
