//! Retention: raw events older than the retention period are deleted; the
//! weekly aggregates (`weekly_trends`, `digests`) stay.

use super::{millis, ParticipantId, Result, Store};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Rows deleted by one retention run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Removed {
    pub taps: u64,
    pub answers: u64,
    pub jobs: u64,
    pub notes: u64,
    /// Named small steps (personal words, like notes).
    pub steps: u64,
}

impl Store {
    /// Claims the periodic task `name` when it last ran `every` ago or more
    /// (or never): true for exactly one replica.
    pub async fn claim_maintenance(
        &self,
        name: &str,
        now: Timestamp,
        every: SignedDuration,
    ) -> Result<bool> {
        sqlx::query(
            "INSERT INTO maintenance (name, last_run) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query("UPDATE maintenance SET last_run = $1 WHERE name = $2 AND last_run <= $3")
                .bind(millis(now))
                .bind(name)
                .bind(millis(now - every))
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Deletes taps, answers, notes and ended jobs from before `cutoff`, in
    /// one transaction. A job still referenced by a newer answer stays, and
    /// so do the self-assessments (with their taps and jobs) of the
    /// participants in `assessments_kept`.
    pub async fn delete_raw_before(
        &self,
        cutoff: Timestamp,
        assessments_kept: &[ParticipantId],
    ) -> Result<Removed> {
        let at = millis(cutoff);
        // Ids are integers from the store itself: safe to inline.
        let kept = if assessments_kept.is_empty() {
            "0".to_string()
        } else {
            assessments_kept
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let kept_jobs = format!(
            "SELECT k.job_id FROM pulses k WHERE k.kind = 'self' AND k.participant_id IN ({kept})"
        );
        let mut tx = self.pool.begin().await?;
        let mut removed = Removed {
            taps: sqlx::query(&format!(
                "DELETE FROM taps WHERE tapped_at < $1 AND job_id NOT IN ({kept_jobs})"
            ))
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            ..Removed::default()
        };
        for table in ["reports", "checkins", "pulses"] {
            let keep = if table == "pulses" {
                format!(" AND job_id NOT IN ({kept_jobs})")
            } else {
                String::new()
            };
            removed.answers += sqlx::query(&format!(
                "DELETE FROM {table} WHERE answered_at < $1{keep} \
                 AND NOT EXISTS (SELECT 1 FROM taps t WHERE t.job_id = {table}.job_id)"
            ))
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        removed.jobs = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('sent', 'skipped', 'failed', 'unknown') AND updated_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM taps t WHERE t.job_id = jobs.id) \
             AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.job_id = jobs.id) \
             AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.job_id = jobs.id) \
             AND NOT EXISTS (SELECT 1 FROM pulses p WHERE p.job_id = jobs.id) \
             AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.job_id = jobs.id)",
        )
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        removed.notes = sqlx::query("DELETE FROM notes WHERE created_at < $1")
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Named steps are personal words like notes: they go with them.
        removed.steps = sqlx::query("DELETE FROM steps WHERE updated_at < $1")
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Charts are aggregates but have no use after their digest's week.
        sqlx::query("DELETE FROM charts WHERE created_at < $1")
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }
}
