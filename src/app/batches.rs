//! A manager's day message: every report due that day in one check-in (and
//! one message of observations), a row each, answered per report
//! (PRODUCT.md: at most one check-in a working day).

use super::delivery::{locale_for, report_row};
use super::*;
use crate::store::batches::SameDay;
use crate::store::Job;
use jiff::Timestamp;

/// Rows in one message, within Slack's 50 blocks and Teams' 28 KB; more
/// reports due the same day go in a second message.
pub const MAX_ROWS: usize = 12;

impl App {
    /// The message `lead` carries, rows in its order (the lead first), each
    /// showing its stored answer in `answers`. `None` without rows.
    pub fn batch_message_from(
        &self,
        lead: JobId,
        carried: &[(&Job, &JobContext)],
        answers: &HashMap<JobId, String>,
        reminder_job: Option<JobId>,
    ) -> Option<Message> {
        let (first_job, first) = carried.first()?;
        let locale = locale_for(first.recipient.as_ref(), &first.program);
        let answer = |id: JobId| answers.get(&id).map(String::as_str);
        Some(match first_job.purpose {
            JobPurpose::ManagerObservation => {
                let sa = first.program.spec.self_assessment.as_ref();
                Message::Observations {
                    job_id: lead,
                    question: sa.map(|s| s.manager_question.clone()).unwrap_or_default(),
                    min: sa.map_or(1, |s| s.scale_min),
                    max: sa.map_or(5, |s| s.scale_max),
                    rows: carried
                        .iter()
                        .map(|(j, c)| {
                            report_row(c, j.id, answer(j.id).and_then(|a| a.parse().ok()))
                        })
                        .collect(),
                    reminder_job,
                    locale,
                }
            }
            _ => Message::Checkin {
                job_id: lead,
                rows: carried
                    .iter()
                    .map(|(j, c)| report_row(c, j.id, answer(j.id).and_then(CheckinAnswer::parse)))
                    .collect(),
                reminder_job,
                locale,
            },
        })
    }

    /// Whether `day`'s message already went out.
    pub async fn day_message_sent(&self, day: &SameDay<'_>) -> crate::store::Result<bool> {
        self.store.day_message_sent(day).await
    }

    /// Moves `lead`, leased by `owner`, to `due` on a later day, for `reason`.
    pub async fn defer_to_day(
        &self,
        day: &SameDay<'_>,
        lead: JobId,
        owner: &str,
        due: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> crate::store::Result<bool> {
        let org = day.org;
        self.store
            .defer_to_day(org, lead, owner, due, reason, now)
            .await
    }

    /// The jobs due later on `day` that its message may carry along.
    pub async fn same_day_jobs(&self, day: &SameDay<'_>) -> crate::store::Result<Vec<Job>> {
        self.store.same_day_jobs(day).await
    }

    /// Makes `lead` carry `others` in `day`'s message; returns every job it
    /// carries, itself first, or nothing when its lease was lost.
    pub async fn claim_batch(
        &self,
        day: &SameDay<'_>,
        lead: JobId,
        others: &[JobId],
        now: Timestamp,
    ) -> crate::store::Result<Vec<Job>> {
        self.store.claim_batch(day, lead, others, now).await
    }

    /// The message `lead` carries, as it stands (every answer stored so
    /// far); for its reminder, `reminder_job`.
    pub async fn batch_message(
        &self,
        org: OrgId,
        lead: JobId,
        reminder_job: Option<JobId>,
    ) -> AppResult<Message> {
        let jobs = self.store.batch_jobs(org, lead).await?;
        let contexts = self.job_contexts(&jobs).await;
        let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
        let answers = self.store.manager_answers(org, &ids).await?;
        // A report erased since is left out.
        let carried: Vec<(&Job, &JobContext)> = jobs
            .iter()
            .zip(&contexts)
            .filter_map(|(j, c)| Some((j, c.as_ref().ok()?)))
            .collect();
        self.batch_message_from(lead, &carried, &answers, reminder_job)
            .ok_or_else(|| AppError::NotFound("the message's reports no longer exist".into()))
    }
}
