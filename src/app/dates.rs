//! Each participant's own planned dates: read and set (the API, a schedule
//! CSV, a calendar feed, the participant in chat), and what they plan.

use super::sessions::{CompletedSession, ParticipantLookup};
use super::*;
use crate::chat::SessionAnswer;
use crate::domain::dates::{self, DateFrom, OwnDate};
use crate::domain::enrolment::RowProblem;
use crate::domain::schedule::{self, RowWho, ScheduleEntry, ScheduleRow};

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

/// A participant's sessions as planned for them by others (the program
/// file, a CSV, the bookings calendar, the API); what they answered in chat
/// is theirs and not shown.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OwnSchedule {
    #[schema(value_type = i64)]
    pub participant_id: ParticipantId,
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
                        errs.push_error(format!("{path}.planned"), &e);
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
        participant_id: ParticipantId,
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
        participant_id: ParticipantId,
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
        // HR's and the platform's view: what the participant said in chat
        // (a session confirmed, moved or cancelled) is never shown, so
        // nothing here moves with their tap.
        let (own, done) = self.store.schedule_as_reported(org, participant.id).await?;
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
        participant_id: ParticipantId,
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

    /// What follows from participants' planned dates changing: their
    /// questions whether a session happened move to the new dates (only
    /// those jobs of only those participants: a tap in chat must not re-plan
    /// a whole program).
    pub(super) async fn after_dates_changed(
        &self,
        org: OrgId,
        program: &ProgramRow,
        participants: &[ParticipantId],
    ) -> AppResult<()> {
        if participants.is_empty() || program.spec.session_confirmation.is_none() {
            return Ok(());
        }
        let org_row = self.store.org(org).await?;
        let now = self.clock.now();
        let mut jobs = Vec::new();
        for participant in self.store.participants_by_ids(org, participants).await? {
            if participant.deactivated || super::sessions::in_comparison(program, &participant) {
                continue;
            }
            let own = self.store.own_dates(org, participant.id).await?;
            let done: Vec<u32> = self
                .store
                .completed_sessions(org, participant.id)
                .await?
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            let plan = program
                .spec
                .planned_for(participant.cohort.as_deref(), &own);
            let calendar = super::delivery::participant_calendar(&org_row, program, &participant);
            let checks = session_checks(&program.spec, &plan, &done, &calendar);
            jobs.extend(super::sessions::stored_jobs(program, &participant, checks));
        }
        jobs.retain(|j| j.due > now);
        self.store
            .sync_future_jobs_of(
                org,
                program.id,
                Some((participants, JobPurpose::SessionCheck)),
                &jobs,
                now,
            )
            .await?;
        Ok(())
    }
}

/// A schedule CSV: applied, its dates are set and its completions recorded.
pub type ScheduleImport = super::enrolment::CsvUpload<ScheduleRow, ScheduleOutcome>;

/// What an applied schedule changed.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ScheduleOutcome {
    /// Participants' own planned dates set.
    pub dates_set: usize,
    /// Completions new with this file (the rest were known already).
    pub completions_recorded: usize,
    /// Nudges and check-ins planned because of them.
    pub jobs_planned: u64,
}

impl App {
    /// Reads a schedule CSV for program `key`; with `apply`, applies it
    /// when no row has a problem (dates all at once, then each completion,
    /// each idempotent: a retry after a crash completes the rest). `None`
    /// for an unknown program; `Forbidden` for one out of `reach`.
    pub async fn import_schedule(
        &self,
        org: OrgId,
        key: &str,
        csv: &str,
        apply: bool,
        reach: &Reach,
        actor: &str,
    ) -> AppResult<Option<ScheduleImport>> {
        let Some((program, cohorts)) = self.upload_target(org, key, reach).await? else {
            return Ok(None);
        };
        let mut rows = match schedule::read(csv, &cohorts, program.spec.session_count()) {
            Ok(rows) => rows,
            Err(why) => return Ok(Some(ScheduleImport::FileProblem(with_causes(&why)))),
        };
        // Each participant row must name someone in this program.
        let mut found: HashMap<String, ParticipantId> = HashMap::new();
        for row in &mut rows {
            let Some(RowWho::Email(email)) = &row.who else {
                continue;
            };
            if found.contains_key(email) {
                continue;
            }
            let participant = match self.store.person_by_email(org, email).await? {
                Some(person) => {
                    self.store
                        .participant_id_for_person(org, program.id, person.id)
                        .await?
                }
                None => None,
            };
            match participant {
                Some(id) => {
                    found.insert(email.clone(), id);
                }
                None => row.problems.push(RowProblem {
                    code: "unknown_participant",
                    value: email.clone(),
                }),
            }
        }
        if !apply || rows.iter().any(|r| !r.problems.is_empty()) {
            return Ok(Some(ScheduleImport::Preview(rows)));
        }
        let entries: Vec<ScheduleEntry> = rows.iter().filter_map(ScheduleRow::entry).collect();
        let mut dates: Vec<(ParticipantId, Vec<(u32, OwnDate)>)> = Vec::new();
        for e in &entries {
            if let (RowWho::Email(email), Some(on)) = (&e.who, e.planned) {
                let id = found[email];
                match dates.iter_mut().find(|(p, _)| *p == id) {
                    Some((_, list)) => list.push((e.session, OwnDate::On(on))),
                    None => dates.push((id, vec![(e.session, OwnDate::On(on))])),
                }
            }
        }
        let mut outcome = ScheduleOutcome {
            dates_set: dates.iter().map(|(_, l)| l.len()).sum(),
            ..Default::default()
        };
        self.store.set_own_dates(org, &dates, "csv", false).await?;
        let moved: Vec<ParticipantId> = dates.iter().map(|(p, _)| *p).collect();
        self.after_dates_changed(org, &program, &moved).await?;
        for e in &entries {
            let Some(on) = e.completed else { continue };
            match &e.who {
                RowWho::Email(email) => {
                    let who = ParticipantLookup {
                        participant_id: Some(found[email]),
                        ..Default::default()
                    };
                    let done = self
                        .record_session(
                            org,
                            &CompletedSession {
                                program_key: key,
                                who: &who,
                                number: e.session,
                                completed_on: Some(on),
                                source: "import",
                                external_id: None,
                            },
                        )
                        .await?;
                    outcome.completions_recorded += usize::from(done.recorded);
                    outcome.jobs_planned += done.jobs_planned;
                }
                RowWho::Cohort(cohort) => {
                    let done = self
                        .record_group_session(org, key, cohort, e.session, Some(on), "import", None)
                        .await?;
                    outcome.completions_recorded += done.recorded;
                    outcome.jobs_planned += done.jobs_planned;
                }
            }
        }
        self.audit(org, actor, "program.import_schedule", Some(key))
            .await;
        Ok(Some(ScheduleImport::Applied { rows, outcome }))
    }
}

/// Why a participant's answer about a session was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRefusal {
    /// Not a question to this person (someone else's, or gone).
    NotYours,
    /// "It moved to" a day already past.
    PastDate(Date),
}

impl App {
    /// Saves what `who` said on the question whether a session happened
    /// (`job_id`): "yes" is a completion from chat (one completion with the
    /// platform's report of the same session), "it moved" gives them their
    /// own date and asks again then, "cancelled" keeps the session planned
    /// without a date. The message to show where it was asked, or why
    /// nothing was saved.
    pub async fn answer_session_check(
        &self,
        who: &ChatIdentity,
        job_id: JobId,
        answer: SessionAnswer,
        at: &Delivered,
    ) -> AppResult<Result<Vec<super::taps::MessageUpdate>, SessionRefusal>> {
        let Some(super::steps::OwnQuestion {
            org,
            job,
            participant_id,
            session,
            ..
        }) = self
            .own_question(who, job_id, JobPurpose::SessionCheck)
            .await?
        else {
            return Ok(Err(SessionRefusal::NotYours));
        };
        let participant = self.store.participant(org, participant_id).await?;
        let program = self.store.program(org, participant.program_id).await?;
        let org_row = self.store.org(org).await?;
        let zone = super::delivery::participant_calendar(&org_row, &program, &participant).zone;
        let today = zone.date_of(self.clock.now());
        let planned = crate::domain::plan::session_check_date(&job.period);
        match answer {
            SessionAnswer::Happened => {
                let lookup = ParticipantLookup {
                    participant_id: Some(participant_id),
                    ..Default::default()
                };
                self.record_session(
                    org,
                    &CompletedSession {
                        program_key: &program.key,
                        who: &lookup,
                        number: session,
                        completed_on: Some(planned.unwrap_or(today).min(today)),
                        source: "chat",
                        external_id: None,
                    },
                )
                .await?;
            }
            SessionAnswer::MovedTo(day) if day < today => {
                return Ok(Err(SessionRefusal::PastDate(day)));
            }
            SessionAnswer::MovedTo(_) | SessionAnswer::Cancelled => {
                let date = match answer {
                    SessionAnswer::MovedTo(day) => OwnDate::On(day),
                    _ => OwnDate::Unscheduled,
                };
                self.store
                    .set_own_dates(
                        org,
                        &[(participant_id, vec![(session, date)])],
                        "chat",
                        false,
                    )
                    .await?;
                self.after_dates_changed(org, &program, &[participant_id])
                    .await?;
            }
        }
        let message = Message::SessionCheck {
            job_id: job.id,
            program: program.name.clone(),
            session,
            planned: planned.map(|d| d.to_string()).unwrap_or_default(),
            answered: Some(answer),
            locale: super::delivery::locale_for(Some(&participant.person), &program),
        };
        Ok(Ok(self.show_answer(who, &job, at, message)))
    }
}
