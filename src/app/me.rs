//! A person's own side of Momentum: their progress (home tab, `status`),
//! private notes, the download of everything stored about them, and erasure.
//! Nothing here ever shows one person's data to another.

use super::{App, AppResult};
use crate::domain::errors::with_causes;
use crate::domain::identity::Email;
use crate::domain::metrics::week::ProgramWeek;
use crate::domain::program::LOCALES;
use crate::domain::progress::streak_weeks;
use crate::domain::ParticipantId;
use crate::domain::PersonId;
use crate::domain::{ChatIdentity, JobId};
use crate::store::participants::{Person, PAUSED_INDEFINITELY};
use crate::store::personal::Erased;
use crate::store::{instant, OrgId};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;

pub use crate::domain::NOTE_MAX_CHARS;
/// Recent actions shown in a status.
const RECENT_ACTIONS: usize = 3;

/// A participant's progress in each of their programs.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub programs: Vec<ProgramProgress>,
    /// How many private notes they have written.
    pub notes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramProgress {
    /// Their participation's id (what the focus form edits).
    pub participant_id: ParticipantId,
    pub program: String,
    pub focus: Option<String>,
    pub sessions_done: usize,
    pub sessions_planned: usize,
    /// The first planned session not completed yet: (number, planned date).
    /// The next session not completed, on the participant's own date
    /// (`None` while a cancelled session waits for a new one).
    pub next_session: Option<(u32, Option<Date>)>,
    pub recent: Vec<RecentAction>,
    /// Their latest named small step: (session, its words), for them only.
    pub latest_step: Option<(u32, String)>,
    pub streak_weeks: u32,
    /// `Some("indefinitely")` or `Some(date)` while paused.
    pub paused_until: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecentAction {
    pub session: Option<i64>,
    /// `done`, `partly` or `not_yet`.
    pub answer: String,
    pub on: Date,
}

/// Why a note was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteRefusal {
    Empty,
    TooLong { max: usize },
    NotEnrolled,
}

/// The keyed hashes that mark an erased person: their email and chat identity.
pub(super) fn identity_hashes(
    keys: &super::keys::OrgKeys,
    email: Option<&str>,
    chat: Option<&ChatIdentity>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = email.and_then(|e| Email::parse(e).ok()) {
        out.push(keys.hash(&format!("email:{}", e.as_str())));
    }
    if let Some(c) = chat {
        out.push(keys.hash(&format!("chat:{c}")));
    }
    out
}

/// A supported language from a chat locale such as `cs-CZ`.
fn supported(locale: &str) -> Option<&'static str> {
    let lang = locale.split(['-', '_']).next()?.to_ascii_lowercase();
    LOCALES.iter().copied().find(|l| *l == lang)
}

impl App {
    /// The organisation a chat identity's workspace belongs to.
    pub(super) async fn org_of(&self, who: &ChatIdentity) -> AppResult<Option<OrgId>> {
        Ok(self
            .store
            .org_for_workspace(who.platform, &who.workspace)
            .await?)
    }

    /// The person behind a chat identity, in the organisation of its workspace.
    pub(super) async fn person_for(
        &self,
        who: &ChatIdentity,
    ) -> AppResult<Option<(OrgId, Person)>> {
        let Some(org) = self.org_of(who).await? else {
            return Ok(None);
        };
        Ok(self.store.person_by_chat(org, who).await?.map(|p| (org, p)))
    }

    /// Whether Momentum stores anything about this identity.
    pub async fn is_known(&self, who: &ChatIdentity) -> AppResult<bool> {
        Ok(self.person_for(who).await?.is_some())
    }

    /// Whether this identity takes part in a program (not deactivated).
    pub async fn is_enrolled(&self, who: &ChatIdentity) -> AppResult<bool> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(false);
        };
        let participations = self.store.participations(org, person.id).await?;
        Ok(participations.iter().any(|p| !p.deactivated))
    }

    /// The language to answer a person in: their chat language when
    /// templates exist for it, else their program's, else the organisation's.
    pub async fn locale_for(&self, who: &ChatIdentity) -> String {
        let Ok(Some((org, person))) = self.person_for(who).await else {
            return "en".into();
        };
        // People matched by email have no language yet (Slack's email
        // look-up does not return it): ask once, briefly, and keep it.
        let known = match person.locale.clone() {
            Some(l) => Some(l),
            None => self.fetch_locale(org, &person, who).await,
        };
        if let Some(l) = known.as_deref().and_then(supported) {
            return l.into();
        }
        if let Ok(parts) = self.store.participations(org, person.id).await {
            if let Some(p) = parts.first() {
                if let Ok(program) = self.store.program(org, p.program_id).await {
                    return program.spec.locale;
                }
            }
        }
        match self.store.org(org).await {
            Ok(o) => supported(&o.locale).unwrap_or("en").into(),
            Err(_) => "en".into(),
        }
    }

    /// The person's chat language from their profile, stored for next time;
    /// `None` when the platform does not answer within a second.
    async fn fetch_locale(
        &self,
        org: OrgId,
        person: &Person,
        who: &ChatIdentity,
    ) -> Option<String> {
        let port = self.chats.for_identity(who)?;
        let user = tokio::time::timeout(std::time::Duration::from_secs(1), port.user_info(who))
            .await
            .ok()?
            .ok()?;
        let locale = user.locale?;
        if let Err(e) = self.store.set_person_locale(org, person.id, &locale).await {
            tracing::warn!(error = %with_causes(&e), "could not store a person's language");
        }
        Some(locale)
    }

    /// What a participant sees of their own progress; `None` when the
    /// identity is not a participant anywhere.
    pub async fn overview(&self, who: &ChatIdentity) -> AppResult<Option<Overview>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let participations = self.store.participations(org, person.id).await?;
        if participations.iter().all(|p| p.deactivated) {
            return Ok(None);
        }
        let org_row = self.store.org(org).await?;
        let now = self.clock.now();
        let steps = self.steps_of(org, person.id).await?;
        let mut programs = Vec::new();
        for p in participations.iter().filter(|p| !p.deactivated) {
            let program = self.store.program(org, p.program_id).await?;
            let zone = super::delivery::participant_calendar(&org_row, &program, p).zone;
            let done = self.store.completed_sessions(org, p.id).await?;
            let own = self.store.own_dates(org, p.id).await?;
            let plan = program.spec.planned_for(p.cohort.as_deref(), &own);
            let numbers: Vec<u32> = done.iter().map(|(n, _)| *n).collect();
            let next_session = crate::domain::dates::next_session(&plan, &numbers);
            let history = self.store.report_history(org, p.id).await?;
            let streak = streak_weeks(
                history.iter().map(|(_, _, at)| zone.date_of(*at)),
                ProgramWeek::of(zone.date_of(now)),
            );
            let paused_until = p
                .paused_until
                .filter(|u| *u > now.as_millisecond())
                .map(|u| {
                    if u == PAUSED_INDEFINITELY {
                        Ok("indefinitely".to_string())
                    } else {
                        // Stored as the instant the pause ends: show its last day.
                        let end = zone.date_of(instant(u)?);
                        Ok::<_, crate::store::StoreError>(
                            end.yesterday().unwrap_or(end).to_string(),
                        )
                    }
                })
                .transpose()?;
            programs.push(ProgramProgress {
                participant_id: p.id,
                program: program.name.clone(),
                focus: p.focus.clone(),
                sessions_done: done.len(),
                sessions_planned: program.spec.sessions.len(),
                next_session,
                recent: history
                    .iter()
                    .take(RECENT_ACTIONS)
                    .map(|(session, answer, at)| RecentAction {
                        session: *session,
                        answer: answer.clone(),
                        on: zone.date_of(*at),
                    })
                    .collect(),
                latest_step: steps
                    .iter()
                    .filter(|(participant, ..)| *participant == p.id)
                    .filter_map(|(_, session, text)| Some((*session, text.clone()?)))
                    .max_by_key(|(session, _)| *session),
                streak_weeks: streak,
                paused_until,
            });
        }
        let notes = self.store.note_count(org, person.id).await?;
        Ok(Some(Overview { programs, notes }))
    }

    /// Stores a private note, sealed under the organisation's data key and
    /// bound to its author: only they can read it back.
    pub async fn add_note(
        &self,
        who: &ChatIdentity,
        text: &str,
        job_id: Option<JobId>,
    ) -> AppResult<Result<(), NoteRefusal>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Err(NoteRefusal::Empty));
        }
        if text.chars().count() > NOTE_MAX_CHARS {
            return Ok(Err(NoteRefusal::TooLong {
                max: NOTE_MAX_CHARS,
            }));
        }
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(Err(NoteRefusal::NotEnrolled));
        };
        if self.store.participations(org, person.id).await?.is_empty() {
            return Ok(Err(NoteRefusal::NotEnrolled));
        }
        // A note on a nudge keeps the link only when the nudge was theirs.
        let job_id = match job_id {
            Some(id) => self
                .store
                .job(org, id)
                .await?
                .filter(|j| j.recipient_person_id == Some(person.id))
                .map(|j| j.id),
            None => None,
        };
        let keys = self.keys(org).await?;
        let sealed = keys.seal(text.as_bytes(), &note_context(org, person.id));
        self.store
            .add_note(org, person.id, job_id, &sealed, self.clock.now())
            .await?;
        Ok(Ok(()))
    }

    /// The author's notes, opened: (written at, text), newest first.
    pub async fn my_notes(&self, who: &ChatIdentity) -> AppResult<Vec<(Timestamp, String)>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(vec![]);
        };
        let keys = self.keys(org).await?;
        let context = note_context(org, person.id);
        let mut out = Vec::new();
        for n in self.store.notes_of(org, person.id).await? {
            let plain = keys.open(&n.sealed, &context)?;
            out.push((n.created_at, String::from_utf8_lossy(&plain).into_owned()));
        }
        Ok(out)
    }

    /// Everything stored about the person, for them to download (JSON);
    /// `None` when Momentum knows nothing about this identity.
    pub async fn my_data(&self, who: &ChatIdentity) -> AppResult<Option<serde_json::Value>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let mut participations = Vec::new();
        let steps = self.steps_of(org, person.id).await?;
        for p in self.store.participations(org, person.id).await? {
            let program = self.store.program(org, p.program_id).await?;
            participations.push(serde_json::json!({
                "program": program.name,
                "cohort": p.cohort,
                "focus": p.focus,
                "share_focus_with_manager": p.share_focus,
                "manager": p.manager.as_ref().map(|m| m.display_name.clone().or(m.email.clone())),
                "time_zone": p.time_zone,
                "paused": p.is_paused_at(self.clock.now()),
                "active": !p.deactivated,
                "starting_point": self.starting_point(org, p.id).await?,
                "small_steps": steps
                    .iter()
                    .filter(|(participant, ..)| *participant == p.id)
                    .map(|(_, session, text)| serde_json::json!({ "session": session, "step": text }))
                    .collect::<Vec<_>>(),
            }));
        }
        let rows = self.store.personal_rows(org, person.id).await?;
        let notes: Vec<serde_json::Value> = self
            .my_notes(who)
            .await?
            .into_iter()
            .map(|(at, text)| serde_json::json!({ "written_at": at, "text": text }))
            .collect();
        Ok(Some(serde_json::json!({
            "about": "Everything Momentum stores about you. Your notes are readable only by you; \
                      managers and sponsors never see your reports, notes or self-assessments.",
            "exported_at": self.clock.now(),
            "person": {
                "name": person.display_name,
                "email": person.email,
                "chat": person.chat.as_ref().map(|c| c.to_string()),
                "time_zone": person.time_zone,
                "locale": person.locale,
                "stopped_at": person.stopped_at.map(instant).transpose()?,
            },
            "participations": participations,
            "sessions": rows.sessions,
            "reports": rows.reports,
            "manager_checkins_answered": rows.checkins_given,
            "pulses": rows.pulses,
            "pauses": rows.pauses,
            "messages": rows.messages,
            "notes": notes,
        })))
    }

    /// The person behind a chat identity asked to be forgotten.
    pub async fn forget_me(&self, who: &ChatIdentity) -> AppResult<Option<Erased>> {
        let Some((org, person)) = self.person_for(who).await? else {
            return Ok(None);
        };
        let erased = self.erase_person(org, &person).await?;
        self.audit(
            org,
            "the person themselves (forget-me)",
            "person.erase",
            None,
        )
        .await;
        Ok(Some(erased))
    }

    /// Erases the person HR names (by email or chat identity) in `org`;
    /// `None` when the organisation knows nobody by that name.
    pub async fn erase_named(
        &self,
        org: OrgId,
        who: &crate::domain::PersonRef,
    ) -> AppResult<Option<Erased>> {
        let person = match (&who.email, &who.chat) {
            (Some(e), _) => self.store.person_by_email(org, e.as_str()).await?,
            (None, Some(c)) => self.store.person_by_chat(org, c).await?,
            (None, None) => None,
        };
        match person {
            Some(p) => self.erase_person(org, &p).await.map(Some),
            None => Ok(None),
        }
    }

    /// Erases a person: their rows go, weekly aggregates stay, and keyed
    /// hashes of their email and chat identity keep them from being enrolled
    /// again by a later program file.
    pub async fn erase_person(&self, org: OrgId, person: &Person) -> AppResult<Erased> {
        let keys = self.keys(org).await?;
        let hashes = identity_hashes(&keys, person.email.as_deref(), person.chat.as_ref());
        let erased = self
            .store
            .erase_person(
                org,
                person.id,
                person.display_name.as_deref(),
                &hashes,
                self.clock.now(),
            )
            .await?;
        tracing::info!(
            org = org.0,
            participations = erased.participations,
            "a person was erased at their request"
        );
        Ok(erased)
    }
}

/// Notes are sealed bound to their organisation and author: a blob copied to
/// another person's row does not open.
fn note_context(org: OrgId, person_id: PersonId) -> String {
    super::keys::sealed_context(
        crate::store::sealed::SealedColumn::Notes,
        org,
        &person_id.to_string(),
    )
}
