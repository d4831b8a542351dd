//! The jobs table: everything the service will send, with its due instant and
//! a unique key per (recipient, purpose, period), so planning twice stores one.
//!
//! A job is `pending` until the dispatcher leases it (`leased`, with an
//! expiry, no transaction open while sending), then ends `sent`, `skipped`
//! or `failed` with its reason, or goes back to `pending` for a retry.

use super::{
    col, instant, millis, Backend, JobId, OrgId, ParticipantId, PersonId, ProgramId, Result, Store,
    StoreError,
};
use crate::domain::JobPurpose;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Leased,
    Sent,
    Skipped,
    Failed,
    /// Sent with an unknown outcome on a platform that cannot confirm it.
    Unknown,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Leased => "leased",
            JobState::Sent => "sent",
            JobState::Skipped => "skipped",
            JobState::Failed => "failed",
            JobState::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "leased" => JobState::Leased,
            "sent" => JobState::Sent,
            "skipped" => JobState::Skipped,
            "failed" => JobState::Failed,
            "unknown" => JobState::Unknown,
            _ => JobState::Pending,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub program_id: ProgramId,
    pub participant_id: Option<ParticipantId>,
    /// `None` for a job to a channel (the digest).
    pub recipient_person_id: Option<PersonId>,
    pub purpose: JobPurpose,
    pub period: String,
    pub session_number: Option<u32>,
    pub due: Timestamp,
    /// For a reminder: the job it reminds of.
    pub reminds_job_id: Option<JobId>,
}

impl NewJob {
    /// One job per recipient, purpose and period — for this participant.
    pub(crate) fn unique_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.purpose,
            self.participant_id.map_or(0, |p| p.0),
            self.recipient_person_id.map_or(0, |p| p.0),
            self.period
        )
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub org_id: OrgId,
    pub program_id: ProgramId,
    pub participant_id: Option<ParticipantId>,
    pub recipient_person_id: Option<PersonId>,
    pub purpose: JobPurpose,
    pub period: String,
    pub session_number: Option<u32>,
    pub due_at: Timestamp,
    pub state: JobState,
    pub attempts: i64,
    pub outcome: Option<String>,
    pub channel_id: Option<String>,
    pub message_ts: Option<String>,
    /// The last send's outcome is unknown (a timeout, or a holder that died
    /// mid-send): look for the message before sending it again.
    pub verify_first: bool,
    pub created_at: Timestamp,
    /// When it was meant to go out; its send window follows from this.
    pub planned_due_at: Timestamp,
    /// For a reminder: the job it reminds of.
    pub reminds_job_id: Option<JobId>,
    /// For a manager's report in a day's message: the job that carries the
    /// message (its lead, whose own id this is for the lead itself).
    pub batch_job_id: Option<JobId>,
}

pub(super) const COLUMNS: &str = "id, org_id, program_id, participant_id, recipient_person_id, purpose, period, session_number, \
                       due_at, state, attempts, outcome, channel_id, message_ts, verify_first, created_at, planned_due_at, reminds_job_id, batch_job_id";

/// What `tap_context` found (`None` where nothing matched).
#[derive(Debug, Clone, Default)]
pub struct TapContext {
    pub org: Option<OrgId>,
    pub person_id: Option<PersonId>,
    pub job: Option<Job>,
}

/// The tap context look-up on any connection (the tap writer runs it in
/// its transaction).
pub(super) async fn tap_context_on<'e, E>(
    executor: E,
    who: &crate::domain::ChatIdentity,
    job_id: JobId,
) -> Result<TapContext>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT w.org_id AS ctx_org, p.id AS ctx_person, {} FROM workspaces w \
         LEFT JOIN people p ON p.org_id = w.org_id AND p.platform = $1 AND p.workspace_id = $2 AND p.user_id = $3 \
         LEFT JOIN jobs j ON j.org_id = w.org_id AND j.id = $4 \
         WHERE w.platform = $1 AND w.workspace_id = $2",
        job_columns_of("j")
    ))
    .bind(who.platform.as_str())
    .bind(&who.workspace)
    .bind(&who.user)
    .bind(job_id)
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(TapContext::default());
    };
    let job_found: Option<i64> = col(&row, "id")?;
    Ok(TapContext {
        org: Some(OrgId(col(&row, "ctx_org")?)),
        person_id: col(&row, "ctx_person")?,
        job: job_found.map(|_| job(&row)).transpose()?,
    })
}

/// `COLUMNS`, each taken from the jobs table aliased `alias` (for joins).
pub(super) fn job_columns_of(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn job(row: &AnyRow) -> Result<Job> {
    let purpose: String = col(row, "purpose")?;
    Ok(Job {
        id: col(row, "id")?,
        org_id: OrgId(col(row, "org_id")?),
        program_id: col(row, "program_id")?,
        participant_id: col(row, "participant_id")?,
        recipient_person_id: col(row, "recipient_person_id")?,
        purpose: JobPurpose::parse(&purpose)
            .ok_or_else(|| StoreError::Conflict(format!("unknown job purpose {purpose:?}")))?,
        period: col(row, "period")?,
        session_number: col::<Option<i64>>(row, "session_number")?.map(|n| n as u32),
        due_at: instant(col(row, "due_at")?)?,
        state: JobState::parse(&col::<String>(row, "state")?),
        attempts: col(row, "attempts")?,
        outcome: col(row, "outcome")?,
        channel_id: col(row, "channel_id")?,
        message_ts: col(row, "message_ts")?,
        verify_first: col::<i64>(row, "verify_first")? != 0,
        created_at: instant(col(row, "created_at")?)?,
        planned_due_at: instant(col(row, "planned_due_at")?)?,
        reminds_job_id: col(row, "reminds_job_id")?,
        batch_job_id: col(row, "batch_job_id")?,
    })
}

/// How a leased job ended, or when it is tried again.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Sent {
        channel: String,
        ts: String,
    },
    /// Skipped, failed, or unknown, with the reason HR sees.
    Ended {
        state: JobState,
        reason: String,
    },
    Retry {
        at: Timestamp,
        reason: String,
        verify_first: bool,
    },
    /// Not sendable yet, through no failure (the recipient's chat identity
    /// is still being resolved): back to pending until `at`, the attempt
    /// not counted.
    Wait {
        at: Timestamp,
        reason: String,
    },
}

/// The outcome a job waiting for its recipient's chat identity carries:
/// re-planning neither moves nor drops it (its planned time may have passed
/// while it waited; it goes out once the recipient is resolved).
pub const WAITING_FOR_IDENTITY: &str = "waiting: the recipient's chat identity is being resolved";

/// What re-planning changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReplanCounts {
    /// Jobs newly planned.
    pub added: u64,
    /// Unsent jobs whose due time changed.
    pub moved: u64,
    /// Unsent jobs no longer planned (ended as skipped, with that reason).
    pub dropped: u64,
}

/// Rows per INSERT, under both backends' limits on parameters (SQLite
/// 32,766 at 13 a row, PostgreSQL 65,535 at 9 a row).
const INSERT_BATCH: usize = 2_000;
/// Jobs given new due times per statement, sent as one JSON array.
const MOVE_BATCH: usize = 5_000;

/// Inserts jobs whose unique key does not exist yet, in multi-row batches;
/// returns how many were new.
async fn insert_jobs_in(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org: OrgId,
    jobs: &[&NewJob],
    now: Timestamp,
) -> Result<u64> {
    let keyed: Vec<(&NewJob, String)> = jobs.iter().map(|j| (*j, j.unique_key())).collect();
    insert_keyed_in(tx, backend, org, &keyed, now).await
}

/// [`insert_jobs_in`] for jobs whose unique keys are known already.
async fn insert_keyed_in(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org: OrgId,
    jobs: &[(&NewJob, String)],
    now: Timestamp,
) -> Result<u64> {
    let mut inserted = 0;
    for chunk in jobs.chunks(INSERT_BATCH) {
        let sql = insert_jobs_sql(backend, chunk.len());
        let mut q = sqlx::query(&sql);
        if backend == Backend::Postgres {
            q = q.bind(org.0).bind(millis(now));
        }
        for (j, key) in chunk {
            if backend == Backend::Sqlite {
                q = q.bind(org.0);
            }
            q = q
                .bind(j.program_id)
                .bind(j.participant_id)
                .bind(j.recipient_person_id)
                .bind(j.purpose.as_str())
                .bind(j.period.as_str())
                .bind(key.as_str())
                .bind(j.session_number.map(i64::from))
                .bind(millis(j.due));
            if backend == Backend::Sqlite {
                q = q.bind(millis(j.due)).bind(millis(now)).bind(millis(now));
            }
            q = q.bind(j.reminds_job_id);
        }
        inserted += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// The INSERT for `rows` jobs. PostgreSQL: `$1` is the organisation and
/// `$2` the time (created and updated), then 9 parameters a row, the due
/// time standing for the planned one too. SQLite looks a reused parameter
/// up by a linear search, which made a 2,000-row statement quadratic: there
/// every value is its own `?` (13 a row).
fn insert_jobs_sql(backend: Backend, rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(300 + rows * 80);
    sql.push_str(
        "INSERT INTO jobs (org_id, program_id, participant_id, recipient_person_id, purpose, period, unique_key, \
         session_number, due_at, planned_due_at, created_at, updated_at, reminds_job_id, state, attempts) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        match backend {
            Backend::Sqlite => {
                sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)")
            }
            Backend::Postgres => {
                let p = 3 + r * 9;
                let _ = write!(
                    sql,
                    "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${d}, ${d}, $2, $2, ${}, 'pending', 0)",
                    p,
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 8,
                    d = p + 7,
                );
            }
        }
    }
    sql.push_str(" ON CONFLICT (org_id, unique_key) DO NOTHING");
    sql
}

/// Gives pending jobs new due times: (job id, due), in statements of
/// thousands (one bound JSON array each), not one statement a job.
async fn move_jobs_in(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org: OrgId,
    moved: &[(JobId, i64)],
    now: Timestamp,
) -> Result<u64> {
    let sql = match backend {
        Backend::Sqlite => {
            "UPDATE jobs SET due_at = e.value ->> 1, planned_due_at = e.value ->> 1, updated_at = $1 \
             FROM json_each($2) AS e WHERE jobs.org_id = $3 AND jobs.id = e.value ->> 0"
        }
        Backend::Postgres => {
            "UPDATE jobs SET due_at = CAST(e.value ->> 1 AS BIGINT), planned_due_at = CAST(e.value ->> 1 AS BIGINT), updated_at = $1 \
             FROM json_array_elements(CAST($2 AS json)) AS e(value) WHERE jobs.org_id = $3 AND jobs.id = CAST(e.value ->> 0 AS BIGINT)"
        }
    };
    let mut done = 0;
    for chunk in moved.chunks(MOVE_BATCH) {
        let json = serde_json::to_string(chunk).map_err(|e| StoreError::Conflict(e.to_string()))?;
        done += sqlx::query(sql)
            .bind(millis(now))
            .bind(json)
            .bind(org.0)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(done)
}

impl Store {
    /// Stores jobs that do not exist yet; returns how many were new.
    pub async fn insert_jobs(&self, org: OrgId, jobs: &[NewJob], now: Timestamp) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let refs: Vec<&NewJob> = jobs.iter().collect();
        let inserted = insert_jobs_in(&mut tx, self.backend, org, &refs, now).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Leases up to `limit` due jobs for dispatcher `owner`, across all
    /// organisations (the dispatcher serves them all; it records outcomes by
    /// job id with the job's org id). A lease that expired — its holder died
    /// mid-batch — is taken over; jobs whose send had started then carry
    /// `verify_first`. A report left in a manager's day message whose lead
    /// will no longer send it (archived, erased) goes on its own.
    pub async fn lease_due_jobs(
        &self,
        now: Timestamp,
        lease_for: SignedDuration,
        limit: i64,
        owner: &str,
    ) -> Result<Vec<Job>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'leased', lease_until = $1, lease_owner = $4, attempts = attempts + 1, updated_at = $2 \
             WHERE id IN (SELECT id FROM jobs WHERE (state = 'pending' AND due_at <= $2) OR (state = 'leased' AND lease_until < $2) \
                          OR (state = 'batched' AND due_at <= $2 AND NOT EXISTS (SELECT 1 FROM jobs l WHERE l.id = jobs.batch_job_id \
                              AND l.state IN ('pending', 'leased'))) \
                          ORDER BY due_at LIMIT $3 {lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(millis(now + lease_for))
            .bind(millis(now))
            .bind(limit)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.due_at, j.id));
        Ok(jobs)
    }

    /// Notes that these leased jobs are being sent now: should the holder die
    /// before recording the outcome, the next holder looks before re-sending.
    pub async fn mark_sending(&self, owner: &str, ids: &[JobId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = ids
            .iter()
            .map(JobId::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(&format!(
            "UPDATE jobs SET verify_first = 1 WHERE lease_owner = $1 AND state = 'leased' AND id IN ({list})"
        ))
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records what happened to a batch of leased jobs, and plans the jobs
    /// that follow them (a reminder, the next digest), in one transaction.
    /// Only the lease holder's records count: a job taken over by another
    /// dispatcher is left to it (follow-ups have unique keys: stored once).
    pub async fn record_outcomes(
        &self,
        owner: &str,
        outcomes: &[(Job, JobOutcome)],
        follow_ups: &[(OrgId, NewJob)],
        now: Timestamp,
    ) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // Per organisation, as the unique keys are.
        let mut by_org: std::collections::BTreeMap<i64, Vec<&NewJob>> = Default::default();
        for (org, job) in follow_ups {
            by_org.entry(org.0).or_default().push(job);
        }
        for (org, jobs) in by_org {
            insert_jobs_in(&mut tx, self.backend, OrgId(org), &jobs, now).await?;
        }
        // Sent jobs, the common case, in one statement per chunk.
        let sent: Vec<(&Job, &String, &String)> = outcomes
            .iter()
            .filter_map(|(job, o)| match o {
                JobOutcome::Sent { channel, ts } => Some((job, channel, ts)),
                _ => None,
            })
            .collect();
        for chunk in sent.chunks(INSERT_BATCH) {
            let mut p = super::Placeholders::new(self.backend);
            let (sent_at, updated_at) = (p.one(), p.one());
            let rows: Vec<String> = chunk.iter().map(|_| p.row(4)).collect();
            let owner_param = p.one();
            let sql = format!(
                "UPDATE jobs SET state = 'sent', channel_id = v.column2, message_ts = v.column3, sent_at = {sent_at}, \
                 lease_until = NULL, outcome = NULL, verify_first = 0, updated_at = {updated_at} \
                 FROM (VALUES {}) AS v \
                 WHERE jobs.id = v.column1 AND jobs.org_id = v.column4 AND jobs.state = 'leased' AND jobs.lease_owner = {owner_param}",
                rows.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(millis(now)).bind(millis(now));
            for (job, channel, ts) in chunk {
                q = q
                    .bind(job.id)
                    .bind((*channel).clone())
                    .bind((*ts).clone())
                    .bind(job.org_id.0);
            }
            q.bind(owner).execute(&mut *tx).await?;
        }
        for (job, outcome) in outcomes {
            let q = match outcome {
                JobOutcome::Sent { .. } => continue,
                JobOutcome::Ended { state, reason } => sqlx::query(
                    "UPDATE jobs SET state = $1, outcome = $2, lease_until = NULL, updated_at = $3 \
                     WHERE org_id = $4 AND id = $5 AND state = 'leased' AND lease_owner = $6",
                )
                .bind(state.as_str())
                .bind(reason.clone())
                .bind(millis(now)),
                // The attempt is given back: waiting is no failure.
                JobOutcome::Wait { at, reason: _ } => sqlx::query(
                    "UPDATE jobs SET state = 'pending', due_at = $1, outcome = $2, lease_until = NULL, attempts = attempts - 1, updated_at = $3 \
                     WHERE org_id = $4 AND id = $5 AND state = 'leased' AND lease_owner = $6",
                )
                .bind(millis(*at))
                .bind(WAITING_FOR_IDENTITY)
                .bind(millis(now)),
                JobOutcome::Retry { at, reason, verify_first: _ } => sqlx::query(
                    "UPDATE jobs SET state = 'pending', due_at = $1, outcome = $2, verify_first = $7, lease_until = NULL, updated_at = $3 \
                     WHERE org_id = $4 AND id = $5 AND state = 'leased' AND lease_owner = $6",
                )
                .bind(millis(*at))
                .bind(reason.clone())
                .bind(millis(now)),
            };
            let q = q.bind(job.org_id.0).bind(job.id).bind(owner);
            let q = match outcome {
                JobOutcome::Retry { verify_first, .. } => q.bind(i64::from(*verify_first)),
                _ => q,
            };
            q.execute(&mut *tx).await?;
        }
        let leads: Vec<JobId> = outcomes
            .iter()
            .filter(|(j, _)| j.batch_job_id == Some(j.id))
            .map(|(j, _)| j.id)
            .collect();
        super::batches::settle(&mut tx, &leads, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Everything a tap needs to be checked, in one query: the workspace's
    /// organisation, the tapping person there, and the tapped job there.
    pub async fn tap_context(
        &self,
        who: &crate::domain::ChatIdentity,
        job_id: JobId,
    ) -> Result<TapContext> {
        tap_context_on(&self.pool, who, job_id).await
    }

    pub async fn job(&self, org: OrgId, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job).transpose()
    }

    /// Records that a job's message is known to have arrived (found in the
    /// history, or announced by the platform's metadata event). Jobs already
    /// ended are left as they are. Returns whether anything changed.
    pub async fn confirm_job_sent(
        &self,
        org: OrgId,
        job_id: JobId,
        channel: &str,
        ts: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let confirmed = sqlx::query(
            "UPDATE jobs SET state = 'sent', channel_id = $1, message_ts = $2, sent_at = COALESCE(sent_at, $3), \
             lease_until = NULL, verify_first = 0, updated_at = $3 \
             WHERE org_id = $4 AND id = $5 AND state IN ('pending', 'leased')",
        )
        .bind(channel)
        .bind(ts)
        .bind(millis(now))
        .bind(org.0)
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        // The reports a day's message carries arrived with it.
        super::batches::settle(&mut tx, &[job_id], now).await?;
        tx.commit().await?;
        Ok(confirmed)
    }

    /// Makes a program's future pending jobs match `planned` (all due after
    /// `now`): new ones are added, moved ones get their new due time, ones no
    /// longer planned end as skipped. Jobs that were sent, retried or are
    /// already due are left alone, and so are reminders (a send plans them).
    /// One transaction; inserts go in batches.
    pub async fn sync_future_jobs(
        &self,
        org: OrgId,
        program_id: ProgramId,
        planned: &[NewJob],
        now: Timestamp,
    ) -> Result<ReplanCounts> {
        self.sync_future_jobs_of(org, program_id, None, planned, now)
            .await
    }

    /// [`Store::sync_future_jobs`] for some participants' jobs of one
    /// purpose only (`only`), when nothing else of the program changed.
    pub async fn sync_future_jobs_of(
        &self,
        org: OrgId,
        program_id: ProgramId,
        only: Option<(&[ParticipantId], JobPurpose)>,
        planned: &[NewJob],
        now: Timestamp,
    ) -> Result<ReplanCounts> {
        let scope = match only {
            None => String::new(),
            Some((participants, purpose)) => {
                let ids: Vec<String> = participants.iter().map(|p| p.to_string()).collect();
                format!(
                    " AND participant_id IN ({}) AND purpose = '{}'",
                    if ids.is_empty() {
                        "NULL".to_string()
                    } else {
                        ids.join(",")
                    },
                    purpose.as_str()
                )
            }
        };
        let mut tx = self.begin_write().await?;
        let pending: Vec<(JobId, String, i64, i64, Option<String>)> = sqlx::query_as(&format!(
            "SELECT id, unique_key, due_at, attempts, outcome FROM jobs \
             WHERE org_id = $1 AND program_id = $2 AND state = 'pending' AND due_at > $3 AND reminds_job_id IS NULL{scope}"
        ))
        .bind(org.0)
        .bind(program_id)
        .bind(millis(now))
        .fetch_all(&mut *tx)
        .await?;
        let by_key: std::collections::HashMap<&str, &(JobId, String, i64, i64, Option<String>)> =
            pending.iter().map(|p| (p.1.as_str(), p)).collect();
        let mut counts = ReplanCounts::default();
        let mut new_jobs: Vec<(&NewJob, String)> = Vec::new();
        let mut moved: Vec<(JobId, i64)> = Vec::new();
        let mut planned_keys = std::collections::HashSet::new();
        for job in planned {
            let key = job.unique_key();
            match by_key.get(key.as_str()) {
                Some((id, _, due, attempts, outcome)) => {
                    // Untouched jobs follow the plan; retried ones keep their retry time.
                    if *due != millis(job.due) && *attempts == 0 && outcome.is_none() {
                        moved.push((*id, millis(job.due)));
                    }
                    planned_keys.insert(key);
                }
                None => {
                    planned_keys.insert(key.clone());
                    new_jobs.push((job, key));
                }
            }
        }
        // In key order, the unique index's pages fill one after another
        // instead of each insert landing on a random one.
        new_jobs.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        counts.moved = move_jobs_in(&mut tx, self.backend, org, &moved, now).await?;
        counts.added = insert_keyed_in(&mut tx, self.backend, org, &new_jobs, now).await?;
        let dropped: Vec<String> = pending
            .iter()
            .filter(|p| {
                !planned_keys.contains(&p.1) && p.4.as_deref() != Some(WAITING_FOR_IDENTITY)
            })
            .map(|p| p.0.to_string())
            .collect();
        for chunk in dropped.chunks(500) {
            counts.dropped += sqlx::query(&format!(
                "UPDATE jobs SET state = 'skipped', outcome = 'no longer planned (the program changed)', updated_at = $1 \
                 WHERE org_id = $2 AND state = 'pending' AND id IN ({})",
                chunk.join(",")
            ))
            .bind(millis(now))
            .bind(org.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Ends a participant's pending questions whether session `session`
    /// happened: it was reported (`reason`).
    pub async fn skip_session_checks(
        &self,
        org: OrgId,
        participant_id: ParticipantId,
        session: u32,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'skipped', outcome = $1, updated_at = $2 \
             WHERE org_id = $3 AND participant_id = $4 AND session_number = $5 AND purpose = 'session_check' AND state = 'pending'",
        )
        .bind(reason)
        .bind(millis(now))
        .bind(org.0)
        .bind(participant_id)
        .bind(i64::from(session))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Puts a sent, unanswered nudge back to be sent again at `due` (the
    /// participant snoozed it). Its reminder, if not sent yet, is dropped: the
    /// nudge plans it again when it goes out. Returns false when it was
    /// answered or ended.
    pub async fn snooze_job(
        &self,
        org: OrgId,
        job_id: JobId,
        due: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let snoozed = sqlx::query(
            "UPDATE jobs SET state = 'pending', due_at = $1, planned_due_at = $1, outcome = 'snoozed', verify_first = 0, \
             lease_until = NULL, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND state IN ('sent', 'pending') \
             AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.org_id = jobs.org_id AND r.job_id = jobs.id)",
        )
        .bind(millis(due))
        .bind(millis(now))
        .bind(org.0)
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if snoozed {
            sqlx::query(
                "DELETE FROM jobs WHERE org_id = $1 AND reminds_job_id = $2 AND state = 'pending'",
            )
            .bind(org.0)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(snoozed)
    }

    /// The nudge most recently sent to this person that has no answer yet.
    pub async fn latest_unanswered_nudge(
        &self,
        org: OrgId,
        person_id: PersonId,
    ) -> Result<Option<Job>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND recipient_person_id = $2 AND state = 'sent' \
             AND purpose IN ('small_step', 'one_tap_check') \
             AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.org_id = jobs.org_id AND r.job_id = jobs.id) \
             AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.org_id = jobs.org_id AND s.job_id = jobs.id) \
             ORDER BY sent_at DESC, id DESC LIMIT 1"
        ))
        .bind(org.0)
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job).transpose()
    }

    /// The jobs these reminders remind of, with whether each was answered
    /// (a manager's day message: every report in it).
    pub async fn reminded_jobs(
        &self,
        org: OrgId,
        ids: &[JobId],
    ) -> Result<std::collections::HashMap<JobId, (Job, bool)>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let list = ids
            .iter()
            .map(JobId::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, CAST(CASE WHEN NOT EXISTS (SELECT 1 FROM jobs m \
               WHERE m.org_id = jobs.org_id AND (m.id = jobs.id OR m.batch_job_id = jobs.id) \
               AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.org_id = m.org_id AND r.job_id = m.id) \
               AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.org_id = m.org_id AND c.job_id = m.id) \
               AND NOT EXISTS (SELECT 1 FROM pulses u WHERE u.org_id = m.org_id AND u.job_id = m.id) \
               AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.org_id = m.org_id AND s.job_id = m.id)) \
             THEN 1 ELSE 0 END AS BIGINT) AS answered \
             FROM jobs WHERE org_id = $1 AND id IN ({list})"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let answered = col::<i64>(row, "answered")? != 0;
                job(row).map(|j| (j.id, (j, answered)))
            })
            .collect()
    }

    /// How many messages each of these people received since `since`, in
    /// every program of the organisation (a manager's day message is one,
    /// however many reports it carries).
    pub async fn sent_since(
        &self,
        org: OrgId,
        people: &[PersonId],
        since: Timestamp,
    ) -> Result<std::collections::HashMap<PersonId, i64>> {
        if people.is_empty() {
            return Ok(Default::default());
        }
        let list = people
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<(PersonId, i64)> = sqlx::query_as(&format!(
            "SELECT recipient_person_id, COUNT(DISTINCT COALESCE(batch_job_id, id)) FROM jobs WHERE org_id = $1 AND state = 'sent' AND sent_at > $2 \
             AND recipient_person_id IN ({list}) GROUP BY recipient_person_id"
        ))
        .bind(org.0)
        .bind(millis(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// When the next pending job falls due (any organisation).
    pub async fn next_due_at(&self) -> Result<Option<Timestamp>> {
        let ms: Option<i64> =
            sqlx::query_scalar("SELECT MIN(due_at) FROM jobs WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        ms.map(instant).transpose()
    }

    /// A program's jobs planned for `[from, to)` (one composed week), by
    /// state, reason (skipped and failed only) and whether it is a reminder.
    pub async fn delivery_in(
        &self,
        org: OrgId,
        program_id: ProgramId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, Option<String>, bool, i64)>> {
        let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT state, CASE WHEN state IN ('skipped', 'failed') THEN outcome END AS reason, \
                    CAST(CASE WHEN purpose = 'reminder' THEN 1 ELSE 0 END AS BIGINT) AS reminder, COUNT(*) AS n \
             FROM jobs WHERE org_id = $1 AND program_id = $2 AND planned_due_at >= $3 AND planned_due_at < $4 \
             GROUP BY state, reason, reminder",
        )
        .bind(org.0)
        .bind(program_id)
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(state, reason, reminder, n)| (state, reason, reminder != 0, n))
            .collect())
    }

    /// Jobs of every organisation by state and (skipped, failed) reason:
    /// operational totals for the metrics endpoint, never per person.
    pub async fn job_totals(&self) -> Result<Vec<(String, Option<String>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT state, CASE WHEN state IN ('skipped', 'failed') THEN outcome END AS reason, COUNT(*) \
             FROM jobs GROUP BY state, reason ORDER BY state, reason",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many pending jobs are due at `now`, and when the oldest fell due.
    pub async fn due_jobs(&self, now: Timestamp) -> Result<(i64, Option<Timestamp>)> {
        let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(due_at) FROM jobs WHERE state = 'pending' AND due_at <= $1",
        )
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok((n, oldest.map(instant).transpose()?))
    }
}
