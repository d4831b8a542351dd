//! What a job delivers, to whom, and when its recipient can be reached.

use super::*;
use crate::chat::ReportRow;
use crate::domain::errors::with_causes;
use crate::store::steps::SealedStep;
use crate::store::{Job, JobOutcome};
use jiff::SignedDuration;

/// Everything needed to deliver one job.
pub struct JobContext {
    pub participant: Participant,
    pub program: Arc<ProgramRow>,
    pub org: Arc<Org>,
    /// Who receives it; `None` when the job's recipient is no longer this
    /// participant's manager (the manager changed after planning).
    pub recipient: Option<Person>,
    /// The recipient's zone, working days, quiet hours and holidays.
    pub calendar: DeliveryCalendar,
    /// Messages the recipient received in the last 7 days, all programs.
    pub sent_last_week: i64,
    /// For a reminder: the job it reminds of, and whether that was answered.
    pub reminds: Option<(Job, bool)>,
    /// For a participant's nudge: their small step (asked for, or named).
    pub step: crate::chat::StepView,
}

impl App {
    pub async fn job_context(&self, job: &Job) -> AppResult<JobContext> {
        self.job_contexts(std::slice::from_ref(job))
            .await
            .pop()
            .unwrap_or_else(|| Err(AppError::NotFound("no job".into())))
    }

    /// Contexts for a batch of jobs with a few queries per organisation (the
    /// participants in one query; each program and organisation once).
    pub async fn job_contexts(&self, jobs: &[Job]) -> Vec<AppResult<JobContext>> {
        let mut participants: HashMap<(OrgId, ParticipantId), Participant> = HashMap::new();
        let mut failed: HashMap<OrgId, String> = HashMap::new();
        let mut by_org: HashMap<OrgId, Vec<ParticipantId>> = HashMap::new();
        for job in jobs {
            if let Some(p) = job.participant_id {
                by_org.entry(job.org_id).or_default().push(p);
            }
        }
        for (org, ids) in by_org {
            match self.store.participants_by_ids(org, &ids).await {
                Ok(list) => participants.extend(list.into_iter().map(|p| ((org, p.id), p))),
                Err(e) => {
                    failed.insert(org, with_causes(&e));
                }
            }
        }
        let mut recent: HashMap<OrgId, HashMap<PersonId, i64>> = HashMap::new();
        let week_ago = self.clock.now() - jiff::SignedDuration::from_hours(24 * 7);
        let mut recipients: HashMap<OrgId, Vec<PersonId>> = HashMap::new();
        for job in jobs {
            if let Some(r) = job.recipient_person_id {
                recipients.entry(job.org_id).or_default().push(r);
            }
        }
        for (org, people) in recipients {
            match self.store.sent_since(org, &people, week_ago).await {
                Ok(counts) => {
                    recent.insert(org, counts);
                }
                Err(e) => {
                    failed.insert(org, with_causes(&e));
                }
            }
        }
        let mut reminded: HashMap<OrgId, HashMap<JobId, (Job, bool)>> = HashMap::new();
        let mut reminded_ids: HashMap<OrgId, Vec<JobId>> = HashMap::new();
        for job in jobs {
            if let Some(r) = job.reminds_job_id {
                reminded_ids.entry(job.org_id).or_default().push(r);
            }
        }
        for (org, ids) in reminded_ids {
            match self.store.reminded_jobs(org, &ids).await {
                Ok(found) => {
                    reminded.insert(org, found);
                }
                Err(e) => {
                    failed.insert(org, with_causes(&e));
                }
            }
        }
        // The steps a nudge or its reminder shows, read once for the round.
        let mut steps: HashMap<OrgId, HashMap<(ParticipantId, u32), SealedStep>> = HashMap::new();
        let mut stepping: HashMap<OrgId, Vec<ParticipantId>> = HashMap::new();
        for job in jobs {
            if let (
                JobPurpose::SmallStep | JobPurpose::OneTapCheck | JobPurpose::Reminder,
                Some(p),
            ) = (job.purpose, job.participant_id)
            {
                stepping.entry(job.org_id).or_default().push(p);
            }
        }
        for (org, ids) in stepping {
            match self.store.steps_of_participants(org, &ids).await {
                Ok(found) => {
                    steps.insert(org, found);
                }
                Err(e) => {
                    failed.insert(org, with_causes(&e));
                }
            }
        }
        let mut orgs: HashMap<OrgId, Arc<Org>> = HashMap::new();
        let mut programs: HashMap<(OrgId, ProgramId), Arc<ProgramRow>> = HashMap::new();
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            if let Some(e) = failed.get(&job.org_id) {
                out.push(Err(AppError::Store(crate::store::StoreError::Conflict(
                    e.clone(),
                ))));
                continue;
            }
            let Some(participant) = job
                .participant_id
                .and_then(|p| participants.get(&(job.org_id, p)))
            else {
                out.push(Err(AppError::NotFound(
                    "the job's participant no longer exists".into(),
                )));
                continue;
            };
            let org = match orgs.get(&job.org_id) {
                Some(o) => o.clone(),
                None => match self.store.org(job.org_id).await {
                    Ok(o) => orgs.entry(job.org_id).or_insert(Arc::new(o)).clone(),
                    Err(e) => {
                        out.push(Err(e.into()));
                        continue;
                    }
                },
            };
            let key = (job.org_id, participant.program_id);
            let program = match programs.get(&key) {
                Some(p) => p.clone(),
                None => match self.store.program(job.org_id, participant.program_id).await {
                    Ok(p) => programs.entry(key).or_insert(Arc::new(p)).clone(),
                    Err(e) => {
                        out.push(Err(e.into()));
                        continue;
                    }
                },
            };
            let sent_last_week = job
                .recipient_person_id
                .and_then(|r| recent.get(&job.org_id)?.get(&r).copied())
                .unwrap_or(0);
            let mut ctx = context(job, participant.clone(), program, org, sent_last_week);
            ctx.reminds = job
                .reminds_job_id
                .and_then(|r| reminded.get(&job.org_id)?.get(&r).cloned());
            let nudge = ctx.reminds.as_ref().map_or(job, |(r, _)| r);
            if let (JobPurpose::SmallStep | JobPurpose::OneTapCheck, Some(session), true) = (
                nudge.purpose,
                nudge.session_number,
                job.recipient_person_id == Some(ctx.participant.person.id),
            ) {
                match self
                    .step_view(
                        &ctx.org,
                        &ctx.participant,
                        &ctx.program,
                        nudge.purpose,
                        steps
                            .get(&job.org_id)
                            .and_then(|s| s.get(&(ctx.participant.id, session))),
                    )
                    .await
                {
                    Ok(step) => ctx.step = step,
                    Err(e) => {
                        out.push(Err(e));
                        continue;
                    }
                }
            }
            out.push(Ok(ctx));
        }
        out
    }

    /// The message a job delivers, showing `recorded` when there is an answer.
    /// A reminder repeats the message of the job it reminds of, whose
    /// answer its buttons record.
    pub fn message_for(&self, ctx: &JobContext, job: &Job, recorded: Option<TapAnswer>) -> Message {
        let (participant, program) = (&ctx.participant, &ctx.program);
        let (job, reminder_job) = match (job.purpose, &ctx.reminds) {
            (JobPurpose::Reminder, Some((reminded, _))) => (reminded, Some(job.id)),
            _ => (job, None),
        };
        match job.purpose {
            JobPurpose::ManagerCheckin => Message::Checkin {
                job_id: job.id,
                rows: vec![report_row(
                    ctx,
                    job.id,
                    match recorded {
                        Some(TapAnswer::Checkin(a)) => Some(a),
                        _ => None,
                    },
                )],
                reminder_job,
                locale: locale_for(ctx.recipient.as_ref(), program),
            },
            JobPurpose::SelfAssessment | JobPurpose::ManagerObservation => {
                let sa = program.spec.self_assessment.as_ref();
                let own = job.purpose == JobPurpose::SelfAssessment;
                Message::Assessment {
                    job_id: job.id,
                    own,
                    program: program.name.clone(),
                    question: sa
                        .map(|s| {
                            if own {
                                s.question.clone()
                            } else {
                                s.manager_question.clone()
                            }
                        })
                        .unwrap_or_default(),
                    about: (!own).then(|| report_row::<()>(ctx, job.id, None).participant),
                    min: sa.map_or(1, |s| s.scale_min),
                    max: sa.map_or(5, |s| s.scale_max),
                    recorded: match recorded {
                        Some(TapAnswer::Scale(v)) => Some(v),
                        _ => None,
                    },
                    reminder_job,
                    locale: locale_for(ctx.recipient.as_ref(), program),
                }
            }
            JobPurpose::PulseQuestion => {
                let q = program.spec.pulse_rule().map(|(_, q)| q);
                Message::Pulse {
                    job_id: job.id,
                    program: program.name.clone(),
                    question: q.map(|q| q.text.clone()).unwrap_or_default(),
                    min: q.map_or(1, |q| q.scale_min),
                    max: q.map_or(5, |q| q.scale_max),
                    recorded: match recorded {
                        Some(TapAnswer::Scale(v)) => Some(v),
                        _ => None,
                    },
                    locale: locale_for(Some(&participant.person), program),
                }
            }
            JobPurpose::SessionCheck => Message::SessionCheck {
                job_id: job.id,
                program: program.name.clone(),
                session: job.session_number.unwrap_or(0),
                planned: crate::domain::plan::session_check_date(&job.period)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                answered: None,
                locale: locale_for(Some(&participant.person), program),
            },
            JobPurpose::Welcome => Message::Welcome {
                job_id: job.id,
                participant_id: participant.id,
                program: program.name.clone(),
                locale: locale_for(Some(&participant.person), program),
            },
            purpose => Message::Nudge {
                job_id: job.id,
                purpose,
                program: program.name.clone(),
                session: job.session_number.unwrap_or(0),
                recorded: match recorded {
                    Some(TapAnswer::Report(a)) => Some(a),
                    _ => None,
                },
                snoozed_until: None,
                reminder_job,
                step: ctx.step.clone(),
                locale: locale_for(Some(&participant.person), program),
            },
        }
    }

    /// The message a job delivers: for a report in a manager's day
    /// message, that whole message with every stored answer.
    pub async fn message_for_job(
        &self,
        job: &Job,
        recorded: Option<TapAnswer>,
    ) -> AppResult<Message> {
        if let Some(lead) = job.batch_job_id {
            return self.batch_message(job.org_id, lead, None).await;
        }
        let ctx = self.job_context(job).await?;
        Ok(self.message_for(&ctx, job, recorded))
    }

    /// Leases up to `limit` jobs due now for dispatcher `owner`, for `lease`.
    pub async fn lease_due_jobs(
        &self,
        lease: SignedDuration,
        limit: i64,
        owner: &str,
    ) -> crate::store::Result<Vec<Job>> {
        let now = self.clock.now();
        self.store.lease_due_jobs(now, lease, limit, owner).await
    }

    /// Notes that `owner` is sending these jobs now, so that a holder that
    /// dies mid-send leaves them to be looked up before they are re-sent.
    pub async fn mark_sending(&self, owner: &str, ids: &[JobId]) -> crate::store::Result<()> {
        self.store.mark_sending(owner, ids).await
    }

    /// Records how `owner`'s jobs ended, with the jobs that follow them,
    /// in one transaction.
    pub async fn record_outcomes(
        &self,
        owner: &str,
        outcomes: &[(Job, JobOutcome)],
        follow_ups: &[(OrgId, NewJob)],
    ) -> crate::store::Result<()> {
        let now = self.clock.now();
        self.store
            .record_outcomes(owner, outcomes, follow_ups, now)
            .await
    }
}

/// A report's row in their manager's message: the focus theme is named
/// only with the participant's consent.
pub(super) fn report_row<A>(ctx: &JobContext, job_id: JobId, recorded: Option<A>) -> ReportRow<A> {
    let person = &ctx.participant.person;
    ReportRow {
        job_id,
        participant: person
            .display_name
            .clone()
            .or(person.email.clone())
            .unwrap_or_else(|| "your report".into()),
        program: ctx.program.name.clone(),
        theme: if ctx.participant.share_focus {
            ctx.participant.focus.clone()
        } else {
            None
        },
        recorded,
    }
}

fn context(
    job: &Job,
    participant: Participant,
    program: Arc<ProgramRow>,
    org: Arc<Org>,
    sent_last_week: i64,
) -> JobContext {
    let (recipient, calendar) = if job.recipient_person_id == Some(participant.person.id) {
        let calendar = participant_calendar(&org, &program, &participant);
        (Some(participant.person.clone()), calendar)
    } else {
        let manager = participant
            .manager
            .clone()
            .filter(|m| job.recipient_person_id == Some(m.id));
        let calendar = match &manager {
            Some(m) => manager_calendar(&org, &program, m),
            None => participant_calendar(&org, &program, &participant),
        };
        (manager, calendar)
    };
    JobContext {
        participant,
        program,
        org,
        recipient,
        calendar,
        sent_last_week,
        reminds: None,
        step: Default::default(),
    }
}

/// The language to speak to a person: their chat locale when templates exist
/// for it, else the program's.
pub(super) fn locale_for(person: Option<&Person>, program: &ProgramRow) -> String {
    let from_person = person
        .and_then(|p| p.locale.as_deref())
        .map(|l| l.split(['-', '_']).next().unwrap_or("").to_lowercase())
        .filter(|l| crate::domain::program::LOCALES.contains(&l.as_str()));
    from_person.unwrap_or_else(|| program.spec.locale.clone())
}

/// A delivery calendar: the first known zone of `zones` (the participant's
/// setting, then their chat profile's), else the program's, else the
/// organisation's; the program's working days, quiet hours and `holidays`.
fn calendar(
    org: &Org,
    program: &ProgramRow,
    zones: [Option<&str>; 2],
    holidays: Vec<Date>,
) -> DeliveryCalendar {
    let zone = zones
        .into_iter()
        .flatten()
        .find_map(|z| Zone::parse(z).ok())
        .or_else(|| program.spec.time_zone.clone())
        .or_else(|| Zone::parse(&org.time_zone).ok())
        .unwrap_or_else(Zone::utc);
    DeliveryCalendar {
        zone,
        working_days: program.spec.working_days,
        quiet_hours: program.spec.quiet_hours,
        holidays,
    }
}

pub(super) fn participant_calendar(
    org: &Org,
    program: &ProgramRow,
    p: &Participant,
) -> DeliveryCalendar {
    calendar(
        org,
        program,
        [p.time_zone.as_deref(), p.person.time_zone.as_deref()],
        program.spec.holidays_for(p.holiday_calendar.as_deref()),
    )
}

pub(super) fn manager_calendar(
    org: &Org,
    program: &ProgramRow,
    manager: &Person,
) -> DeliveryCalendar {
    calendar(
        org,
        program,
        [None, manager.time_zone.as_deref()],
        program.spec.holidays_for(None),
    )
}
