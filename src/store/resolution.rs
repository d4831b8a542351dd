//! People waiting for their chat identity: queued by applying a program,
//! claimed by one resolver at a time (a lease on the people rows, so that
//! two replicas never look the same person up and a restart loses no one),
//! and settled person by person as answers come.

use super::participants::PersonRecord;
use super::{millis, OrgId, PersonId, ProgramId, Result, Store};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// A person a resolver claimed: who to look up.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub person_id: PersonId,
    pub email: String,
    /// Earlier rounds that could not ask every workspace.
    pub attempts: i64,
}

/// A program's people and how many of them still wait for their chat
/// identity; those who could not be found, with the reason.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ResolutionProgress {
    /// Participants and managers of the program.
    pub people: i64,
    /// Of them, still waiting to be matched to a chat user.
    pub resolving: i64,
    /// Of them, not found in chat: "email: reason".
    pub not_found: Vec<String>,
    /// About how many minutes resolving the rest takes at the chat
    /// platform's pace (none when no one waits, or calls are not paced).
    pub minutes_left: Option<f64>,
}

/// The people of a program: its active participants and their managers.
const PROGRAM_PEOPLE: &str = "SELECT person_id FROM participants WHERE org_id = $1 AND program_id = $2 AND deactivated_at IS NULL \
     UNION SELECT manager_person_id FROM participants WHERE org_id = $1 AND program_id = $2 AND deactivated_at IS NULL AND manager_person_id IS NOT NULL";

impl Store {
    /// Claims every waiting person of one organisation (of `org`, when
    /// given) whose turn has come and whom no live lease holds; `None` when
    /// there is no one.
    pub async fn claim_resolutions(
        &self,
        org: Option<OrgId>,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<Option<(OrgId, Vec<Waiting>)>> {
        let org = match org {
            Some(o) => o,
            None => {
                let first: Option<i64> = sqlx::query_scalar(
                    "SELECT org_id FROM people WHERE resolve_due_at <= $1 \
                     AND (resolve_lease_until IS NULL OR resolve_lease_until < $1) ORDER BY resolve_due_at LIMIT 1",
                )
                .bind(millis(now))
                .fetch_optional(&self.pool)
                .await?;
                match first {
                    Some(o) => OrgId(o),
                    None => return Ok(None),
                }
            }
        };
        // One statement: on PostgreSQL a second replica's update waits for
        // the first and then finds the rows leased, so no one is claimed twice.
        let rows: Vec<(PersonId, Option<String>, i64)> = sqlx::query_as(
            "UPDATE people SET resolve_owner = $1, resolve_lease_until = $2 \
             WHERE org_id = $3 AND resolve_due_at <= $4 AND (resolve_lease_until IS NULL OR resolve_lease_until < $4) \
             RETURNING id, email, resolve_attempts",
        )
        .bind(owner)
        .bind(millis(now + lease))
        .bind(org.0)
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        let mut waiting: Vec<Waiting> = rows
            .into_iter()
            .filter_map(|(person_id, email, attempts)| {
                email.map(|email| Waiting {
                    person_id,
                    email,
                    attempts,
                })
            })
            .collect();
        if waiting.is_empty() {
            return Ok(None);
        }
        waiting.sort_by_key(|w| w.person_id);
        Ok(Some((org, waiting)))
    }

    /// Keeps `owner`'s claims alive until `until` (a long sweep renews them).
    pub async fn renew_resolutions(&self, org: OrgId, owner: &str, until: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE people SET resolve_lease_until = $1 WHERE org_id = $2 AND resolve_owner = $3 AND resolve_due_at IS NOT NULL",
        )
        .bind(millis(until))
        .bind(org.0)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records what was learned about claimed people: a chat identity
    /// (with name, zone, language, away), or the reason none was found.
    /// People no longer claimed by `owner` are left alone. Returns how many
    /// were settled.
    pub async fn settle_resolutions(
        &self,
        org: OrgId,
        owner: &str,
        settled: &[(PersonId, PersonRecord)],
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut done = 0;
        for (person_id, rec) in settled {
            let mut rec = rec.clone();
            if let Some(c) = &rec.chat {
                // The chat user may already be known as someone else (given
                // by chat id, or under another email): keep the two apart.
                let other: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM people WHERE org_id = $1 AND platform = $2 AND workspace_id = $3 AND user_id = $4 AND id <> $5",
                )
                .bind(org.0)
                .bind(c.platform.as_str())
                .bind(&c.workspace)
                .bind(&c.user)
                .bind(*person_id)
                .fetch_optional(&mut *tx)
                .await?;
                if other.is_some() {
                    rec.chat = None;
                    rec.unresolved_reason = Some(
                        "the chat user with this email is enrolled under another entry".into(),
                    );
                }
            }
            let changed = sqlx::query(
                "UPDATE people SET platform = $1, workspace_id = $2, user_id = $3, \
                 display_name = COALESCE(display_name, $4), time_zone = COALESCE($5, time_zone), locale = COALESCE($6, locale), \
                 away_until = CASE WHEN $7 = 1 THEN $8 ELSE away_until END, unresolved_reason = $9, \
                 resolve_due_at = NULL, resolve_owner = NULL, resolve_lease_until = NULL, resolve_attempts = 0, updated_at = $10 \
                 WHERE org_id = $11 AND id = $12 AND resolve_owner = $13 AND resolve_due_at IS NOT NULL",
            )
            .bind(rec.chat.as_ref().map(|c| c.platform.as_str().to_string()))
            .bind(rec.chat.as_ref().map(|c| c.workspace.clone()))
            .bind(rec.chat.as_ref().map(|c| c.user.clone()))
            .bind(rec.display_name.clone())
            .bind(rec.time_zone.clone())
            .bind(rec.locale.clone())
            .bind(i64::from(rec.away_until.is_some()))
            .bind(rec.away_until.flatten().map(millis))
            .bind(if rec.chat.is_some() {
                None
            } else {
                rec.unresolved_reason.clone()
            })
            .bind(millis(now))
            .bind(org.0)
            .bind(*person_id)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            done += changed as usize;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Lets go of `owner`'s claims on people still waiting (a round that
    /// stopped early): another resolver may take them at once.
    pub async fn release_resolutions(&self, org: OrgId, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE people SET resolve_owner = NULL, resolve_lease_until = NULL \
             WHERE org_id = $1 AND resolve_owner = $2 AND resolve_due_at IS NOT NULL",
        )
        .bind(org.0)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives claimed people back to wait until `at` (a workspace could not
    /// be asked), counting the attempt.
    pub async fn defer_resolutions(
        &self,
        org: OrgId,
        owner: &str,
        people: &[PersonId],
        at: Timestamp,
    ) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let list = people
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(&format!(
            "UPDATE people SET resolve_due_at = $1, resolve_owner = NULL, resolve_lease_until = NULL, \
             resolve_attempts = resolve_attempts + 1 WHERE org_id = $2 AND resolve_owner = $3 AND id IN ({list})"
        ))
        .bind(millis(at))
        .bind(org.0)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How far resolving a program's people has come.
    pub async fn program_resolution(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> Result<ResolutionProgress> {
        let (people, resolving): (i64, i64) = sqlx::query_as(&format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN resolve_due_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM people WHERE org_id = $1 AND id IN ({PROGRAM_PEOPLE})"
        ))
        .bind(org.0)
        .bind(program_id)
        .fetch_one(&self.pool)
        .await?;
        let missing: Vec<(Option<String>, Option<String>, String)> = sqlx::query_as(&format!(
            "SELECT email, display_name, unresolved_reason FROM people WHERE org_id = $1 AND id IN ({PROGRAM_PEOPLE}) \
             AND user_id IS NULL AND resolve_due_at IS NULL AND unresolved_reason IS NOT NULL ORDER BY email, id"
        ))
        .bind(org.0)
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(ResolutionProgress {
            people,
            resolving,
            not_found: missing
                .into_iter()
                .map(|(email, name, reason)| {
                    let who = email.or(name).unwrap_or_else(|| "unknown person".into());
                    format!("{who}: {reason}")
                })
                .collect(),
            minutes_left: None,
        })
    }

    /// The programs whose participants or managers include these people.
    pub async fn programs_of_people(
        &self,
        org: OrgId,
        people: &[PersonId],
    ) -> Result<Vec<ProgramId>> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let list = people
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        Ok(sqlx::query_scalar(&format!(
            "SELECT DISTINCT program_id FROM participants WHERE org_id = $1 AND deactivated_at IS NULL \
             AND (person_id IN ({list}) OR manager_person_id IN ({list})) ORDER BY program_id"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many users a workspace had at its last full sweep.
    pub async fn directory_size(
        &self,
        org: OrgId,
        platform: crate::domain::Platform,
        workspace: &str,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT users FROM chat_directories WHERE org_id = $1 AND platform = $2 AND workspace_id = $3",
        )
        .bind(org.0)
        .bind(platform.as_str())
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Remembers a workspace's size, counted by a full sweep.
    pub async fn remember_directory_size(
        &self,
        org: OrgId,
        platform: crate::domain::Platform,
        workspace: &str,
        users: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO chat_directories (org_id, platform, workspace_id, users, counted_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, platform, workspace_id) DO UPDATE SET users = $4, counted_at = $5",
        )
        .bind(org.0)
        .bind(platform.as_str())
        .bind(workspace)
        .bind(users)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Where a directory sweep under way has got to.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSweep {
    /// The cursor of the next page to read.
    pub cursor: String,
    /// Pages read so far, and the users on them.
    pub pages: i64,
    pub users: i64,
    pub updated_at: Timestamp,
}

impl Store {
    /// The sweep of a workspace's directory left under way, if any.
    pub async fn saved_sweep(
        &self,
        org: OrgId,
        platform: crate::domain::Platform,
        workspace: &str,
    ) -> Result<Option<SavedSweep>> {
        let row: Option<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT next_cursor, pages, users, updated_at FROM directory_sweeps \
             WHERE org_id = $1 AND platform = $2 AND workspace_id = $3",
        )
        .bind(org.0)
        .bind(platform.as_str())
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(cursor, pages, users, at)| {
            Ok(SavedSweep {
                cursor,
                pages,
                users,
                updated_at: super::instant(at)?,
            })
        })
        .transpose()
    }

    /// Records how far a sweep has got (`None`: it is over, or given up).
    pub async fn save_sweep(
        &self,
        org: OrgId,
        platform: crate::domain::Platform,
        workspace: &str,
        at: Option<(&str, i64, i64)>,
        now: Timestamp,
    ) -> Result<()> {
        match at {
            None => {
                sqlx::query(
                    "DELETE FROM directory_sweeps WHERE org_id = $1 AND platform = $2 AND workspace_id = $3",
                )
                .bind(org.0)
                .bind(platform.as_str())
                .bind(workspace)
                .execute(&self.pool)
                .await?;
            }
            Some((cursor, pages, users)) => {
                sqlx::query(
                    "INSERT INTO directory_sweeps (org_id, platform, workspace_id, next_cursor, pages, users, started_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT (org_id, platform, workspace_id) DO UPDATE SET next_cursor = $4, pages = $5, users = $6, updated_at = $7",
                )
                .bind(org.0)
                .bind(platform.as_str())
                .bind(workspace)
                .bind(cursor)
                .bind(pages)
                .bind(users)
                .bind(millis(now))
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// People of the organisations linked to a workspace who were given by
    /// this email and have no chat user yet: still waiting, or ended as not
    /// found (a new member, or a changed email, finds them). With their
    /// organisation.
    pub async fn people_without_chat_by_email(
        &self,
        platform: crate::domain::Platform,
        workspace: &str,
        email: &str,
    ) -> Result<Vec<(OrgId, PersonId)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT p.org_id, p.id FROM people p JOIN workspaces w ON w.org_id = p.org_id \
             WHERE w.platform = $1 AND w.workspace_id = $2 AND LOWER(p.email) = $3 AND p.user_id IS NULL \
             ORDER BY p.org_id, p.id",
        )
        .bind(platform.as_str())
        .bind(workspace)
        .bind(email.trim().to_lowercase())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(o, p)| (OrgId(o), PersonId(p)))
            .collect())
    }

    /// Claims one person for `owner` whether or not they are waiting (an
    /// event found them): a claim another resolver holds is left to it.
    pub async fn claim_person(
        &self,
        org: OrgId,
        person_id: PersonId,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE people SET resolve_owner = $1, resolve_lease_until = $2, resolve_due_at = COALESCE(resolve_due_at, $3) \
             WHERE org_id = $4 AND id = $5 AND user_id IS NULL \
             AND (resolve_lease_until IS NULL OR resolve_lease_until < $3)",
        )
        .bind(owner)
        .bind(millis(now + lease))
        .bind(millis(now))
        .bind(org.0)
        .bind(person_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }
}
