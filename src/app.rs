//! The use cases, platform-neutral: apply a program, record a completed
//! session (and plan its nudges), take a tap, pause and resume. HTTP handlers,
//! the CLI and the demo all come through here.

use crate::chat::{ChatPort, Chats, Delivered, Message};
use crate::clock::SharedClock;
use crate::crypto::SecretKey;
use crate::domain::plan::{jobs_for_completed_session, Recipient, Recipients};
use crate::domain::program::ProgramFile;
use crate::domain::time::{DeliveryCalendar, Zone};
use crate::domain::{Answer, ChatIdentity, CheckinAnswer, ConfigErrors, JobPurpose, PersonRef};
use crate::store::participants::{Participant, Person, PersonRecord, PAUSED_INDEFINITELY};
use crate::store::programs::{ApplyOutcome, ProgramRow};
use crate::store::reports::{NewTap, TapOutcome, TapTarget};
use crate::store::sessions::{Completion, SessionCompletion};
use crate::store::{NewJob, Org, OrgId, Store, StoreError};
use jiff::civil::Date;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong; every problem is named.
    #[error("{0}")]
    Invalid(ConfigErrors),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AppError::NotFound(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Store(other),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the admin API for its organisation.
    Admin,
    /// Only record completed sessions (a coaching platform's webhook).
    SessionsWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::SessionsWrite => "sessions:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Scope::Admin),
            "sessions:write" => Some(Scope::SessionsWrite),
            _ => None,
        }
    }

    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Admin || self == needed
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Names a participant in a session report: one of these is enough.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLookup {
    pub participant_id: Option<i64>,
    pub email: Option<String>,
    /// `slack:TEAM/USER` or `teams:TENANT/USER`.
    pub chat: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionOutcome {
    pub participant_id: i64,
    pub session: u32,
    pub completed_on: String,
    /// False when this completion was already known (nothing changed).
    pub recorded: bool,
    /// Nudges and check-ins newly planned because of it.
    pub jobs_planned: u64,
}

/// A completed session as any source reports it (API, chat, import).
#[derive(Debug, Clone)]
pub struct CompletedSession<'a> {
    pub program_key: &'a str,
    pub who: &'a ParticipantLookup,
    pub number: u32,
    /// The local date; today in the participant's zone when absent.
    pub completed_on: Option<Date>,
    pub source: &'a str,
    pub external_id: Option<&'a str>,
}

/// A one-tap answer as it arrives from any platform.
#[derive(Debug, Clone)]
pub struct Tap {
    pub who: ChatIdentity,
    pub job_id: i64,
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
}

impl TapAnswer {
    fn as_str(self) -> &'static str {
        match self {
            TapAnswer::Report(a) => a.as_str(),
            TapAnswer::Checkin(a) => a.as_str(),
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

pub enum TapResult {
    /// Stored; the message should now be updated to show it.
    Recorded {
        update: Option<(Arc<dyn ChatPort>, Delivered, Message)>,
    },
    /// The same delivery was already stored: nothing changed.
    Duplicate,
    Refused(TapRefusal),
}

pub struct App {
    pub store: Store,
    pub clock: SharedClock,
    pub chats: Chats,
    pub secret_key: SecretKey,
}

impl App {
    pub fn new(store: Store, clock: SharedClock, chats: Chats, secret_key: SecretKey) -> Self {
        Self {
            store,
            clock,
            chats,
            secret_key,
        }
    }

    pub async fn create_org(&self, name: &str, time_zone: &str, locale: &str) -> AppResult<Org> {
        let mut errs = ConfigErrors::default();
        if name.trim().is_empty() {
            errs.push("name", "must not be empty");
        }
        if let Err(e) = Zone::parse(time_zone) {
            errs.push("time_zone", e);
        }
        if !crate::domain::program::LOCALES.contains(&locale) {
            errs.push(
                "locale",
                format!("{locale:?} is not a supported language (en, cs)"),
            );
        }
        if !errs.is_empty() {
            return Err(AppError::Invalid(errs));
        }
        let wrapped = self.secret_key.new_wrapped_data_key();
        Ok(self
            .store
            .create_org(name.trim(), time_zone, locale, &wrapped, self.clock.now())
            .await?)
    }

    /// Creates a bearer token; the plain text is shown once, only its hash is kept.
    pub async fn create_token(&self, org: OrgId, name: &str, scope: Scope) -> AppResult<String> {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("mtm_{}", hex::encode(bytes));
        self.store
            .create_token(
                org,
                name,
                scope.as_str(),
                &hash_token(&token),
                self.clock.now(),
            )
            .await?;
        Ok(token)
    }

    /// The organisation and scope of a bearer token, if it is live.
    pub async fn authenticate(&self, token: &str) -> AppResult<Option<(OrgId, Scope)>> {
        let found = self.store.token_by_hash(&hash_token(token)).await?;
        Ok(found.and_then(|(org, scope)| Scope::parse(&scope).map(|s| (org, s))))
    }

    /// Validates and applies a program document atomically.
    pub async fn apply_program(
        &self,
        org: OrgId,
        doc: &serde_json::Value,
        prune: bool,
    ) -> AppResult<ApplyOutcome> {
        let file = ProgramFile::from_value(doc).map_err(AppError::Invalid)?;
        let people = self.resolve_people(&file).await;
        Ok(self
            .store
            .apply_program(org, &file, &people, prune, self.clock.now())
            .await?)
    }

    /// Matches people given by email to chat users. Failures are recorded per
    /// person (and reported), never fatal: the rest of the file still applies.
    async fn resolve_people(&self, file: &ProgramFile) -> HashMap<String, PersonRecord> {
        let mut refs: Vec<&PersonRef> = Vec::new();
        for p in &file.participants {
            refs.push(&p.person);
            if let Some(m) = &p.manager {
                refs.push(m);
            }
        }
        let directory = self.chats.directory();
        let mut out = HashMap::new();
        for r in refs {
            let key = r.key();
            if out.contains_key(&key) {
                continue;
            }
            let mut rec = PersonRecord::from_ref(r);
            match (&r.chat, &r.email, &directory) {
                (Some(who), _, _) => {
                    if let Some(port) = self.chats.for_identity(who) {
                        if let Ok(u) = port.user_info(who).await {
                            rec.display_name = rec.display_name.or(u.display_name);
                            rec.time_zone = u.time_zone;
                            rec.locale = u.locale;
                        }
                    }
                }
                (None, Some(email), Some(port)) => match port.lookup_by_email(email.as_str()).await
                {
                    Ok(Some(u)) if u.deleted => {
                        rec.unresolved_reason = Some("the chat account is deactivated".into())
                    }
                    Ok(Some(u)) => {
                        rec.chat = Some(u.identity);
                        rec.display_name = rec.display_name.or(u.display_name);
                        rec.time_zone = u.time_zone;
                        rec.locale = u.locale;
                        rec.unresolved_reason = None;
                    }
                    Ok(None) => rec.unresolved_reason = Some("no chat user has this email".into()),
                    Err(e) => rec.unresolved_reason = Some(format!("email look-up failed: {e}")),
                },
                (None, Some(_), None) => {
                    rec.unresolved_reason =
                        Some("no chat workspace is connected to look the email up".into())
                }
                (None, None, _) => {}
            }
            out.insert(key, rec);
        }
        out
    }

    async fn find_participant(
        &self,
        org: OrgId,
        program: &ProgramRow,
        who: &ParticipantLookup,
    ) -> AppResult<i64> {
        let not_found = || AppError::NotFound("no such participant in this program".into());
        if let Some(id) = who.participant_id {
            let p = self
                .store
                .participant(org, id)
                .await
                .map_err(|_| not_found())?;
            return if p.program_id == program.id && !p.deactivated {
                Ok(p.id)
            } else {
                Err(not_found())
            };
        }
        let person = if let Some(email) = &who.email {
            self.store.person_by_email(org, email).await?
        } else if let Some(chat) = &who.chat {
            let id = ChatIdentity::parse(chat)
                .map_err(|e| AppError::Invalid(ConfigErrors::single("participant.chat", e)))?;
            self.store.person_by_chat(org, &id).await?
        } else {
            return Err(AppError::Invalid(ConfigErrors::single(
                "participant",
                "name the participant by participant_id, email or chat",
            )));
        };
        let person = person.ok_or_else(not_found)?;
        self.store
            .participant_id_for_person(org, program.id, person.id)
            .await?
            .ok_or_else(not_found)
    }

    /// Records that a participant completed a session, once, and plans the
    /// nudges and check-ins that follow it.
    pub async fn record_session(
        &self,
        org: OrgId,
        report: &CompletedSession<'_>,
    ) -> AppResult<SessionOutcome> {
        let CompletedSession {
            program_key,
            who,
            number,
            completed_on,
            source,
            external_id,
        } = *report;
        let program = self
            .store
            .program_by_key(org, program_key)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no program {program_key:?}")))?;
        if number == 0 || number > program.spec.session_count() {
            return Err(AppError::Invalid(ConfigErrors::single(
                "session",
                format!(
                    "session {number} is not planned (the program plans sessions 1..{})",
                    program.spec.session_count()
                ),
            )));
        }
        let participant_id = self.find_participant(org, &program, who).await?;
        let org_row = self.store.org(org).await?;
        let participant = self.store.participant(org, participant_id).await?;
        let now = self.clock.now();
        let calendar = participant_calendar(&org_row, &program, &participant);
        let on = completed_on.unwrap_or_else(|| calendar.zone.date_of(now));
        let completion = self
            .store
            .record_session_completed(
                org,
                &SessionCompletion {
                    participant_id,
                    number,
                    completed_on: on,
                    source,
                    external_id,
                },
                now,
            )
            .await?;
        let (recorded, on) = match completion {
            Completion::Recorded => (true, on),
            Completion::AlreadyRecorded { completed_on } => (false, completed_on),
        };
        // Planning is idempotent, so it also runs for a repeated report: a
        // crash between recording and planning heals on the retry.
        let jobs_planned = self
            .plan_session_jobs(&org_row, &program, &participant, number, on)
            .await?;
        Ok(SessionOutcome {
            participant_id,
            session: number,
            completed_on: on.to_string(),
            recorded,
            jobs_planned,
        })
    }

    async fn plan_session_jobs(
        &self,
        org: &Org,
        program: &ProgramRow,
        participant: &Participant,
        session: u32,
        on: Date,
    ) -> AppResult<u64> {
        let participant_cal = participant_calendar(org, program, participant);
        let manager_cal = participant
            .manager
            .as_ref()
            .map(|m| person_calendar(org, program, m, None));
        let planned = jobs_for_completed_session(
            &program.spec,
            session,
            on,
            &Recipients {
                participant: &participant_cal,
                manager: manager_cal.as_ref(),
            },
        );
        let jobs: Vec<NewJob> = planned
            .into_iter()
            .filter_map(|j| {
                let recipient = match j.recipient {
                    Recipient::Participant => participant.person.id,
                    Recipient::Manager => participant.manager.as_ref()?.id,
                };
                Some(NewJob {
                    program_id: program.id,
                    participant_id: Some(participant.id),
                    recipient_person_id: recipient,
                    purpose: j.purpose,
                    period: j.period,
                    session_number: Some(j.session),
                    due: j.due,
                })
            })
            .collect();
        Ok(self
            .store
            .insert_jobs(org.id, &jobs, self.clock.now())
            .await?)
    }

    /// Stores a tap durably (committed before returning) and prepares the
    /// message update that shows what was recorded.
    pub async fn take_tap(&self, tap: &Tap) -> AppResult<TapResult> {
        let Some(org) = self
            .store
            .org_for_workspace(tap.who.platform, &tap.who.workspace)
            .await?
        else {
            return Ok(TapResult::Refused(TapRefusal::UnknownWorkspace));
        };
        let Some(person) = self.store.person_by_chat(org, &tap.who).await? else {
            return Ok(TapResult::Refused(TapRefusal::NotYours));
        };
        let Some(job) = self.store.job(org, tap.job_id).await? else {
            return Ok(TapResult::Refused(TapRefusal::UnknownMessage));
        };
        if job.recipient_person_id != Some(person.id) {
            return Ok(TapResult::Refused(TapRefusal::NotYours));
        }
        let Some(participant_id) = job.participant_id else {
            return Ok(TapResult::Refused(TapRefusal::UnknownMessage));
        };
        let target = match (tap.answer, job.purpose) {
            (TapAnswer::Report(_), p) if p.is_participant_nudge() => {
                TapTarget::Report { participant_id }
            }
            (TapAnswer::Checkin(_), JobPurpose::ManagerCheckin) => TapTarget::Checkin {
                participant_id,
                manager_person_id: person.id,
            },
            _ => return Ok(TapResult::Refused(TapRefusal::UnknownMessage)),
        };
        let outcome = self
            .store
            .record_tap(
                org,
                &NewTap {
                    job_id: job.id,
                    person_id: person.id,
                    target,
                    answer: tap.answer.as_str(),
                    delivery_key: &tap.delivery_key,
                    at: self.clock.now(),
                },
            )
            .await?;
        if outcome == TapOutcome::Duplicate {
            return Ok(TapResult::Duplicate);
        }
        let at = match (&job.channel_id, &job.message_ts) {
            (Some(c), Some(t)) => Delivered {
                channel: c.clone(),
                ts: t.clone(),
            },
            _ => tap.message.clone(),
        };
        let update = match self.message_for_job(org, &job, Some(tap.answer)).await {
            Ok(m) => self.chats.for_identity(&tap.who).map(|port| (port, at, m)),
            Err(_) => None,
        };
        Ok(TapResult::Recorded { update })
    }

    /// The message a job delivers, showing `recorded` when there is an answer.
    pub async fn message_for_job(
        &self,
        org: OrgId,
        job: &crate::store::Job,
        recorded: Option<TapAnswer>,
    ) -> AppResult<Message> {
        let participant_id = job
            .participant_id
            .ok_or_else(|| AppError::NotFound("job has no participant".into()))?;
        let participant = self.store.participant(org, participant_id).await?;
        let program = self.store.program(org, participant.program_id).await?;
        Ok(match job.purpose {
            JobPurpose::ManagerCheckin => {
                let manager = participant.manager.as_ref();
                Message::Checkin {
                    job_id: job.id,
                    participant: participant
                        .person
                        .display_name
                        .clone()
                        .or(participant.person.email.clone())
                        .unwrap_or_else(|| "Your report".into()),
                    program: program.name.clone(),
                    // The theme is named only with the participant's consent.
                    theme: if participant.share_focus {
                        participant.focus.clone()
                    } else {
                        None
                    },
                    recorded: match recorded {
                        Some(TapAnswer::Checkin(a)) => Some(a),
                        _ => None,
                    },
                    locale: locale_for(manager, &program),
                }
            }
            purpose => Message::Nudge {
                job_id: job.id,
                purpose,
                program: program.name.clone(),
                session: job.session_number.unwrap_or(0),
                recorded: match recorded {
                    Some(TapAnswer::Report(a)) => Some(a),
                    _ => None,
                },
                locale: locale_for(Some(&participant.person), &program),
            },
        })
    }

    /// Pauses every participation of the person behind a chat identity, until
    /// `until` (a local date in their zone) or indefinitely. `Ok(false)` when
    /// the person is not enrolled.
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

    async fn person_for(&self, who: &ChatIdentity) -> AppResult<Option<(OrgId, Person)>> {
        let Some(org) = self
            .store
            .org_for_workspace(who.platform, &who.workspace)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.store.person_by_chat(org, who).await?.map(|p| (org, p)))
    }
}

/// The language to speak to a person: their chat locale when templates exist
/// for it, else the program's.
fn locale_for(person: Option<&Person>, program: &ProgramRow) -> String {
    let from_person = person
        .and_then(|p| p.locale.as_deref())
        .map(|l| l.split(['-', '_']).next().unwrap_or("").to_lowercase())
        .filter(|l| crate::domain::program::LOCALES.contains(&l.as_str()));
    from_person.unwrap_or_else(|| program.spec.locale.clone())
}

/// A person's delivery calendar: their own zone, else the program's, else
/// the organisation's; the program's working days and quiet hours.
fn person_calendar(
    org: &Org,
    program: &ProgramRow,
    person: &Person,
    own_zone: Option<&str>,
) -> DeliveryCalendar {
    let zone = own_zone
        .and_then(|z| Zone::parse(z).ok())
        .or_else(|| {
            person
                .time_zone
                .as_deref()
                .and_then(|z| Zone::parse(z).ok())
        })
        .or_else(|| program.spec.time_zone.clone())
        .or_else(|| Zone::parse(&org.time_zone).ok())
        .unwrap_or_else(Zone::utc);
    DeliveryCalendar {
        zone,
        working_days: program.spec.working_days,
        quiet_hours: program.spec.quiet_hours,
        holidays: Vec::new(),
    }
}

fn participant_calendar(org: &Org, program: &ProgramRow, p: &Participant) -> DeliveryCalendar {
    person_calendar(org, program, &p.person, p.time_zone.as_deref())
}
