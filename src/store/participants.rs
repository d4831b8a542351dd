//! People (participants and managers) and their participation in programs.

use super::{col, millis, OrgId, ParticipantId, PersonId, ProgramId, Result, Store, StoreError};
use crate::domain::{ChatIdentity, PersonRef, Platform};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

/// "Paused until further notice" is stored as the largest instant.
pub const PAUSED_INDEFINITELY: i64 = i64::MAX;

/// What is known about a person before they are stored.
#[derive(Debug, Clone, Default)]
pub struct PersonRecord {
    pub email: Option<String>,
    pub chat: Option<ChatIdentity>,
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    /// Why no chat identity could be found (e.g. no Slack user with this email).
    pub unresolved_reason: Option<String>,
    /// Out of office until then, when the chat platform was asked
    /// (`Some(None)`: asked, not away); `None` keeps what is stored.
    pub away_until: Option<Option<Timestamp>>,
    /// Given by email and not looked up yet: stored as waiting for the
    /// resolver (in the background), unless already matched.
    pub resolve: bool,
}

impl PersonRecord {
    pub fn from_ref(r: &PersonRef) -> Self {
        Self {
            email: r.email.as_ref().map(|e| e.as_str().to_string()),
            chat: r.chat.clone(),
            display_name: r.name.clone(),
            unresolved_reason: if r.chat.is_none() {
                Some("not yet matched to a chat user".into())
            } else {
                None
            },
            ..Default::default()
        }
    }

    /// How HR recognises the person in a report: the email, else the chat id.
    pub fn label(&self) -> String {
        match (&self.email, &self.chat) {
            (Some(e), _) => e.clone(),
            (None, Some(c)) => c.to_string(),
            _ => "unknown person".into(),
        }
    }
}

/// A stored person.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: PersonId,
    pub org_id: OrgId,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub chat: Option<ChatIdentity>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub unresolved_reason: Option<String>,
    /// When the person said stop: nothing is sent to them after that.
    pub stopped_at: Option<i64>,
    /// Out of office until then (ms), as the chat platform reported it.
    pub away_until: Option<i64>,
    /// Waiting for the resolver to match their email to a chat user.
    pub resolving: bool,
}

impl Person {
    /// Out of office at `now`.
    pub fn is_away_at(&self, now: Timestamp) -> bool {
        self.away_until.is_some_and(|t| t > now.as_millisecond())
    }
}

const PERSON_COLUMNS: &str =
    "id, org_id, email, display_name, platform, workspace_id, user_id, time_zone, locale, unresolved_reason, stopped_at, away_until, resolve_due_at";

fn person(row: &AnyRow) -> Result<Person> {
    person_prefixed(row, "")
}

/// The person columns of `alias`, renamed with `prefix` (for joins).
fn person_select(alias: &str, prefix: &str) -> String {
    PERSON_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn person_prefixed(row: &AnyRow, prefix: &str) -> Result<Person> {
    let c = |name: &str| format!("{prefix}{name}");
    let platform: Option<String> = col(row, &c("platform"))?;
    let workspace: Option<String> = col(row, &c("workspace_id"))?;
    let user: Option<String> = col(row, &c("user_id"))?;
    let chat = match (
        platform.as_deref().and_then(Platform::parse),
        workspace,
        user,
    ) {
        (Some(platform), Some(workspace), Some(user)) => Some(ChatIdentity {
            platform,
            workspace,
            user,
        }),
        _ => None,
    };
    Ok(Person {
        id: col(row, &c("id"))?,
        org_id: OrgId(col(row, &c("org_id"))?),
        email: col(row, &c("email"))?,
        display_name: col(row, &c("display_name"))?,
        chat,
        time_zone: col(row, &c("time_zone"))?,
        locale: col(row, &c("locale"))?,
        unresolved_reason: col(row, &c("unresolved_reason"))?,
        stopped_at: col(row, &c("stopped_at"))?,
        away_until: col(row, &c("away_until"))?,
        resolving: col::<Option<i64>>(row, &c("resolve_due_at"))?.is_some(),
    })
}

/// Participants with their person and manager, in one query.
pub(crate) fn participant_query(filter: &str) -> String {
    format!(
        "SELECT pa.id, pa.org_id, pa.program_id, pa.cohort, pa.focus, pa.time_zone AS pa_time_zone, pa.share_focus, \
                pa.holiday_calendar, pa.paused_until, pa.deactivated_at, pa.created_at AS pa_created_at, pa.manager_person_id, {}, {} \
         FROM participants pa JOIN people pe ON pe.id = pa.person_id AND pe.org_id = pa.org_id \
         LEFT JOIN people m ON m.id = pa.manager_person_id AND m.org_id = pa.org_id \
         WHERE pa.org_id = $1 AND {filter} ORDER BY pa.id",
        person_select("pe", "p_"),
        person_select("m", "m_")
    )
}

pub(crate) fn participant_row(row: &AnyRow) -> Result<Participant> {
    let manager = match col::<Option<i64>>(row, "manager_person_id")? {
        Some(_) => Some(person_prefixed(row, "m_")?),
        None => None,
    };
    Ok(Participant {
        id: col(row, "id")?,
        org_id: OrgId(col(row, "org_id")?),
        program_id: col(row, "program_id")?,
        person: person_prefixed(row, "p_")?,
        manager,
        cohort: col(row, "cohort")?,
        focus: col(row, "focus")?,
        time_zone: col(row, "pa_time_zone")?,
        share_focus: col::<i64>(row, "share_focus")? != 0,
        holiday_calendar: col(row, "holiday_calendar")?,
        paused_until: col(row, "paused_until")?,
        deactivated: col::<Option<i64>>(row, "deactivated_at")?.is_some(),
        enrolled_at: super::instant(col(row, "pa_created_at")?)?,
    })
}

/// Finds the person by email or chat identity and updates what is now known,
/// or inserts them. Returns the person's id.
pub(crate) async fn upsert_person(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    rec: &PersonRecord,
    now: Timestamp,
) -> Result<i64> {
    let by_email: Option<i64> = match &rec.email {
        Some(e) => {
            sqlx::query_scalar("SELECT id FROM people WHERE org_id = $1 AND email = $2")
                .bind(org.0)
                .bind(e)
                .fetch_optional(&mut **tx)
                .await?
        }
        None => None,
    };
    let by_chat: Option<i64> = match &rec.chat {
        Some(c) => sqlx::query_scalar(
            "SELECT id FROM people WHERE org_id = $1 AND platform = $2 AND workspace_id = $3 AND user_id = $4",
        )
        .bind(org.0)
        .bind(c.platform.as_str())
        .bind(&c.workspace)
        .bind(&c.user)
        .fetch_optional(&mut **tx)
        .await?,
        None => None,
    };
    let id = match (by_email, by_chat) {
        (Some(a), Some(b)) if a != b => {
            return Err(StoreError::Conflict(format!(
                "{}: the email and the chat identity belong to two different people already known",
                rec.label()
            )))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            let id = sqlx::query_scalar(
                "INSERT INTO people (org_id, email, display_name, platform, workspace_id, user_id, time_zone, locale, unresolved_reason, created_at, updated_at, away_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id",
            )
            .bind(org.0)
            .bind(rec.email.clone())
            .bind(rec.display_name.clone())
            .bind(rec.chat.as_ref().map(|c| c.platform.as_str().to_string()))
            .bind(rec.chat.as_ref().map(|c| c.workspace.clone()))
            .bind(rec.chat.as_ref().map(|c| c.user.clone()))
            .bind(rec.time_zone.clone())
            .bind(rec.locale.clone())
            .bind(rec.unresolved_reason.clone())
            .bind(millis(now))
            .bind(rec.away_until.flatten().map(millis))
            .fetch_one(&mut **tx)
            .await?;
            queue_resolution(tx, org, id, rec, now).await?;
            return Ok(id);
        }
    };
    // Only fill in what is known; never forget a resolved identity.
    sqlx::query(
        "UPDATE people SET email = COALESCE($1, email), display_name = COALESCE($2, display_name), \
         platform = COALESCE($3, platform), workspace_id = COALESCE($4, workspace_id), user_id = COALESCE($5, user_id), \
         time_zone = COALESCE($6, time_zone), locale = COALESCE($7, locale), \
         unresolved_reason = CASE WHEN COALESCE($5, user_id) IS NULL THEN $8 ELSE NULL END, updated_at = $9, \
         away_until = CASE WHEN $12 = 1 THEN $13 ELSE away_until END \
         WHERE org_id = $10 AND id = $11",
    )
    .bind(rec.email.clone())
    .bind(rec.display_name.clone())
    .bind(rec.chat.as_ref().map(|c| c.platform.as_str().to_string()))
    .bind(rec.chat.as_ref().map(|c| c.workspace.clone()))
    .bind(rec.chat.as_ref().map(|c| c.user.clone()))
    .bind(rec.time_zone.clone())
    .bind(rec.locale.clone())
    .bind(rec.unresolved_reason.clone())
    .bind(millis(now))
    .bind(org.0)
    .bind(id)
    .bind(i64::from(rec.away_until.is_some()))
    .bind(rec.away_until.flatten().map(millis))
    .execute(&mut **tx)
    .await?;
    queue_resolution(tx, org, id, rec, now).await?;
    Ok(id)
}

/// Puts a person given by email in the resolver's queue, unless they
/// already have a chat identity (applying the same file again looks no one
/// up twice) or are already waiting.
async fn queue_resolution(
    tx: &mut Transaction<'static, Any>,
    org: OrgId,
    id: i64,
    rec: &PersonRecord,
    now: Timestamp,
) -> Result<()> {
    if !rec.resolve || rec.chat.is_some() || rec.email.is_none() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE people SET resolve_due_at = COALESCE(resolve_due_at, $1), unresolved_reason = NULL \
         WHERE org_id = $2 AND id = $3 AND user_id IS NULL",
    )
    .bind(millis(now))
    .bind(org.0)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A participant with what planning and sending need.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: ParticipantId,
    pub org_id: OrgId,
    pub program_id: ProgramId,
    pub person: Person,
    pub manager: Option<Person>,
    pub cohort: Option<String>,
    pub focus: Option<String>,
    pub time_zone: Option<String>,
    pub share_focus: bool,
    pub holiday_calendar: Option<String>,
    pub paused_until: Option<i64>,
    pub deactivated: bool,
    pub enrolled_at: Timestamp,
}

impl Participant {
    pub fn is_paused_at(&self, now: Timestamp) -> bool {
        self.paused_until.is_some_and(|until| until > millis(now))
    }
}

/// How a participant looks to HR (the admin API, the console): who they
/// are, their cohort, and whether Momentum can reach them — never what they
/// answered, how many messages they got or skipped, whether they paused or
/// stopped, or a focus they did not share.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParticipantStatus {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub chat: Option<String>,
    pub manager: Option<String>,
    pub cohort: Option<String>,
    /// Their focus theme, only where they chose to share it.
    pub focus: Option<String>,
    /// In the program (not deactivated).
    pub active: bool,
    /// `reachable`, `resolving` (their email is still being looked up),
    /// `not_found_in_chat`, `app_not_installed` or `account_inactive`.
    pub reachability: String,
    /// The operational reason when they cannot be reached.
    pub reason: Option<String>,
}

impl Store {
    /// A program's active participants with their time zone (the
    /// participation's, else the person's): (participant id, name, zone),
    /// by name.
    pub async fn participant_zones(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<Vec<(i64, String, Option<String>)>> {
        let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT pa.id, pe.display_name, COALESCE(pa.time_zone, pe.time_zone) FROM participants pa \
             JOIN people pe ON pe.id = pa.person_id AND pe.org_id = pa.org_id \
             WHERE pa.org_id = $1 AND pa.program_id = $2 AND pa.deactivated_at IS NULL ORDER BY pe.display_name",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, zone)| (id, name.unwrap_or_default(), zone))
            .collect())
    }

    pub async fn person_by_chat(&self, org: OrgId, who: &ChatIdentity) -> Result<Option<Person>> {
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND platform = $2 AND workspace_id = $3 AND user_id = $4"
        ))
        .bind(org.0)
        .bind(who.platform.as_str())
        .bind(&who.workspace)
        .bind(&who.user)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(person).transpose()
    }

    pub async fn person_by_email(&self, org: OrgId, email: &str) -> Result<Option<Person>> {
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND email = $2"
        ))
        .bind(org.0)
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(person).transpose()
    }

    pub async fn set_person_locale(
        &self,
        org: OrgId,
        person_id: PersonId,
        locale: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE people SET locale = $1 WHERE org_id = $2 AND id = $3")
            .bind(locale)
            .bind(org.0)
            .bind(person_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The participant's own choice of focus and of sharing it with their
    /// manager, and their sealed diagnosis (goal, context, blocker), in one
    /// transaction.
    pub async fn record_onboarding(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
        focus: Option<&str>,
        share: bool,
        diagnosis: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE participants SET focus = $1, share_focus = $2, chosen_at = $3, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(focus)
        .bind(i64::from(share))
        .bind(millis(now))
        .bind(org.0)
        .bind(participant_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO diagnoses (participant_id, org_id, sealed, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (participant_id) DO UPDATE SET sealed = $3, updated_at = $4",
        )
        .bind(participant_id)
        .bind(org.0)
        .bind(diagnosis.to_vec())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A participant's sealed diagnosis, if they gave one.
    pub async fn diagnosis(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
    ) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT sealed FROM diagnoses WHERE org_id = $1 AND participant_id = $2",
        )
        .bind(org.0)
        .bind(participant_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn participant(&self, org: OrgId, id: ParticipantId) -> Result<Participant> {
        let row = sqlx::query(&participant_query("pa.id = $2"))
            .bind(org.0)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no participant {id}")))?;
        participant_row(&row)
    }

    /// Participants by id (any program of the organisation).
    pub async fn participants_by_ids(
        &self,
        org: OrgId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&participant_query(&format!("pa.id IN ({list})")))
            .bind(org.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(participant_row).collect()
    }

    /// Every active participant of a program, with person and manager.
    pub async fn program_participants(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<Vec<Participant>> {
        let rows = sqlx::query(&participant_query(
            "pa.program_id = $2 AND pa.deactivated_at IS NULL",
        ))
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(participant_row).collect()
    }

    /// The active participant of a program who is this person, if any.
    pub async fn participant_id_for_person(
        &self,
        org: OrgId,
        program_id: ProgramId,
        person_id: PersonId,
    ) -> Result<Option<ParticipantId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM participants WHERE org_id = $1 AND program_id = $2 AND person_id = $3 AND deactivated_at IS NULL",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn active_participant_ids(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM participants WHERE org_id = $1 AND program_id = $2 AND deactivated_at IS NULL ORDER BY id",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records that a person said stop (or, with `None`, that they came back).
    pub async fn set_stopped(
        &self,
        org: OrgId,
        person_id: PersonId,
        at: Option<Timestamp>,
    ) -> Result<()> {
        sqlx::query("UPDATE people SET stopped_at = $1, updated_at = COALESCE($1, updated_at) WHERE org_id = $2 AND id = $3")
            .bind(at.map(millis))
            .bind(org.0)
            .bind(person_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records that the person with this chat identity is out of office
    /// until `until` (or, with `None`, back). Returns whether they are known.
    pub async fn set_away(
        &self,
        org: OrgId,
        who: &ChatIdentity,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE people SET away_until = $1, updated_at = $2 \
             WHERE org_id = $3 AND platform = $4 AND workspace_id = $5 AND user_id = $6",
        )
        .bind(until.map(millis))
        .bind(millis(now))
        .bind(org.0)
        .bind(who.platform.as_str())
        .bind(who.workspace.as_str())
        .bind(who.user.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// Pauses (or, with `None`, resumes) every participation of a person.
    /// Returns how many participations changed.
    pub async fn set_paused(
        &self,
        org: OrgId,
        person_id: PersonId,
        until: Option<i64>,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // The pause history: end the current pause now, start the new one.
        let mine = "SELECT id FROM participants WHERE org_id = $2 AND person_id = $3 AND deactivated_at IS NULL";
        sqlx::query(&format!(
            "UPDATE pauses SET until_at = $1 WHERE org_id = $2 AND until_at > $1 AND participant_id IN ({mine})"
        ))
        .bind(millis(now))
        .bind(org.0)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        if let Some(until) = until {
            sqlx::query(&format!(
                "INSERT INTO pauses (org_id, participant_id, from_at, until_at) SELECT $2, id, $1, $4 FROM ({mine}) AS mine"
            ))
            .bind(millis(now))
            .bind(org.0)
            .bind(person_id)
            .bind(until)
            .execute(&mut *tx)
            .await?;
        }
        let changed = sqlx::query(
            "UPDATE participants SET paused_until = $1, updated_at = $2 WHERE org_id = $3 AND person_id = $4 AND deactivated_at IS NULL",
        )
        .bind(until)
        .bind(millis(now))
        .bind(org.0)
        .bind(person_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn participant_statuses(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<Vec<ParticipantStatus>> {
        use crate::domain::delivery::ReasonCategory;
        // The latest failure to reach them, unless a message reached them since.
        let rows = sqlx::query(
            "SELECT pa.id, pe.display_name, pe.email, pe.platform, pe.workspace_id, pe.user_id, pe.unresolved_reason, pe.resolve_due_at, \
                    m.email AS manager_email, m.display_name AS manager_name, pa.cohort, pa.focus, pa.share_focus, pa.deactivated_at, \
                    (SELECT j.outcome FROM jobs j WHERE j.org_id = pa.org_id AND j.recipient_person_id = pa.person_id AND j.state = 'failed' \
                       AND NOT EXISTS (SELECT 1 FROM jobs s WHERE s.org_id = j.org_id AND s.recipient_person_id = j.recipient_person_id \
                                         AND s.state = 'sent' AND s.sent_at > j.updated_at) \
                       ORDER BY j.updated_at DESC LIMIT 1) AS failure \
             FROM participants pa JOIN people pe ON pe.id = pa.person_id AND pe.org_id = pa.org_id \
             LEFT JOIN people m ON m.id = pa.manager_person_id AND m.org_id = pa.org_id \
             WHERE pa.org_id = $1 AND pa.program_id = $2 ORDER BY pa.id",
        )
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let user: Option<String> = col(r, "user_id")?;
                let chat = match (
                    col::<Option<String>>(r, "platform")?,
                    col::<Option<String>>(r, "workspace_id")?,
                    &user,
                ) {
                    (Some(p), Some(w), Some(u)) => Some(format!("{p}:{w}/{u}")),
                    _ => None,
                };
                let failure: Option<String> = col(r, "failure")?;
                let unreachable = failure.as_deref().map(ReasonCategory::of).filter(|c| {
                    matches!(
                        c,
                        ReasonCategory::NotFoundInChat
                            | ReasonCategory::AppNotInstalled
                            | ReasonCategory::AccountInactive
                    )
                });
                let resolving = col::<Option<i64>>(r, "resolve_due_at")?.is_some();
                let (reachability, reason) = match (&user, unreachable) {
                    // Still being looked up: nudges wait for them.
                    (None, _) if resolving => ("resolving", None),
                    (None, _) => (
                        ReasonCategory::NotFoundInChat.as_str(),
                        col::<Option<String>>(r, "unresolved_reason")?,
                    ),
                    (Some(_), Some(c)) => (c.as_str(), failure),
                    (Some(_), None) => ("reachable", None),
                };
                let shared = col::<i64>(r, "share_focus")? != 0;
                Ok(ParticipantStatus {
                    id: col(r, "id")?,
                    name: col(r, "display_name")?,
                    email: col(r, "email")?,
                    chat,
                    manager: col::<Option<String>>(r, "manager_email")?.or(col(r, "manager_name")?),
                    cohort: col(r, "cohort")?,
                    focus: if shared { col(r, "focus")? } else { None },
                    active: col::<Option<i64>>(r, "deactivated_at")?.is_none(),
                    reachability: reachability.to_string(),
                    reason,
                })
            })
            .collect()
    }
}
