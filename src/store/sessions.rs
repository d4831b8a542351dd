//! Per-participant session instances: a completion is stored once, keyed by
//! (participant, session number) and by the caller's external id.

use super::{col, millis, OrgId, ParticipantId, ProgramId, Result, Store, StoreError};
use crate::domain::dates::OwnDate;
use jiff::civil::Date;
use jiff::Timestamp;
use std::collections::HashMap;

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
    pub participant_id: ParticipantId,
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
            let other: Option<(ParticipantId, i64)> = sqlx::query_as(
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
        participant_id: ParticipantId,
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
        program_id: ProgramId,
    ) -> Result<std::collections::HashMap<ParticipantId, Vec<(u32, Date)>>> {
        let rows: Vec<(ParticipantId, i64, String)> = sqlx::query_as(
            "SELECT s.participant_id, s.number, s.completed_on FROM sessions s \
             JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2 AND s.completed_on IS NOT NULL ORDER BY s.participant_id, s.number",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: std::collections::HashMap<ParticipantId, Vec<(u32, Date)>> =
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

/// (number, planned_on, planned_source, completed_on, source).
type ReportedRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Participants' own planned dates, by participant.
pub type OwnDates = HashMap<ParticipantId, Vec<(u32, OwnDate)>>;

fn own_date(planned_on: Option<String>) -> Result<OwnDate> {
    Ok(match planned_on {
        Some(d) => OwnDate::On(super::parse_date(&d)?),
        None => OwnDate::Unscheduled,
    })
}

/// Which earlier dates a source's date replaces. The later, more personal
/// word wins: a program file gives way to everything; a bookings calendar
/// replaces the file's dates and its own earlier ones, never a date the
/// participant gave in chat or a caller set through the API for that
/// session.
#[derive(Clone, Copy)]
enum Replaces {
    Any,
    FileOnly,
    FileAndCalendar,
}

/// Gives a participant their own date for a session, where `replaces`
/// allows it. Returns whether the row was written.
async fn put_own_date(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    participant_id: ParticipantId,
    number: u32,
    date: OwnDate,
    source: &str,
    replaces: Replaces,
) -> Result<bool> {
    let guard = match replaces {
        Replaces::Any => "",
        Replaces::FileOnly => {
            " WHERE sessions.planned_source IS NULL OR sessions.planned_source = 'file'"
        }
        Replaces::FileAndCalendar => {
            " WHERE sessions.planned_source IS NULL OR sessions.planned_source IN ('file', 'calendar')"
        }
    };
    let written = sqlx::query(&format!(
        "INSERT INTO sessions (org_id, participant_id, number, planned_on, planned_source) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (participant_id, number) DO UPDATE SET planned_on = excluded.planned_on, planned_source = excluded.planned_source{guard}"
    ))
    .bind(org.0)
    .bind(participant_id)
    .bind(i64::from(number))
    .bind(date.date().map(|d| d.to_string()))
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(written.rows_affected() > 0)
}

/// Drops a participant's own dates for sessions not in `keep` (those with
/// `source` only, when given): they follow their cohort's or program's again.
async fn drop_own_dates(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    participant_id: ParticipantId,
    keep: &[u32],
    source: Option<&str>,
) -> Result<()> {
    let keep = keep
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let not_kept = if keep.is_empty() {
        String::new()
    } else {
        format!(" AND number NOT IN ({keep})")
    };
    let of_source = if source.is_some() {
        " AND planned_source = $3"
    } else {
        " AND planned_source IS NOT NULL"
    };
    for sql in [
        format!("UPDATE sessions SET planned_on = NULL, planned_source = NULL WHERE org_id = $1 AND participant_id = $2{of_source}{not_kept}"),
        // A row with neither a date of its own nor a completion says nothing.
        "DELETE FROM sessions WHERE org_id = $1 AND participant_id = $2 AND completed_on IS NULL AND planned_source IS NULL".to_string(),
    ] {
        let mut query = sqlx::query(&sql).bind(org.0).bind(participant_id);
        if let (Some(s), true) = (source, sql.contains("$3")) {
            query = query.bind(s);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// A participant's own planned dates.
    pub async fn own_dates(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
    ) -> Result<Vec<(u32, OwnDate)>> {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT number, planned_on FROM sessions WHERE org_id = $1 AND participant_id = $2 AND planned_source IS NOT NULL ORDER BY number",
        )
        .bind(org.0)
        .bind(participant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(n, d)| Ok((n as u32, own_date(d)?)))
            .collect()
    }

    /// A participant's own dates and completed sessions as others gave
    /// them (the program file, a CSV, a calendar, the API): what they said
    /// in chat (`source = 'chat'`) is their answer, left out.
    pub async fn schedule_as_reported(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
    ) -> Result<(Vec<(u32, OwnDate)>, Vec<(u32, Date)>)> {
        let rows: Vec<ReportedRow> = sqlx::query_as(
            "SELECT number, planned_on, planned_source, completed_on, source FROM sessions \
                 WHERE org_id = $1 AND participant_id = $2 ORDER BY number",
        )
        .bind(org.0)
        .bind(participant_id)
        .fetch_all(&self.pool)
        .await?;
        let (mut own, mut done) = (Vec::new(), Vec::new());
        for (n, planned_on, planned_source, completed_on, source) in rows {
            let n = n as u32;
            if planned_source.as_deref().is_some_and(|s| s != "chat") {
                own.push((n, own_date(planned_on)?));
            }
            if let (Some(on), false) = (completed_on, source.as_deref() == Some("chat")) {
                done.push((n, super::parse_date(&on)?));
            }
        }
        Ok((own, done))
    }

    /// Every own planned date of a program's participants.
    pub async fn program_own_dates(&self, org: OrgId, program_id: ProgramId) -> Result<OwnDates> {
        let rows: Vec<(ParticipantId, i64, Option<String>)> = sqlx::query_as(
            "SELECT s.participant_id, s.number, s.planned_on FROM sessions s \
             JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2 AND s.planned_source IS NOT NULL ORDER BY s.participant_id, s.number",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = OwnDates::new();
        for (participant, number, on) in rows {
            out.entry(participant)
                .or_default()
                .push((number as u32, own_date(on)?));
        }
        Ok(out)
    }

    /// Sets participants' own dates from `source`, in one transaction.
    /// `replace`: each listed participant's other own dates are dropped (a
    /// PUT of their whole schedule); otherwise only the listed sessions move.
    pub async fn set_own_dates(
        &self,
        org: OrgId,
        dates: &[(ParticipantId, Vec<(u32, OwnDate)>)],
        source: &str,
        replace: bool,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (participant, list) in dates {
            if replace {
                let keep: Vec<u32> = list.iter().map(|(n, _)| *n).collect();
                drop_own_dates(&mut tx, org, *participant, &keep, None).await?;
            }
            for (number, date) in list {
                put_own_date(
                    &mut tx,
                    org,
                    *participant,
                    *number,
                    *date,
                    source,
                    Replaces::Any,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Participants' dates from a bookings calendar, in one transaction:
    /// each listed participant's earlier calendar dates that it no longer
    /// gives are dropped (they follow their cohort's or program's date
    /// again), and a date given in chat or through the API stays (see
    /// [`Replaces`]). Returns how many dates the calendar set.
    pub async fn set_calendar_dates(
        &self,
        org: OrgId,
        dates: &[(ParticipantId, Vec<(u32, Date)>)],
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut set = 0;
        for (participant, list) in dates {
            let keep: Vec<u32> = list.iter().map(|(n, _)| *n).collect();
            drop_own_dates(&mut tx, org, *participant, &keep, Some("calendar")).await?;
            for (number, on) in list {
                let written = put_own_date(
                    &mut tx,
                    org,
                    *participant,
                    *number,
                    OwnDate::On(*on),
                    "calendar",
                    Replaces::FileAndCalendar,
                )
                .await?;
                set += u64::from(written);
            }
        }
        tx.commit().await?;
        Ok(set)
    }
}

/// A program file's dates for one participant, inside its apply: the file's
/// earlier dates it no longer lists are dropped, and dates given since by
/// another source stay.
pub(super) async fn apply_file_dates(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    participant_id: ParticipantId,
    dates: &[(u32, Date)],
) -> Result<()> {
    let keep: Vec<u32> = dates.iter().map(|(n, _)| *n).collect();
    drop_own_dates(conn, org, participant_id, &keep, Some("file")).await?;
    for (number, on) in dates {
        put_own_date(
            conn,
            org,
            participant_id,
            *number,
            OwnDate::On(*on),
            "file",
            Replaces::FileOnly,
        )
        .await?;
    }
    Ok(())
}
