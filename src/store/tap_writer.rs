//! Group commit for taps. Every tap must be committed and synced before it
//! is acknowledged; one sync per tap would cap a burst at the disk's sync
//! rate. Instead, taps that arrive while a commit is under way wait for the
//! next one, and each commit takes all of them (up to `MAX_BATCH`): the
//! same durability, one sync per batch, and one statement for the batch's
//! taps and one for its reports instead of two per tap. A batch that fails
//! is written again one tap at a time, so that one bad tap fails alone.

use super::reports::{write_answer, write_tap, NewTap, TapOutcome, TapTarget};
use super::{col, millis, Backend, OrgId, PersonId, Placeholders, ProgramId, Result, Store};
use jiff::Timestamp;
use sqlx::{Any, AnyPool, Transaction};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 256;

/// A tap waiting for its commit.
pub(super) struct Pending {
    org: OrgId,
    job_id: i64,
    program_id: ProgramId,
    person_id: PersonId,
    target: TapTarget,
    answer: String,
    delivery_key: String,
    at: Timestamp,
    reply: oneshot::Sender<Result<TapOutcome>>,
}

impl Pending {
    fn tap(&self) -> NewTap<'_> {
        NewTap {
            job_id: self.job_id,
            program_id: self.program_id,
            person_id: self.person_id,
            target: self.target,
            answer: &self.answer,
            delivery_key: &self.delivery_key,
            at: self.at,
        }
    }
}

pub(super) type Writer = mpsc::Sender<Pending>;

/// Hands the tap to the writer (started on first use) and waits for its commit.
pub(super) async fn record(store: &Store, org: OrgId, tap: &NewTap<'_>) -> Result<TapOutcome> {
    let writer = store
        .tap_writer
        .get_or_init(|| start(store.pool.clone(), store.backend))
        .clone();
    let (reply, answer) = oneshot::channel();
    let pending = Pending {
        org,
        job_id: tap.job_id,
        program_id: tap.program_id,
        person_id: tap.person_id,
        target: tap.target,
        answer: tap.answer.to_string(),
        delivery_key: tap.delivery_key.to_string(),
        at: tap.at,
        reply,
    };
    if writer.send(pending).await.is_err() {
        // The writer's runtime is gone: write it directly.
        return write(&store.pool, store.backend, &[(org, tap.clone())])
            .await
            .map(|o| o[0]);
    }
    answer.await.unwrap_or_else(|_| {
        Err(super::StoreError::Conflict(
            "the tap writer stopped before answering".into(),
        ))
    })
}

/// The writer task: it ends when every store holding its sender is gone.
fn start(pool: AnyPool, backend: Backend) -> Writer {
    let (tx, mut rx) = mpsc::channel::<Pending>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let taps: Vec<(OrgId, NewTap<'_>)> = batch.iter().map(|p| (p.org, p.tap())).collect();
            let written = write(&pool, backend, &taps).await;
            drop(taps);
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
                        let one = write(&pool, backend, &[(p.org, p.tap())])
                            .await
                            .map(|o| o[0]);
                        let _ = p.reply.send(one);
                    }
                }
            }
        }
    });
    tx
}

/// Writes taps in one transaction: all committed, or none.
async fn write(
    pool: &AnyPool,
    backend: Backend,
    taps: &[(OrgId, NewTap<'_>)],
) -> Result<Vec<TapOutcome>> {
    let mut tx = pool.begin().await?;
    let out = match taps {
        [(org, tap)] => vec![write_tap(&mut tx, *org, tap).await?],
        _ => write_many(&mut tx, backend, taps).await?,
    };
    tx.commit().await?;
    Ok(out)
}

async fn write_many(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    taps: &[(OrgId, NewTap<'_>)],
) -> Result<Vec<TapOutcome>> {
    let mut p = Placeholders::new(backend);
    let rows: Vec<String> = taps.iter().map(|_| p.row(7)).collect();
    let sql = format!(
        "INSERT INTO taps (org_id, job_id, person_id, answer, delivery_key, tapped_at, program_id) VALUES {} \
         ON CONFLICT (org_id, delivery_key) DO NOTHING RETURNING org_id, delivery_key",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for (org, t) in taps {
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
        .map(|(org, t)| {
            let key = (org.0, t.delivery_key.to_string());
            if inserted.contains(&key) && seen.insert(key) {
                TapOutcome::Recorded
            } else {
                TapOutcome::Duplicate
            }
        })
        .collect();
    // Each job's answer is its latest new tap in the batch (arrival order).
    let mut latest: HashMap<i64, usize> = HashMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        if *o == TapOutcome::Recorded {
            latest.insert(taps[i].1.job_id, i);
        }
    }
    let mut answers: Vec<usize> = latest.into_values().collect();
    answers.sort_unstable();
    let (reports, others): (Vec<usize>, Vec<usize>) = answers
        .into_iter()
        .partition(|i| matches!(taps[*i].1.target, TapTarget::Report { .. }));
    if !reports.is_empty() {
        let mut p = Placeholders::new(backend);
        let rows: Vec<String> = reports.iter().map(|_| p.row(6)).collect();
        let sql = format!(
            "INSERT INTO reports (org_id, participant_id, job_id, answer, first_answered_at, answered_at) VALUES {} \
             ON CONFLICT (job_id) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for i in &reports {
            let (org, t) = &taps[*i];
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
        let (org, t) = &taps[i];
        write_answer(tx, *org, t).await?;
    }
    Ok(outcomes)
}
