//! Completed sessions: recorded once, and the nudges and check-ins they cause.

use super::delivery::{manager_calendar, participant_calendar};
use super::*;

/// Names a participant in a session report: one of these is enough.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLookup {
    pub participant_id: Option<i64>,
    pub email: Option<String>,
    /// `slack:TEAM/USER` or `teams:TENANT/USER`.
    pub chat: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionOutcome {
    pub participant_id: i64,
    pub session: u32,
    pub completed_on: String,
    /// False when this completion was already known (nothing changed).
    pub recorded: bool,
    /// Nudges and check-ins newly planned because of it.
    pub jobs_planned: u64,
}

/// A completed session as any source reports it (API, chat, import).
#[derive(Debug, Clone)]
pub struct CompletedSession<'a> {
    pub program_key: &'a str,
    pub who: &'a ParticipantLookup,
    pub number: u32,
    /// The local date; today in the participant's zone when absent.
    pub completed_on: Option<Date>,
    pub source: &'a str,
    pub external_id: Option<&'a str>,
}

impl App {
    async fn find_participant(
        &self,
        org: OrgId,
        program: &ProgramRow,
        who: &ParticipantLookup,
    ) -> AppResult<i64> {
        let not_found = || AppError::NotFound("no such participant in this program".into());
        if let Some(id) = who.participant_id {
            let p = self
                .store
                .participant(org, id)
                .await
                .map_err(|_| not_found())?;
            return if p.program_id == program.id && !p.deactivated {
                Ok(p.id)
            } else {
                Err(not_found())
            };
        }
        let person = if let Some(email) = &who.email {
            self.store.person_by_email(org, email).await?
        } else if let Some(chat) = &who.chat {
            let id = ChatIdentity::parse(chat)
                .map_err(|e| AppError::Invalid(ConfigErrors::single("participant.chat", e)))?;
            self.store.person_by_chat(org, &id).await?
        } else {
            return Err(AppError::Invalid(ConfigErrors::single(
                "participant",
                "name the participant by participant_id, email or chat",
            )));
        };
        let person = person.ok_or_else(not_found)?;
        self.store
            .participant_id_for_person(org, program.id, person.id)
            .await?
            .ok_or_else(not_found)
    }

    /// Records that a participant completed a session, once, and plans the
    /// nudges and check-ins that follow it.
    pub async fn record_session(
        &self,
        org: OrgId,
        report: &CompletedSession<'_>,
    ) -> AppResult<SessionOutcome> {
        let CompletedSession {
            program_key,
            who,
            number,
            completed_on,
            source,
            external_id,
        } = *report;
        let program = self.program_named(org, program_key).await?;
        if number == 0 || number > program.spec.session_count() {
            return Err(AppError::Invalid(ConfigErrors::single(
                "session",
                format!(
                    "session {number} is not planned (the program plans sessions 1..{})",
                    program.spec.session_count()
                ),
            )));
        }
        let participant_id = self.find_participant(org, &program, who).await?;
        let org_row = self.store.org(org).await?;
        let participant = self.store.participant(org, participant_id).await?;
        let now = self.clock.now();
        let calendar = participant_calendar(&org_row, &program, &participant);
        let on = completed_on.unwrap_or_else(|| calendar.zone.date_of(now));
        let completion = self
            .store
            .record_session_completed(
                org,
                &SessionCompletion {
                    participant_id,
                    number,
                    completed_on: on,
                    source,
                    external_id,
                },
                now,
            )
            .await?;
        let (recorded, on) = match completion {
            Completion::Recorded => (true, on),
            Completion::AlreadyRecorded { completed_on } => (false, completed_on),
        };
        // Planning is idempotent, so it also runs for a repeated report: a
        // crash between recording and planning heals on the retry.
        let jobs_planned = self
            .plan_session_jobs(&org_row, &program, &participant, number, on)
            .await?;
        Ok(SessionOutcome {
            participant_id,
            session: number,
            completed_on: on.to_string(),
            recorded,
            jobs_planned,
        })
    }

    async fn plan_session_jobs(
        &self,
        org: &Org,
        program: &ProgramRow,
        participant: &Participant,
        session: u32,
        on: Date,
    ) -> AppResult<u64> {
        let now = self.clock.now();
        let jobs = session_jobs(org, program, participant, session, on);
        let planned = self.store.insert_jobs(org.id, &jobs, now).await?;
        // The pulses count from the first completed session; a baseline
        // whose time has passed goes out at the next allowed moment.
        let completed = self
            .store
            .completed_sessions(org.id, participant.id)
            .await?;
        if let Some(first) = completed.iter().map(|(_, d)| *d).min() {
            let calendar = participant_calendar(org, program, participant);
            let soon = calendar
                .first_allowed(
                    calendar.zone.date_of(now),
                    now.to_zoned(calendar.zone.tz().clone()).time(),
                )
                .unwrap_or(now);
            let mut pulses = pulse_jobs_for(org, program, participant, first);
            for p in pulses
                .iter_mut()
                .filter(|p| p.period == "sa+0d" && p.due < now)
            {
                p.due = soon;
            }
            self.store.insert_jobs(org.id, &pulses, now).await?;
        }
        Ok(planned)
    }

    /// Re-plans the future, unsent jobs of every active participant of a
    /// program after its rules, managers, zones or calendars changed. Sent
    /// jobs are never touched; jobs already due are left to the dispatcher.
    pub async fn replan_program(&self, org: OrgId, program_id: i64) -> AppResult<ReplanCounts> {
        let org_row = self.store.org(org).await?;
        let program = self.store.program(org, program_id).await?;
        let participants = self.store.program_participants(org, program_id).await?;
        let completed = self
            .store
            .program_completed_sessions(org, program_id)
            .await?;
        let now = self.clock.now();
        let mut jobs = Vec::new();
        for participant in &participants {
            let mine = completed.get(&participant.id).into_iter().flatten();
            for (number, on) in mine.clone() {
                jobs.extend(session_jobs(&org_row, &program, participant, *number, *on));
            }
            if let Some(first) = mine.map(|(_, on)| *on).min() {
                jobs.extend(pulse_jobs_for(&org_row, &program, participant, first));
            }
        }
        if program.spec.welcome {
            jobs.extend(
                participants
                    .iter()
                    .filter_map(|p| welcome_job(&org_row, &program, p, now)),
            );
        }
        jobs.retain(|j| j.due > now);
        jobs.extend(self.next_digest_job(&org_row, &program, now).await?);
        Ok(self
            .store
            .sync_future_jobs(org, program_id, &jobs, now)
            .await?)
    }
}

/// What re-planning changed.
pub use crate::store::jobs::ReplanCounts;

/// The calendars of a participant and of their manager, if any.
fn calendars(
    org: &Org,
    program: &ProgramRow,
    participant: &Participant,
) -> (DeliveryCalendar, Option<DeliveryCalendar>) {
    let manager = participant
        .manager
        .as_ref()
        .map(|m| manager_calendar(org, program, m));
    (participant_calendar(org, program, participant), manager)
}

/// The welcome: as soon as the participant's calendar allows (once: its
/// key holds no date, so a sent welcome is never planned again).
fn welcome_job(
    org: &Org,
    program: &ProgramRow,
    participant: &Participant,
    now: jiff::Timestamp,
) -> Option<NewJob> {
    let calendar = super::delivery::participant_calendar(org, program, participant);
    let soon = (now + jiff::SignedDuration::from_mins(1)).to_zoned(calendar.zone.tz().clone());
    let due = calendar.first_allowed(soon.date(), soon.time())?;
    Some(NewJob {
        program_id: program.id,
        participant_id: Some(participant.id),
        recipient_person_id: Some(participant.person.id),
        purpose: JobPurpose::Welcome,
        period: "welcome".into(),
        session_number: None,
        due,
        reminds_job_id: None,
    })
}

/// A participant's pulses, counted from their first completed session.
fn pulse_jobs_for(
    org: &Org,
    program: &ProgramRow,
    participant: &Participant,
    first: Date,
) -> Vec<NewJob> {
    let (participant_cal, manager_cal) = calendars(org, program, participant);
    let planned = pulse_jobs(
        &program.spec,
        first,
        &Recipients {
            participant: &participant_cal,
            manager: manager_cal.as_ref(),
        },
    );
    stored_jobs(program, participant, planned)
}

/// The jobs one completed session causes for one participant.
fn session_jobs(
    org: &Org,
    program: &ProgramRow,
    participant: &Participant,
    session: u32,
    on: Date,
) -> Vec<NewJob> {
    let (participant_cal, manager_cal) = calendars(org, program, participant);
    let planned = jobs_for_completed_session(
        &program.spec,
        session,
        on,
        &Recipients {
            participant: &participant_cal,
            manager: manager_cal.as_ref(),
        },
    );
    stored_jobs(program, participant, planned)
}

/// Planned jobs as rows for this participant (or their manager).
fn stored_jobs(
    program: &ProgramRow,
    participant: &Participant,
    planned: Vec<PlannedJob>,
) -> Vec<NewJob> {
    planned
        .into_iter()
        .filter_map(|j| {
            let recipient = match j.recipient {
                Recipient::Participant => participant.person.id,
                Recipient::Manager => participant.manager.as_ref()?.id,
            };
            Some(NewJob {
                program_id: program.id,
                participant_id: Some(participant.id),
                recipient_person_id: Some(recipient),
                purpose: j.purpose,
                period: j.period,
                session_number: (j.session > 0).then_some(j.session),
                due: j.due,
                reminds_job_id: None,
            })
        })
        .collect()
}
