//! Per-participant session instances: a completion is stored once, keyed by
//! (participant, session number) and by the caller's external id.

use super::{col, millis, OrgId, Result, Store, StoreError};
use jiff::civil::Date;
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// First time this completion was heard of.
    Recorded,
    /// Already known (a repeated webhook, or webhook and chat both reported it).
    AlreadyRecorded { completed_on: Date },
}

/// A session a participant completed, as reported by a source.
#[derive(Debug, Clone)]
pub struct SessionCompletion<'a> {
    pub participant_id: i64,
    pub number: u32,
    pub completed_on: Date,
    /// Who reported it: `api`, `chat`, `import`, `demo`.
    pub source: &'a str,
    /// The source's own id for the event.
    pub external_id: Option<&'a str>,
}

impl Store {
    pub async fn record_session_completed(
        &self,
        org: OrgId,
        c: &SessionCompletion<'_>,
        now: Timestamp,
    ) -> Result<Completion> {
        let (participant_id, number, completed_on, source, external_id) = (
            c.participant_id,
            c.number,
            c.completed_on,
            c.source,
            c.external_id,
        );
        let mut tx = self.pool.begin().await?;
        if let Some(ext) = external_id {
            let other: Option<(i64, i64)> = sqlx::query_as(
                "SELECT participant_id, number FROM sessions WHERE org_id = $1 AND external_id = $2",
            )
            .bind(org.0)
            .bind(ext)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((p, n)) = other {
                if p != participant_id || n != i64::from(number) {
                    return Err(StoreError::Conflict(format!(
                        "external id {ext:?} was already used for another participant or session"
                    )));
                }
            }
        }
        let existing = sqlx::query(
            "SELECT completed_on FROM sessions WHERE org_id = $1 AND participant_id = $2 AND number = $3",
        )
        .bind(org.0)
        .bind(participant_id)
        .bind(i64::from(number))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = &existing {
            if let Some(on) = col::<Option<String>>(row, "completed_on")? {
                tx.commit().await?;
                return Ok(Completion::AlreadyRecorded {
                    completed_on: super::parse_date(&on)?,
                });
            }
        }
        let on = completed_on.to_string();
        if existing.is_some() {
            sqlx::query(
                "UPDATE sessions SET completed_on = $1, completed_at = $2, source = $3, external_id = $4 \
                 WHERE org_id = $5 AND participant_id = $6 AND number = $7",
            )
            .bind(&on)
            .bind(millis(now))
            .bind(source)
            .bind(external_id)
            .bind(org.0)
            .bind(participant_id)
            .bind(i64::from(number))
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO sessions (org_id, participant_id, number, completed_on, completed_at, source, external_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org.0)
            .bind(participant_id)
            .bind(i64::from(number))
            .bind(&on)
            .bind(millis(now))
            .bind(source)
            .bind(external_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Completion::Recorded)
    }

    pub async fn completed_sessions(
        &self,
        org: OrgId,
        participant_id: i64,
    ) -> Result<Vec<(u32, Date)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT number, completed_on FROM sessions WHERE org_id = $1 AND participant_id = $2 AND completed_on IS NOT NULL ORDER BY number",
        )
        .bind(org.0)
        .bind(participant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(n, d)| Ok((n as u32, super::parse_date(&d)?)))
            .collect()
    }

    /// Every completed session of a program's participants, by participant.
    pub async fn program_completed_sessions(
        &self,
        org: OrgId,
        program_id: i64,
    ) -> Result<std::collections::HashMap<i64, Vec<(u32, Date)>>> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT s.participant_id, s.number, s.completed_on FROM sessions s \
             JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2 AND s.completed_on IS NOT NULL ORDER BY s.participant_id, s.number",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: std::collections::HashMap<i64, Vec<(u32, Date)>> =
            std::collections::HashMap::new();
        for (participant, number, on) in rows {
            out.entry(participant)
                .or_default()
                .push((number as u32, super::parse_date(&on)?));
        }
        Ok(out)
    }

    /// Imports completed sessions (an imported schedule); ones already known
    /// are left as they are. Returns how many were new.
    pub async fn import_completed_sessions(
        &self,
        org: OrgId,
        rows: &[(i64, u32, Date)],
        source: &str,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for chunk in rows.chunks(500) {
            let mut p = super::Placeholders::new(self.backend);
            let values: Vec<String> = chunk.iter().map(|_| p.row(6)).collect();
            let sql = format!(
                "INSERT INTO sessions (org_id, participant_id, number, completed_on, completed_at, source) VALUES {} \
                 ON CONFLICT (participant_id, number) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (participant, number, on) in chunk {
                q = q
                    .bind(org.0)
                    .bind(*participant)
                    .bind(i64::from(*number))
                    .bind(on.to_string())
                    .bind(millis(now))
                    .bind(source);
            }
            added += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }
}
