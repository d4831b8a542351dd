//! Group commit for taps. Every tap must be committed and synced before it
//! is acknowledged; one sync per tap would cap a burst at the disk's sync
//! rate. Instead, taps that arrive while a commit is under way wait for the
//! next one, and each commit takes all of them (up to `MAX_BATCH`): the
//! same durability, one sync per batch, one statement for the batch's taps
//! and one for its reports instead of two per tap.
//!
//! A tap is checked in the same transaction that stores it: one query reads
//! every tapped job of the batch with its recipient's chat identity (and the
//! workspace that ties it to the job's organisation), so a burst costs no
//! query per tap, and the check and the write see the same rows. A batch
//! that fails is written again one tap at a time, so that one bad tap fails
//! alone.

use super::jobs::{job as job_in, job_columns_of, tap_context_on, TapContext};
use super::reports::{write_answer, write_tap, NewTap, TapOutcome, TapTarget};
use super::{col, millis, Backend, JobId, OrgId, PersonId, Placeholders, ProgramId, Result, Store};
use crate::domain::{ChatIdentity, Platform};
use jiff::Timestamp;
use sqlx::{Any, AnyPool, Transaction};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 256;

/// Decides from a tap's context where its answer goes; `None` refuses it.
pub type TapCheck = Box<dyn Fn(&TapContext) -> Option<TapTarget> + Send + Sync>;

/// A tap for the writer to check and store.
pub struct TapToCheck {
    pub who: ChatIdentity,
    pub job_id: JobId,
    pub answer: String,
    pub delivery_key: String,
    pub at: Timestamp,
    pub check: TapCheck,
}

/// What became of a checked tap: stored (or a repeat), or refused by its
/// check (`outcome` is `None`); with the context it was checked against.
#[derive(Debug)]
pub struct Checked {
    pub outcome: Option<TapOutcome>,
    pub context: TapContext,
}

enum Request {
    /// Checked by the caller, who knows its organisation and target.
    Known {
        org: OrgId,
        program_id: ProgramId,
        person_id: PersonId,
        target: TapTarget,
    },
    ToCheck {
        who: ChatIdentity,
        check: TapCheck,
    },
}

/// A tap waiting for its commit.
pub(super) struct Pending {
    request: Request,
    job_id: JobId,
    answer: String,
    delivery_key: String,
    at: Timestamp,
    reply: oneshot::Sender<Result<Checked>>,
}

pub(super) type Writer = mpsc::Sender<Pending>;

/// Stores a tap already checked; waits for its commit.
pub(super) async fn record(store: &Store, org: OrgId, tap: &NewTap<'_>) -> Result<TapOutcome> {
    let request = Request::Known {
        org,
        program_id: tap.program_id,
        person_id: tap.person_id,
        target: tap.target,
    };
    let checked = submit(
        store,
        request,
        tap.job_id,
        tap.answer.to_string(),
        tap.delivery_key.to_string(),
        tap.at,
    )
    .await?;
    Ok(checked.outcome.unwrap_or(TapOutcome::Duplicate))
}

/// Checks and stores a tap in the next commit; waits for it.
pub(super) async fn check_and_record(store: &Store, tap: TapToCheck) -> Result<Checked> {
    let TapToCheck {
        who,
        job_id,
        answer,
        delivery_key,
        at,
        check,
    } = tap;
    submit(
        store,
        Request::ToCheck { who, check },
        job_id,
        answer,
        delivery_key,
        at,
    )
    .await
}

async fn submit(
    store: &Store,
    request: Request,
    job_id: JobId,
    answer: String,
    delivery_key: String,
    at: Timestamp,
) -> Result<Checked> {
    let writer = store
        .tap_writer
        .get_or_init(|| start(store.pool.clone(), store.backend))
        .clone();
    let (reply, answered) = oneshot::channel();
    let pending = Pending {
        request,
        job_id,
        answer,
        delivery_key,
        at,
        reply,
    };
    let pending = match writer.send(pending).await {
        Ok(()) => {
            return answered.await.unwrap_or_else(|_| {
                Err(super::StoreError::Conflict(
                    "the tap writer stopped before answering".into(),
                ))
            })
        }
        Err(mpsc::error::SendError(p)) => p,
    };
    // The writer's runtime is gone: write it here.
    write(&store.pool, store.backend, std::slice::from_ref(&pending))
        .await
        .map(|mut out| out.remove(0))
}

/// The writer task: it ends when every store holding its sender is gone.
fn start(pool: AnyPool, backend: Backend) -> Writer {
    let (tx, mut rx) = mpsc::channel::<Pending>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let started = std::time::Instant::now();
            let written = write(&pool, backend, &batch).await;
            // How the group commit behaves under load, for an operator
            // (RUST_LOG=momentum::store::tap_writer=debug).
            tracing::debug!(
                taps = batch.len(),
                micros = started.elapsed().as_micros() as u64,
                "tap batch committed"
            );
            match written {
                Ok(outcomes) => {
                    for (p, o) in batch.drain(..).zip(outcomes) {
                        let _ = p.reply.send(Ok(o));
                    }
                }
                Err(e) if batch.len() == 1 => {
                    if let Some(p) = batch.pop() {
                        let _ = p.reply.send(Err(e));
                    }
                }
                Err(_) => {
                    for p in batch.drain(..) {
                        let one = write(&pool, backend, std::slice::from_ref(&p))
                            .await
                            .map(|mut o| o.remove(0));
                        let _ = p.reply.send(one);
                    }
                }
            }
        }
    });
    tx
}

/// Checks and writes taps in one transaction: all committed, or none.
async fn write(pool: &AnyPool, backend: Backend, batch: &[Pending]) -> Result<Vec<Checked>> {
    // Where a batch's time goes (RUST_LOG=momentum::store::tap_writer=trace):
    // a slow disk shows in the commit, a busy database in the begin.
    let started = std::time::Instant::now();
    // SQLite: take the write lock first, so that the read that checks the
    // taps cannot go stale before they are written.
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    let begun = started.elapsed();
    let mut contexts = contexts(&mut tx, backend, batch).await?;
    let checked = started.elapsed();
    let mut results: Vec<Checked> = Vec::with_capacity(batch.len());
    let mut rows: Vec<(usize, OrgId, NewTap<'_>)> = Vec::with_capacity(batch.len());
    for (i, p) in batch.iter().enumerate() {
        let context = contexts[i].take().unwrap_or_default();
        let accepted = match &p.request {
            Request::Known {
                org,
                program_id,
                person_id,
                target,
            } => Some((*org, *program_id, *person_id, *target)),
            Request::ToCheck { check, .. } => match (&context, check(&context)) {
                (
                    TapContext {
                        org: Some(org),
                        person_id: Some(person),
                        job: Some(job),
                    },
                    Some(target),
                ) => Some((*org, job.program_id, *person, target)),
                _ => None,
            },
        };
        if let Some((org, program_id, person_id, target)) = accepted {
            rows.push((
                i,
                org,
                NewTap {
                    job_id: p.job_id,
                    program_id,
                    person_id,
                    target,
                    answer: &p.answer,
                    delivery_key: &p.delivery_key,
                    at: p.at,
                },
            ));
        }
        results.push(Checked {
            outcome: None,
            context,
        });
    }
    let outcomes = match rows.as_slice() {
        [] => vec![],
        [(_, org, tap)] => vec![write_tap(&mut tx, *org, tap).await?],
        _ => write_many(&mut tx, backend, &rows).await?,
    };
    let stored = started.elapsed();
    tx.commit().await?;
    tracing::trace!(
        taps = batch.len(),
        begin_us = begun.as_micros() as u64,
        check_us = (checked - begun).as_micros() as u64,
        store_us = (stored - checked).as_micros() as u64,
        commit_us = (started.elapsed() - stored).as_micros() as u64,
        "tap batch phases"
    );
    for ((i, _, _), o) in rows.iter().zip(outcomes) {
        results[*i].outcome = Some(o);
    }
    Ok(results)
}

/// The context of every tap to check in the batch (`None` for the others):
/// one query for them all, and the exact look-up only for a tap that does
/// not match its job's recipient (to tell why it is refused).
async fn contexts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    batch: &[Pending],
) -> Result<Vec<Option<TapContext>>> {
    let mut out: Vec<Option<TapContext>> = batch.iter().map(|_| None).collect();
    let ids: Vec<JobId> = batch
        .iter()
        .filter(|p| matches!(p.request, Request::ToCheck { .. }))
        .map(|p| p.job_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut p = Placeholders::new(backend);
    let list: Vec<String> = ids.iter().map(|_| p.one()).collect();
    // Joined by primary keys only, so that no plan can turn this into a
    // scan (PostgreSQL, with no statistics yet after a large apply, once
    // read every job of the organisation per person). The recipient's
    // workspace must belong to the job's organisation, as in the exact
    // look-up.
    let sql = format!(
        "SELECT {}, p.platform AS ctx_platform, p.workspace_id AS ctx_workspace, p.user_id AS ctx_user, \
         p.org_id AS ctx_person_org, \
         (SELECT w.org_id FROM workspaces w WHERE w.platform = p.platform AND w.workspace_id = p.workspace_id) AS ctx_workspace_org \
         FROM jobs j JOIN people p ON p.id = j.recipient_person_id \
         WHERE j.id IN ({})",
        job_columns_of("j"),
        list.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    let mut found: HashMap<JobId, (ChatIdentity, super::Job)> = HashMap::with_capacity(ids.len());
    for row in q.fetch_all(&mut **tx).await? {
        let job = job_in(&row)?;
        let person_org: i64 = col(&row, "ctx_person_org")?;
        let workspace_org: Option<i64> = col(&row, "ctx_workspace_org")?;
        if person_org != job.org_id.0 || workspace_org != Some(job.org_id.0) {
            continue;
        }
        let platform: String = col(&row, "ctx_platform")?;
        let Some(platform) = Platform::parse(&platform) else {
            continue;
        };
        let who = ChatIdentity {
            platform,
            workspace: col(&row, "ctx_workspace")?,
            user: col(&row, "ctx_user")?,
        };
        found.insert(job.id, (who, job));
    }
    for (i, pending) in batch.iter().enumerate() {
        let Request::ToCheck { who, .. } = &pending.request else {
            continue;
        };
        out[i] = Some(match found.get(&pending.job_id) {
            Some((recipient, job)) if recipient == who => TapContext {
                org: Some(job.org_id),
                person_id: job.recipient_person_id,
                job: Some(job.clone()),
            },
            _ => tap_context_on(&mut **tx, who, pending.job_id).await?,
        });
    }
    Ok(out)
}

async fn write_many(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    taps: &[(usize, OrgId, NewTap<'_>)],
) -> Result<Vec<TapOutcome>> {
    let mut p = Placeholders::new(backend);
    let rows: Vec<String> = taps.iter().map(|_| p.row(7)).collect();
    let sql = format!(
        "INSERT INTO taps (org_id, job_id, person_id, answer, delivery_key, tapped_at, program_id) VALUES {} \
         ON CONFLICT (org_id, delivery_key) DO NOTHING RETURNING org_id, delivery_key",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for (_, org, t) in taps {
        q = q
            .bind(org.0)
            .bind(t.job_id)
            .bind(t.person_id)
            .bind(t.answer)
            .bind(t.delivery_key)
            .bind(millis(t.at))
            .bind(t.program_id);
    }
    let mut inserted = HashSet::new();
    for r in q.fetch_all(&mut **tx).await? {
        inserted.insert((
            col::<i64>(&r, "org_id")?,
            col::<String>(&r, "delivery_key")?,
        ));
    }
    // The first of a key inserted is new; a repeat (even in this batch) is not.
    let mut seen = HashSet::new();
    let outcomes: Vec<TapOutcome> = taps
        .iter()
        .map(|(_, org, t)| {
            let key = (org.0, t.delivery_key.to_string());
            if inserted.contains(&key) && seen.insert(key) {
                TapOutcome::Recorded
            } else {
                TapOutcome::Duplicate
            }
        })
        .collect();
    // Each job's answer is its latest new tap in the batch (by time, then
    // arrival), as `taps` orders them.
    let mut latest: HashMap<JobId, usize> = HashMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        if *o == TapOutcome::Recorded {
            let newest = latest.entry(taps[i].2.job_id).or_insert(i);
            if taps[i].2.at >= taps[*newest].2.at {
                *newest = i;
            }
        }
    }
    let mut answers: Vec<usize> = latest.into_values().collect();
    answers.sort_unstable();
    let (reports, others): (Vec<usize>, Vec<usize>) = answers
        .into_iter()
        .partition(|i| matches!(taps[*i].2.target, TapTarget::Report { .. }));
    if !reports.is_empty() {
        let mut p = Placeholders::new(backend);
        let rows: Vec<String> = reports.iter().map(|_| p.row(6)).collect();
        let sql = format!(
            "INSERT INTO reports (org_id, participant_id, job_id, answer, first_answered_at, answered_at) VALUES {} \
             ON CONFLICT (job_id) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at \
             WHERE excluded.answered_at >= reports.answered_at",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for i in &reports {
            let (_, org, t) = &taps[*i];
            let TapTarget::Report { participant_id } = t.target else {
                continue;
            };
            q = q
                .bind(org.0)
                .bind(participant_id)
                .bind(t.job_id)
                .bind(t.answer)
                .bind(millis(t.at))
                .bind(millis(t.at));
        }
        q.execute(&mut **tx).await?;
    }
    // Check-ins and pulses come a few a week each: one by one is fine.
    for i in others {
        let (_, org, t) = &taps[i];
        write_answer(tx, *org, t).await?;
    }
    Ok(outcomes)
}
