//! Taps: a participant's report on a nudge, a manager's answer to a check-in.
//! The current answer per job is kept, every change is kept in `taps`, and a
//! re-delivered tap (same delivery key) changes nothing.

use super::{millis, JobId, OrgId, ParticipantId, PersonId, ProgramId, Result, Store};
use jiff::Timestamp;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapOutcome {
    Recorded,
    Duplicate,
}

/// Which answer table a tap goes to.
#[derive(Debug, Clone, Copy)]
pub enum TapTarget {
    Report {
        participant_id: ParticipantId,
    },
    Checkin {
        participant_id: ParticipantId,
        manager_person_id: PersonId,
    },
    /// A value on a scale: a self-assessment or a manager's observation
    /// (`day` days after the first completed session), or the pulse question.
    Scale {
        participant_id: ParticipantId,
        kind: ScaleKind,
        day: i64,
    },
}

/// Which question a value on a scale answers (the `kind` of a `pulses` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    SelfAssessment,
    Observation,
    PulseQuestion,
}

impl ScaleKind {
    fn as_str(self) -> &'static str {
        match self {
            ScaleKind::SelfAssessment => "self",
            ScaleKind::Observation => "manager",
            ScaleKind::PulseQuestion => "question",
        }
    }
}

/// One tap, ready to store.
#[derive(Debug, Clone)]
pub struct NewTap<'a> {
    pub job_id: JobId,
    pub program_id: ProgramId,
    pub person_id: PersonId,
    pub target: TapTarget,
    pub answer: &'a str,
    /// Same key = the same tap delivered again.
    pub delivery_key: &'a str,
    pub at: Timestamp,
}

/// Writes one tap inside a transaction: the tap, then its answer (unless
/// the same delivery was stored before).
pub(super) async fn write_tap(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    tap: &NewTap<'_>,
) -> Result<TapOutcome> {
    let NewTap {
        job_id,
        program_id,
        person_id,
        answer,
        delivery_key,
        at,
        ..
    } = *tap;
    let inserted = sqlx::query(
        "INSERT INTO taps (org_id, job_id, person_id, answer, delivery_key, tapped_at, program_id) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (org_id, delivery_key) DO NOTHING",
    )
    .bind(org.0)
    .bind(job_id)
    .bind(person_id)
    .bind(answer)
    .bind(delivery_key)
    .bind(millis(at))
    .bind(program_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(TapOutcome::Duplicate);
    }
    write_answer(tx, org, tap).await?;
    Ok(TapOutcome::Recorded)
}

/// Stores a tap's answer as the job's current one (in its target's table).
pub(super) async fn write_answer(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    tap: &NewTap<'_>,
) -> Result<()> {
    let NewTap {
        job_id,
        target,
        answer,
        at,
        ..
    } = *tap;
    match target {
        TapTarget::Report { participant_id } => {
            sqlx::query(
            "INSERT INTO reports (org_id, participant_id, job_id, answer, first_answered_at, answered_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (job_id) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at \
             WHERE excluded.answered_at >= reports.answered_at",
        )
        .bind(org.0)
        .bind(participant_id)
        .bind(job_id)
        .bind(answer)
        .bind(millis(at))
        .execute(&mut **tx)
        .await?;
        }
        TapTarget::Checkin {
            participant_id,
            manager_person_id,
        } => {
            sqlx::query(
            "INSERT INTO checkins (org_id, participant_id, manager_person_id, job_id, answer, first_answered_at, answered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (job_id) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at \
             WHERE excluded.answered_at >= checkins.answered_at",
        )
        .bind(org.0)
        .bind(participant_id)
        .bind(manager_person_id)
        .bind(job_id)
        .bind(answer)
        .bind(millis(at))
        .execute(&mut **tx)
        .await?;
        }
        TapTarget::Scale {
            participant_id,
            kind,
            day,
        } => {
            let value: i64 = answer.parse().map_err(|_| {
                super::StoreError::Conflict(format!("{answer:?} is not a value on the scale"))
            })?;
            sqlx::query(
            "INSERT INTO pulses (org_id, participant_id, job_id, kind, day, value, first_answered_at, answered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at \
             WHERE excluded.answered_at >= pulses.answered_at",
        )
        .bind(org.0)
        .bind(participant_id)
        .bind(job_id)
        .bind(kind.as_str())
        .bind(day)
        .bind(value)
        .bind(millis(at))
        .execute(&mut **tx)
        .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores a tap durably: committed (and synced) before returning.
    /// Concurrent taps are committed together (group commit, `tap_writer`),
    /// so that a burst costs one sync instead of one each.
    pub async fn record_tap(&self, org: OrgId, tap: &NewTap<'_>) -> Result<TapOutcome> {
        super::tap_writer::record(self, org, tap).await
    }

    /// Checks a tap against what the database holds (its job, and the job's
    /// recipient as the tapping chat identity) and stores it, in the same
    /// group commit: the hot path costs no query of its own.
    pub async fn check_and_record_tap(&self, tap: super::TapToCheck) -> Result<super::CheckedTap> {
        super::tap_writer::check_and_record(self, tap).await
    }

    /// The current answer to a job, from whichever table holds it.
    pub async fn current_answer(&self, org: OrgId, job_id: JobId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT answer FROM reports WHERE org_id = $1 AND job_id = $2 \
             UNION ALL SELECT answer FROM checkins WHERE org_id = $1 AND job_id = $2 \
             UNION ALL SELECT CAST(value AS TEXT) FROM pulses WHERE org_id = $1 AND job_id = $2",
        )
        .bind(org.0)
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The current answers to these manager's jobs (check-ins and
    /// observations), by job.
    pub async fn manager_answers(
        &self,
        org: OrgId,
        job_ids: &[JobId],
    ) -> Result<std::collections::HashMap<JobId, String>> {
        if job_ids.is_empty() {
            return Ok(Default::default());
        }
        let list = job_ids
            .iter()
            .map(JobId::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<(JobId, String)> = sqlx::query_as(&format!(
            "SELECT job_id, answer FROM checkins WHERE org_id = $1 AND job_id IN ({list}) \
             UNION ALL SELECT job_id, CAST(value AS TEXT) FROM pulses WHERE org_id = $1 AND job_id IN ({list})"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// How many taps (including changes) a job has received.
    pub async fn tap_count(&self, org: OrgId, job_id: JobId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM taps WHERE org_id = $1 AND job_id = $2")
                .bind(org.0)
                .bind(job_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A participant's reports, newest first: (session, answer, answered at).
    pub async fn report_history(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
    ) -> Result<Vec<(Option<i64>, String, Timestamp)>> {
        let rows: Vec<(Option<i64>, String, i64)> = sqlx::query_as(
            "SELECT j.session_number, r.answer, r.answered_at FROM reports r JOIN jobs j ON j.id = r.job_id AND j.org_id = r.org_id \
             WHERE r.org_id = $1 AND r.participant_id = $2 ORDER BY r.answered_at DESC, r.id DESC",
        )
        .bind(org.0)
        .bind(participant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(s, a, at)| Ok((s, a, super::instant(at)?)))
            .collect()
    }

    /// The latest pulse sent to a person (their self-assessment, or an
    /// observation asked of them as a manager) that has no answer yet.
    pub async fn unanswered_assessment(
        &self,
        org: OrgId,
        person_id: PersonId,
    ) -> Result<Option<JobId>> {
        Ok(sqlx::query_scalar(
            "SELECT j.id FROM jobs j WHERE j.org_id = $1 AND j.recipient_person_id = $2 \
               AND j.purpose IN ('self_assessment', 'manager_observation') AND j.state = 'sent' \
               AND NOT EXISTS (SELECT 1 FROM pulses p WHERE p.org_id = j.org_id AND p.job_id = j.id) \
             ORDER BY j.sent_at DESC, j.id DESC LIMIT 1",
        )
        .bind(org.0)
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
