//! The dispatcher: lease due jobs (with an expiry, no transaction open while
//! sending), send through the chat port, record the outcome. Temporary
//! failures retry with exponential backoff and jitter; a 429 waits the
//! `Retry-After` it was given; permanent failures end the job with the
//! platform's reason, which HR sees. A send whose outcome is unknown (a
//! timeout, or a holder that died mid-send) is looked up before it is sent
//! again, so nobody gets the same nudge twice.

use crate::app::{App, AppError, JobContext};
use crate::chat::{ChatError, ChatPort};
use crate::domain::ChatIdentity;
use crate::store::{Job, JobState};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a lease lasts before another dispatcher may take the job over.
pub const DEFAULT_LEASE: SignedDuration = SignedDuration::from_secs(120);
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
    /// Sends with an unknown outcome that were found to have arrived.
    pub confirmed: usize,
    /// Sends with an unknown outcome that cannot be confirmed (not resent).
    pub unknown: usize,
}

impl DispatchStats {
    pub fn handled(&self) -> usize {
        self.sent + self.skipped + self.failed + self.retried + self.confirmed + self.unknown
    }

    pub fn add(&mut self, o: DispatchStats) {
        self.sent += o.sent;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.retried += o.retried;
        self.confirmed += o.confirmed;
        self.unknown += o.unknown;
    }
}

enum Outcome {
    Sent,
    /// A send with an unknown outcome turned out to have arrived.
    Confirmed,
    Skipped(String),
    Failed(String),
    Unknown(String),
    Retry {
        at: Timestamp,
        reason: String,
        verify_first: bool,
    },
}

pub struct Dispatcher {
    app: Arc<App>,
    lease: SignedDuration,
}

impl Dispatcher {
    pub fn new(app: Arc<App>) -> Self {
        Self::with_lease(app, DEFAULT_LEASE)
    }

    pub fn with_lease(app: Arc<App>, lease: SignedDuration) -> Self {
        Self { app, lease }
    }

    /// Sends everything due now; returns what happened. Call until it handles
    /// nothing to drain a backlog.
    pub async fn run_once(&self) -> crate::store::Result<DispatchStats> {
        let now = self.app.clock.now();
        let jobs = self
            .app
            .store
            .lease_due_jobs(now, self.lease, BATCH)
            .await?;
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
            let store = &self.app.store;
            match outcome {
                Outcome::Sent => stats.sent += 1,
                Outcome::Confirmed => stats.confirmed += 1,
                Outcome::Skipped(reason) => {
                    tracing::info!(%reason, "job skipped");
                    store
                        .finish_job(&job, JobState::Skipped, &reason, now)
                        .await?;
                    stats.skipped += 1;
                }
                Outcome::Failed(reason) => {
                    tracing::warn!(%reason, "job failed");
                    store
                        .finish_job(&job, JobState::Failed, &reason, now)
                        .await?;
                    stats.failed += 1;
                }
                Outcome::Unknown(reason) => {
                    tracing::warn!(%reason, "job outcome unknown");
                    store
                        .finish_job(&job, JobState::Unknown, &reason, now)
                        .await?;
                    stats.unknown += 1;
                }
                Outcome::Retry {
                    at,
                    reason,
                    verify_first,
                } => {
                    tracing::info!(%reason, retry_at = %at, verify_first, "job will be retried");
                    store
                        .retry_job(&job, at, &reason, verify_first, now)
                        .await?;
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
            Err(AppError::Store(e)) => {
                return self.retry(job, format!("database: {e}"), job.verify_first)
            }
            Err(e) => return Outcome::Skipped(e.to_string()),
        };
        if let Some(reason) = skip_reason(&ctx, job, now) {
            return Outcome::Skipped(reason);
        }
        let recipient = ctx.recipient.as_ref().and_then(|r| r.chat.as_ref());
        let Some(who) = recipient else {
            let why = ctx
                .recipient
                .as_ref()
                .and_then(|r| r.unresolved_reason.clone());
            return Outcome::Failed(format!(
                "unresolved: {}",
                why.as_deref().unwrap_or("no chat identity")
            ));
        };
        let Some(port) = self.app.chats.for_identity(who) else {
            return Outcome::Failed(format!(
                "no connection to {} workspace {}",
                who.platform.as_str(),
                who.workspace
            ));
        };
        if job.verify_first {
            match self.find_earlier_send(port.as_ref(), who, job).await {
                Ok(true) => return Outcome::Confirmed,
                Ok(false) => {}
                Err(outcome) => return outcome,
            }
        }
        let message = self.app.message_for(&ctx, job, None);
        match port.send_direct(who, &message).await {
            Ok(at) => match self
                .app
                .store
                .mark_job_sent(job, &at.channel, &at.ts, self.app.clock.now())
                .await
            {
                Ok(()) => Outcome::Sent,
                // Sent but not recorded: when the lease expires the next holder
                // finds the message in the history instead of sending it again.
                Err(e) => {
                    tracing::error!(error = %e, "sent but could not record it");
                    Outcome::Sent
                }
            },
            Err(ChatError::Permanent(reason)) => Outcome::Failed(reason),
            Err(ChatError::RateLimited { retry_after }) => {
                self.rate_limited(retry_after, job.verify_first)
            }
            Err(ChatError::Uncertain(reason)) => self.retry(job, reason, true),
            Err(ChatError::Transient(reason)) => self.retry(job, reason, job.verify_first),
            Err(ChatError::Unverifiable) => Outcome::Unknown("the platform gave no answer".into()),
        }
    }

    /// After a send with an unknown outcome: did the message arrive? `Ok(true)`
    /// when it did (and is now recorded as sent).
    async fn find_earlier_send(
        &self,
        port: &dyn ChatPort,
        who: &ChatIdentity,
        job: &Job,
    ) -> Result<bool, Outcome> {
        match port.find_sent(who, job.id, job.created_at).await {
            Ok(Some(at)) => {
                let now = self.app.clock.now();
                match self.app.store.confirm_job_sent(job.org_id, job.id, &at.channel, &at.ts, now).await {
                    Ok(_) => Ok(true),
                    Err(e) => Err(self.retry(job, format!("database: {e}"), true)),
                }
            }
            Ok(None) => Ok(false),
            Err(ChatError::Unverifiable) => Err(Outcome::Unknown(
                "sent without an answer; this platform cannot confirm delivery, so it is not sent again".into(),
            )),
            Err(ChatError::RateLimited { retry_after }) => Err(self.rate_limited(retry_after, true)),
            Err(e) => Err(self.retry(job, format!("checking an earlier send: {e}"), true)),
        }
    }

    fn rate_limited(&self, retry_after: Option<Duration>, verify_first: bool) -> Outcome {
        let wait = retry_after.unwrap_or(Duration::from_secs(30));
        Outcome::Retry {
            at: self.app.clock.now()
                + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(30)),
            reason: "rate limited".into(),
            verify_first,
        }
    }

    /// Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 1 h.
    fn retry(&self, job: &Job, reason: String, verify_first: bool) -> Outcome {
        if job.attempts >= MAX_ATTEMPTS {
            return Outcome::Failed(format!("gave up after {} attempts: {reason}", job.attempts));
        }
        let secs = (30i64 << (job.attempts.clamp(1, 8) - 1)).min(3600);
        let jitter = rand::thread_rng().gen_range(0..=secs / 4);
        Outcome::Retry {
            at: self.app.clock.now() + SignedDuration::from_secs(secs + jitter),
            reason,
            verify_first,
        }
    }

    /// Runs until `shutdown` turns true, polling every `interval`.
    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_once().await {
                Ok(stats) if stats.handled() > 0 => {
                    tracing::info!(
                        sent = stats.sent,
                        skipped = stats.skipped,
                        failed = stats.failed,
                        retried = stats.retried,
                        confirmed = stats.confirmed,
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
        }
    }
}

/// Why a job is not sent at all, if it is not.
fn skip_reason(ctx: &JobContext, job: &Job, now: Timestamp) -> Option<String> {
    if ctx.participant.deactivated {
        return Some("participant deactivated".into());
    }
    if ctx.participant.is_paused_at(now) {
        return Some("participant paused".into());
    }
    let Some(recipient) = &ctx.recipient else {
        return Some("recipient is no longer this participant's manager".into());
    };
    if recipient.stopped_at.is_some() {
        return Some("recipient said stop".into());
    }
    // Never a "good morning" at night: past the recipient's working day (or
    // the program's send window) the job is skipped, not sent late.
    let window_end = match ctx.program.spec.send_window_hours {
        Some(h) => job.planned_due_at + SignedDuration::from_hours(i64::from(h)),
        None => ctx.calendar.send_window_end(job.planned_due_at),
    };
    if now > window_end {
        let due_local = job.planned_due_at.to_zoned(ctx.calendar.zone.tz().clone());
        return Some(format!(
            "stale: missed its delivery window (due {} local)",
            due_local.strftime("%a %d %b %H:%M")
        ));
    }
    None
}
