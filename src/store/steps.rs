//! The small steps participants name: stored sealed (the app seals them
//! under the organisation's data key), found only by their participation.

use super::{col, instant, millis, JobId, OrgId, ParticipantId, PersonId, Result, Store};
use jiff::Timestamp;
use std::collections::HashMap;

/// A participant's step for one session, still sealed; `sealed` is `None`
/// for "no step this time" (or a step its author deleted).
#[derive(Debug, Clone)]
pub struct SealedStep {
    pub participant_id: ParticipantId,
    pub session: u32,
    /// The small-step nudge it answered (none when named elsewhere).
    pub job_id: Option<JobId>,
    pub sealed: Option<Vec<u8>>,
    pub updated_at: Timestamp,
}

impl Store {
    /// Names (or replaces, or declines with `None`) the step of a
    /// participation's session. The first answer's time stays: it is when
    /// the nudge `job_id` was answered.
    pub async fn save_step(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
        session: u32,
        job_id: Option<JobId>,
        sealed: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO steps (org_id, participant_id, session, job_id, sealed, first_answered_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (participant_id, session) DO UPDATE SET sealed = excluded.sealed, \
               updated_at = excluded.updated_at, job_id = COALESCE(steps.job_id, excluded.job_id)",
        )
        .bind(org.0)
        .bind(participant_id)
        .bind(i64::from(session))
        .bind(job_id)
        .bind(sealed.map(<[u8]>::to_vec))
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The step of one session of a participation, if named or declined.
    pub async fn step(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
        session: u32,
    ) -> Result<Option<SealedStep>> {
        Ok(self
            .steps_where(
                org,
                "participant_id = $2 AND session = $3",
                participant_id.0,
                Some(session),
            )
            .await?
            .pop())
    }

    /// Every step of a person, in all their programs, oldest session first.
    pub async fn steps_of_person(
        &self,
        org: OrgId,
        person_id: PersonId,
    ) -> Result<Vec<SealedStep>> {
        self.steps_where(
            org,
            "participant_id IN (SELECT id FROM participants WHERE org_id = $1 AND person_id = $2)",
            person_id.0,
            None,
        )
        .await
    }

    /// Every step of these participations (a dispatcher round's), by
    /// participation and session: one query instead of one a nudge.
    pub async fn steps_of_participants(
        &self,
        org: OrgId,
        participants: &[ParticipantId],
    ) -> Result<HashMap<(ParticipantId, u32), SealedStep>> {
        let mut out = HashMap::new();
        let mut ids: Vec<i64> = participants.iter().map(|p| p.0).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT participant_id, session, job_id, sealed, updated_at FROM steps \
                 WHERE org_id = $1 AND participant_id IN ({})",
                list.join(",")
            );
            for row in sqlx::query(&sql).bind(org.0).fetch_all(&self.pool).await? {
                let step = sealed_step(&row)?;
                out.insert((step.participant_id, step.session), step);
            }
        }
        Ok(out)
    }

    async fn steps_where(
        &self,
        org: OrgId,
        filter: &str,
        id: i64,
        session: Option<u32>,
    ) -> Result<Vec<SealedStep>> {
        let sql = format!(
            "SELECT participant_id, session, job_id, sealed, updated_at FROM steps \
             WHERE org_id = $1 AND {filter} ORDER BY participant_id, session"
        );
        let mut q = sqlx::query(&sql).bind(org.0).bind(id);
        if let Some(s) = session {
            q = q.bind(i64::from(s));
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(sealed_step).collect()
    }
}

fn sealed_step(r: &sqlx::any::AnyRow) -> Result<SealedStep> {
    let session: i64 = col(r, "session")?;
    Ok(SealedStep {
        participant_id: col(r, "participant_id")?,
        session: u32::try_from(session).unwrap_or_default(),
        job_id: col(r, "job_id")?,
        sealed: col(r, "sealed")?,
        updated_at: instant(col(r, "updated_at")?)?,
    })
}
