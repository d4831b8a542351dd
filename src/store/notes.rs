//! Private notes: stored sealed (the app seals them under the organisation's
//! data key); only their author's id finds them.

use super::{col, instant, millis, JobId, OrgId, PersonId, Result, Store};
use jiff::Timestamp;

/// A stored note, still sealed.
#[derive(Debug, Clone)]
pub struct SealedNote {
    pub id: i64,
    pub job_id: Option<JobId>,
    pub sealed: Vec<u8>,
    pub created_at: Timestamp,
}

impl Store {
    pub async fn add_note(
        &self,
        org: OrgId,
        person_id: PersonId,
        job_id: Option<JobId>,
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO notes (org_id, person_id, job_id, sealed, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org.0)
        .bind(person_id)
        .bind(job_id)
        .bind(sealed.to_vec())
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// How many notes the author has written.
    pub async fn note_count(&self, org: OrgId, person_id: PersonId) -> Result<usize> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE org_id = $1 AND person_id = $2")
                .bind(org.0)
                .bind(person_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n as usize)
    }

    /// The author's notes, newest first.
    pub async fn notes_of(&self, org: OrgId, person_id: PersonId) -> Result<Vec<SealedNote>> {
        let rows = sqlx::query(
            "SELECT id, job_id, sealed, created_at FROM notes WHERE org_id = $1 AND person_id = $2 ORDER BY created_at DESC, id DESC",
        )
        .bind(org.0)
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SealedNote {
                    id: col(r, "id")?,
                    job_id: col(r, "job_id")?,
                    sealed: col(r, "sealed")?,
                    created_at: instant(col(r, "created_at")?)?,
                })
            })
            .collect()
    }
}
