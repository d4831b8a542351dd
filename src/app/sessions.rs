//! Completed sessions: recorded once, and the nudges and check-ins they cause.

use super::delivery::{manager_calendar, participant_calendar};
use super::*;

/// Names a participant in a session report: one of these is enough.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLookup {
    #[schema(value_type = Option<i64>)]
    pub participant_id: Option<ParticipantId>,
    pub email: Option<String>,
    /// `slack:TEAM/USER` or `teams:TENANT/USER`.
    pub chat: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionOutcome {
    #[schema(value_type = i64)]
    pub participant_id: ParticipantId,
    pub session: u32,
    pub completed_on: String,
    /// False when this completion was already known (nothing changed).
    pub recorded: bool,
    /// Nudges and check-ins newly planned because of it.
    pub jobs_planned: u64,
}

/// A group session completed for a whole cohort.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GroupSessionOutcome {
    pub cohort: String,
    pub session: u32,
    /// Active participants of the cohort.
    pub participants: usize,
    /// Completions new with this report (the rest were known already).
    pub recorded: usize,
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
    ) -> AppResult<ParticipantId> {
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
            let id = ChatIdentity::parse(chat).map_err(|e| {
                AppError::Invalid(ConfigErrors::single("participant.chat", e.to_string()))
            })?;
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
        // Reported: nobody asks the participant whether it happened.
        self.store
            .skip_session_checks(org, participant_id, number, "the session was reported", now)
            .await?;
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

    /// A group session: completes session `number` for every active
    /// participant of `cohort`, each as if reported alone (idempotent per
    /// participant and session; `external_id` becomes `ID/participant`).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_group_session(
        &self,
        org: OrgId,
        program_key: &str,
        cohort: &str,
        number: u32,
        completed_on: Option<Date>,
        source: &str,
        external_id: Option<&str>,
    ) -> AppResult<GroupSessionOutcome> {
        let program = self.program_named(org, program_key).await?;
        if !program.spec.cohorts.iter().any(|c| c.key == cohort) {
            return Err(AppError::NotFound(format!(
                "the program has no cohort {cohort:?}"
            )));
        }
        let comparison = program
            .spec
            .self_assessment
            .as_ref()
            .and_then(|sa| sa.comparison_cohort.as_deref());
        if comparison == Some(cohort) {
            return Err(AppError::Invalid(ConfigErrors::single(
                "cohort",
                format!("{cohort:?} is the comparison cohort: it has no coaching sessions"),
            )));
        }
        let members: Vec<ParticipantId> = self
            .store
            .program_participants(org, program.id)
            .await?
            .into_iter()
            .filter(|p| p.cohort.as_deref() == Some(cohort))
            .map(|p| p.id)
            .collect();
        let mut out = GroupSessionOutcome {
            cohort: cohort.to_string(),
            session: number,
            participants: members.len(),
            recorded: 0,
            jobs_planned: 0,
        };
        for id in members {
            let who = ParticipantLookup {
                participant_id: Some(id),
                ..Default::default()
            };
            let external = external_id.map(|e| format!("{e}/{id}"));
            let one = self
                .record_session(
                    org,
                    &CompletedSession {
                        program_key,
                        who: &who,
                        number,
                        completed_on,
                        source,
                        external_id: external.as_deref(),
                    },
                )
                .await?;
            out.recorded += usize::from(one.recorded);
            out.jobs_planned += one.jobs_planned;
        }
        Ok(out)
    }

    async fn plan_session_jobs(
        &self,
        org: &Org,
        program: &ProgramRow,
        participant: &Participant,
        session: u32,
        on: Date,
    ) -> AppResult<u64> {
        // The comparison cohort gets no coaching prompts of any kind.
        if in_comparison(program, participant) {
            return Ok(0);
        }
        let now = self.clock.now();
        let jobs = session_jobs(org, program, participant, session, on);
        let planned = self.store.insert_jobs(org.id, &jobs, now).await?;
        // Self-assessments count from the first completed session.
        let completed = self
            .store
            .completed_sessions(org.id, participant.id)
            .await?;
        if let Some(first) = completed.iter().map(|(_, d)| *d).min() {
            let assessments = assessment_jobs_for(org, program, participant, first, now);
            self.store.insert_jobs(org.id, &assessments, now).await?;
        }
        Ok(planned)
    }

    /// Re-plans the future, unsent jobs of every active participant of a
    /// program after its rules, managers, zones or calendars changed. Sent
    /// jobs are never touched; jobs already due are left to the dispatcher.
    pub async fn replan_program(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> AppResult<ReplanCounts> {
        let org_row = self.store.org(org).await?;
        let program = self.store.program(org, program_id).await?;
        let participants = self.store.program_participants(org, program_id).await?;
        let completed = self
            .store
            .program_completed_sessions(org, program_id)
            .await?;
        let own = self.store.program_own_dates(org, program_id).await?;
        let now = self.clock.now();
        let mut jobs = Vec::new();
        let ends_on = program.spec.ends_on(None);
        for participant in participants.iter().filter(|p| !p.deactivated) {
            if in_comparison(&program, participant) {
                // Self-assessments from enrolment; nothing else.
                let calendar = participant_calendar(&org_row, &program, participant);
                let enrolled = calendar.zone.date_of(participant.enrolled_at);
                jobs.extend(assessment_jobs_for(
                    &org_row,
                    &program,
                    participant,
                    enrolled,
                    now,
                ));
                continue;
            }
            let mine = completed.get(&participant.id).into_iter().flatten();
            for (number, on) in mine.clone() {
                jobs.extend(session_jobs(&org_row, &program, participant, *number, *on));
            }
            if let Some(first) = mine.map(|(_, on)| *on).min() {
                jobs.extend(assessment_jobs_for(
                    &org_row,
                    &program,
                    participant,
                    first,
                    now,
                ));
            }
            let calendar = participant_calendar(&org_row, &program, participant);
            // On each planned date of a session not yet reported: did it happen?
            let plan = program.spec.planned_for(
                participant.cohort.as_deref(),
                own.get(&participant.id).map_or(&[][..], Vec::as_slice),
            );
            let done: Vec<u32> = completed
                .get(&participant.id)
                .into_iter()
                .flatten()
                .map(|(n, _)| *n)
                .collect();
            let checks = session_checks(&program.spec, &plan, &done, &calendar);
            jobs.extend(stored_jobs(&program, participant, checks));
            if let Some(pulse) = next_pulse(&program.spec, &calendar, now, ends_on) {
                jobs.extend(stored_jobs(&program, participant, vec![pulse]));
            }
        }
        if program.spec.welcome {
            jobs.extend(
                participants
                    .iter()
                    .filter_map(|p| welcome_job(&org_row, &program, p, now)),
            );
        }
        jobs.retain(|j| j.due > now || j.period == "sa+0d");
        jobs.extend(self.next_digest_job(&org_row, &program, now).await?);
        Ok(self
            .store
            .sync_future_jobs(org, program_id, &jobs, now)
            .await?)
    }
}

impl App {
    /// The pulse question after `after` for a job's participant (none for the
    /// comparison cohort, or past the program's end).
    pub fn next_pulse_job(&self, ctx: &JobContext, after: jiff::Timestamp) -> Option<NewJob> {
        if in_comparison(&ctx.program, &ctx.participant) || ctx.participant.deactivated {
            return None;
        }
        let calendar = participant_calendar(&ctx.org, &ctx.program, &ctx.participant);
        let ends_on = ctx.program.spec.ends_on(None);
        let next = next_pulse(&ctx.program.spec, &calendar, after, ends_on)?;
        stored_jobs(&ctx.program, &ctx.participant, vec![next]).pop()
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

/// In the program's comparison cohort (a waitlist): self-assessments only.
pub fn in_comparison(program: &ProgramRow, participant: &Participant) -> bool {
    let cohort = program
        .spec
        .self_assessment
        .as_ref()
        .and_then(|sa| sa.comparison_cohort.as_deref());
    cohort.is_some() && participant.cohort.as_deref() == cohort
}

/// A participant's self-assessments (and their manager's observations,
/// except for the comparison cohort), counted from `start`. A baseline
/// whose time has passed goes out at the next allowed moment.
fn assessment_jobs_for(
    org: &Org,
    program: &ProgramRow,
    participant: &Participant,
    start: Date,
    now: jiff::Timestamp,
) -> Vec<NewJob> {
    let (participant_cal, manager_cal) = calendars(org, program, participant);
    let comparison = in_comparison(program, participant);
    let mut planned = assessment_jobs(
        &program.spec,
        start,
        &Recipients {
            participant: &participant_cal,
            manager: if comparison {
                None
            } else {
                manager_cal.as_ref()
            },
        },
    );
    let soon = participant_cal
        .first_allowed(
            participant_cal.zone.date_of(now),
            now.to_zoned(participant_cal.zone.tz().clone()).time(),
        )
        .unwrap_or(now);
    for p in planned
        .iter_mut()
        .filter(|p| p.period == "sa+0d" && p.due < now)
    {
        p.due = soon;
    }
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
pub(super) fn stored_jobs(
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
