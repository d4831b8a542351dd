//! HR admins in chat: the programs they administer (the program file's
//! `admins`), each program's health and delivery problems, and the digest
//! preview. Group numbers only: never one participant's answers.

use super::{App, AppResult};
use crate::domain::metrics::week::ProgramWeek;
use crate::domain::ChatIdentity;
use crate::store::jobs::DeliveryCount;
use crate::store::programs::ProgramRow;
use crate::store::OrgId;
use serde::Serialize;

/// A program's health, as its admins see it in chat.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramHealth {
    pub key: String,
    pub name: String,
    pub status: super::ProgramStatus,
    pub enrolled: i64,
    /// Hidden (`None`) while fewer than k people are enrolled: a figure
    /// about a handful of people would point at them.
    pub started: Option<i64>,
    /// Enrolled participants who answered anything since Monday (hidden
    /// like `started`).
    pub active_this_week: Option<i64>,
    pub anonymity_threshold: u32,
    /// Enrolled people no chat user was found for: they receive nothing.
    pub unreachable: i64,
    pub sent: i64,
    pub to_go: i64,
    /// Skipped and failed messages by reason, most frequent first.
    pub problems: Vec<DeliveryCount>,
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
        let email = match self.store.person_by_chat(org, who).await? {
            Some(p) if p.email.is_some() => p.email,
            _ => match self.chats.for_identity(who) {
                Some(port) => port.user_info(who).await.ok().and_then(|u| u.email),
                None => None,
            },
        };
        let email = email.map(|e| e.to_lowercase());
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
        let zone = super::digest::program_zone(&org_row, program);
        let this_week = ProgramWeek::of(zone.date_of(self.clock.now()));
        let since = this_week
            .bounds(&zone)
            .map(|(start, _)| start)
            .unwrap_or_else(|| self.clock.now());
        let (enrolled, started, active_this_week, unreachable) = self
            .store
            .program_health_counts(org, program.id, since)
            .await?;
        let state = self.program_state(&org_row, program).await?;
        let counts = self.store.delivery_counts(org, program.id).await?;
        let sent = counts
            .iter()
            .filter(|c| c.state == "sent")
            .map(|c| c.count)
            .sum();
        let mut problems: Vec<DeliveryCount> = counts
            .into_iter()
            .filter(|c| c.state == "skipped" || c.state == "failed")
            .collect();
        problems.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
        let k = program.spec.anonymity_threshold;
        let shown = |n: i64| (enrolled >= i64::from(k)).then_some(n);
        Ok(ProgramHealth {
            key: program.key.clone(),
            name: program.name.clone(),
            status: state.status,
            enrolled,
            started: shown(started),
            active_this_week: shown(active_this_week),
            anonymity_threshold: k,
            unreachable,
            sent,
            to_go: state.jobs_to_go,
            problems,
        })
    }
}
