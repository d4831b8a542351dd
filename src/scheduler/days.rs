//! A manager's day: their reports' check-ins (or observations) due the
//! same local day go out as one message, a row per report. The message's
//! lead job claims the others in one transaction (the rest of the day's,
//! not due yet, too), so no other dispatcher sends them on their own; they
//! take the lead's outcome when it is recorded, and a retried lead (after
//! a crash mid-send, looked up before it is sent again) carries the same
//! reports as before.

use super::dispatch::{ended, reminder_for, skip_reason, Dispatcher, Ready};
use crate::app::batches::MAX_ROWS;
use crate::app::{AppError, JobContext};
use crate::domain::JobPurpose;
use crate::domain::{PersonId, ProgramId};
use crate::store::batches::SameDay;
use crate::store::{Job, JobOutcome, JobState, NewJob, OrgId};
use jiff::civil::{Date, Time};
use jiff::Timestamp;

/// Due manager jobs of one round, by manager and local day.
#[derive(Default)]
pub(super) struct ManagerDays {
    days: Vec<Day>,
}

/// One manager's jobs of one purpose due on one local day. Observations
/// also share a program: its question and scale.
pub(super) struct Day {
    org: OrgId,
    pub(super) recipient: PersonId,
    purpose: JobPurpose,
    program: Option<ProgramId>,
    date: Date,
    jobs: Vec<(Job, JobContext)>,
}

/// A day's message ready to go: its lead job, and for whom it counts.
pub(super) struct DayMessage {
    pub(super) ready: Ready,
    pub(super) recipient: PersonId,
}

impl ManagerDays {
    pub(super) fn add(&mut self, job: Job, ctx: JobContext) {
        let (recipient, purpose) = (job.recipient_person_id.unwrap_or_default(), job.purpose);
        let program = (purpose == JobPurpose::ManagerObservation).then_some(job.program_id);
        let date = ctx.calendar.zone.date_of(job.planned_due_at);
        let found = self.days.iter_mut().find(|d| {
            (d.org, d.recipient, d.purpose, d.program, d.date)
                == (job.org_id, recipient, purpose, program, date)
        });
        match found {
            Some(day) => day.jobs.push((job, ctx)),
            None => self.days.push(Day {
                org: job.org_id,
                recipient,
                purpose,
                program,
                date,
                jobs: vec![(job, ctx)],
            }),
        }
    }

    pub(super) fn into_days(self) -> Vec<Day> {
        self.days
    }
}

/// `[start, end)` of a local date in the manager's zone.
fn day_bounds(ctx: &JobContext, date: Date) -> Option<(Timestamp, Timestamp)> {
    let zone = &ctx.calendar.zone;
    let next = date.tomorrow().ok()?;
    Some((
        zone.instant(date, Time::midnight())?,
        zone.instant(next, Time::midnight())?,
    ))
}

type Prepared = (
    Vec<(Job, DayMessage, Option<NewJob>)>,
    Vec<(Job, JobOutcome)>,
);

impl Dispatcher {
    /// The messages of one manager's day (one, unless it has more rows
    /// than fit), and the jobs that end without one. `sent_before`: what
    /// this round already gives the manager, for the weekly cap.
    pub(super) async fn prepare_day(&self, day: Day, sent_before: i64) -> Prepared {
        let now = self.app.clock.now();
        let (mut messages, mut done) = (Vec::new(), Vec::new());
        let mut waiting = Vec::new();
        for (job, mut ctx) in day.jobs {
            ctx.sent_last_week += sent_before;
            match skip_reason(&ctx, &job, now) {
                Some(reason) => done.push((job, ended(JobState::Skipped, reason))),
                None => waiting.push((job, ctx)),
            }
        }
        while !waiting.is_empty() {
            // A lead that already carries others (a retry) keeps them.
            let at = waiting
                .iter()
                .position(|(j, _)| j.batch_job_id == Some(j.id))
                .unwrap_or(0);
            let (mut lead, mut ctx) = waiting.remove(at);
            ctx.sent_last_week += messages.len() as i64;
            if let Some(reason) = skip_reason(&ctx, &lead, now) {
                done.push((lead, ended(JobState::Skipped, reason)));
                continue;
            }
            let Some((from, to)) = day_bounds(&ctx, day.date) else {
                done.push((lead, ended(JobState::Failed, "no such local day".into())));
                continue;
            };
            let same_day = SameDay {
                org: day.org,
                recipient: day.recipient,
                purpose: day.purpose,
                program: day.program,
                from,
                to,
                owner: &self.owner,
            };
            // At most one message a manager's day (PRODUCT.md): a job
            // planned after the day's message went out waits for the next
            // working day's (a retried lead is that message itself).
            let fresh = lead.batch_job_id != Some(lead.id) && !lead.verify_first;
            if fresh {
                match self.next_day(&same_day, &lead, &ctx, day.date, now).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        let o = self.retry(&lead, format!("database: {e}"), false);
                        done.push((lead, o));
                        continue;
                    }
                }
            }
            let carried = match self.claim(&same_day, &lead, &waiting, now).await {
                Ok(c) => c,
                Err(e) => {
                    let o = self.retry(&lead, format!("database: {e}"), lead.verify_first);
                    done.push((lead, o));
                    continue;
                }
            };
            // Empty: the lead's lease was lost; its new holder sends it.
            if carried.is_empty() {
                continue;
            }
            waiting.retain(|(j, _)| !carried.iter().any(|c| c.id == j.id));
            lead.batch_job_id = Some(lead.id);
            let contexts = self.app.job_contexts(&carried).await;
            let rows: Vec<(&Job, &JobContext)> = carried
                .iter()
                .zip(&contexts)
                .filter_map(|(j, c)| Some((j, c.as_ref().ok()?)))
                .collect();
            let message = self
                .app
                .batch_message_from(lead.id, &rows, &Default::default(), None);
            let Some(message) = message else {
                done.push((
                    lead,
                    ended(JobState::Skipped, "no report to ask about".into()),
                ));
                continue;
            };
            match self.ready(&ctx, message) {
                Ok(ready) => {
                    let reminder = reminder_for(&ctx, &lead, now);
                    let recipient = day.recipient;
                    messages.push((lead, DayMessage { ready, recipient }, reminder));
                }
                Err(outcome) => done.push((lead, outcome)),
            }
        }
        (messages, done)
    }

    /// Defers `lead` to the manager's next working day at its planned
    /// local time when this day's message already went out; `true` when it
    /// was deferred (or another dispatcher holds it now).
    async fn next_day(
        &self,
        day: &SameDay<'_>,
        lead: &Job,
        ctx: &JobContext,
        date: Date,
        now: Timestamp,
    ) -> Result<bool, AppError> {
        if !self.app.day_message_sent(day).await? {
            return Ok(false);
        }
        let zone = &ctx.calendar.zone;
        let at = lead.planned_due_at.to_zoned(zone.tz().clone()).time();
        let Some(due) = date
            .tomorrow()
            .ok()
            .and_then(|d| ctx.calendar.first_allowed(d, at))
        else {
            return Ok(false);
        };
        let reason = "deferred: the manager's message of that day had already gone out";
        self.app
            .defer_to_day(day, lead.id, &self.owner, due, reason, now)
            .await?;
        Ok(true)
    }

    /// Claims for `lead` the other jobs of its day: this round's and those
    /// due later that day (each still sendable), up to a message's rows.
    /// A lead that already carries others, or whose earlier send may have
    /// arrived, takes nothing new: its message stays as it was.
    async fn claim(
        &self,
        day: &SameDay<'_>,
        lead: &Job,
        waiting: &[(Job, JobContext)],
        now: Timestamp,
    ) -> Result<Vec<Job>, AppError> {
        let mut others = Vec::new();
        if lead.batch_job_id != Some(lead.id) && !lead.verify_first {
            others.extend(waiting.iter().map(|(j, _)| j.id));
            let later = self.app.same_day_jobs(day).await?;
            let contexts = self.app.job_contexts(&later).await;
            for (job, ctx) in later.iter().zip(contexts) {
                match ctx {
                    Ok(c) if skip_reason(&c, job, now).is_none() => others.push(job.id),
                    Ok(_) => {}
                    Err(AppError::Store(e)) => return Err(AppError::Store(e)),
                    Err(_) => {}
                }
            }
            others.truncate(MAX_ROWS - 1);
        }
        Ok(self.app.claim_batch(day, lead.id, &others, now).await?)
    }
}
