//! The use cases, platform-neutral: apply a program, record a completed
//! session (and plan its nudges), take a tap, pause and resume. HTTP handlers,
//! the CLI and the demo all come through here.

pub mod access;
mod admin;
pub mod batches;
pub mod bookings;
mod cadence;
pub mod console;
pub mod creation;
pub mod dates;
mod delivery;
mod digest;
pub mod editing;
pub mod enrolment;
mod home;
mod install;
pub mod keys;
mod lifecycle;
mod me;
mod onboarding;
mod orgs;
mod resolution;
mod retention;
pub mod schedule;
mod service;
pub mod sessions;
mod steps;
mod taps;
pub mod teams;

/// What the app hands out from its store: rows it reads back as they are.
pub use crate::store::admins::OrgAdmin;
pub use crate::store::audit::AuditEntry;
pub use crate::store::participants::ParticipantStatus;
pub use crate::store::personal::Erased;
pub use crate::store::programs::{ApplyOutcome, ProgramRow};
/// The organisation, as the app hands it out.
pub use crate::store::Org;
pub use access::Reach;
pub use admin::ProgramHealth;
pub use cadence::{CadenceInput, FieldErrors};
pub use console::ConsoleSession;
pub use delivery::JobContext;
pub use digest::{aggregates_csv, digest_text};
pub use install::SlackGrant;
pub use lifecycle::{ProgramState, ProgramStatus};
pub use me::{NoteRefusal, Overview, ProgramProgress, RecentAction, NOTE_MAX_CHARS};
pub use onboarding::StartingPoint;
pub use resolution::{
    grouped, ResolutionProgress, ResolveRound, INLINE_BUDGET as INLINE_RESOLUTION_BUDGET,
    RESOLUTION_LEASE,
};
pub use sessions::{in_comparison, CompletedSession, ParticipantLookup, SessionOutcome};
pub use steps::{StepChoice, StepRefusal, STEP_MAX_CHARS};
pub use taps::{MessageUpdate, Tap, TapAnswer, TapRefusal, TapResult};

use crate::chat::{ChatPort, ChatStatus, Chats, Delivered, Message};
use crate::clock::SharedClock;
use crate::crypto::SecretKey;
use crate::domain::errors::with_causes;
use crate::domain::plan::{
    assessment_jobs, jobs_for_completed_session, next_pulse, session_checks, PlannedJob, Recipient,
    Recipients,
};
use crate::domain::program::ProgramFile;
use crate::domain::time::{DeliveryCalendar, Snooze, Zone};
use crate::domain::{
    Answer, ChatIdentity, CheckinAnswer, ConfigErrors, JobId, JobPurpose, ParticipantId, PersonId,
    PersonRef, Platform, ProgramId,
};
use crate::store::participants::{Participant, Person, PersonRecord, PAUSED_INDEFINITELY};
use crate::store::reports::{NewTap, TapOutcome, TapTarget};
use crate::store::sessions::{Completion, SessionCompletion};
use crate::store::{NewJob, OrgId, Store, StoreError};
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
    /// Outside what the caller may do (another program, an organisation
    /// admin's setting); nothing was changed. Names the field.
    #[error("{0}")]
    Forbidden(String),
    /// Storage failed. The message carries the store error's causes (the
    /// database's own words) once, so this variant names no source.
    #[error("{}", with_causes(.0))]
    Store(StoreError),
    /// The work did not finish in the time its caller could wait (a chat
    /// platform's deadline); whatever it did not commit is not stored.
    #[error("{0} did not finish in time")]
    TimedOut(&'static str),
    /// The organisation's data key does not open: the master key is wrong.
    #[error("encryption key problem: {0}")]
    Key(String),
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

/// A live bearer token, as the admin API sees its caller.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub org: OrgId,
    pub scope: Scope,
    pub name: String,
    pub reach: Reach,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub struct App {
    /// Private: handlers, pages and commands reach data through the app's
    /// methods. The scheduler's worker loops lease and settle jobs on it
    /// through `store()`.
    store: Store,
    pub clock: SharedClock,
    pub chats: Chats,
    pub secret_key: SecretKey,
    /// Where programs' bookings feeds are fetched from.
    feeds: Arc<dyn crate::feeds::FeedSource>,
    /// Applying a program resolves its people before answering when that
    /// is expected to take at most this long; `None`: always in the
    /// background.
    inline_resolution: Option<std::time::Duration>,
}

impl App {
    pub fn new(store: Store, clock: SharedClock, chats: Chats, secret_key: SecretKey) -> Self {
        Self {
            store,
            clock,
            chats,
            secret_key,
            feeds: Arc::new(crate::feeds::HttpsFeeds),
            inline_resolution: Some(resolution::INLINE_BUDGET),
        }
    }

    /// The store, for the service's wiring (the log checkpointer, metrics,
    /// start-up checks); neither the scheduler nor anything that answers a
    /// request uses it (tests/walls.rs).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The app resolving people before applying answers only when that is
    /// expected to take at most `budget` (`None`: never; tests of the
    /// background resolver).
    pub fn with_inline_resolution(self, budget: Option<std::time::Duration>) -> Self {
        Self {
            inline_resolution: budget,
            ..self
        }
    }

    /// The app reading bookings feeds from `feeds` instead of the network
    /// (tests, which serve their feeds from memory).
    pub fn with_feed_source(self, feeds: Arc<dyn crate::feeds::FeedSource>) -> Self {
        Self { feeds, ..self }
    }

    /// Notes an admin action in the organisation's audit log (who, what,
    /// which program; never content). A failure to note it is logged.
    pub async fn audit(&self, org: OrgId, actor: &str, action: &str, subject: Option<&str>) {
        if let Err(e) = self
            .store
            .audit(org, actor, action, subject, self.clock.now())
            .await
        {
            tracing::error!(error = %with_causes(&e), action, "could not write the audit log");
        }
    }

    /// Notes an action that concerned every organisation (a key rotation)
    /// in each one's audit log.
    pub async fn audit_every_org(&self, actor: &str, action: &str) -> AppResult<()> {
        for org in self.store.orgs().await? {
            self.audit(org.id, actor, action, None).await;
        }
        Ok(())
    }

    pub async fn create_org(&self, name: &str, time_zone: &str, locale: &str) -> AppResult<Org> {
        let mut errs = ConfigErrors::default();
        if name.trim().is_empty() {
            errs.push("name", "must not be empty");
        }
        if let Err(e) = Zone::parse(time_zone) {
            errs.push_error("time_zone", &e);
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
        Ok(self
            .store
            .create_org(
                name.trim(),
                time_zone,
                locale,
                |id| self.new_org_keys(id),
                self.clock.now(),
            )
            .await?)
    }

    /// Creates a bearer token for the whole organisation; the plain text is
    /// shown once, only its hash is kept.
    pub async fn create_token(&self, org: OrgId, name: &str, scope: Scope) -> AppResult<String> {
        self.create_token_within(org, name, scope, &Reach::Organisation)
            .await
    }

    /// Creates a bearer token that reaches `reach` (every key must name a
    /// program of the organisation).
    pub async fn create_token_within(
        &self,
        org: OrgId,
        name: &str,
        scope: Scope,
        reach: &Reach,
    ) -> AppResult<String> {
        if let Reach::Programs(keys) = reach {
            if keys.is_empty() {
                return Err(AppError::Invalid(ConfigErrors::single(
                    "programs",
                    "name at least one program",
                )));
            }
            for key in keys {
                if self.store.program_by_key(org, key).await?.is_none() {
                    return Err(AppError::Invalid(ConfigErrors::single(
                        "programs",
                        format!("there is no program {key:?}"),
                    )));
                }
            }
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("mtm_{}", hex::encode(bytes));
        self.store
            .create_token(
                org,
                name,
                scope.as_str(),
                reach.to_column().as_deref(),
                &hash_token(&token),
                self.clock.now(),
            )
            .await?;
        Ok(token)
    }

    /// A live bearer token: its organisation, scope, name and reach.
    pub async fn authenticate(&self, token: &str) -> AppResult<Option<Bearer>> {
        let found = self.store.token_by_hash(&hash_token(token)).await?;
        Ok(found.and_then(|t| {
            Scope::parse(&t.scope).map(|scope| Bearer {
                org: t.org,
                scope,
                reach: Reach::from_column(t.programs.as_deref()),
                name: t.name,
            })
        }))
    }

    /// Validates and applies a program document atomically.
    pub async fn apply_program(
        &self,
        org: OrgId,
        doc: &serde_json::Value,
        prune: bool,
    ) -> AppResult<ApplyOutcome> {
        let today = self.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut file = ProgramFile::applied_on(doc, today).map_err(AppError::Invalid)?;
        self.check_workspaces_are_own(org, &file).await?;
        let people = self.resolve_people(org, &file).await;
        let erased_skipped = self.leave_out_erased(org, &mut file, &people).await?;
        let mut outcome = self
            .store
            .apply_program(org, &file, &people, prune, self.clock.now())
            .await?;
        outcome.erased_skipped = erased_skipped;
        // Rules, managers, zones or calendars may have changed: future unsent
        // jobs follow. Derived state: applying again heals an interruption here.
        outcome.replanned = self.replan_program(org, outcome.program_id).await?;
        self.resolve_if_quick(org, &mut outcome).await?;
        Ok(outcome)
    }

    /// Refuses a file that names a chat workspace or tenant not linked to
    /// `org`: its people would be messaged through another organisation's
    /// bot, and their names and zones copied into this one.
    async fn check_workspaces_are_own(&self, org: OrgId, file: &ProgramFile) -> AppResult<()> {
        self.check_own_workspaces(org, file.workspaces_named())
            .await
    }

    /// Refuses chat workspaces (field, platform, workspace) not linked to
    /// `org`, naming each field.
    pub(super) async fn check_own_workspaces(
        &self,
        org: OrgId,
        named: Vec<(String, Platform, &str)>,
    ) -> AppResult<()> {
        let own: std::collections::HashSet<(Platform, String)> =
            self.store.workspaces(org).await?.into_iter().collect();
        let mut errs = ConfigErrors::default();
        for (field, platform, workspace) in named {
            if !own.contains(&(platform, workspace.to_string())) {
                let what = match platform {
                    Platform::Slack => "Slack workspace",
                    Platform::Teams => "Teams tenant",
                };
                let hint = if own.is_empty() {
                    " (none is yet: install the app there or `momentum org link` it)"
                } else {
                    ""
                };
                errs.push(
                    &field,
                    format!("{what} {workspace} is not connected to this organisation{hint}"),
                );
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errs))
        }
    }

    /// Takes people who asked to be forgotten out of the file: erased
    /// participants are left out, erased managers become "no manager".
    /// Returns how many people were left out.
    async fn leave_out_erased(
        &self,
        org: OrgId,
        file: &mut ProgramFile,
        people: &HashMap<String, PersonRecord>,
    ) -> AppResult<usize> {
        let gone = self.store.erased_hashes(org).await?;
        if gone.is_empty() {
            return Ok(0);
        }
        let org_keys = self.keys(org).await?;
        let mut erased = std::collections::HashSet::new();
        let mut keys: Vec<String> = Vec::new();
        for p in &file.participants {
            keys.push(p.person.key());
            keys.extend(p.manager.as_ref().map(PersonRef::key));
        }
        for k in keys {
            let rec = people.get(&k);
            let email = rec.and_then(|r| r.email.as_deref());
            let chat = rec.and_then(|r| r.chat.as_ref());
            if me::identity_hashes(&org_keys, email, chat)
                .iter()
                .any(|h| gone.contains(h))
            {
                erased.insert(k);
            }
        }
        if erased.is_empty() {
            return Ok(0);
        }
        file.participants
            .retain(|p| !erased.contains(&p.person.key()));
        for p in &mut file.participants {
            if p.manager
                .as_ref()
                .is_some_and(|m| erased.contains(&m.key()))
            {
                p.manager = None;
            }
        }
        Ok(erased.len())
    }

    /// What is known of the file's people before they are stored: people
    /// given by chat id are asked for their zone and language now; people
    /// given by email are left for the resolver (in the background), unless
    /// no workspace is connected to look them up in.
    async fn resolve_people(
        &self,
        org: OrgId,
        file: &ProgramFile,
    ) -> HashMap<String, PersonRecord> {
        let mut refs: Vec<&PersonRef> = Vec::new();
        for p in &file.participants {
            refs.push(&p.person);
            if let Some(m) = &p.manager {
                refs.push(m);
            }
        }
        let no_directory = self.directories(org).await.is_empty();
        let mut out = HashMap::new();
        for r in refs {
            let key = r.key();
            if out.contains_key(&key) {
                continue;
            }
            let mut rec = PersonRecord::from_ref(r);
            match (&r.chat, &r.email, no_directory) {
                (Some(who), _, _) => {
                    if let Some(port) = self.chats.for_identity(who) {
                        if let Ok(u) = port.user_info(who).await {
                            rec.display_name = rec.display_name.or(u.display_name);
                            rec.time_zone = u.time_zone;
                            rec.locale = u.locale;
                            rec.away_until = Some(u.status.away_until(self.clock.now()));
                        }
                    }
                }
                (None, Some(_), false) => {
                    rec.resolve = true;
                    rec.unresolved_reason = None;
                }
                (None, Some(_), true) => {
                    rec.unresolved_reason =
                        Some("no chat workspace is connected to look the email up".into())
                }
                (None, None, _) => {}
            }
            out.insert(key, rec);
        }
        out
    }
}
