//! The dispatcher: lease due jobs (with an expiry, no transaction open while
//! sending), send through the chat port, record the outcome. Temporary
//! failures retry with exponential backoff and jitter; a 429 waits the
//! `Retry-After` it was given; permanent failures end the job with the
//! platform's reason, which HR sees.

use crate::app::App;
use crate::chat::ChatError;
use crate::store::{Job, JobState};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a lease lasts; a holder that dies is replaced after this.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
/// Jobs taken per round.
const BATCH: i64 = 50;
/// After this many attempts a temporarily failing job is given up.
const MAX_ATTEMPTS: i64 = 8;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchStats {
    pub sent: usize,
    pub skipped: usize,
    pub failed: usize,
    pub retried: usize,
}

impl DispatchStats {
    pub fn handled(&self) -> usize {
        self.sent + self.skipped + self.failed + self.retried
    }
}

enum Outcome {
    Sent,
    Skipped(String),
    Failed(String),
    Retry(Timestamp, String),
}

pub struct Dispatcher {
    app: Arc<App>,
}

impl Dispatcher {
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    /// Sends everything due now; returns what happened. Call until it handles
    /// nothing to drain a backlog.
    pub async fn run_once(&self) -> crate::store::Result<DispatchStats> {
        let now = self.app.clock.now();
        let jobs = self.app.store.lease_due_jobs(now, LEASE, BATCH).await?;
        let mut stats = DispatchStats::default();
        for job in jobs {
            let span = tracing::info_span!(
                "job",
                org = job.org_id.0,
                program = job.program_id,
                job = job.id
            );
            let _enter = span.enter();
            let outcome = self.deliver(&job).await;
            let now = self.app.clock.now();
            match outcome {
                Outcome::Sent => stats.sent += 1,
                Outcome::Skipped(reason) => {
                    tracing::info!(%reason, "job skipped");
                    self.app
                        .store
                        .finish_job(&job, JobState::Skipped, &reason, now)
                        .await?;
                    stats.skipped += 1;
                }
                Outcome::Failed(reason) => {
                    tracing::warn!(%reason, "job failed");
                    self.app
                        .store
                        .finish_job(&job, JobState::Failed, &reason, now)
                        .await?;
                    stats.failed += 1;
                }
                Outcome::Retry(at, reason) => {
                    tracing::info!(%reason, retry_at = %at, "job will be retried");
                    self.app.store.retry_job(&job, at, &reason, now).await?;
                    stats.retried += 1;
                }
            }
        }
        Ok(stats)
    }

    async fn deliver(&self, job: &Job) -> Outcome {
        let now = self.app.clock.now();
        let ctx = match self.app.job_context(job).await {
            Ok(c) => c,
            Err(crate::app::AppError::Store(e)) => {
                return self.retry(job, format!("database: {e}"))
            }
            Err(e) => return Outcome::Skipped(e.to_string()),
        };
        if ctx.participant.deactivated {
            return Outcome::Skipped("participant deactivated".into());
        }
        if ctx.participant.is_paused_at(now) {
            return Outcome::Skipped("participant paused".into());
        }
        let Some(recipient) = &ctx.recipient else {
            return Outcome::Skipped("recipient is no longer this participant's manager".into());
        };
        if recipient.stopped_at.is_some() {
            return Outcome::Skipped("recipient said stop".into());
        }
        // Never a "good morning" at night: past the recipient's working day
        // (or the program's send window) the job is skipped, not sent late.
        let window_end = match ctx.program.spec.send_window_hours {
            Some(h) => job.due_at + SignedDuration::from_hours(i64::from(h)),
            None => ctx.calendar.send_window_end(job.due_at),
        };
        if now > window_end {
            let due_local = job.due_at.to_zoned(ctx.calendar.zone.tz().clone());
            return Outcome::Skipped(format!(
                "stale: missed its delivery window (due {} local)",
                due_local.strftime("%a %d %b %H:%M")
            ));
        }
        let Some(who) = &recipient.chat else {
            return Outcome::Failed(format!(
                "unresolved: {}",
                recipient
                    .unresolved_reason
                    .as_deref()
                    .unwrap_or("no chat identity")
            ));
        };
        let Some(port) = self.app.chats.for_identity(who) else {
            return Outcome::Failed(format!(
                "no connection to {} workspace {}",
                who.platform.as_str(),
                who.workspace
            ));
        };
        let message = self.app.message_for(&ctx, job, None);
        match port.send_direct(who, &message).await {
            Ok(at) => match self
                .app
                .store
                .mark_job_sent(job, &at.channel, &at.ts, self.app.clock.now())
                .await
            {
                Ok(()) => Outcome::Sent,
                // Sent but not recorded: the lease expires and the next holder
                // re-sends. Rare (the database went away between two statements).
                Err(e) => {
                    tracing::error!(error = %e, "sent but could not record it");
                    Outcome::Sent
                }
            },
            Err(ChatError::Permanent(reason)) => Outcome::Failed(reason),
            Err(ChatError::RateLimited { retry_after }) => {
                let wait = retry_after.unwrap_or(Duration::from_secs(30));
                Outcome::Retry(
                    now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(30)),
                    "rate limited".into(),
                )
            }
            Err(ChatError::Transient(reason)) => self.retry(job, reason),
        }
    }

    /// Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 1 h.
    fn retry(&self, job: &Job, reason: String) -> Outcome {
        if job.attempts >= MAX_ATTEMPTS {
            return Outcome::Failed(format!("gave up after {} attempts: {reason}", job.attempts));
        }
        let base = 30i64 << (job.attempts.clamp(1, 8) - 1);
        let secs = base.min(3600);
        let jitter = rand::thread_rng().gen_range(0..=secs / 4);
        Outcome::Retry(
            self.app.clock.now() + SignedDuration::from_secs(secs + jitter),
            reason,
        )
    }

    /// Runs until `shutdown` turns true, polling every `interval`.
    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.run_once().await {
                Ok(stats) if stats.handled() > 0 => {
                    tracing::info!(
                        sent = stats.sent,
                        skipped = stats.skipped,
                        failed = stats.failed,
                        retried = stats.retried,
                        "dispatched"
                    );
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "dispatcher round failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}
