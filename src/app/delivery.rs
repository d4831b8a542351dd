//! What a job delivers, to whom, and when its recipient can be reached.

use super::*;
use crate::store::Job;

/// Everything needed to deliver one job.
pub struct JobContext {
    pub participant: Participant,
    pub program: ProgramRow,
    pub org: Org,
    /// Who receives it; `None` when the job's recipient is no longer this
    /// participant's manager (the manager changed after planning).
    pub recipient: Option<Person>,
    /// The recipient's zone, working days, quiet hours and holidays.
    pub calendar: DeliveryCalendar,
}

impl App {
    pub async fn job_context(&self, job: &Job) -> AppResult<JobContext> {
        let participant_id = job
            .participant_id
            .ok_or_else(|| AppError::NotFound("job has no participant".into()))?;
        let participant = self.store.participant(job.org_id, participant_id).await?;
        let program = self
            .store
            .program(job.org_id, participant.program_id)
            .await?;
        let org = self.store.org(job.org_id).await?;
        let (recipient, calendar) = if job.recipient_person_id == Some(participant.person.id) {
            (
                Some(participant.person.clone()),
                participant_calendar(&org, &program, &participant),
            )
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
        Ok(JobContext {
            participant,
            program,
            org,
            recipient,
            calendar,
        })
    }

    /// The message a job delivers, showing `recorded` when there is an answer.
    pub fn message_for(&self, ctx: &JobContext, job: &Job, recorded: Option<TapAnswer>) -> Message {
        let (participant, program) = (&ctx.participant, &ctx.program);
        match job.purpose {
            JobPurpose::ManagerCheckin => Message::Checkin {
                job_id: job.id,
                participant: participant
                    .person
                    .display_name
                    .clone()
                    .or(participant.person.email.clone())
                    .unwrap_or_else(|| "Your report".into()),
                program: program.name.clone(),
                // The theme is named only with the participant's consent.
                theme: if participant.share_focus {
                    participant.focus.clone()
                } else {
                    None
                },
                recorded: match recorded {
                    Some(TapAnswer::Checkin(a)) => Some(a),
                    _ => None,
                },
                locale: locale_for(ctx.recipient.as_ref(), program),
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
                locale: locale_for(Some(&participant.person), program),
            },
        }
    }

    pub async fn message_for_job(
        &self,
        job: &Job,
        recorded: Option<TapAnswer>,
    ) -> AppResult<Message> {
        let ctx = self.job_context(job).await?;
        Ok(self.message_for(&ctx, job, recorded))
    }
}

/// The language to speak to a person: their chat locale when templates exist
/// for it, else the program's.
fn locale_for(person: Option<&Person>, program: &ProgramRow) -> String {
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
