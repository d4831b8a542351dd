//! The small step a participant names after a session (PRODUCT.md "The
//! small step"): typed, or picked from suggestions for their focus; sealed
//! like a note and readable only by its author; naming it (or "no step this
//! time") answers the small-step nudge, and the follow-up repeats it back.
//! Only the fact that it was answered ever counts, never the words.

use super::keys::{sealed_context, OrgKeys};
use super::*;
use crate::chat::StepView;
use crate::store::sealed::SealedColumn;
use crate::store::steps::SealedStep;
use crate::store::Job;

pub use crate::domain::STEP_MAX_CHARS;

/// What the participant did with the small-step nudge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepChoice {
    /// Typed a step.
    Named(String),
    /// Picked suggestion N of those shown.
    Suggestion(usize),
    /// "No step this time".
    NoStep,
    /// Deleted the step they had named (the nudge stays answered).
    Delete,
}

/// Why a step was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRefusal {
    Empty,
    TooLong {
        length: usize,
    },
    /// Not a small-step nudge of this person (someone else's, or gone).
    NotYours,
}

fn step_context(org: OrgId, participant_id: ParticipantId) -> String {
    sealed_context(SealedColumn::Steps, org, &participant_id.to_string())
}

fn open_step(
    keys: &OrgKeys,
    org: OrgId,
    participant_id: ParticipantId,
    sealed: &[u8],
) -> AppResult<String> {
    let plain = keys.open(sealed, &step_context(org, participant_id))?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// A question about one session sent to the person answering it.
pub(super) struct OwnQuestion {
    pub org: OrgId,
    pub person: Person,
    pub job: Job,
    pub participant_id: ParticipantId,
    pub session: u32,
}

impl App {
    /// Job `job_id` when it is a question of `purpose` about a session, sent
    /// to `who`; `None` for anyone else's (or one that is gone).
    pub(super) async fn own_question(
        &self,
        who: &ChatIdentity,
        job_id: JobId,
        purpose: JobPurpose,
    ) -> AppResult<Option<OwnQuestion>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let Some(job) = self.store.job(org, job_id).await? else {
            return Ok(None);
        };
        let (Some(participant_id), Some(session)) = (job.participant_id, job.session_number) else {
            return Ok(None);
        };
        if job.purpose != purpose || job.recipient_person_id != Some(person.id) {
            return Ok(None);
        }
        Ok(Some(OwnQuestion {
            org,
            person,
            job,
            participant_id,
            session,
        }))
    }

    /// Saves what `who` did with the small-step nudge `job_id`; the message
    /// to show on that nudge now, or why nothing was saved.
    /// `at`: the message it was done on (the nudge, or its reminder); both
    /// show the step after.
    pub async fn choose_step(
        &self,
        who: &ChatIdentity,
        job_id: JobId,
        choice: StepChoice,
        at: &Delivered,
    ) -> AppResult<Result<Vec<super::taps::MessageUpdate>, StepRefusal>> {
        let Some(OwnQuestion {
            org,
            person,
            job,
            participant_id,
            session,
        }) = self
            .own_question(who, job_id, JobPurpose::SmallStep)
            .await?
        else {
            return Ok(Err(StepRefusal::NotYours));
        };
        let mut ctx = self.job_context(&job).await?;
        let text = match choice {
            StepChoice::Named(text) => Some(text.trim().to_string()),
            StepChoice::Suggestion(i) => {
                let locale = super::delivery::locale_for(Some(&person), &ctx.program);
                let shown =
                    crate::templates::step_suggestions(&locale, ctx.participant.focus.as_deref());
                match shown.get(i) {
                    Some(s) => Some(s.clone()),
                    None => return Ok(Err(StepRefusal::Empty)),
                }
            }
            StepChoice::NoStep | StepChoice::Delete => None,
        };
        let sealed = match &text {
            Some(t) if t.is_empty() => return Ok(Err(StepRefusal::Empty)),
            Some(t) if t.chars().count() > STEP_MAX_CHARS => {
                return Ok(Err(StepRefusal::TooLong {
                    length: t.chars().count(),
                }))
            }
            Some(t) => Some(
                self.keys_of(&ctx.org)
                    .await?
                    .seal(t.as_bytes(), &step_context(org, participant_id)),
            ),
            None => None,
        };
        self.store
            .save_step(
                org,
                participant_id,
                session,
                Some(job.id),
                sealed.as_deref(),
                self.clock.now(),
            )
            .await?;
        // The nudge shows what was saved (what `step_view` reads back from
        // the row just written), where it was sent.
        ctx.step = match text {
            Some(t) => StepView::Named(t),
            None => StepView::Declined,
        };
        let message = self.message_for(&ctx, &job, None);
        Ok(Ok(self.show_answer(who, &job, at, message)))
    }

    /// Deletes a step its author named, from their home tab: the nudge it
    /// answered shows it deleted too (and stays answered). `false` when the
    /// participation is not theirs or has no such step.
    pub async fn delete_step(
        &self,
        who: &ChatIdentity,
        participant_id: ParticipantId,
        session: u32,
    ) -> AppResult<Option<Vec<super::taps::MessageUpdate>>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let Ok(participant) = self.store.participant(org, participant_id).await else {
            return Ok(None);
        };
        if participant.person.id != person.id {
            return Ok(None);
        }
        let Some(step) = self.store.step(org, participant_id, session).await? else {
            return Ok(None);
        };
        let Some(job_id) = step.job_id else {
            self.store
                .save_step(org, participant_id, session, None, None, self.clock.now())
                .await?;
            return Ok(Some(Vec::new()));
        };
        let nowhere = Delivered {
            channel: String::new(),
            ts: String::new(),
        };
        Ok(self
            .choose_step(who, job_id, StepChoice::Delete, &nowhere)
            .await?
            .ok())
    }

    /// What a nudge of `participant`'s session says about the step (`step`,
    /// as stored for that session), for the participant's eyes: asked for
    /// on the small-step nudge until named, repeated back on the follow-up.
    pub(super) async fn step_view(
        &self,
        org: &Org,
        participant: &Participant,
        program: &ProgramRow,
        purpose: JobPurpose,
        step: Option<&SealedStep>,
    ) -> AppResult<StepView> {
        let named = match step.and_then(|s| s.sealed.as_ref()) {
            Some(sealed) => {
                let keys = self.keys_of(org).await?;
                Some(open_step(&keys, org.id, participant.id, sealed)?)
            }
            None => None,
        };
        Ok(match (purpose, step, named) {
            (_, _, Some(text)) => StepView::Named(text),
            (JobPurpose::SmallStep, Some(_), None) => StepView::Declined,
            (JobPurpose::SmallStep, None, None) => {
                let locale = super::delivery::locale_for(Some(&participant.person), program);
                StepView::Ask(crate::templates::step_suggestions(
                    &locale,
                    participant.focus.as_deref(),
                ))
            }
            _ => StepView::Unnamed,
        })
    }

    /// The person's named steps, opened: (participant id, session, text), for
    /// their own views only.
    pub(super) async fn steps_of(
        &self,
        org: OrgId,
        person_id: PersonId,
    ) -> AppResult<Vec<(ParticipantId, u32, Option<String>)>> {
        let steps = self.store.steps_of_person(org, person_id).await?;
        if steps.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.keys(org).await?;
        steps
            .into_iter()
            .map(
                |SealedStep {
                     participant_id,
                     session,
                     sealed,
                     ..
                 }| {
                    let text = sealed
                        .map(|s| open_step(&keys, org, participant_id, &s))
                        .transpose()?;
                    Ok((participant_id, session, text))
                },
            )
            .collect()
    }
}
