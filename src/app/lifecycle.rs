//! A program's life: running while sessions and their follow-ups are ahead,
//! ended once the last session and its last follow-up are past and nothing
//! is left to send, archived when HR says so.

use super::*;
use crate::store::participants::ParticipantStatus;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgramStatus {
    Running,
    /// Past its last session and follow-up, nothing left to send: it can be archived.
    Ended,
    /// Sends nothing more.
    Archived,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgramState {
    pub status: ProgramStatus,
    /// The last day a follow-up can fall on (program time zone), as planned now.
    #[schema(value_type = Option<String>, example = "2026-11-08")]
    pub ends_on: Option<String>,
    /// Messages still to go out.
    pub jobs_to_go: i64,
}

impl App {
    /// The organisation's programs, by key.
    pub async fn programs(&self, org: OrgId) -> AppResult<Vec<ProgramRow>> {
        Ok(self.store.programs(org).await?)
    }

    /// The organisation's program with this key, if there is one.
    pub async fn find_program(&self, org: OrgId, key: &str) -> AppResult<Option<ProgramRow>> {
        Ok(self.store.program_by_key(org, key).await?)
    }

    /// Who is enrolled in a program and whether Momentum reaches them (never
    /// what they answered).
    pub async fn participant_statuses(
        &self,
        org: OrgId,
        program: ProgramId,
    ) -> AppResult<Vec<ParticipantStatus>> {
        Ok(self.store.participant_statuses(org, program).await?)
    }

    /// The organisation's program with this key, or "no program" (404).
    pub async fn program_named(&self, org: OrgId, key: &str) -> AppResult<ProgramRow> {
        self.store
            .program_by_key(org, key)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no program {key:?}")))
    }

    /// Archives a program after its last session and follow-up: nothing
    /// more is sent for it (its pending jobs end as skipped), its data stays.
    /// `false` when the organisation has no such program.
    pub async fn archive_program(&self, org: OrgId, key: &str, by: &str) -> AppResult<bool> {
        let archived = self
            .store
            .archive_program(org, key, self.clock.now())
            .await?;
        if archived {
            self.audit(org, by, "program.archive", Some(key)).await;
        }
        Ok(archived)
    }

    pub async fn program_state(&self, org: &Org, program: &ProgramRow) -> AppResult<ProgramState> {
        let (latest, jobs_to_go) = self.store.program_activity(org.id, program.id).await?;
        let ends_on = program.spec.ends_on(latest);
        let zone = super::digest::program_zone(org, program);
        let today = zone.date_of(self.clock.now());
        let status = if program.archived {
            ProgramStatus::Archived
        } else if jobs_to_go == 0 && ends_on.is_some_and(|end| today > end) {
            ProgramStatus::Ended
        } else {
            ProgramStatus::Running
        };
        Ok(ProgramState {
            status,
            ends_on: ends_on.map(|d| d.to_string()),
            jobs_to_go,
        })
    }
}
