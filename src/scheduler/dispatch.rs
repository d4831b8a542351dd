//! The dispatcher: lease due jobs (with an expiry; no transaction open while
//! sending), send through the chat port, record the outcomes. Per batch: one
//! write marks the jobs being sent, the sends run concurrently (each paced by
//! the platform's rate limits), one transaction records every outcome.
//! Temporary failures retry with exponential backoff and jitter; a 429 waits
//! the `Retry-After` it was given; permanent failures end the job with the
//! platform's reason, which HR sees. A send whose outcome is unknown (a
//! timeout, or a holder that died mid-send) is looked up before it is sent
//! again, so nobody gets the same nudge twice.

use crate::app::{App, AppError, JobContext};
use crate::chat::{ChatError, ChatPort, Message};
use crate::domain::errors::with_causes;
use crate::domain::metrics::ProgramWeek;
use crate::domain::JobPurpose;
use crate::domain::{ChatIdentity, JobId, PersonId};
use crate::store::{Job, JobOutcome, JobState, NewJob, OrgId};
use futures_util::stream::{self, StreamExt};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a lease lasts before another dispatcher may take the job over.
/// It must outlast a batch's sends (each bounded by the client timeout).
pub const DEFAULT_LEASE: SignedDuration = SignedDuration::from_secs(120);
/// Jobs taken per round: a round's statements (lease, contexts, marking,
/// recording) are shared by its jobs, so bigger rounds cost less a message;
/// at Slack's pace (5 a second a workspace) a round still ends well within
/// its lease. Not bigger: a replica killed mid-round leaves its sends to be
/// confirmed, and a send confirmed by Slack's metadata event plans no
/// reminder (tests/replicas.rs counts them).
const BATCH: i64 = 128;
/// Sends in flight at once within a batch.
const CONCURRENCY: usize = 48;
/// After this many attempts a temporarily failing job is given up.
const MAX_ATTEMPTS: i64 = 8;
/// A job whose recipient is still being resolved looks again this much later.
const RESOLVING_WAIT_SECONDS: i64 = 60;

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
    /// Put back until their recipient's chat identity is resolved.
    pub waiting: usize,
}

impl DispatchStats {
    pub fn handled(&self) -> usize {
        self.sent
            + self.skipped
            + self.failed
            + self.retried
            + self.confirmed
            + self.unknown
            + self.waiting
    }

    pub fn add(&mut self, o: DispatchStats) {
        self.sent += o.sent;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.retried += o.retried;
        self.confirmed += o.confirmed;
        self.unknown += o.unknown;
        self.waiting += o.waiting;
    }

    fn count(&mut self, o: &JobOutcome, confirmed: bool) {
        match o {
            JobOutcome::Sent { .. } if confirmed => self.confirmed += 1,
            JobOutcome::Sent { .. } => self.sent += 1,
            JobOutcome::Ended {
                state: JobState::Skipped,
                ..
            } => self.skipped += 1,
            JobOutcome::Ended {
                state: JobState::Unknown,
                ..
            } => self.unknown += 1,
            JobOutcome::Ended { .. } => self.failed += 1,
            JobOutcome::Retry { .. } => self.retried += 1,
            JobOutcome::Wait { .. } => self.waiting += 1,
        }
    }
}

/// Where a job goes.
pub(super) enum To {
    Person(ChatIdentity),
    /// A channel id (the sponsors' channel, for the digest).
    Channel(String),
}

/// A job ready to go out.
pub(super) struct Ready {
    pub(super) port: Arc<dyn ChatPort>,
    pub(super) to: To,
    pub(super) message: Message,
}

/// Jobs that follow a job: planned in the transaction that records it.
#[derive(Default)]
struct FollowUps {
    /// If it is sent (a reminder, in case it stays unanswered).
    on_sent: HashMap<JobId, NewJob>,
    /// Once it has ended, however (the next digest).
    on_end: HashMap<JobId, NewJob>,
}

impl FollowUps {
    fn for_outcomes(mut self, outcomes: &[(Job, JobOutcome, bool)]) -> Vec<(OrgId, NewJob)> {
        let mut out = Vec::new();
        for (job, outcome, _) in outcomes {
            if matches!(outcome, JobOutcome::Retry { .. } | JobOutcome::Wait { .. }) {
                continue;
            }
            if matches!(outcome, JobOutcome::Sent { .. }) {
                out.extend(self.on_sent.remove(&job.id).map(|f| (job.org_id, f)));
            }
            out.extend(self.on_end.remove(&job.id).map(|f| (job.org_id, f)));
        }
        out
    }
}

pub struct Dispatcher {
    pub(super) app: Arc<App>,
    lease: SignedDuration,
    /// Identifies this dispatcher's leases.
    pub(super) owner: String,
    /// The first retry waits this long; each further one twice as long.
    retry_base: i64,
    /// Raw events are kept this many days (`None`: forever).
    retention_days: Option<u32>,
}

impl Dispatcher {
    pub fn new(app: Arc<App>) -> Self {
        Self::with_lease(app, DEFAULT_LEASE)
    }

    pub fn with_lease(app: Arc<App>, lease: SignedDuration) -> Self {
        let owner = format!(
            "{}-{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        );
        Self {
            app,
            lease,
            owner,
            retry_base: 30,
            retention_days: None,
        }
    }

    /// Changes the first retry's wait (30 s by default).
    pub fn with_retry_base(mut self, seconds: i64) -> Self {
        self.retry_base = seconds.max(1);
        self
    }

    /// Applies retention once a day (in `run`), keeping raw events `days`.
    pub fn with_retention(mut self, days: Option<u32>) -> Self {
        self.retention_days = days;
        self
    }

    /// Sends everything due now (one batch); returns what happened. Call until
    /// it handles nothing to drain a backlog.
    pub async fn run_once(&self) -> crate::store::Result<DispatchStats> {
        let leased = self
            .app
            .lease_due_jobs(self.lease, BATCH, &self.owner)
            .await?;
        let mut outcomes: Vec<(Job, JobOutcome, bool)> = Vec::new();
        let mut ready = Vec::new();
        let mut follow_ups = FollowUps::default();
        let (digests, jobs): (Vec<Job>, Vec<Job>) = leased
            .into_iter()
            .partition(|j| j.purpose == JobPurpose::Digest);
        for job in digests {
            let (prepared, next) = self.prepare_digest(&job).await;
            if let Some(next) = next {
                follow_ups.on_end.insert(job.id, next);
            }
            match prepared {
                Ok(r) => ready.push((job, r)),
                Err(outcome) => outcomes.push((job, outcome, false)),
            }
        }
        let contexts = self.app.job_contexts(&jobs).await;
        // Messages this batch already gives each person, for the weekly cap.
        let mut in_batch: HashMap<PersonId, i64> = HashMap::new();
        let mut days = super::days::ManagerDays::default();
        for (job, ctx) in jobs.into_iter().zip(contexts) {
            // A manager's reports due the same day go out together, below.
            let (job, ctx) = match (job.purpose.is_manager_row(), ctx) {
                (true, Ok(c)) => {
                    days.add(job, c);
                    continue;
                }
                (_, ctx) => (job, ctx),
            };
            // A reminder of a manager's day message repeats all of it.
            let day_lead = ctx
                .as_ref()
                .ok()
                .and_then(|c| c.reminds.as_ref())
                .and_then(|(r, _)| r.batch_job_id);
            let ctx = ctx.map(|c| {
                let extra = job
                    .recipient_person_id
                    .map_or(0, |r| in_batch.get(&r).copied().unwrap_or(0));
                JobContext {
                    sent_last_week: c.sent_last_week + extra,
                    ..c
                }
            });
            // The pulse question's chain: the next one is planned once this
            // one has ended, whatever its outcome.
            if let (JobPurpose::PulseQuestion, Ok(c)) = (job.purpose, &ctx) {
                if let Some(next) = self.app.next_pulse_job(c, job.planned_due_at) {
                    follow_ups.on_end.insert(job.id, next);
                }
            }
            let mut prepared = self.prepare(&job, ctx);
            if let (Ok((ready, _)), Some(lead)) = (&mut prepared, day_lead) {
                match self.app.batch_message(job.org_id, lead, Some(job.id)).await {
                    Ok(m) => ready.message = m,
                    Err(AppError::Store(e)) => {
                        prepared = Err(self.retry(
                            &job,
                            format!("database: {}", with_causes(&e)),
                            job.verify_first,
                        ))
                    }
                    Err(e) => prepared = Err(ended(JobState::Skipped, e.to_string())),
                }
            }
            if let (Ok(_), Some(r)) = (&prepared, job.recipient_person_id) {
                *in_batch.entry(r).or_default() += 1;
            }
            match prepared {
                Ok((r, reminder)) => {
                    if let Some(reminder) = reminder {
                        follow_ups.on_sent.insert(job.id, reminder);
                    }
                    ready.push((job, r))
                }
                Err(outcome) => outcomes.push((job, outcome, false)),
            }
        }
        for day in days.into_days() {
            let sent_before = in_batch.get(&day.recipient).copied().unwrap_or(0);
            let (messages, ended) = self.prepare_day(day, sent_before).await;
            outcomes.extend(ended.into_iter().map(|(j, o)| (j, o, false)));
            for (lead, r, reminder) in messages {
                *in_batch.entry(r.recipient).or_default() += 1;
                if let Some(reminder) = reminder {
                    follow_ups.on_sent.insert(lead.id, reminder);
                }
                ready.push((lead, r.ready));
            }
        }
        let ids: Vec<JobId> = ready.iter().map(|(job, _)| job.id).collect();
        self.app.mark_sending(&self.owner, &ids).await?;
        let sent: Vec<(Job, JobOutcome, bool)> = stream::iter(ready)
            .map(|(job, r)| self.send(job, r))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        outcomes.extend(sent);
        let mut stats = DispatchStats::default();
        for (job, outcome, confirmed) in &outcomes {
            let span = tracing::info_span!(
                "job",
                org = job.org_id.0,
                program = job.program_id.0,
                job = job.id.0
            );
            let _enter = span.enter();
            match outcome {
                JobOutcome::Sent { .. } => tracing::debug!(confirmed, "sent"),
                JobOutcome::Ended { state, reason } => {
                    tracing::info!(state = state.as_str(), %reason, "job ended")
                }
                JobOutcome::Retry { at, reason, .. } | JobOutcome::Wait { at, reason } => {
                    tracing::info!(%reason, retry_at = %at, "job will be retried")
                }
            }
            stats.count(outcome, *confirmed);
        }
        let follow_ups = follow_ups.for_outcomes(&outcomes);
        let records: Vec<(Job, JobOutcome)> =
            outcomes.into_iter().map(|(j, o, _)| (j, o)).collect();
        self.app
            .record_outcomes(&self.owner, &records, &follow_ups)
            .await?;
        Ok(stats)
    }

    /// Decides whether a job goes out, and to whom, without sending anything.
    fn prepare(
        &self,
        job: &Job,
        ctx: crate::app::AppResult<JobContext>,
    ) -> Result<(Ready, Option<NewJob>), JobOutcome> {
        let now = self.app.clock.now();
        let ctx = match ctx {
            Ok(c) => c,
            Err(AppError::Store(e)) => {
                return Err(self.retry(
                    job,
                    format!("database: {}", with_causes(&e)),
                    job.verify_first,
                ))
            }
            Err(e) => return Err(ended(JobState::Skipped, e.to_string())),
        };
        if let Some(reason) = skip_reason(&ctx, job, now) {
            return Err(ended(JobState::Skipped, reason));
        }
        let message = self.app.message_for(&ctx, job, None);
        Ok((self.ready(&ctx, message)?, reminder_for(&ctx, job, now)))
    }

    /// Where a person's message goes, or why it cannot go.
    pub(super) fn ready(&self, ctx: &JobContext, message: Message) -> Result<Ready, JobOutcome> {
        let Some(who) = ctx.recipient.as_ref().and_then(|r| r.chat.clone()) else {
            // Their email is still being looked up: the job waits for it
            // (the resolver re-plans it once their zone is known), and a
            // wait past its delivery window ends it as stale, like any job.
            if ctx.recipient.as_ref().is_some_and(|r| r.resolving) {
                return Err(JobOutcome::Wait {
                    at: self.app.clock.now() + SignedDuration::from_secs(RESOLVING_WAIT_SECONDS),
                    reason: crate::store::jobs::WAITING_FOR_IDENTITY.into(),
                });
            }
            let why = ctx
                .recipient
                .as_ref()
                .and_then(|r| r.unresolved_reason.clone());
            let reason = format!(
                "unresolved: {}",
                why.as_deref().unwrap_or("no chat identity")
            );
            return Err(ended(JobState::Failed, reason));
        };
        let Some(port) = self.app.chats.for_identity(&who) else {
            return Err(self.no_connection(who.platform, &who.workspace));
        };
        Ok(Ready {
            port,
            to: To::Person(who),
            message,
        })
    }

    /// The weekly digest: computed for the week it reports, to the program's
    /// sponsor channel. Also returns the next digest, planned once this one
    /// has ended, whatever its outcome.
    async fn prepare_digest(&self, job: &Job) -> (Result<Ready, JobOutcome>, Option<NewJob>) {
        let app = &self.app;
        let (program, org) = match app.digest_subject(job).await {
            Ok(x) => x,
            Err(e) => {
                return (
                    Err(self.retry(
                        job,
                        format!("database: {}", with_causes(&e)),
                        job.verify_first,
                    )),
                    None,
                )
            }
        };
        // The next week's digest is planned by this one: if that fails, this
        // one waits and retries (and, failing for good, ends as a delivery
        // problem HR sees) rather than ending the weekly chain unseen.
        let next = match app
            .next_digest_job(&org, &program, job.planned_due_at)
            .await
        {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, job = job.id.0, "the next digest could not be planned");
                return (
                    Err(self.retry(
                        job,
                        format!("planning the next digest: {e}"),
                        job.verify_first,
                    )),
                    None,
                );
            }
        };
        (self.digest_ready(job, &org, &program).await, next)
    }

    async fn digest_ready(
        &self,
        job: &Job,
        org: &crate::store::Org,
        program: &crate::store::programs::ProgramRow,
    ) -> Result<Ready, JobOutcome> {
        let now = self.app.clock.now();
        if program.archived {
            return Err(ended(JobState::Skipped, "program archived".into()));
        }
        let window_end = match program.spec.send_window_hours {
            Some(h) => job.planned_due_at + SignedDuration::from_hours(i64::from(h)),
            None => self
                .app
                .program_calendar(org, program)
                .send_window_end(job.planned_due_at),
        };
        if now > window_end {
            return Err(ended(
                JobState::Skipped,
                "stale: missed its delivery window".into(),
            ));
        }
        let Some(channel) = &program.spec.sponsor_channel else {
            return Err(ended(
                JobState::Failed,
                "the program has no sponsor_channel to post the digest to".into(),
            ));
        };
        let Some(port) = self
            .app
            .chats
            .for_workspace(channel.platform, &channel.workspace)
        else {
            return Err(self.no_connection(channel.platform, &channel.workspace));
        };
        let Some(week) = ProgramWeek::parse_iso(&job.period) else {
            return Err(ended(
                JobState::Failed,
                format!("not a week: {:?}", job.period),
            ));
        };
        let digest = match self
            .app
            .digest(job.org_id, &program.key, Some(week.clone()))
            .await
        {
            Ok(d) => d,
            Err(AppError::Store(e)) => {
                return Err(self.retry(
                    job,
                    format!("database: {}", with_causes(&e)),
                    job.verify_first,
                ))
            }
            Err(e) => return Err(ended(JobState::Failed, e.to_string())),
        };
        // The chart goes up first; a message that may already have been
        // posted (unknown outcome) is looked up instead, chart or not.
        let chart_file = if job.verify_first || !digest.published {
            None
        } else {
            match self.upload_chart(&port, job, program, &week).await {
                Ok(f) => f,
                Err(o) => return Err(o),
            }
        };
        Ok(Ready {
            port,
            to: To::Channel(channel.channel.clone()),
            message: Message::Digest {
                job_id: job.id,
                program: program.name.clone(),
                digest: Box::new(digest),
                chart_file,
                locale: program.spec.locale.clone(),
            },
        })
    }

    /// Draws and uploads the week's chart. A temporary failure retries the
    /// digest; a permanent one sends it without the chart.
    async fn upload_chart(
        &self,
        port: &Arc<dyn ChatPort>,
        job: &Job,
        program: &crate::store::programs::ProgramRow,
        week: &ProgramWeek,
    ) -> Result<Option<String>, JobOutcome> {
        let png = match self.app.digest_chart(job.org_id, &program.key, week).await {
            Ok(png) => png,
            Err(e) => {
                tracing::warn!(error = %e, job = job.id.0, "digest chart not drawn");
                return Ok(None);
            }
        };
        let name = format!("momentum-{}-{}.png", program.key, week.iso());
        let title = format!(
            "{}: engagement and small actions, {}",
            program.name,
            week.iso()
        );
        match port.upload_image(&name, &title, png).await {
            Ok(id) => Ok(Some(id)),
            Err(ChatError::RateLimited { retry_after }) => {
                Err(self.rate_limited(retry_after, false))
            }
            Err(ChatError::Transient(reason) | ChatError::Uncertain(reason)) => {
                Err(self.retry(job, format!("chart upload: {reason}"), false))
            }
            Err(e) => {
                tracing::warn!(error = %e, job = job.id.0, "digest sent without its chart");
                Ok(None)
            }
        }
    }

    /// Sends one job (after looking for an earlier send when its outcome was
    /// unknown). The flag says whether an earlier send was found instead.
    async fn send(&self, job: Job, r: Ready) -> (Job, JobOutcome, bool) {
        let Ready { port, to, message } = r;
        if job.verify_first {
            let found = match &to {
                To::Person(who) => port.find_sent(who, job.id, job.created_at).await,
                To::Channel(c) => port.find_sent_in_channel(c, job.id, job.created_at).await,
            };
            match found {
                Ok(Some(at)) => {
                    let o = JobOutcome::Sent {
                        channel: at.channel,
                        ts: at.ts,
                    };
                    return (job, o, true);
                }
                Ok(None) => {}
                Err(ChatError::Unverifiable) => {
                    let reason = "sent without an answer; this platform cannot confirm delivery, so it is not sent again";
                    return (job, ended(JobState::Unknown, reason.into()), false);
                }
                Err(ChatError::RateLimited { retry_after }) => {
                    let o = self.rate_limited(retry_after, true);
                    return (job, o, false);
                }
                Err(e) => {
                    let o = self.retry(&job, format!("checking an earlier send: {e}"), true);
                    return (job, o, false);
                }
            }
        }
        let started = std::time::Instant::now();
        let sent = match &to {
            To::Person(who) => port.send_direct(who, &message).await,
            To::Channel(c) => port.post_to_channel(c, &message).await,
        };
        let m = crate::metrics::metrics();
        m.send_seconds.observe(started.elapsed().as_secs_f64());
        let outcome_label = match &sent {
            Ok(_) => "sent",
            Err(ChatError::Permanent(_)) => "failed",
            Err(ChatError::RateLimited { .. }) => {
                m.rate_limited.inc();
                "rate_limited"
            }
            Err(ChatError::Transient(_)) | Err(ChatError::Uncertain(_)) => "retry",
            Err(ChatError::Unverifiable) => "unknown",
        };
        m.sends
            .get_or_create(&crate::metrics::OutcomeLabels {
                outcome: outcome_label.into(),
            })
            .inc();
        let outcome = match sent {
            Ok(at) => JobOutcome::Sent {
                channel: at.channel,
                ts: at.ts,
            },
            Err(ChatError::Permanent(reason)) => ended(JobState::Failed, reason),
            // A 429 or a transient error means nothing was posted.
            Err(ChatError::RateLimited { retry_after }) => self.rate_limited(retry_after, false),
            Err(ChatError::Transient(reason)) => self.retry(&job, reason, false),
            Err(ChatError::Uncertain(reason)) => self.retry(&job, reason, true),
            Err(ChatError::Unverifiable) => {
                ended(JobState::Unknown, "the platform gave no answer".into())
            }
        };
        (job, outcome, false)
    }

    /// No port for the workspace: while a configured connection is still
    /// being made (the platform was unreachable at start) the job waits for
    /// it; otherwise the workspace is not connected and the job fails.
    fn no_connection(&self, platform: crate::domain::Platform, workspace: &str) -> JobOutcome {
        let reason = format!(
            "no connection to {} workspace {workspace}",
            platform.as_str()
        );
        if self.app.chats.not_connected().is_empty() {
            return ended(JobState::Failed, reason);
        }
        JobOutcome::Retry {
            at: self.app.clock.now() + SignedDuration::from_secs(self.retry_base),
            reason: format!("{reason} yet"),
            verify_first: false,
        }
    }

    fn rate_limited(&self, retry_after: Option<Duration>, verify_first: bool) -> JobOutcome {
        let wait = retry_after.unwrap_or(Duration::from_secs(30));
        JobOutcome::Retry {
            at: self.app.clock.now()
                + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(30)),
            reason: "rate limited".into(),
            verify_first,
        }
    }

    /// Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 1 h
    /// (from the retry base, 30 s by default).
    pub(super) fn retry(&self, job: &Job, reason: String, verify_first: bool) -> JobOutcome {
        if job.attempts >= MAX_ATTEMPTS {
            return ended(
                JobState::Failed,
                format!("gave up after {} attempts: {reason}", job.attempts),
            );
        }
        let secs = (self.retry_base << (job.attempts.clamp(1, 8) - 1)).min(3600);
        let jitter = rand::thread_rng().gen_range(0..=secs / 4);
        JobOutcome::Retry {
            at: self.app.clock.now() + SignedDuration::from_secs(secs + jitter),
            reason,
            verify_first,
        }
    }

    /// Runs until `shutdown` turns true, polling every `interval`. A batch in
    /// flight is finished and recorded before it stops.
    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut next_maintenance = std::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Once a day one replica applies retention; look every ten minutes.
            if let (Some(days), true) = (
                self.retention_days,
                std::time::Instant::now() >= next_maintenance,
            ) {
                next_maintenance = std::time::Instant::now() + Duration::from_secs(600);
                match self.app.claim_daily_retention().await {
                    Ok(true) => {
                        if let Err(e) = self.app.apply_retention(days).await {
                            tracing::error!(error = %e, "retention not applied");
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %with_causes(&e), "could not check for maintenance")
                    }
                }
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
                Err(e) => tracing::error!(error = %with_causes(&e), "dispatcher round failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

pub(super) fn ended(state: JobState, reason: String) -> JobOutcome {
    JobOutcome::Ended { state, reason }
}

/// Why a job is not sent at all, if it is not.
pub(super) fn skip_reason(ctx: &JobContext, job: &Job, now: Timestamp) -> Option<String> {
    if ctx.program.archived {
        return Some("program archived".into());
    }
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
    if recipient.is_away_at(now) {
        return Some("recipient out of office".into());
    }
    match job.purpose {
        JobPurpose::PulseQuestion if ctx.program.spec.pulse_rule().is_none() => {
            return Some("the program no longer asks a pulse question".into())
        }
        p if p.is_scaled()
            && p != JobPurpose::PulseQuestion
            && ctx.program.spec.self_assessment.is_none() =>
        {
            return Some("the program no longer has self-assessments".into())
        }
        p if crate::app::in_comparison(&ctx.program, &ctx.participant)
            && !matches!(p, JobPurpose::SelfAssessment | JobPurpose::Welcome)
            && !ctx
                .reminds
                .as_ref()
                .is_some_and(|(j, _)| j.purpose == JobPurpose::SelfAssessment) =>
        {
            return Some("the comparison cohort gets no coaching prompts".into())
        }
        _ => {}
    }
    if job.purpose == JobPurpose::Reminder {
        match &ctx.reminds {
            None => return Some("the reminded message no longer exists".into()),
            Some((_, true)) => return Some("answered before the reminder".into()),
            Some((reminded, _)) if reminded.state != JobState::Sent => {
                return Some("the reminded message was not delivered".into())
            }
            Some(_) => {}
        }
    }
    let cap = i64::from(ctx.program.spec.weekly_cap);
    if ctx.sent_last_week >= cap {
        return Some(format!("weekly cap reached ({cap} messages in 7 days)"));
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

/// The one reminder a nudge or check-in earns if it stays unanswered (same
/// recipient, its unique key derived from the job's, so it is planned once).
pub(super) fn reminder_for(ctx: &JobContext, job: &Job, now: Timestamp) -> Option<NewJob> {
    let days = ctx.program.spec.reminder_after_days;
    if days == 0 || !job.purpose.is_remindable() {
        return None;
    }
    Some(NewJob {
        program_id: job.program_id,
        participant_id: job.participant_id,
        recipient_person_id: Some(job.recipient_person_id?),
        purpose: JobPurpose::Reminder,
        period: format!("{}:{}", job.purpose, job.period),
        session_number: job.session_number,
        due: ctx.calendar.reminder_due(now, job.planned_due_at, days)?,
        reminds_job_id: Some(job.id),
    })
}
