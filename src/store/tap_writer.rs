//! Group commit for taps. Every tap must be committed and synced before it
//! is acknowledged; one sync per tap would cap a burst at the disk's sync
//! rate. Instead, taps that arrive while a commit is under way wait for the
//! next one, and each commit takes all of them (up to `MAX_BATCH`): the
//! same durability, one sync per batch. A batch that fails is written again
//! one tap at a time, so that one bad tap fails alone.

use super::reports::{write_tap, NewTap, TapOutcome, TapTarget};
use super::{OrgId, Result, Store};
use jiff::Timestamp;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 256;

/// A tap waiting for its commit.
pub(super) struct Pending {
    org: OrgId,
    job_id: i64,
    program_id: i64,
    person_id: i64,
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
        .get_or_init(|| start(store.pool.clone()))
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
        return write(&store.pool, &[(org, tap.clone())])
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
fn start(pool: AnyPool) -> Writer {
    let (tx, mut rx) = mpsc::channel::<Pending>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let taps: Vec<(OrgId, NewTap<'_>)> = batch.iter().map(|p| (p.org, p.tap())).collect();
            let written = write(&pool, &taps).await;
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
                        let one = write(&pool, &[(p.org, p.tap())]).await.map(|o| o[0]);
                        let _ = p.reply.send(one);
                    }
                }
            }
        }
    });
    tx
}

/// Writes taps in one transaction: all committed, or none.
async fn write(pool: &AnyPool, taps: &[(OrgId, NewTap<'_>)]) -> Result<Vec<TapOutcome>> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(taps.len());
    for (org, tap) in taps {
        out.push(write_tap(&mut tx, *org, tap).await?);
    }
    tx.commit().await?;
    Ok(out)
}
