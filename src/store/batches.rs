//! A manager's day message: the reports' jobs it carries are claimed by its
//! lead job in one transaction, wait as `batched` (never leased on their
//! own, so no other dispatcher sends them), and take the lead's outcome in
//! the transaction that records it. A retry of the lead finds them again.

use super::jobs::{job, Job, COLUMNS};
use super::{millis, JobId, OrgId, PersonId, ProgramId, Result, Store};
use jiff::Timestamp;
use sqlx::{Any, Transaction};

/// The jobs a manager's day message may carry: unsent jobs of this
/// recipient and purpose planned within `[from, to)`.
pub struct SameDay<'a> {
    pub org: OrgId,
    pub recipient: PersonId,
    pub purpose: crate::domain::JobPurpose,
    /// Only this program's (observations: its question and scale).
    pub program: Option<ProgramId>,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The dispatcher whose leased jobs may be claimed too.
    pub owner: &'a str,
}

impl SameDay<'_> {
    /// The program condition, if any (an id, never text from outside).
    fn in_program(&self) -> String {
        self.program
            .map(|p| format!(" AND program_id = {p}"))
            .unwrap_or_default()
    }
}

fn id_list(ids: &[JobId]) -> String {
    ids.iter()
        .map(JobId::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Pending jobs not due yet that a day's message may carry along.
    pub async fn same_day_jobs(&self, day: &SameDay<'_>) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND recipient_person_id = $2 AND purpose = $3 \
             AND state = 'pending' AND batch_job_id IS NULL AND reminds_job_id IS NULL \
             AND planned_due_at >= $4 AND planned_due_at < $5{} ORDER BY planned_due_at, id",
            day.in_program()
        ))
        .bind(day.org.0)
        .bind(day.recipient)
        .bind(day.purpose.as_str())
        .bind(millis(day.from))
        .bind(millis(day.to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job).collect()
    }

    /// Whether the manager already got this day's message (a lead sent).
    pub async fn day_message_sent(&self, day: &SameDay<'_>) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND recipient_person_id = $2 AND purpose = $3 \
             AND state = 'sent' AND (batch_job_id IS NULL OR batch_job_id = id) \
             AND planned_due_at >= $4 AND planned_due_at < $5{}",
            day.in_program()
        ))
        .bind(day.org.0)
        .bind(day.recipient)
        .bind(day.purpose.as_str())
        .bind(millis(day.from))
        .bind(millis(day.to))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Moves a job leased by `owner` to another day: pending again, planned
    /// and due at `due` (so it joins that day's message), with `reason`.
    pub async fn defer_to_day(
        &self,
        org: OrgId,
        job_id: JobId,
        owner: &str,
        due: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'pending', due_at = $1, planned_due_at = $1, lease_owner = NULL, lease_until = NULL, \
             outcome = $2, updated_at = $3 WHERE org_id = $4 AND id = $5 AND state = 'leased' AND lease_owner = $6",
        )
        .bind(millis(due))
        .bind(reason)
        .bind(millis(now))
        .bind(org.0)
        .bind(job_id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// Makes `lead` (leased by `owner`) carry `others` (pending, or leased
    /// by `owner`; any other state is left alone) in one transaction.
    /// Returns every job the lead carries, itself first, or nothing when
    /// the lead's lease was lost (another dispatcher has it now).
    pub async fn claim_batch(
        &self,
        day: &SameDay<'_>,
        lead: JobId,
        others: &[JobId],
        now: Timestamp,
    ) -> Result<Vec<Job>> {
        let mut tx = self.pool.begin().await?;
        let led = sqlx::query(
            "UPDATE jobs SET batch_job_id = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $1 AND state = 'leased' AND lease_owner = $4",
        )
        .bind(lead)
        .bind(millis(now))
        .bind(day.org.0)
        .bind(day.owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if led == 0 {
            return Ok(Vec::new());
        }
        if !others.is_empty() {
            sqlx::query(&format!(
                "UPDATE jobs SET state = 'batched', batch_job_id = $1, lease_until = NULL, updated_at = $2 \
                 WHERE org_id = $3 AND recipient_person_id = $4 AND purpose = $5 \
                 AND ((state = 'pending' AND batch_job_id IS NULL) \
                      OR (state = 'leased' AND lease_owner = $6 AND (batch_job_id IS NULL OR batch_job_id <> id))) \
                 AND id IN ({}){}",
                id_list(others),
                day.in_program()
            ))
            .bind(lead)
            .bind(millis(now))
            .bind(day.org.0)
            .bind(day.recipient)
            .bind(day.purpose.as_str())
            .bind(day.owner)
            .execute(&mut *tx)
            .await?;
        }
        let carried = batch_in(&mut tx, day.org, lead).await?;
        tx.commit().await?;
        Ok(carried)
    }

    /// Every job a day's message carries, its lead first, then by plan.
    pub async fn batch_jobs(&self, org: OrgId, lead: JobId) -> Result<Vec<Job>> {
        let mut tx = self.pool.begin().await?;
        let jobs = batch_in(&mut tx, org, lead).await?;
        tx.commit().await?;
        Ok(jobs)
    }
}

async fn batch_in(tx: &mut Transaction<'static, Any>, org: OrgId, lead: JobId) -> Result<Vec<Job>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND batch_job_id = $2 \
         ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END, planned_due_at, id"
    ))
    .bind(org.0)
    .bind(lead)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(job).collect()
}

/// The jobs carried by these leads take their lead's outcome, once it has
/// one (sent where it was sent, or ended with its reason); a lead that
/// will be retried keeps them waiting.
pub(super) async fn settle(
    tx: &mut Transaction<'static, Any>,
    leads: &[JobId],
    now: Timestamp,
) -> Result<()> {
    if leads.is_empty() {
        return Ok(());
    }
    let lead = |c: &str| format!("(SELECT l.{c} FROM jobs l WHERE l.id = jobs.batch_job_id)");
    sqlx::query(&format!(
        "UPDATE jobs SET state = {}, outcome = {}, channel_id = {}, message_ts = {}, sent_at = {}, updated_at = $1 \
         WHERE state = 'batched' AND batch_job_id IN ({}) \
         AND EXISTS (SELECT 1 FROM jobs l WHERE l.id = jobs.batch_job_id AND l.org_id = jobs.org_id \
                     AND l.state IN ('sent', 'skipped', 'failed', 'unknown'))",
        lead("state"),
        lead("outcome"),
        lead("channel_id"),
        lead("message_ts"),
        lead("sent_at"),
        id_list(leads)
    ))
    .bind(millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
