//! Taps on message buttons, and pause / resume.

use super::*;
use crate::store::jobs::TapContext;
use crate::store::reports::ScaleKind;
use crate::store::{Job, TapToCheck};

/// A one-tap answer as it arrives from any platform.
#[derive(Debug, Clone)]
pub struct Tap {
    pub who: ChatIdentity,
    pub job_id: JobId,
    pub answer: TapAnswer,
    /// Identifies this delivery of the tap; a re-delivery has the same key.
    pub delivery_key: String,
    /// The message that was tapped, as the platform reports it.
    pub message: Delivered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapAnswer {
    Report(Answer),
    Checkin(CheckinAnswer),
    /// A value on the program's self-assessment scale.
    Scale(i64),
}

impl std::fmt::Display for TapAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TapAnswer::Report(a) => f.write_str(a.as_str()),
            TapAnswer::Checkin(a) => f.write_str(a.as_str()),
            TapAnswer::Scale(v) => write!(f, "{v}"),
        }
    }
}

/// Why a tap was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapRefusal {
    UnknownWorkspace,
    NotYours,
    UnknownMessage,
}

/// A message to update, where it lives, and the port that reaches it.
pub type MessageUpdate = (Arc<dyn ChatPort>, Delivered, Message);

pub enum TapResult {
    /// Stored; `tap_updates` tells which messages to update to show it.
    Recorded {
        job: Box<Job>,
    },
    /// The same delivery was already stored: nothing changed. The message
    /// as it shows the answer (for platforms that answer a tap with it).
    Duplicate {
        shown: Option<Message>,
    },
    Refused(TapRefusal),
}

impl App {
    pub async fn take_tap(&self, tap: &Tap) -> AppResult<TapResult> {
        let answer = tap.answer;
        if let TapAnswer::Scale(value) = answer {
            return self.take_scale_tap(tap, value).await;
        }
        // The hot path: checked and stored in the writer's next group
        // commit, with no query of its own.
        let checked = self
            .store
            .check_and_record_tap(TapToCheck {
                who: tap.who.clone(),
                job_id: tap.job_id,
                answer: answer.to_string(),
                delivery_key: tap.delivery_key.clone(),
                at: self.clock.now(),
                check: Box::new(move |context| one_tap_target(context, answer).ok()),
            })
            .await?;
        match (checked.outcome, checked.context) {
            (Some(TapOutcome::Recorded), TapContext { job: Some(job), .. }) => {
                Ok(TapResult::Recorded { job: Box::new(job) })
            }
            (Some(_), TapContext { job, .. }) => {
                let shown = match job {
                    Some(job) => self.message_for_job(&job, Some(answer)).await.ok(),
                    None => None,
                };
                Ok(TapResult::Duplicate { shown })
            }
            (None, context) => Ok(TapResult::Refused(
                one_tap_target(&context, answer)
                    .err()
                    .unwrap_or(TapRefusal::UnknownMessage),
            )),
        }
    }

    /// A value on a scale: checked against the program's scale first.
    async fn take_scale_tap(&self, tap: &Tap, value: i64) -> AppResult<TapResult> {
        let context = self.store.tap_context(&tap.who, tap.job_id).await?;
        let (org, person_id, job, participant_id) = match tapped(&context) {
            Ok(found) => found,
            Err(why) => return Ok(TapResult::Refused(why)),
        };
        if !job.purpose.is_scaled() {
            return Ok(TapResult::Refused(TapRefusal::UnknownMessage));
        }
        let program = self.store.program(org, job.program_id).await?;
        let (scale, kind, day) = match job.purpose {
            JobPurpose::PulseQuestion => (
                program
                    .spec
                    .pulse_rule()
                    .map(|(_, q)| q.scale_min..=q.scale_max),
                ScaleKind::PulseQuestion,
                Some(0),
            ),
            p => (
                program
                    .spec
                    .self_assessment
                    .as_ref()
                    .map(|sa| sa.scale_min..=sa.scale_max),
                if p == JobPurpose::SelfAssessment {
                    ScaleKind::SelfAssessment
                } else {
                    ScaleKind::Observation
                },
                crate::domain::plan::assessment_day(&job.period),
            ),
        };
        let on_scale = scale.is_some_and(|s| s.contains(&value));
        let (true, Some(day)) = (on_scale, day) else {
            return Ok(TapResult::Refused(TapRefusal::UnknownMessage));
        };
        let target = TapTarget::Scale {
            participant_id,
            kind,
            day,
        };
        let outcome = self
            .store
            .record_tap(
                org,
                &NewTap {
                    job_id: job.id,
                    program_id: job.program_id,
                    person_id,
                    target,
                    answer: &tap.answer.to_string(),
                    delivery_key: &tap.delivery_key,
                    at: self.clock.now(),
                },
            )
            .await?;
        if outcome == TapOutcome::Duplicate {
            let shown = self.message_for_job(job, Some(tap.answer)).await.ok();
            return Ok(TapResult::Duplicate { shown });
        }
        Ok(TapResult::Recorded {
            job: Box::new(job.clone()),
        })
    }

    /// The messages to update after a recorded tap (the tapped one, and the
    /// job's own message when a reminder was tapped), to show the answer.
    /// Built after the acknowledgement: it is not on the hot path.
    pub async fn tap_updates(&self, tap: &Tap, job: &Job) -> Vec<MessageUpdate> {
        let Some(port) = self.chats.for_identity(&tap.who) else {
            return vec![];
        };
        match self.message_for_job(job, Some(tap.answer)).await {
            Ok(m) => places_to_update(job, &tap.message)
                .into_iter()
                .map(|at| (port.clone(), at, m.clone()))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the tapped message cannot be rebuilt");
                vec![]
            }
        }
    }

    /// The message a job delivers, showing `recorded` when there is an answer.
    pub async fn pause(&self, who: &ChatIdentity, until: Option<Date>) -> AppResult<bool> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(false);
        };
        let until_ms = match until {
            None => PAUSED_INDEFINITELY,
            Some(d) => {
                let org_row = self.store.org(org).await?;
                let zone = person
                    .time_zone
                    .as_deref()
                    .and_then(|z| Zone::parse(z).ok())
                    .or_else(|| Zone::parse(&org_row.time_zone).ok())
                    .unwrap_or_else(Zone::utc);
                let end = d
                    .tomorrow()
                    .ok()
                    .and_then(|next| zone.instant(next, jiff::civil::Time::midnight()));
                end.map(|t| t.as_millisecond())
                    .unwrap_or(PAUSED_INDEFINITELY)
            }
        };
        Ok(self
            .store
            .set_paused(org, person.id, Some(until_ms), self.clock.now())
            .await?
            > 0)
    }

    pub async fn resume(&self, who: &ChatIdentity) -> AppResult<bool> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(false);
        };
        Ok(self
            .store
            .set_paused(org, person.id, None, self.clock.now())
            .await?
            > 0)
    }

    /// The person behind a chat identity says stop: nothing more is sent to
    /// them, in any program, until they say start. `Ok(false)` when unknown.
    pub async fn stop(&self, who: &ChatIdentity, stop: bool) -> AppResult<bool> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(false);
        };
        let at = stop.then(|| self.clock.now());
        self.store.set_stopped(org, person.id, at).await?;
        Ok(true)
    }

    /// The participant put a nudge off: it comes back at the snoozed time (in
    /// allowed hours), and the message now says when. Returns the update to
    /// make, or `None` when the snooze does not apply (not theirs, answered).
    pub async fn snooze(
        &self,
        who: &ChatIdentity,
        job_id: JobId,
        snooze: Snooze,
        message: &Delivered,
    ) -> AppResult<Option<MessageUpdate>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let Some(job) = self.store.job(org, job_id).await? else {
            return Ok(None);
        };
        if job.recipient_person_id != Some(person.id) || !job.purpose.is_participant_nudge() {
            return Ok(None);
        }
        let ctx = self.job_context(&job).await?;
        let now = self.clock.now();
        let morning = crate::domain::time::TimeOfDay { hour: 9, minute: 0 };
        let Some(due) = ctx.calendar.snoozed_until(now, snooze, morning) else {
            return Ok(None);
        };
        if !self.store.snooze_job(org, job.id, due, now).await? {
            return Ok(None);
        }
        let mut update = self.message_for(&ctx, &job, None);
        if let Message::Nudge {
            snoozed_until,
            locale,
            ..
        } = &mut update
        {
            let local = due.to_zoned(ctx.calendar.zone.tz().clone());
            *snoozed_until = Some(crate::domain::time::when_text(&local, locale));
        }
        let at = places_to_update(&job, message).swap_remove(0);
        Ok(self.chats.for_identity(who).map(|port| (port, at, update)))
    }

    /// The person's chat status changed: out of office (until its expiry) or
    /// back. `Ok(false)` when the person is not known here.
    pub async fn status_changed(&self, who: &ChatIdentity, status: &ChatStatus) -> AppResult<bool> {
        let Some(org) = self
            .store
            .org_for_workspace(who.platform, &who.workspace)
            .await?
        else {
            return Ok(false);
        };
        let now = self.clock.now();
        Ok(self
            .store
            .set_away(org, who, status.away_until(now), now)
            .await?)
    }

    /// `/momentum snooze`: puts off the person's latest unanswered nudge.
    /// Returns when it comes back (their local time), or `None` when there
    /// is nothing to snooze.
    pub async fn snooze_latest(
        &self,
        who: &ChatIdentity,
        snooze: Snooze,
    ) -> AppResult<Option<(String, MessageUpdate)>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let Some(job) = self.store.latest_unanswered_nudge(org, person.id).await? else {
            return Ok(None);
        };
        let at = Delivered {
            channel: job.channel_id.clone().unwrap_or_default(),
            ts: job.message_ts.clone().unwrap_or_default(),
        };
        let Some((port, at, message)) = self.snooze(who, job.id, snooze, &at).await? else {
            return Ok(None);
        };
        let when = match &message {
            Message::Nudge {
                snoozed_until: Some(w),
                ..
            } => w.clone(),
            _ => String::new(),
        };
        Ok(Some((when, (port, at, message))))
    }

    /// Records that a job's message arrived (the platform said so), once.
    pub async fn confirm_delivery(
        &self,
        platform: Platform,
        workspace: &str,
        job_id: JobId,
        at: &Delivered,
    ) -> AppResult<bool> {
        let Some(org) = self.store.org_for_workspace(platform, workspace).await? else {
            return Ok(false);
        };
        Ok(self
            .store
            .confirm_job_sent(org, job_id, &at.channel, &at.ts, self.clock.now())
            .await?)
    }
}

/// Where a job's answer shows: the message that was tapped (the nudge, or its
/// reminder), then the job's own message when that is another one. Never empty.
impl App {
    /// `message` shown for `who` wherever `job` is (where it was answered,
    /// and where it was sent).
    pub(super) fn show_answer(
        &self,
        who: &ChatIdentity,
        job: &Job,
        at: &Delivered,
        message: Message,
    ) -> Vec<MessageUpdate> {
        let Some(port) = self.chats.for_identity(who) else {
            return Vec::new();
        };
        places_to_update(job, at)
            .into_iter()
            .map(|place| (port.clone(), place, message.clone()))
            .collect()
    }
}

pub(super) fn places_to_update(job: &Job, tapped: &Delivered) -> Vec<Delivered> {
    let own = match (&job.channel_id, &job.message_ts) {
        (Some(c), Some(t)) => Some(Delivered {
            channel: c.clone(),
            ts: t.clone(),
        }),
        _ => None,
    };
    let mut places = Vec::with_capacity(2);
    if !tapped.channel.is_empty() && !tapped.ts.is_empty() {
        places.push(tapped.clone());
    }
    match own {
        Some(own) if !places.contains(&own) => places.push(own),
        _ if places.is_empty() => places.push(tapped.clone()),
        _ => {}
    }
    places
}

/// The tapped job, if the tapping person is its recipient in the
/// workspace's organisation: (organisation, person, job, participant).
fn tapped(context: &TapContext) -> Result<(OrgId, PersonId, &Job, ParticipantId), TapRefusal> {
    let org = context.org.ok_or(TapRefusal::UnknownWorkspace)?;
    let person_id = context.person_id.ok_or(TapRefusal::NotYours)?;
    let job = context.job.as_ref().ok_or(TapRefusal::UnknownMessage)?;
    if job.recipient_person_id != Some(person_id) {
        return Err(TapRefusal::NotYours);
    }
    let participant_id = job.participant_id.ok_or(TapRefusal::UnknownMessage)?;
    Ok((org, person_id, job, participant_id))
}

/// Where a report or a check-in answer goes, or why it is refused.
fn one_tap_target(context: &TapContext, answer: TapAnswer) -> Result<TapTarget, TapRefusal> {
    let (_, person_id, job, participant_id) = tapped(context)?;
    match (answer, job.purpose) {
        (TapAnswer::Report(_), p) if p.is_participant_nudge() => {
            Ok(TapTarget::Report { participant_id })
        }
        (TapAnswer::Checkin(_), JobPurpose::ManagerCheckin) => Ok(TapTarget::Checkin {
            participant_id,
            manager_person_id: person_id,
        }),
        _ => Err(TapRefusal::UnknownMessage),
    }
}
