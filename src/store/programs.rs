//! Programs, and applying a whole program file in one transaction.

use super::participants::{upsert_person, PersonRecord};
use super::{col, millis, OrgId, ParticipantId, ProgramId, Result, Store, StoreError};
use crate::domain::program::{ProgramFile, ProgramSpec};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct ProgramRow {
    pub id: ProgramId,
    pub org_id: OrgId,
    pub key: String,
    pub name: String,
    pub spec: ProgramSpec,
    /// An archived program sends nothing more.
    pub archived: bool,
}

/// What applying a program file changed.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ApplyOutcome {
    #[schema(value_type = i64)]
    pub program_id: ProgramId,
    pub program_key: String,
    pub created: bool,
    pub participants_added: usize,
    pub participants_updated: usize,
    pub participants_unchanged: usize,
    pub participants_deactivated: usize,
    /// Active participants not in the file, kept because `prune` was not asked for.
    pub participants_not_in_file: usize,
    /// People who could not be matched to a chat user, with the reason. They
    /// are enrolled but receive nothing until resolved.
    pub unresolved: Vec<String>,
    /// People still being matched to a chat user by email, in the
    /// background: their nudges wait for them (see the program's
    /// `resolution`).
    pub resolving: i64,
    /// People in the file who asked to be forgotten: not enrolled again (as
    /// participants or as managers).
    pub erased_skipped: usize,
    /// How future, unsent jobs changed to follow the new program.
    pub replanned: super::jobs::ReplanCounts,
}

fn program_row(row: &AnyRow) -> Result<ProgramRow> {
    let spec_text: String = col(row, "spec")?;
    let value: serde_json::Value = serde_json::from_str(&spec_text)
        .map_err(|e| StoreError::Conflict(format!("stored program is unreadable: {e}")))?;
    let spec = ProgramSpec::from_stored(&value)
        .map_err(|e| StoreError::Conflict(format!("stored program no longer validates: {e}")))?;
    Ok(ProgramRow {
        id: col(row, "id")?,
        org_id: OrgId(col(row, "org_id")?),
        key: col(row, "key")?,
        name: col(row, "name")?,
        spec,
        archived: col::<Option<i64>>(row, "archived_at")?.is_some(),
    })
}

impl Store {
    pub async fn programs(&self, org: OrgId) -> Result<Vec<ProgramRow>> {
        let rows = sqlx::query(
            "SELECT id, org_id, key, name, spec, archived_at FROM programs WHERE org_id = $1 ORDER BY key",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(program_row).collect()
    }

    pub async fn program_by_key(&self, org: OrgId, key: &str) -> Result<Option<ProgramRow>> {
        let row = sqlx::query(
            "SELECT id, org_id, key, name, spec, archived_at FROM programs WHERE org_id = $1 AND key = $2",
        )
        .bind(org.0)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(program_row).transpose()
    }

    pub async fn program(&self, org: OrgId, id: ProgramId) -> Result<ProgramRow> {
        let row = sqlx::query(
            "SELECT id, org_id, key, name, spec, archived_at FROM programs WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(program_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("no program {id}")))
    }

    /// Archives a program: nothing more is sent for it, its data stays.
    /// Returns false when there is no such program.
    /// The latest session date (completed, or a participant's own planned
    /// date) and how many jobs are still to go out: what decides whether a program has ended.
    pub async fn program_activity(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<(Option<Date>, i64)> {
        // Own planned dates count too: a participant whose coach meets them
        // after the program's last date still gets their follow-ups.
        let (completed, planned): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT MAX(s.completed_on), MAX(s.planned_on) FROM sessions s JOIN participants pa ON pa.id = s.participant_id AND pa.org_id = s.org_id \
             WHERE s.org_id = $1 AND pa.program_id = $2",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_one(&self.pool)
        .await?;
        let latest = completed.max(planned);
        let to_go: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE org_id = $1 AND program_id = $2 AND state IN ('pending', 'leased')",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((latest.and_then(|d| d.parse().ok()), to_go))
    }

    /// Enrolled, started, active since `since`, and enrolled people no chat
    /// user was found for: the program's health as HR sees it in chat.
    /// A program's enrolled participants, and how many of them no chat user
    /// was found for: (enrolled, unreachable). Who is enrolled and whether
    /// they can be reached, nothing they did.
    pub async fn program_health_counts(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<(i64, i64)> {
        let row: (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN pe.user_id IS NULL THEN 1 ELSE 0 END), 0) \
             FROM participants pa JOIN people pe ON pe.id = pa.person_id AND pe.org_id = pa.org_id \
             WHERE pa.org_id = $1 AND pa.program_id = $2 AND pa.deactivated_at IS NULL",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn archive_program(&self, org: OrgId, key: &str, now: Timestamp) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE programs SET archived_at = COALESCE(archived_at, $1), updated_at = $1 WHERE org_id = $2 AND key = $3 RETURNING id",
        )
        .bind(millis(now))
        .bind(org.0)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query(
            "UPDATE jobs SET state = 'skipped', outcome = 'program archived', updated_at = $1 \
             WHERE org_id = $2 AND program_id = $3 AND state = 'pending'",
        )
        .bind(millis(now))
        .bind(org.0)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Applies a validated program file atomically: the program, its people and
    /// participants all change, or nothing does. `people` holds what email
    /// resolution found, keyed by `PersonRef::key()`.
    pub async fn apply_program(
        &self,
        org: OrgId,
        file: &ProgramFile,
        people: &HashMap<String, PersonRecord>,
        prune: bool,
        now: Timestamp,
    ) -> Result<ApplyOutcome> {
        let p = &file.program;
        let spec = serde_json::to_string(&p.source).unwrap_or_default();
        let mut tx = self.begin_write().await?;
        let existing: Option<ProgramId> =
            sqlx::query_scalar("SELECT id FROM programs WHERE org_id = $1 AND key = $2")
                .bind(org.0)
                .bind(&p.key)
                .fetch_optional(&mut *tx)
                .await?;
        let mut out = ApplyOutcome {
            program_key: p.key.clone(),
            ..Default::default()
        };
        out.program_id = match existing {
            Some(id) => {
                sqlx::query("UPDATE programs SET name = $1, spec = $2, updated_at = $3 WHERE org_id = $4 AND id = $5")
                    .bind(&p.name)
                    .bind(&spec)
                    .bind(millis(now))
                    .bind(org.0)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                out.created = true;
                sqlx::query_scalar(
                    "INSERT INTO programs (org_id, key, name, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(org.0)
                .bind(&p.key)
                .bind(&p.name)
                .bind(&spec)
                .bind(millis(now))
                .fetch_one(&mut *tx)
                .await?
            }
        };

        let mut in_file = Vec::new();
        let mut own_dates = Vec::new();
        let mut managers: HashMap<String, i64> = HashMap::new();
        for spec in &file.participants {
            let key = spec.person.key();
            let record = people
                .get(&key)
                .cloned()
                .unwrap_or_else(|| PersonRecord::from_ref(&spec.person));
            if let Some(reason) = &record.unresolved_reason {
                out.unresolved.push(format!("{}: {reason}", record.label()));
            }
            let person_id = upsert_person(&mut tx, org, &record, now).await?;
            let manager_id = match &spec.manager {
                // A manager of several is stored once (the same record each time).
                Some(m) if managers.contains_key(&m.key()) => managers.get(&m.key()).copied(),
                Some(m) => {
                    let rec = people
                        .get(&m.key())
                        .cloned()
                        .unwrap_or_else(|| PersonRecord::from_ref(m));
                    if let Some(reason) = &rec.unresolved_reason {
                        let line = format!("{} (manager): {reason}", rec.label());
                        if !out.unresolved.contains(&line) {
                            out.unresolved.push(line);
                        }
                    }
                    let id = upsert_person(&mut tx, org, &rec, now).await?;
                    managers.insert(m.key(), id);
                    Some(id)
                }
                None => None,
            };
            in_file.push(person_id);
            let tz = spec.time_zone.as_ref().map(|z| z.name().to_string());
            let current = sqlx::query(
                "SELECT id, manager_person_id, cohort, focus, time_zone, share_focus, holiday_calendar, deactivated_at, chosen_at \
                 FROM participants WHERE org_id = $1 AND program_id = $2 AND person_id = $3",
            )
            .bind(org.0)
            .bind(out.program_id)
            .bind(person_id)
            .fetch_optional(&mut *tx)
            .await?;
            let share = i64::from(spec.share_focus_with_manager);
            match current {
                None => {
                    let id: ParticipantId = sqlx::query_scalar(
                        "INSERT INTO participants (org_id, program_id, person_id, manager_person_id, cohort, focus, time_zone, share_focus, holiday_calendar, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(org.0)
                    .bind(out.program_id)
                    .bind(person_id)
                    .bind(manager_id)
                    .bind(spec.cohort.clone())
                    .bind(spec.focus.clone())
                    .bind(tz)
                    .bind(share)
                    .bind(spec.holidays.clone())
                    .bind(millis(now))
                    .fetch_one(&mut *tx)
                    .await?;
                    own_dates.push((id, spec));
                    out.participants_added += 1;
                }
                Some(row) => {
                    own_dates.push((row.try_get::<ParticipantId, _>("id")?, spec));
                    // What the participant chose themselves stays theirs.
                    let (focus, share) = if row.try_get::<Option<i64>, _>("chosen_at")?.is_some() {
                        (
                            row.try_get::<Option<String>, _>("focus")?,
                            row.try_get::<i64, _>("share_focus")?,
                        )
                    } else {
                        (spec.focus.clone(), share)
                    };
                    let same = row.try_get::<Option<i64>, _>("manager_person_id")? == manager_id
                        && row.try_get::<Option<String>, _>("cohort")? == spec.cohort
                        && row.try_get::<Option<String>, _>("focus")? == focus
                        && row.try_get::<Option<String>, _>("time_zone")? == tz
                        && row.try_get::<i64, _>("share_focus")? == share
                        && row.try_get::<Option<String>, _>("holiday_calendar")? == spec.holidays
                        && row.try_get::<Option<i64>, _>("deactivated_at")?.is_none();
                    if same {
                        out.participants_unchanged += 1;
                        continue;
                    }
                    sqlx::query(
                        "UPDATE participants SET manager_person_id = $1, cohort = $2, focus = $3, time_zone = $4, share_focus = $5, \
                         holiday_calendar = $6, deactivated_at = NULL, updated_at = $7 WHERE org_id = $8 AND id = $9",
                    )
                    .bind(manager_id)
                    .bind(spec.cohort.clone())
                    .bind(focus)
                    .bind(tz)
                    .bind(share)
                    .bind(spec.holidays.clone())
                    .bind(millis(now))
                    .bind(org.0)
                    .bind(row.try_get::<i64, _>("id")?)
                    .execute(&mut *tx)
                    .await?;
                    out.participants_updated += 1;
                }
            }
        }

        for (participant_id, spec) in own_dates {
            if let Some(sessions) = &spec.sessions {
                let dates: Vec<(u32, Date)> =
                    sessions.iter().map(|s| (s.number, s.planned)).collect();
                super::sessions::apply_file_dates(&mut tx, org, participant_id, &dates).await?;
            }
        }

        let active: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, person_id FROM participants WHERE org_id = $1 AND program_id = $2 AND deactivated_at IS NULL",
        )
        .bind(org.0)
        .bind(out.program_id)
        .fetch_all(&mut *tx)
        .await?;
        let in_file: std::collections::HashSet<i64> = in_file.into_iter().collect();
        for (participant_id, person_id) in active {
            if in_file.contains(&person_id) {
                continue;
            }
            if !prune {
                out.participants_not_in_file += 1;
                continue;
            }
            sqlx::query("UPDATE participants SET deactivated_at = $1, updated_at = $1 WHERE org_id = $2 AND id = $3")
                .bind(millis(now))
                .bind(org.0)
                .bind(participant_id)
                .execute(&mut *tx)
                .await?;
            // A deactivated participant is sent nothing more.
            sqlx::query(
                "UPDATE jobs SET state = 'skipped', outcome = 'participant deactivated', updated_at = $1 \
                 WHERE org_id = $2 AND participant_id = $3 AND state = 'pending'",
            )
            .bind(millis(now))
            .bind(org.0)
            .bind(participant_id)
            .execute(&mut *tx)
            .await?;
            out.participants_deactivated += 1;
        }
        tx.commit().await?;
        Ok(out)
    }
}
