//! HR admins in chat: the programs they administer (the program file's
//! `admins`), each program's health and delivery problems, and the digest
//! preview. Group numbers only: never one participant's answers.

use super::{App, AppResult};
use crate::domain::delivery::{delivery_figures, DeliveryFigure};
use crate::domain::metrics::digest::{Digest, EngagementNote};
use crate::domain::metrics::week::ProgramWeek;
use crate::domain::ChatIdentity;
use crate::store::programs::ProgramRow;
use crate::store::OrgId;
use serde::Serialize;

/// A program's health, as HR sees it (console, home tab, `health`): who
/// is enrolled and reachable, and the figures of the last composed week.
/// Nothing here moves with one person's tap: no live counts, no figures by
/// person, behavioural delivery categories only as counts of at least k.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramHealth {
    pub key: String,
    pub name: String,
    pub status: super::ProgramStatus,
    pub enrolled: i64,
    pub anonymity_threshold: u32,
    /// Enrolled people no chat user was found for: they receive nothing.
    pub unreachable: i64,
    /// The last composed week (`2026-W48`) the figures below are from;
    /// `None` before the first.
    pub week: Option<String>,
    /// From that week's digest (absent where the digest shows nothing).
    pub started: Option<u64>,
    pub engagement: Option<u32>,
    pub engagement_note: Option<EngagementNote>,
    pub momentum: Option<u32>,
    /// Messages that went out that week (reminders apart).
    pub sent: Option<i64>,
    /// Reminders that went out that week: each says someone had not
    /// answered, so the count is shown from k.
    pub reminders_sent: Option<i64>,
    /// Skipped and failed messages of that week, by category.
    pub problems: Vec<DeliveryFigure>,
}

impl App {
    /// The programs this chat identity administers, in its organisation;
    /// `None` when it administers none.
    pub async fn admin_programs(
        &self,
        who: &ChatIdentity,
    ) -> AppResult<Option<(OrgId, Vec<ProgramRow>)>> {
        let Some(org) = self.org_of(who).await? else {
            return Ok(None);
        };
        let programs = self.store.programs(org).await?;
        if programs.iter().all(|p| p.spec.admins.is_empty()) {
            return Ok(None);
        }
        // Admins listed by email are matched through the chat profile.
        let email = self.chat_email(org, who).await?;
        let mine: Vec<ProgramRow> = programs
            .into_iter()
            .filter(|p| {
                p.spec.admins.iter().any(|a| {
                    a.chat.as_ref() == Some(who)
                        || (a.email.as_ref()).is_some_and(|e| Some(e.as_str()) == email.as_deref())
                })
            })
            .collect();
        Ok((!mine.is_empty()).then_some((org, mine)))
    }

    /// The program `key` if this identity administers it.
    pub async fn admin_program(
        &self,
        who: &ChatIdentity,
        key: &str,
    ) -> AppResult<Option<(OrgId, ProgramRow)>> {
        Ok(self.admin_programs(who).await?.and_then(|(org, programs)| {
            programs
                .into_iter()
                .find(|p| p.key == key)
                .map(|p| (org, p))
        }))
    }

    pub async fn program_health(
        &self,
        org: OrgId,
        program: &ProgramRow,
    ) -> AppResult<ProgramHealth> {
        let org_row = self.store.org(org).await?;
        let (enrolled, unreachable) = self.store.program_health_counts(org, program.id).await?;
        let state = self.program_state(&org_row, program).await?;
        let k = program.spec.anonymity_threshold;
        let digest: Option<Digest> = self
            .store
            .last_digest(org, program.id)
            .await?
            .and_then(|body| serde_json::from_str(&body).ok());
        let zone = super::digest::program_zone(&org_row, program);
        let window = digest
            .as_ref()
            .and_then(|d| ProgramWeek::parse_iso(&d.week))
            .and_then(|w| w.bounds(&zone));
        let (mut sent, mut reminders, mut ended) = (0, 0, Vec::new());
        if let Some((from, to)) = window {
            for (state, reason, reminder, n) in
                self.store.delivery_in(org, program.id, from, to).await?
            {
                match (state.as_str(), reminder) {
                    ("sent", false) => sent += n,
                    ("sent", true) => reminders += n,
                    ("skipped" | "failed" | "unknown", _) => {
                        ended.push((reason.unwrap_or_else(|| state.clone()), n))
                    }
                    _ => {}
                }
            }
        }
        let problems = delivery_figures(ended.iter().map(|(r, n)| (r.as_str(), *n)), k);
        Ok(ProgramHealth {
            key: program.key.clone(),
            name: program.name.clone(),
            status: state.status,
            enrolled,
            anonymity_threshold: k,
            unreachable,
            week: digest.as_ref().map(|d| d.week.clone()),
            started: digest.as_ref().and_then(|d| d.started),
            engagement: digest.as_ref().and_then(|d| d.engagement),
            engagement_note: digest.as_ref().and_then(|d| d.engagement_note),
            momentum: digest.as_ref().and_then(|d| d.momentum),
            sent: window.map(|_| sent),
            reminders_sent: (window.is_some() && reminders >= i64::from(k)).then_some(reminders),
            problems,
        })
    }
}
