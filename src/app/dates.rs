//! Each participant's own planned dates: read and set (the API, a schedule
//! CSV, a calendar feed, the participant in chat), and what they plan.

use super::*;
use crate::domain::dates::{self, DateFrom, OwnDate};

/// One session as planned for one participant.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlannedSessionView {
    pub number: u32,
    /// YYYY-MM-DD; null while a cancelled session waits for a new date.
    pub planned: Option<String>,
    /// Whose date it is: `own`, `cohort` or `program`.
    #[schema(value_type = String)]
    pub from: DateFrom,
    pub completed_on: Option<String>,
}

/// A participant's sessions as planned for them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OwnSchedule {
    pub participant_id: i64,
    pub sessions: Vec<PlannedSessionView>,
}

/// A participant's own dates, as a caller sends them: the whole list (a
/// session not listed follows the cohort's or the program's date).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnDatesInput {
    pub sessions: Vec<OwnDateInput>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnDateInput {
    pub number: u32,
    /// YYYY-MM-DD, or null: the session is planned but has no date yet
    /// (it was cancelled).
    pub planned: Option<String>,
}

impl OwnDatesInput {
    /// The dates, or every field that is wrong (numbers outside 1..`count`,
    /// a number listed twice, a date that is not one).
    pub fn validate(&self, count: u32) -> Result<Vec<(u32, OwnDate)>, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let mut out: Vec<(u32, OwnDate)> = Vec::new();
        for (i, s) in self.sessions.iter().enumerate() {
            let path = format!("sessions[{i}]");
            if s.number == 0 || s.number > count {
                errs.push(
                    format!("{path}.number"),
                    format!(
                        "session {} is not planned (the program plans sessions 1..{count})",
                        s.number
                    ),
                );
                continue;
            }
            if out.iter().any(|(n, _)| *n == s.number) {
                errs.push(
                    format!("{path}.number"),
                    format!("session {} is listed twice", s.number),
                );
                continue;
            }
            let date = match &s.planned {
                None => OwnDate::Unscheduled,
                Some(d) => match dates::plan_date(d) {
                    Ok(d) => OwnDate::On(d),
                    Err(e) => {
                        errs.push(format!("{path}.planned"), e);
                        continue;
                    }
                },
            };
            out.push((s.number, date));
        }
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(errs)
        }
    }
}

impl App {
    /// A participant of program `key` (active), or not found.
    async fn participant_of(
        &self,
        org: OrgId,
        key: &str,
        participant_id: i64,
    ) -> AppResult<(ProgramRow, Participant)> {
        let program = self.program_named(org, key).await?;
        let not_found =
            || AppError::NotFound(format!("no participant {participant_id} in {key:?}"));
        let participant = self
            .store
            .participant(org, participant_id)
            .await
            .map_err(|_| not_found())?;
        if participant.program_id != program.id || participant.deactivated {
            return Err(not_found());
        }
        Ok((program, participant))
    }

    /// A participant's sessions as planned for them, with what they completed.
    pub async fn own_schedule(
        &self,
        org: OrgId,
        key: &str,
        participant_id: i64,
    ) -> AppResult<OwnSchedule> {
        let (program, participant) = self.participant_of(org, key, participant_id).await?;
        self.schedule_of(org, &program, &participant).await
    }

    async fn schedule_of(
        &self,
        org: OrgId,
        program: &ProgramRow,
        participant: &Participant,
    ) -> AppResult<OwnSchedule> {
        let own = self.store.own_dates(org, participant.id).await?;
        let done = self.store.completed_sessions(org, participant.id).await?;
        let sessions = program
            .spec
            .planned_for(participant.cohort.as_deref(), &own)
            .into_iter()
            .map(|p| PlannedSessionView {
                number: p.number,
                planned: p.planned.map(|d| d.to_string()),
                from: p.from,
                completed_on: done
                    .iter()
                    .find(|(n, _)| *n == p.number)
                    .map(|(_, d)| d.to_string()),
            })
            .collect();
        Ok(OwnSchedule {
            participant_id: participant.id,
            sessions,
        })
    }

    /// Replaces a participant's own dates (idempotent: the same list twice
    /// changes nothing the second time).
    pub async fn set_own_schedule(
        &self,
        org: OrgId,
        key: &str,
        participant_id: i64,
        input: &OwnDatesInput,
        source: &str,
    ) -> AppResult<OwnSchedule> {
        let (program, participant) = self.participant_of(org, key, participant_id).await?;
        let list = input
            .validate(program.spec.session_count())
            .map_err(AppError::Invalid)?;
        self.store
            .set_own_dates(org, &[(participant.id, list)], source, true)
            .await?;
        self.after_dates_changed(org, &program, &[participant.id])
            .await?;
        self.schedule_of(org, &program, &participant).await
    }

    /// What follows from participants' planned dates changing: the
    /// confirmation questions are planned again on the new dates.
    pub(super) async fn after_dates_changed(
        &self,
        _org: OrgId,
        _program: &ProgramRow,
        _participants: &[i64],
    ) -> AppResult<()> {
        Ok(())
    }
}
